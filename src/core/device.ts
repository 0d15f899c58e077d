import Bowser from 'bowser';
import type { DeviceInfo } from './types.js';

const MAX_UA = 512;

export interface DeviceInput {
  userAgent?: string | null;
  ip?: string | null;
  label?: string | null;
}

/** Parses the user agent (bowser) into browser, OS and device type; tolerant of any input. */
export function parseDevice(input: DeviceInput | undefined): DeviceInfo {
  const userAgent = typeof input?.userAgent === 'string' && input.userAgent.length > 0
    ? input.userAgent.slice(0, MAX_UA) : null;
  const ip = typeof input?.ip === 'string' && input.ip.length > 0 ? input.ip.slice(0, 64) : null;
  const label = typeof input?.label === 'string' && input.label.length > 0 ? input.label.slice(0, 100) : null;
  let browser: string | null = null;
  let os: string | null = null;
  let type = 'unknown';
  if (userAgent) {
    try {
      const parsed = Bowser.parse(userAgent);
      // bowser answers '' for a browser it does not know and undefined for an OS: both are unknown, null.
      browser = parsed.browser.name || null;
      os = parsed.os.name || null;
      type = parsed.platform.type ?? (/bot|crawler|spider/i.test(userAgent) ? 'bot' : 'unknown');
    } catch {
      // an unparsable user agent is still a device: keep the raw string, leave the fields unknown
    }
  }
  return { userAgent, ip, label, browser, os, type };
}
