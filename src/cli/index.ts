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
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

process.exitCode = await runCli(process.argv.slice(2), { signal: controller.signal });
process.off('SIGINT', onSignal);
process.off('SIGTERM', onSignal);
