import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, root } from '../cli/helpers.js';
import { docSnippets, type Snippet } from './snippets.js';

/**
 * Every TypeScript and JavaScript block of README.md and docs/*.md, type-checked as a user's file
 * would be: inside this package (so `sessionkit/…` resolves through its `exports` to dist/, the
 * declarations users get) with what `tsc --init` turns on today (strict,
 * exactOptionalPropertyTypes, noUncheckedIndexedAccess, verbatimModuleSyntax). Blocks marked
 * `<!-- snippet run` are executed too. An example that drifts from the API fails here.
 */
const COMPILER_OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  strict: true,
  exactOptionalPropertyTypes: true,
  noUncheckedIndexedAccess: true,
  verbatimModuleSyntax: true,
  isolatedModules: true,
  skipLibCheck: true,
  allowJs: true,
  checkJs: true,
  noEmit: true,
  types: ['node'],
};

const snippets = docSnippets(root);
const dir = join(root, 'test-artifacts', 'snippets');
const fileOf = (s: Snippet, i: number): string => join(dir, `${String(i).padStart(2, '0')}-${s.where.replace(/[^A-Za-z0-9]+/g, '-')}.${s.lang === 'ts' ? 'mts' : 'mjs'}`);
const source = (s: Snippet): string => `${s.setup}\n${s.code}\nexport {};\n`;

describe('the documentation examples', () => {
  let diagnostics = new Map<string, string[]>();

  beforeAll(() => {
    ensureBuilt();
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    snippets.forEach((s, i) => writeFileSync(fileOf(s, i), source(s)));
    // oidc-provider ships no types; the declarations the SSO tests use cover docs/SSO.md's example.
    const ambient = join(root, 'test', 'oidc', 'helpers', 'oidc-provider.d.ts');
    const program = ts.createProgram([ambient, ...snippets.map(fileOf)], COMPILER_OPTIONS);
    diagnostics = new Map(snippets.map((s, i) => {
      const file = program.getSourceFile(fileOf(s, i));
      const found = file ? [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)] : [];
      const setupLines = s.setup === '' ? 1 : s.setup.split('\n').length + 1;
      return [s.where, found.map((d) => {
        const at = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 - setupLines : 0;
        return `${at > 0 ? `block line ${at}` : 'set-up'}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
      })];
    }));
  }, 120_000);

  it('finds the blocks of README.md and docs/', () => {
    expect(snippets.filter((s) => s.where.startsWith('README.md')).length).toBeGreaterThanOrEqual(10);
  });

  it.each(snippets.map((s) => [s.where, s] as const))('%s type-checks strictly', (where) => {
    expect(diagnostics.get(where)).toEqual([]);
  });

  const runnable = snippets.map((s, i) => [s.where, s, i] as const).filter(([, s]) => s.run);
  describe('runnable examples', () => {
    let cwd = '';
    beforeAll(() => { cwd = mkdtempSync(join(tmpdir(), 'sessionkit-snippet-')); });
    afterAll(() => rmSync(cwd, { recursive: true, force: true }));

    it('there are some', () => expect(runnable.length).toBeGreaterThanOrEqual(3));

    it.each(runnable)('%s runs to the end', (_where, s, i) => {
      const js = ts.transpileModule(source(s), { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
      const file = fileOf(s, i).replace(/\.m[tj]s$/, '.run.mjs');
      writeFileSync(file, js);
      const r = spawnSync(process.execPath, [file], { cwd, encoding: 'utf8', timeout: 60_000, env: { ...process.env, NODE_NO_WARNINGS: '1' } });
      expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    }, 90_000);
  });
});
