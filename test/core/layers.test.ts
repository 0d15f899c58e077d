import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const script = new URL('../../scripts/check-layers.mjs', import.meta.url).pathname;
const made: string[] = [];

/** Runs the layer check over a made-up src/ whose files are given as path -> text. */
function checkTree(files: Record<string, string>): { status: number | null; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sessionkit-layers-'));
  made.push(dir);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  const r = spawnSync(process.execPath, [script, dir], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('the layer check (scripts/check-layers.mjs)', () => {
  it('passes on this repository: no folder cycle in src/, and the core imports no store, HTTP or service code', () => {
    const r = spawnSync(process.execPath, [script], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/layers ok/);
    expect(r.status).toBe(0);
  });

  it('fails on a cycle between two folders and names both edges', () => {
    const r = checkTree({
      'audit/chain.ts': "import type { AuditEvent } from '../stores/types.js';\nexport const x = 1;\n",
      'stores/types.ts': "import { x } from '../audit/chain.js';\nexport type AuditEvent = typeof x;\n",
    });
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/import cycle between audit, stores/);
    expect(r.out).toMatch(/audit -> stores \(audit\/chain\.ts/);
    expect(r.out).toMatch(/stores -> audit \(stores\/types\.ts/);
  });

  it('fails on a cycle through three folders made of a re-export and a dynamic import', () => {
    const r = checkTree({
      'a/one.ts': "export * from '../b/two.js';\n",
      'b/two.ts': "export const load = () => import('../c/three.js');\n",
      'c/three.ts': "import '../a/one.js';\n",
    });
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/import cycle between a, b, c/);
  });

  it('fails when the core imports a store, even for a type only', () => {
    const r = checkTree({
      'core/manager.ts': "import type { SessionStore } from '../stores/types.js';\nexport type S = SessionStore;\n",
      'stores/types.ts': 'export interface SessionStore { get(): void }\n',
    });
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/core must not import stores: core\/manager\.ts imports \.\.\/stores\/types\.js/);
  });

  it('fails when a token format imports the core', () => {
    const r = checkTree({
      'tokens/opaque.ts': "import { SessionError } from '../core/errors.js';\nexport const e = SessionError;\n",
      'core/errors.ts': 'export class SessionError extends Error {}\n',
    });
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/tokens must not import core/);
  });

  it('ignores imports named only in comments', () => {
    const r = checkTree({
      'core/manager.ts': "// import { x } from '../stores/types.js';\n/* import '../http/core.js' */\nexport const y = 1;\n",
      'stores/types.ts': "import { y } from '../core/manager.js';\nexport const x = y;\n",
    });
    expect(r.status).toBe(0);
  });
});
