/**
 * Key names of the Redis store. Every key of one user's sessions carries the same hash tag, so on
 * a cluster they live in one slot and a Lua script can change them together:
 *
 *   <prefix>{<tag>}:s:<rest>   one session (its id is `<tag><rest>`)
 *   <prefix>{<tag>}:u          the user's index (sorted set: member `<rest>`, score `createdAt`)
 *   <prefix>{<tag>}:a          the user's audit outbox (cluster only, see docs/OPERATIONS.md)
 *   <prefix>{a}:log, {a}:head  the chained audit stream and its head (`seq|hash`)
 *   <prefix>{r}:<kind>         named records (a hash per kind)
 *   <prefix>salt               the tag salt when none is configured
 *
 * The tag is 11 base64url characters of HMAC-SHA-256(salt, userId): it places the user without
 * revealing who the user is to anyone who sees a session id but not the salt.
 *
 * @example keySpace('sk:', salt).record('AbCdEfGhIjK', rest) === 'sk:{AbCdEfGhIjK}:s:' + rest
 */
import { createHmac } from 'node:crypto';

export const TAG_LENGTH = 11;
export const ID_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export interface KeySpace {
  prefix: string;
  tagOf(userId: string): string;
  /** Splits a session id into its tag and the rest; null when it cannot be one of ours. */
  split(id: string): { tag: string; rest: string } | null;
  record(tag: string, rest: string): string;
  /** The prefix of every session key of a tag (the scripts append the member). */
  recordPrefix(tag: string): string;
  index(tag: string): string;
  outbox(tag: string): string;
  auditLog: string;
  auditHead: string;
  records(kind: string): string;
  channel: string;
}

export function keySpace(prefix: string, salt: Buffer): KeySpace {
  return {
    prefix,
    tagOf: (userId) => createHmac('sha256', salt).update(userId, 'utf8').digest().subarray(0, 8).toString('base64url'),
    split: (id) => (typeof id === 'string' && ID_PATTERN.test(id) ? { tag: id.slice(0, TAG_LENGTH), rest: id.slice(TAG_LENGTH) } : null),
    record: (tag, rest) => `${prefix}{${tag}}:s:${rest}`,
    recordPrefix: (tag) => `${prefix}{${tag}}:s:`,
    index: (tag) => `${prefix}{${tag}}:u`,
    outbox: (tag) => `${prefix}{${tag}}:a`,
    auditLog: `${prefix}{a}:log`,
    auditHead: `${prefix}{a}:head`,
    records: (kind) => `${prefix}{r}:${kind}`,
    channel: `${prefix}changes`,
  };
}

/** The key holding the generated tag salt (when the `salt` option is not given). */
export function saltKey(prefix: string): string {
  return `${prefix}salt`;
}

/**
 * The Cluster hash slot of the keys whose hash tag is `tag`: CRC16-XMODEM of the tag, mod 16384
 * (the Redis Cluster specification). The store needs it to send `WAIT` to the node that ran a
 * revocation (see redis.ts, `revocationReplicas`).
 *
 * @example slotOfTag('123456789') // 12739
 */
export function slotOfTag(tag: string): number {
  let crc = 0;
  for (const byte of Buffer.from(tag, 'utf8')) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i += 1) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}
