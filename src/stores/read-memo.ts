/**
 * The read memo of the SQLite and Redis stores' validation read. `validate` reads a session on
 * every request while its stored text changes only when the record is rewritten, and decoding that
 * text was most of either store's cost over its bare read (docs/PERFORMANCE.md). The memo keeps,
 * per session id, the text last decoded and its decoded value, deeply frozen and shared by every
 * reader (as the memory store shares its records), and reuses it only when the text read now is the
 * same string, compared in full: a change by any process is seen on the next read.
 *
 * Entries live in a `boundedMap` (two generations). Only one decode in eight is remembered: a
 * session read again and again gets in within a few reads, while a hot set larger than the memo
 * does not pay for freezing and retaining every miss (measured on SQLite with 20,000 hot sessions:
 * 0.50x of the bare SELECT when every miss was remembered, 0.62x with one in eight).
 *
 * @example
 * const read = readMemo(4096, decodeRecord, deepFreeze);
 * read(id, value) // deep-equals decodeRecord(id, value)
 */
import { boundedMap } from '../core/bounded-map.js';

export function readMemo<T>(max: number, decode: (id: string, text: string) => T, freeze: (value: T) => T): (id: string, text: string) => T {
  const entries = boundedMap<string, { text: string; value: T }>(max);
  let decoded = 0;
  return (id, text) => {
    const m = entries.get(id);
    if (m !== undefined && m.text === text) return m.value;
    const value = decode(id, text);
    if ((decoded++ & 7) !== 0) return value;
    const frozen = freeze(value);
    entries.set(id, { text, value: frozen });
    return frozen;
  };
}
