// Installs dependencies and builds only when something is missing or stale, so `npm start` and
// `npm test` work on a fresh clone and cost almost nothing when everything is up to date.
//
// `node scripts/ensure.mjs serve` (what `npm start` runs) needs only what serving needs: the
// production dependencies (`npm ci --omit=dev`) and JavaScript in dist/, transpiled file by file
// with the locked TypeScript (fetched alone when the development dependencies are absent). The
// default (tests, benchmarks, examples) installs everything and builds with the type-checking
// compiler, which also writes the declarations the package ships.
import { execSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { copyAssets } from './copy-assets.mjs';

const root = new URL('..', import.meta.url).pathname;
const mode = process.argv[2] === 'serve' ? 'serve' : 'full';
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

function files(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));
}

const lock = join(root, 'package-lock.json');
const installed = join(root, 'node_modules', '.package-lock.json');
const fresh = existsSync(installed) && mtime(lock) <= mtime(installed);
// A production-only install has neither of these; the tests need both.
const hasDevDependencies = existsSync(join(root, 'node_modules', 'typescript', 'package.json'))
  && existsSync(join(root, 'node_modules', 'vitest', 'package.json'));
if (!fresh || (mode === 'full' && !hasDevDependencies)) {
  const omit = mode === 'serve' ? ' --omit=dev' : '';
  console.log(`sessionkit: installing ${mode === 'serve' ? 'the production ' : ''}dependencies (npm ci${omit})`);
  run(`npm ci${omit} --no-audit --no-fund`);
}

const stamp = join(root, 'dist', '.build-stamp');
const sources = Math.max(newest(join(root, 'src')), mtime(join(root, 'tsconfig.build.json')), mtime(join(root, 'package.json')));
const built = existsSync(stamp) ? readFileSync(stamp, 'utf8').trim() : '';
const stale = sources > mtime(stamp);
if (mode === 'full' && (stale || built !== 'tsc')) {
  console.log('sessionkit: building (tsc)');
  run('npx tsc -p tsconfig.build.json');
  copyAssets();
  writeFileSync(stamp, 'tsc\n');
} else if (mode === 'serve' && (stale || built === '')) {
  console.log('sessionkit: building (transpiling src/ to dist/)');
  const ts = await typescript();
  const options = { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, esModuleInterop: true, sourceMap: false };
  for (const file of files(join(root, 'src'))) {
    if (!file.endsWith('.ts') || file.endsWith('.d.ts')) continue;
    const out = join(root, 'dist', relative(join(root, 'src'), file)).replace(/\.ts$/, '.js');
    const { outputText } = ts.transpileModule(readFileSync(file, 'utf8'), { compilerOptions: options, fileName: file });
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, outputText);
  }
  copyAssets();
  writeFileSync(stamp, 'transpiled\n');
}

/**
 * The locked TypeScript: the project's own when the development dependencies are installed, else
 * that one version alone in node_modules/.sessionkit-build (npm ci replaces it with the rest).
 */
async function typescript() {
  const own = join(root, 'node_modules', 'typescript', 'lib', 'typescript.js');
  if (existsSync(own)) return (await import(pathToFileURL(own).href)).default;
  const version = JSON.parse(readFileSync(lock, 'utf8')).packages['node_modules/typescript'].version;
  const tool = join(root, 'node_modules', '.sessionkit-build');
  const lib = join(tool, 'node_modules', 'typescript', 'lib', 'typescript.js');
  if (!existsSync(lib)) {
    console.log(`sessionkit: fetching typescript@${version} to build`);
    mkdirSync(tool, { recursive: true });
    writeFileSync(join(tool, 'package.json'), '{"private":true}\n');
    execSync(`npm install --no-audit --no-fund --no-package-lock --ignore-scripts typescript@${version}`, { cwd: tool, stdio: 'inherit' });
  }
  return (await import(pathToFileURL(lib).href)).default;
}
