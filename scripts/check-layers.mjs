// The layer check: reads every import of src/ (static, type-only, re-exports and dynamic
// `import('...')`), folds them into a graph of src/'s top-level folders, and fails when that
// graph has a cycle or when a folder imports one it must never depend on (the core is the
// port every edge plugs into, so it may not know a store, the HTTP layer or the service).
// Usage: node scripts/check-layers.mjs [srcDir]; prints the folder graph, exits 1 on a breach.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/** Folders that a folder may never import, whatever the order of the others. */
export const FORBIDDEN = new Map([
  ['base', ['core', 'tokens', 'audit', 'stores', 'http', 'server', 'cli', 'config', 'oidc', 'testing']],
  ['tokens', ['core', 'audit', 'stores', 'http', 'server', 'cli', 'config', 'oidc', 'testing']],
  ['core', ['stores', 'http', 'server', 'cli', 'config', 'oidc', 'testing']],
]);

const IMPORT = /(?:^|[\s;}])(?:import|export)\s[^'"]*?\sfrom\s*['"]([^'"]+)['"]|(?:^|[\s;])import\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function sourceFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(ts|mts|tsx)$/.test(name) && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** The top-level folder of src/ a file belongs to ('.' for files directly in src/). */
function folderOf(srcDir, file) {
  const parts = relative(srcDir, file).split(sep);
  return parts.length > 1 ? parts[0] : '.';
}

/** Every folder-to-folder import edge, each with one example (file -> specifier). */
export function folderGraph(srcDir) {
  const edges = new Map();
  for (const file of sourceFiles(srcDir)) {
    const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2] ?? m[3];
      if (!spec.startsWith('.')) continue;
      const target = resolve(dirname(file), spec);
      if (relative(srcDir, target).startsWith('..')) continue;
      const from = folderOf(srcDir, file);
      const to = folderOf(srcDir, target);
      if (from === to) continue;
      const key = `${from} -> ${to}`;
      if (!edges.has(key)) edges.set(key, { from, to, example: `${relative(srcDir, file)} imports ${spec}` });
    }
  }
  return [...edges.values()];
}

/** Folder cycles (strongly connected components of more than one folder), by Tarjan's algorithm. */
export function folderCycles(edges) {
  const next = new Map();
  for (const { from, to } of edges) {
    if (!next.has(from)) next.set(from, []);
    if (!next.has(to)) next.set(to, []);
    next.get(from).push(to);
  }
  let index = 0;
  const stack = [];
  const meta = new Map();
  const cycles = [];
  const visit = (v) => {
    meta.set(v, { index, low: index, onStack: true });
    index += 1;
    stack.push(v);
    for (const w of next.get(v)) {
      if (!meta.has(w)) {
        visit(w);
        meta.get(v).low = Math.min(meta.get(v).low, meta.get(w).low);
      } else if (meta.get(w).onStack) {
        meta.get(v).low = Math.min(meta.get(v).low, meta.get(w).index);
      }
    }
    if (meta.get(v).low === meta.get(v).index) {
      const component = [];
      let w;
      do {
        w = stack.pop();
        meta.get(w).onStack = false;
        component.push(w);
      } while (w !== v);
      if (component.length > 1) cycles.push(component.sort());
    }
  };
  for (const v of next.keys()) if (!meta.has(v)) visit(v);
  return cycles;
}

/** Every breach of the layer rules: folder cycles and forbidden imports, as readable lines. */
export function layerBreaches(srcDir) {
  const edges = folderGraph(srcDir);
  const breaches = [];
  for (const cycle of folderCycles(edges)) {
    const inCycle = edges.filter((e) => cycle.includes(e.from) && cycle.includes(e.to));
    breaches.push(`import cycle between ${cycle.join(', ')}: ${inCycle.map((e) => `${e.from} -> ${e.to} (${e.example})`).join('; ')}`);
  }
  for (const e of edges) {
    if (FORBIDDEN.get(e.from)?.includes(e.to)) breaches.push(`${e.from} must not import ${e.to}: ${e.example}`);
  }
  return { edges, breaches };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const srcDir = resolve(process.argv[2] ?? new URL('../src', import.meta.url).pathname);
  const { edges, breaches } = layerBreaches(srcDir);
  const byFolder = new Map();
  for (const e of edges) byFolder.set(e.from, [...(byFolder.get(e.from) ?? []), e.to]);
  for (const [from, tos] of [...byFolder].sort()) console.log(`${from.padEnd(8)} -> ${tos.sort().join(', ')}`);
  if (breaches.length === 0) {
    console.log(`layers ok: ${edges.length} folder imports, no cycle, no forbidden import`);
  } else {
    for (const b of breaches) console.error(`layer breach: ${b}`);
    process.exit(1);
  }
}
