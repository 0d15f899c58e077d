/**
 * The read lane of the Redis store: a connection of its own that only sends `GET`, so validating a
 * session costs one small write and one reply parse instead of a driver's full command machinery.
 *
 * Why: under load ioredis spends 6-10 µs of CPU per command (a Command object, reply-transformer
 * plumbing, and one socket write per command, or one pipeline at a time with auto-pipelining),
 * which made `validate` several times slower than connect-redis on node-redis. This lane writes
 * every `GET` issued in the same tick in one socket write and parses RESP2 replies straight from
 * the socket's buffers: about 1.3 µs per `GET` on the benchmark machine (docs/PERFORMANCE.md).
 * Every other command (the Lua scripts, audit, records, pub/sub) stays on ioredis.
 *
 * Fail closed: a reply missing for `timeout` ms, a refused or dropped connection, or a handshake
 * error rejects every waiting `GET` and drops the connection; the next `GET` opens a new one.
 * While `down()` says the store's main client is reconnecting or closed, `GET` rejects at once.
 * Replies come back in order on one connection, so read-your-writes holds: a change acknowledged on
 * the main connection is seen by any `GET` sent after the acknowledgement.
 *
 * @example
 * const lane = getLane({ open: () => net.connect(6379, '127.0.0.1'), db: 0, timeout: 2000, down: () => null });
 * const value = await lane.get('sk:{tag}rest');   // string | null
 */
import type { Socket } from 'node:net';

export interface GetLaneOptions {
  /** Opens the socket (net or tls); writes before it connects are buffered by Node. */
  open: () => Socket;
  username?: string | undefined;
  password?: string | undefined;
  db: number;
  /** ms without any reply while a `GET` waits before everything waiting fails. */
  timeout: number;
  /** Why the lane must not be used right now (the main client is down), or null. */
  down: () => string | null;
}

export interface GetLane {
  get(key: string): Promise<string | null>;
  close(): void;
}

type Settle = (err: Error | null, value: string | null) => void;

const CR = 13;

/** A RESP2 command as one string (bulk lengths in bytes). */
function command(args: string[]): string {
  let out = `*${args.length}\r\n`;
  for (const a of args) out += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
  return out;
}

export function getLane(options: GetLaneOptions): GetLane {
  const { timeout } = options;
  let socket: Socket | null = null;
  /** Waiting replies, oldest first, from `head` on (compacted now and then rather than shifted). */
  let waiting: Settle[] = [];
  let head = 0;
  let out = '';
  let flushScheduled = false;
  let rest: Buffer | null = null;
  let lastProgress = 0;
  let watchdog: ReturnType<typeof setInterval> | null = null;
  let closed = false;

  const flush = (): void => {
    flushScheduled = false;
    if (socket && out !== '') socket.write(out);
    out = '';
  };

  /** Drops the connection and rejects everything waiting on it. */
  const fail = (err: Error): void => {
    const s = socket;
    const pending = waiting.slice(head);
    socket = null;
    waiting = [];
    head = 0;
    out = '';
    rest = null;
    if (watchdog) clearInterval(watchdog);
    watchdog = null;
    if (s) {
      s.removeAllListeners('data');
      s.on('error', () => {});
      s.destroy();
    }
    for (const settle of pending) settle(err, null);
  };

  const settleNext = (err: Error | null, value: string | null): void => {
    const settle = waiting[head] as Settle;
    waiting[head] = undefined as unknown as Settle;
    head += 1;
    if (head === waiting.length) {
      waiting.length = 0;
      head = 0;
    } else if (head >= 1024 && head * 2 >= waiting.length) {
      waiting = waiting.slice(head);
      head = 0;
    }
    settle(err, value);
  };

  /** Parses every complete reply in `chunk` (plus what was left of the previous one). */
  const onData = (chunk: Buffer): void => {
    lastProgress = Date.now();
    const b = rest === null ? chunk : Buffer.concat([rest, chunk]);
    rest = null;
    const len = b.length;
    let pos = 0;
    while (pos < len) {
      const eol = b.indexOf(CR, pos);
      if (eol < 0 || eol + 1 >= len) break;
      const type = b[pos];
      if (type === 36) { // `$`: bulk string, or `$-1` for nil
        if (b[pos + 1] === 45) {
          pos = eol + 2;
          settleNext(null, null);
          continue;
        }
        let n = 0;
        for (let i = pos + 1; i < eol; i += 1) n = n * 10 + ((b[i] as number) - 48);
        const end = eol + 2 + n;
        if (end + 2 > len) break;
        const value = b.toString('utf8', eol + 2, end);
        pos = end + 2;
        settleNext(null, value);
      } else if (type === 45 || type === 43 || type === 58) { // `-` error, `+` status, `:` integer
        const line = b.toString('utf8', pos + 1, eol);
        pos = eol + 2;
        settleNext(type === 45 ? new Error(line) : null, line);
      } else {
        fail(new Error(`unexpected reply type ${String.fromCharCode(type as number)} on the read connection`));
        return;
      }
      if (socket === null) return; // a handshake reply failed the connection
    }
    if (pos < len) rest = b.subarray(pos);
  };

  const connect = (): Socket => {
    const s = options.open();
    s.setNoDelay(true);
    socket = s;
    lastProgress = Date.now();
    const lost = (err?: Error): void => {
      if (socket === s) fail(err ?? new Error('the read connection was closed'));
    };
    s.on('data', onData);
    s.on('error', lost);
    s.on('close', () => lost());
    // Handshake replies take their place in the queue before any GET; an error fails the connection.
    const handshake: Settle = (err) => {
      if (err && socket === s) fail(new Error(`the read connection was refused: ${err.message}`));
    };
    if (options.password !== undefined) {
      out += command(options.username !== undefined ? ['AUTH', options.username, options.password] : ['AUTH', options.password]);
      waiting.push(handshake);
    }
    if (options.db !== 0) {
      out += command(['SELECT', String(options.db)]);
      waiting.push(handshake);
    }
    // One timer per connection, not per command: fail when replies stop flowing while some wait.
    watchdog = setInterval(() => {
      if (socket === s && waiting.length > head && Date.now() - lastProgress >= timeout) {
        fail(new Error(`Command timed out: no reply within ${timeout} ms`));
      }
    }, Math.max(5, Math.floor(timeout / 4)));
    watchdog.unref();
    return s;
  };

  return {
    get(key) {
      if (closed) return Promise.reject(new Error('the store is closed'));
      const down = options.down();
      if (down !== null) return Promise.reject(new Error(down));
      if (socket === null) connect();
      if (waiting.length === head) lastProgress = Date.now();
      return new Promise<string | null>((resolve, reject) => {
        waiting.push((err, value) => (err ? reject(err) : resolve(value)));
        out += `*2\r\n$3\r\nGET\r\n$${Buffer.byteLength(key)}\r\n${key}\r\n`;
        if (!flushScheduled) {
          flushScheduled = true;
          setImmediate(flush);
        }
      });
    },
    close() {
      closed = true;
      if (socket) fail(new Error('the store is closed'));
    },
  };
}
