// `node --import ./test/stores/helpers/register-ts.mjs script.ts`: lets a child process that a test
// starts run the TypeScript sources directly (Node 20 cannot strip types), so multi-process tests
// exercise src/, not a possibly stale dist/.
import { register } from 'node:module';

register('./ts-hooks.mjs', import.meta.url);
