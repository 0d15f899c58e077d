#!/usr/bin/env node
/**
 * The `sessionkit` command line: `serve`, `keys`, `sessions`, `audit`, `doctor`.
 * SIGINT/SIGTERM abort the running command (so `serve` and `audit tail` stop cleanly and exit 0);
 * a second signal during that shutdown exits at once with 130.
 *
 * @example sessionkit sessions list --user u1 --json
 */
import { runCli } from './run.js';

const controller = new AbortController();
const onSignal = (): void => {
  if (controller.signal.aborted) process.exit(130);
  controller.abort();
};
// `sessionkit audit tail | head`: the reader went away, which ends the command, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => process.exit(err.code === 'EPIPE' ? 0 : 1));
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

const code = await runCli(process.argv.slice(2), { signal: controller.signal });
// The command is done: exit now rather than when the event loop empties, so a client a driver
// left reconnecting after a failed start-up cannot keep the process alive. Output is flushed first.
await new Promise<void>((resolve) => process.stdout.write('', () => process.stderr.write('', () => resolve())));
process.exit(code);
