/**
 * Revocations acknowledged only once replicas hold them (`revocationReplicas`, issue 22): after
 * a failover the promoted replica lacks whatever its master had not shipped yet, and a lost
 * revocation lets a revoked token work again. Each revocation runs on a connection of its own
 * (`WAIT` blocks the connection it is sent on, so validations must not share it), then `WAIT
 * <replicas> <timeout>` is sent on that same connection (WAIT counts only what its connection
 * wrote): on a Cluster, to the master of the revoked sessions' slot.
 *
 * @example const ack = replicaAck({ client, isCluster, replicas: 1, waitMs: 1000, readyMs: 2000, onConnection }); await ack.run(tag, (on) => on.skRevoke(...));
 */
import type { Cluster, Redis } from 'ioredis';
import { slotOfTag } from './keys.js';
import { SCRIPTS } from './scripts.js';

export interface ReplicaAck {
  /** Runs `work` on the revocation connection, then resolves with its reply once enough replicas hold it. */
  run<T>(tag: string, work: (on: Redis | Cluster) => Promise<T>): Promise<T>;
  close(): void;
}

/** Resolves when `c` is ready; rejects after `ms` or when it ends first. */
function readyWithin(c: Redis | Cluster, ms: number): Promise<void> {
  if (c.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = (err?: Error): void => {
      clearTimeout(timer);
      c.off('ready', onReady);
      c.off('end', onEnd);
      if (err) reject(err);
      else resolve();
    };
    const onReady = (): void => done();
    const onEnd = (): void => done(new Error('Connection is closed'));
    const timer = setTimeout(() => done(new Error(`not connected within ${ms} ms`)), ms);
    c.on('ready', onReady);
    c.on('end', onEnd);
  });
}

export function replicaAck(o: {
  client: Redis | Cluster; isCluster: boolean; replicas: number; waitMs: number; readyMs: number;
  /** Told of each connection made (standalone/Sentinel), so the Sentinel watch follows it too. */
  onConnection?: (c: Redis) => void;
}): ReplicaAck {
  let lane: Redis | Cluster | null = null;
  const laneOf = (): Redis | Cluster => {
    if (!lane) {
      const c = (o.client as unknown as { duplicate(): Redis | Cluster }).duplicate();
      lane = c;
      c.on('error', () => { /* reconnects on its own; revocations fail closed meanwhile */ });
      for (const [script, lua] of Object.entries(SCRIPTS)) c.defineCommand(script, { lua });
      if (!o.isCluster) o.onConnection?.(c as Redis);
    }
    return lane;
  };

  /** The connection of `on` that serves `tag`'s slot (on a Cluster: that master's), once ready. */
  const nodeFor = async (on: Redis | Cluster, tag: string): Promise<Redis> => {
    await readyWithin(on, o.readyMs);
    if (!o.isCluster) return on as Redis;
    const cluster = on as Cluster;
    const nodeKey = cluster.slots[slotOfTag(tag)]?.[0];
    const node = cluster.nodes('master').find((n) => `${n.options.host}:${n.options.port}` === nodeKey);
    if (!node) throw new Error('no known master for the slot of the revocation');
    // A cluster connects to each node on its first command: connect it before noting its stream.
    if (node.status !== 'ready') await node.ping();
    return node;
  };

  return {
    async run(tag, work) {
      const on = laneOf();
      const node = await nodeFor(on, tag);
      const stream = node.stream;
      const reply = await work(on);
      const acks = Number(await node.call('WAIT', o.replicas, o.waitMs));
      if (node.stream !== stream || await nodeFor(on, tag) !== node) throw new Error('the connection changed before the replicas acknowledged the revocation');
      if (acks < o.replicas) {
        throw new Error(`the revocation reached ${acks} of ${o.replicas} replicas within ${o.waitMs} ms (option revocationReplicas)`);
      }
      return reply;
    },
    close() {
      lane?.disconnect();
      lane = null;
    },
  };
}
