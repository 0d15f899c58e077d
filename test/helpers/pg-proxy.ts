/**
 * A TCP proxy in front of the shared PostgreSQL, so a test can take "the server" away without
 * stopping the real one (others use it). `cut('refuse')` resets every connection and every new
 * one; `cut('blackhole')` accepts connections and swallows all bytes, like a server that hangs or
 * a network that drops packets; `resume()` lets new connections through again (connections that
 * lived through a blackhole are reset, since bytes were lost on them).
 *
 * @example const proxy = await startProxy(DATABASE_URL); postgresStore({ connectionString: proxy.url });
 */
import { createServer, connect, type Socket } from 'node:net';

export type CutMode = 'refuse' | 'blackhole';

export interface PgProxy {
  /** DATABASE_URL with the proxy's port. */
  readonly url: string;
  cut(mode: CutMode): void;
  resume(): void;
  close(): Promise<void>;
}

export async function startProxy(targetUrl: string): Promise<PgProxy> {
  const target = new URL(targetUrl);
  const targetHost = target.hostname.replace(/^\[|\]$/g, '');
  const targetPort = Number(target.port || 5432);
  let mode: 'open' | CutMode = 'open';
  const pairs = new Set<{ client: Socket; server: Socket; stalled: boolean }>();

  const server = createServer((client) => {
    client.on('error', () => {});
    if (mode === 'refuse') {
      client.destroy();
      return;
    }
    if (mode === 'blackhole') {
      // Hold it open and answer nothing; reset when the proxy resumes or closes.
      const pair = { client, server: client, stalled: true };
      pairs.add(pair);
      client.on('close', () => pairs.delete(pair));
      client.resume();
      return;
    }
    const upstream = connect({ host: targetHost, port: targetPort });
    upstream.on('error', () => {});
    const pair = { client, server: upstream, stalled: false };
    pairs.add(pair);
    const end = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end);
    upstream.on('close', end);
    client.on('data', (chunk) => { if (!pair.stalled) upstream.write(chunk); });
    upstream.on('data', (chunk) => { if (!pair.stalled) client.write(chunk); });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('proxy did not get a port');
  const url = new URL(targetUrl);
  url.hostname = '127.0.0.1';
  url.port = String(address.port);

  const destroyAll = (which: (p: { stalled: boolean }) => boolean): void => {
    for (const p of [...pairs]) {
      if (!which(p)) continue;
      pairs.delete(p);
      p.client.destroy();
      p.server.destroy();
    }
  };

  return {
    url: url.toString(),
    cut(next) {
      mode = next;
      if (next === 'refuse') destroyAll(() => true);
      else for (const p of pairs) p.stalled = true;
    },
    resume() {
      mode = 'open';
      destroyAll((p) => p.stalled);
    },
    async close() {
      destroyAll(() => true);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
