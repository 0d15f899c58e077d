import { describe, expect, it } from 'vitest';
import { parseDevice } from '../../src/core/device.js';

describe('parseDevice', () => {
  it('reports a browser and an OS it cannot name the same way: null, never an empty string', () => {
    for (const userAgent of ['curl/8.5.0', 'x y z', 'Mozilla/5.0']) {
      const device = parseDevice({ userAgent });
      expect(device).toMatchObject({ userAgent, browser: null, os: null, type: 'unknown' });
    }
  });

  it('names what bowser recognises', () => {
    const device = parseDevice({ userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36' });
    expect(device).toMatchObject({ browser: 'Chrome', os: 'Linux', type: 'desktop' });
  });

  it('keeps no user agent, ip or label when none is given', () => {
    expect(parseDevice(undefined)).toEqual({ userAgent: null, ip: null, label: null, browser: null, os: null, type: 'unknown' });
  });
});
