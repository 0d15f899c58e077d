import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** A TypeScript or JavaScript block of the documentation, with the set-up its comment gives it. */
export interface Snippet {
  /** `README.md:132`: the file and the line of the opening fence. */
  where: string;
  lang: 'ts' | 'js';
  /** Code that precedes the block when it is checked or run (declarations of what the prose assumes). */
  setup: string;
  code: string;
  /** Marked `<!-- snippet run` : executed as well as type-checked. */
  run: boolean;
}

const LANGS = new Map<string, 'ts' | 'js'>([['ts', 'ts'], ['typescript', 'ts'], ['js', 'js'], ['javascript', 'js'], ['mjs', 'js']]);

/**
 * Every ```ts / ```js block of README.md and docs/*.md. A block may be preceded by an HTML comment
 * that the rendered page hides:
 *
 *     <!-- snippet [run]
 *     import express from 'express';
 *     const app = express();
 *     -->
 *
 * whose lines are prepended to the block (what the surrounding prose assumes), and `run` asks for
 * the block to be executed, not only type-checked.
 */
export function docSnippets(root: string): Snippet[] {
  const files = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join('docs', f))];
  const out: Snippet[] = [];
  for (const file of files) {
    const lines = readFileSync(join(root, file), 'utf8').split('\n');
    let pending: { setup: string; run: boolean } | null = null;
    for (let i = 0; i < lines.length; i += 1) {
      const line = lines[i] as string;
      const comment = /^<!-- snippet( run)?\s*$/.exec(line);
      if (comment) {
        const setup: string[] = [];
        i += 1;
        while (i < lines.length && (lines[i] as string).trim() !== '-->') setup.push(lines[i++] as string);
        pending = { setup: setup.join('\n'), run: comment[1] !== undefined };
        continue;
      }
      const fence = /^```(\w+)\s*$/.exec(line);
      if (fence) {
        const start = i + 1;
        const body: string[] = [];
        i += 1;
        while (i < lines.length && !(lines[i] as string).startsWith('```')) body.push(lines[i++] as string);
        const lang = LANGS.get(fence[1] as string);
        if (lang) {
          out.push({ where: `${relative(root, join(root, file))}:${start}`, lang, setup: pending?.setup ?? '', code: body.join('\n'), run: pending?.run ?? false });
        }
        pending = null;
        continue;
      }
      if (line.trim() !== '') pending = null;
    }
  }
  return out;
}
