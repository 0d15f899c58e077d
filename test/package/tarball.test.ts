import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, root } from '../cli/helpers.js';

interface PackedFile { path: string }
interface PackageJson {
  name: string;
  license: string;
  bin: Record<string, string>;
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  exports: Record<string, string | { types: string; default: string }>;
}

/**
 * The package as npm publishes it: `npm pack`, then an empty project that has only the tarball's
 * contents as node_modules/sessionkit. Its production dependencies are linked from this clone's
 * node_modules, one link per *declared* dependency or peer, because the test may not download (npm ci
 * caches tarballs, not the registry metadata `npm install --offline` needs). A file the tarball
 * lacks, an export pointing nowhere, or a dependency used but not declared fails here as it would
 * for a user.
 */
describe('the packed tarball', () => {
  let work = '';
  let app = '';
  let files: string[] = [];
  let manifest: PackageJson;

  beforeAll(() => {
    ensureBuilt();
    work = mkdtempSync(join(tmpdir(), 'sessionkit-pack-'));
    const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const [packed] = JSON.parse(out) as Array<{ filename: string; files: PackedFile[] }>;
    files = (packed?.files ?? []).map((f) => f.path);
    app = join(work, 'app');
    const installed = join(app, 'node_modules', 'sessionkit');
    mkdirSync(installed, { recursive: true });
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    execFileSync('tar', ['-xzf', join(work, packed?.filename as string), '-C', installed, '--strip-components=1']);
    manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as PackageJson;
    // The declared dependencies, plus the optional peers (express, hono, vitest) that a user of
    // the subpath needing one installs beside sessionkit.
    for (const dep of [...Object.keys(manifest.dependencies), ...Object.keys(manifest.peerDependencies)]) {
      const target = join(app, 'node_modules', dep);
      mkdirSync(join(target, '..'), { recursive: true });
      symlinkSync(join(root, 'node_modules', dep), target, 'dir');
    }
  }, 120_000);
  afterAll(() => { if (work) rmSync(work, { recursive: true, force: true }); });

  it('ships the licence the manifest names, and no source maps or build stamps', () => {
    expect(manifest.license).toBe('MIT');
    expect(files).toContain('LICENSE');
    expect(readFileSync(join(app, 'node_modules', 'sessionkit', 'LICENSE'), 'utf8')).toMatch(/^MIT License/);
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    expect(files.filter((f) => f.includes('.build-stamp'))).toEqual([]);
    expect(files.filter((f) => f.startsWith('src/') || f.startsWith('test/'))).toEqual([]);
    // The dashboard's browser files, which tsc does not emit, are in the package.
    expect(files).toEqual(expect.arrayContaining(['dist/server/dashboard/client/app.js', 'dist/server/dashboard/client/app.css', 'dist/server/dashboard/client/favicon.svg']));
  });

  it('imports every subpath export from an empty project', () => {
    const subpaths = Object.keys(manifest.exports).filter((s) => s !== './package.json');
    expect(subpaths.length).toBeGreaterThan(10);
    for (const subpath of subpaths) {
      const entry = manifest.exports[subpath] as { types: string; default: string };
      expect(existsSync(join(app, 'node_modules', 'sessionkit', entry.types)), `${subpath} types`).toBe(true);
      const specifier = subpath === '.' ? 'sessionkit' : `sessionkit/${subpath.slice(2)}`;
      const script = `const m = await import(${JSON.stringify(specifier)}); console.log(Object.keys(m).length);`;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: app, encoding: 'utf8' });
      expect({ specifier, status: r.status, stderr: r.stderr }).toEqual({ specifier, status: 0, stderr: '' });
      expect(Number(r.stdout.trim()), specifier).toBeGreaterThan(0);
    }
  });

  it('creates and validates a session through the installed package', () => {
    const script = [
      "import { createSessionManager } from 'sessionkit';",
      "import { memoryStore } from 'sessionkit/stores/memory';",
      'const sessions = createSessionManager({ store: memoryStore() });',
      "const { token } = await sessions.create({ userId: 'u1' });",
      'const session = await sessions.validate(token);',
      'console.log(session.userId);',
    ].join('\n');
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: app, encoding: 'utf8' });
    expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 0, stdout: 'u1\n', stderr: '' });
  });

  it('runs the CLI from the installed bin', () => {
    const bin = join(app, 'node_modules', 'sessionkit', manifest.bin.sessionkit as string);
    const help = spawnSync(process.execPath, [bin, '--help'], { cwd: app, encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/sessionkit/);
    const doctor = spawnSync(process.execPath, [bin, 'doctor', '--json', '--store', 'memory:'], { cwd: app, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
    expect(doctor.status).toBe(0);
    expect((JSON.parse(doctor.stdout) as { ok: boolean }).ok).toBe(true);
  });
});
