import { describe, expect, it } from 'vitest';
// @ts-expect-error: a JavaScript benchmark module without declarations
import { svgChart } from '../../bench/overview.bench.mjs';

const render = svgChart as (results: Array<{ framework: string; rows: Array<{ label: string; rps: number; ratio: number }> }>, caption: string) => string;

describe('the benchmark overview chart', () => {
  it('draws one bar per measured row, as long as its figure, with the figure and ratio written beside it', () => {
    const svg = render([
      { framework: 'Express 5', rows: [{ label: 'bare framework', rps: 20_000, ratio: 1 }, { label: 'sessionkit, memory', rps: 10_000, ratio: 0.5 }] },
      { framework: 'Fastify <5>', rows: [{ label: 'bare framework', rps: 40_000, ratio: 1 }] },
    ], 'caption & more');
    const widths = [...svg.matchAll(/<rect x="\d+" y="\d+" width="(\d+)"/g)].map((m) => Number(m[1]));
    expect(widths).toHaveLength(3);
    expect(widths[1]! * 2).toBeCloseTo(widths[0]!, -1);
    expect(widths[2]).toBe(widths[0]! * 2);
    expect(svg).toContain('10,000 (0.50x)');
    expect(svg).toContain('Fastify &lt;5&gt;');
    expect(svg).toContain('caption &amp; more');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
  });
});
