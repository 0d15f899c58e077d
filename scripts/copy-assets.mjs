// Copies the files of src/ that are not TypeScript (the dashboard's browser scripts, styles and
// icon) into dist/, which tsc alone does not do. Run by `npm run build` and scripts/ensure.mjs.
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;

function files(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));
}

/** Copies every non-.ts file of src/ to the same place under dist/. */
export function copyAssets() {
  for (const file of files(join(root, 'src'))) {
    if (file.endsWith('.ts')) continue;
    const out = join(root, 'dist', relative(join(root, 'src'), file));
    mkdirSync(dirname(out), { recursive: true });
    copyFileSync(file, out);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) copyAssets();
