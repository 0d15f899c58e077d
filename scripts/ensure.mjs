// Installs dependencies and builds only when something is missing or stale, so `npm start` and
// `npm test` work on a fresh clone and cost almost nothing when everything is up to date.
import { execSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const run = (cmd) => execSync(cmd, { cwd: root, stdio: 'inherit' });
const mtime = (p) => (existsSync(p) ? statSync(p).mtimeMs : 0);

function newest(dir) {
  let latest = 0;
  if (!existsSync(dir)) return latest;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return latest;
}

const installed = join(root, 'node_modules', '.package-lock.json');
if (!existsSync(installed) || mtime(join(root, 'package-lock.json')) > mtime(installed)) {
  console.log('sessionkit: installing dependencies (npm ci)');
  run('npm ci --no-audit --no-fund');
}

const stamp = join(root, 'dist', '.build-stamp');
const sources = Math.max(newest(join(root, 'src')), mtime(join(root, 'tsconfig.build.json')), mtime(join(root, 'package.json')));
if (sources > mtime(stamp)) {
  console.log('sessionkit: building (tsc)');
  run('npx tsc -p tsconfig.build.json');
  execSync(`touch "${stamp}"`);
}
