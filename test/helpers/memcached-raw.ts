/**
 * Talks to a test memcached over a plain socket, for what the store's client library does not
 * offer: the keys a server holds (`lru_crawler metadump`) and an item's remaining TTL (`mg … t`).
 *
 * @example const keys = await keysOn(server.port); const ttl = await ttlOf(server.port, key)
 */
import { connect } from 'node:net';

/** Sends one command and resolves with the reply once it ends with one of `terminators`. */
export function rawCommand(port: number, line: string, terminators: RegExp = /(END|EN|HD[^\r\n]*|ERROR[^\r\n]*)\r\n$/): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    socket.setTimeout(5000, () => {
      socket.destroy();
      reject(new Error(`no complete reply to ${line.split(' ')[0]} within 5 s`));
    });
    socket.once('error', reject);
    socket.once('connect', () => socket.write(`${line}\r\n`));
    socket.on('data', (d) => {
      reply += d.toString('utf8');
      if (terminators.test(reply)) {
        socket.destroy();
        resolve(reply);
      }
    });
  });
}

/** Every key the server holds (URL-decoded). */
export async function keysOn(port: number): Promise<string[]> {
  const reply = await rawCommand(port, 'lru_crawler metadump all', /END\r\n$/);
  return reply.split(/\r?\n/).map((l) => /^key=(\S+)/.exec(l)?.[1]).filter((k): k is string => k !== undefined).map(decodeURIComponent);
}

/** Seconds an item has left (-1: never expires), or null when it is not there. */
export async function ttlOf(port: number, key: string): Promise<number | null> {
  const reply = await rawCommand(port, `mg ${key} t`);
  const m = /^HD t(-?\d+)/.exec(reply);
  return m ? Number(m[1]) : null;
}

/** Deletes an item, as an eviction would. */
export async function dropKey(port: number, key: string): Promise<boolean> {
  return (await rawCommand(port, `delete ${key}`, /(DELETED|NOT_FOUND)\r\n$/)).startsWith('DELETED');
}
