// The figure a user asks for first: requests per second of one protected route, with no session
// handling (bare), with sessionkit, and with the framework's usual session library
// (express-session, @fastify/session), on the memory store and on Redis (sessionkit's Redis store;
// connect-redis for the peers), all measured in one run with the servers of bench/http.bench.mjs.
// Prints one small table of ratios and writes the chart docs/benchmark-overview.svg from the
// results (and the raw figures to bench/results/overview.json). Internal targets and their bounds
// stay in the other modules and docs/PERFORMANCE.md.
import { mkdirSync, writeFileSync } from 'node:fs';
import { load, start } from './http.bench.mjs';
import { printMarkdown } from './lib.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const FRAMEWORKS = [
  { id: 'express', title: 'Express 5', peer: 'express-session' },
  { id: 'fastify', title: 'Fastify 5', peer: '@fastify/session' },
];
/** Rows per framework: [variant suffix, label]. */
const ROWS = [
  ['bare', 'bare framework'],
  ['sessionkit', 'sessionkit, memory'],
  ['session', '{peer}, memory'],
  ['sessionkit-redis', 'sessionkit, Redis'],
  ['session-redis', '{peer} + connect-redis'],
];

export async function run({ log }) {
  const { default: autocannon } = await import('autocannon');
  log(`requests/s of GET /protected (a logged-in client), ${ROUNDS} alternating rounds of ${SECONDS} s, the best counts`);
  const variants = FRAMEWORKS.flatMap((f) => ROWS.map(([suffix]) => `${f.id}-${suffix}`));
  const servers = new Map();
  const best = new Map();
  try {
    for (const v of variants) servers.set(v, await start(v));
    for (const v of variants) await load(autocannon, servers.get(v), 1);
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const v of variants) {
        const r = await load(autocannon, servers.get(v), SECONDS);
        if (!best.has(v) || r.opsPerSec > best.get(v).opsPerSec) best.set(v, r);
      }
    }
  } finally {
    for (const s of servers.values()) s.child.kill('SIGTERM');
  }

  const results = FRAMEWORKS.map((f) => {
    const bare = best.get(`${f.id}-bare`).opsPerSec;
    return {
      framework: f.title,
      rows: ROWS.map(([suffix, label]) => {
        const rps = best.get(`${f.id}-${suffix}`).opsPerSec;
        return { label: label.replace('{peer}', f.peer), rps: Math.round(rps), ratio: rps / bare };
      }),
    };
  });
  const lines = [['protected route', ...results.map((r) => `${r.framework} req/s`), ...results.map((r) => `${r.framework} vs bare`)]];
  for (let i = 0; i < ROWS.length; i += 1) {
    const label = ROWS[i][1].replace('{peer}', 'express-session / @fastify/session');
    lines.push([label, ...results.map((r) => r.rows[i].rps.toLocaleString('en-US')), ...results.map((r) => `${r.rows[i].ratio.toFixed(2)}x`)]);
  }
  log('\n### protected route, requests per second\n');
  printMarkdown(log, lines, [false, true, true, true, true]);

  const when = new Date().toISOString().slice(0, 16).replace('T', ' ');
  mkdirSync(new URL('results/', import.meta.url), { recursive: true });
  writeFileSync(new URL('results/overview.json', import.meta.url), `${JSON.stringify({ when, seconds: SECONDS, rounds: ROUNDS, results }, null, 2)}\n`);
  const chart = new URL('../docs/benchmark-overview.svg', import.meta.url);
  writeFileSync(chart, svgChart(results, `GET of a protected route, requests/s (higher is better), ${when} UTC`));
  log(`\nchart written to docs/benchmark-overview.svg, figures to bench/results/overview.json`);
}

/** A horizontal bar chart, one group per framework, written as plain SVG text from the results. */
export function svgChart(results, caption) {
  const width = 760;
  const labelWidth = 230;
  const barMax = width - labelWidth - 150;
  const rowHeight = 26;
  const groupGap = 34;
  const max = Math.max(...results.flatMap((r) => r.rows.map((row) => row.rps)));
  const colours = ['#9aa5b1', '#1f6feb', '#d29922', '#0b4fae', '#9e6a03'];
  const esc = (t) => String(t).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const parts = [];
  let y = 40;
  for (const group of results) {
    parts.push(`<text x="10" y="${y}" font-weight="bold">${esc(group.framework)}</text>`);
    y += 10;
    group.rows.forEach((row, i) => {
      const w = Math.max(1, Math.round((row.rps / max) * barMax));
      parts.push(`<text x="${labelWidth - 8}" y="${y + 17}" text-anchor="end">${esc(row.label)}</text>`);
      parts.push(`<rect x="${labelWidth}" y="${y + 4}" width="${w}" height="${rowHeight - 8}" fill="${colours[i % colours.length]}"/>`);
      parts.push(`<text x="${labelWidth + w + 6}" y="${y + 17}">${esc(row.rps.toLocaleString('en-US'))} (${row.ratio.toFixed(2)}x)</text>`);
      y += rowHeight;
    });
    y += groupGap;
  }
  const height = y;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="13">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="10" y="20" font-size="14">${esc(caption)}</text>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
