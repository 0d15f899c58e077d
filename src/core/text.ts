/**
 * Text every store can keep. PostgreSQL refuses a NUL character in `text` and `jsonb`, and a lone
 * UTF-16 surrogate has no UTF-8 form (jsonb refuses its escape too); the other stores would keep
 * or mangle them. So the library refuses both at its boundary, for every store alike, as
 * `invalid_request`: bad input is the caller's error, never a store outage.
 */
import { isIP } from 'node:net';
import type { DeviceInput } from './device.js';
import { SessionError } from './errors.js';

// eslint-disable-next-line no-control-regex
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * True when `text` holds neither NUL nor a lone surrogate.
 *
 * @example storableText('alice') // true; storableText('a\u0000') // false; storableText('\ud800') // false
 */
export function storableText(text: string): boolean {
  return !UNSTORABLE.test(text);
}

/**
 * Throws `invalid_request` naming `field` when a string in `value` (any depth, object keys
 * included) holds NUL or a lone surrogate. Other values pass untouched.
 *
 * @example checkStorable({ note: 'ok' }, 'data') // passes; checkStorable({ 'k\u0000': 1 }, 'data') // throws
 */
export function checkStorable(value: unknown, field: string, depth = 0): void {
  if (typeof value === 'string') {
    if (!storableText(value)) throw new SessionError('invalid_request', `${field}: must not contain a NUL character or an unpaired UTF-16 surrogate`);
    return;
  }
  // The data's size limit bounds the work; the depth cap only guards the stack.
  if (typeof value !== 'object' || value === null || depth > 100) return;
  if (Array.isArray(value)) {
    for (const item of value) checkStorable(item, field, depth + 1);
    return;
  }
  for (const [key, item] of Object.entries(value)) {
    checkStorable(key, field, depth + 1);
    checkStorable(item, field, depth + 1);
  }
}

/**
 * Checks the device a caller gave: each field a string (or null/absent), storable, and `ip` an
 * IPv4 or IPv6 address (node:net `isIP`), so what the session list shows as its IP is one.
 * Throws `invalid_request` naming the field; returns the input.
 *
 * @example checkedDevice({ userAgent: 'curl/8', ip: '203.0.113.9' }) // the same object
 */
export function checkedDevice(device: DeviceInput | undefined): DeviceInput | undefined {
  if (device === undefined || device === null) return device ?? undefined;
  if (typeof device !== 'object' || Array.isArray(device)) throw new SessionError('invalid_request', 'device: expected an object of userAgent, ip and label');
  for (const field of ['userAgent', 'ip', 'label'] as const) {
    const value = device[field];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string') throw new SessionError('invalid_request', `device.${field}: expected a string`);
    checkStorable(value, `device.${field}`);
  }
  if (typeof device.ip === 'string' && device.ip.length > 0 && isIP(device.ip) === 0) {
    throw new SessionError('invalid_request', 'device.ip: expected an IPv4 or IPv6 address');
  }
  return device;
}
