/**
 * NatsEventLog against real Debian `nats-server` processes: the shared conformance suite on one
 * node, then a three-node cluster that loses a node while a producer is writing.
 *
 * Durability here rests on the R3 quorum: an append is acknowledged once two of three servers
 * stored it, so killing any one loses nothing. nats-server 2.9 has no way to fsync every write
 * (it syncs on a timer). In production on NATS >= 2.10, also set `sync_interval: always` in the
 * `jetstream {}` block, so an acknowledged record survives even a power cut of the whole cluster.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { freePort, killNatsNode, type NatsNode, natsServerMissing, startNatsNode } from '../testing/nats.js';
import { eventLogConformance } from './conformance.js';
import { NatsEventLog } from './nats-log.js';

const skip = natsServerMissing();
const nodes: NatsNode[] = [];

async function startNode(
  name: string,
  port: number,
  cluster?: { port: number; routes: number[] },
): Promise<NatsNode> {
  const node = await startNatsNode(name, port, cluster);
  nodes.push(node);
  return node;
}

const kill = (node: NatsNode) => killNatsNode(node);

after(async () => {
  await Promise.all(nodes.map((n) => killNatsNode(n, true)));
});

describe('NatsEventLog on one nats-server', { skip }, () => {
  let url = '';
  let admin: Awaited<ReturnType<typeof connect>> | undefined;
  let count = 0;

  before(async () => {
    url = (await startNode('single', await freePort())).url;
    admin = await connect({ servers: [url] });
  });
  after(async () => {
    await admin?.close();
  });

  eventLogConformance('nats', async () => {
    count += 1;
    const prefix = `c${count}`;
    const log = await NatsEventLog.connect({ servers: [url], streamPrefix: prefix });
    return {
      log,
      cleanup: async () => {
        await log.close();
        const jsm = await jetstreamManager(admin!);
        for await (const name of jsm.streams.names()) {
          if (name.startsWith(`${prefix}_`)) await jsm.streams.delete(name);
        }
      },
    };
  });
});

describe('NatsEventLog on a three-node cluster', { skip }, () => {
  it('keeps every acknowledged record, exactly once, when a node is killed mid-stream', {
    timeout: 120_000,
  }, async (t) => {
    const clientPorts = [await freePort(), await freePort(), await freePort()];
    const routePorts = [await freePort(), await freePort(), await freePort()];
    const cluster = await Promise.all(
      clientPorts.map((port, i) =>
        startNode(`n${i + 1}`, port, { port: routePorts[i], routes: routePorts.filter((_, j) => j !== i) }),
      ),
    );
    const servers = cluster.map((n) => n.url);
    const topic = 'orders';
    const admin = await connect({ servers, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
    // A new cluster answers JetStream requests only once it has elected its meta leader.
    const ready = Date.now() + 30_000;
    for (;;) {
      try {
        await (await jetstreamManager(admin, { timeout: 1_000 })).getAccountInfo();
        break;
      } catch (err) {
        if (Date.now() > ready) throw err;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    const log = await NatsEventLog.connect({ servers, replicas: 3, streamPrefix: 'dur', timeoutMs: 2_000 });
    try {
      const acked: string[] = [];
      let failures = 0;
      let stop = false;
      let killedAt = 0;
      let resumedAt = 0;
      const producer = (async () => {
        for (let n = 0; !stop; ) {
          const batch = Array.from({ length: 20 }, () => ({
            key: `order-${n++}`,
            value: JSON.stringify({ n, at: Date.now() }),
          }));
          // A batch is retried with the same keys until acknowledged: JetStream drops the copies
          // that did land before an error, and only acknowledged records are counted.
          for (;;) {
            try {
              const sentAt = Date.now();
              await log.append(topic, batch);
              acked.push(...batch.map((r) => r.key));
              if (killedAt && !resumedAt && sentAt > killedAt) resumedAt = Date.now();
              break;
            } catch {
              failures += 1;
              await new Promise((r) => setTimeout(r, 100));
            }
          }
          await new Promise((r) => setTimeout(r, 5));
        }
      })();

      // A group consumes throughout; it must end up with every acknowledged record, in order.
      const consumed: { position: number; key: string }[] = [];
      const group = log.consume(topic, 'audit', async (batch) => {
        consumed.push(...batch.map((r) => ({ position: r.position, key: r.key as string })));
      });
      const groupFailure = group.done.then(
        () => undefined,
        (err: unknown) => err,
      );

      const waitAcked = async (n: number, what: string) => {
        const deadline = Date.now() + 45_000;
        while (acked.length < n) {
          if (Date.now() > deadline)
            throw new Error(`only ${acked.length} of ${n} records acknowledged ${what}`);
          await new Promise((r) => setTimeout(r, 20));
        }
      };
      await waitAcked(400, 'before the kill');

      const info = await (await jetstreamManager(admin)).streams.info(`dur_${topic}`);
      const victim = cluster.find((n) => n.name === info.cluster?.leader) ?? cluster[0];
      const atKill = acked.length;
      killedAt = Date.now();
      await kill(victim);
      t.diagnostic(
        `killed ${victim.name} (stream leader: ${info.cluster?.leader}) after ${atKill} acknowledged records`,
      );

      await waitAcked(atKill + 400, 'after the kill');
      stop = true;
      await producer;
      t.diagnostic(
        `${acked.length} records acknowledged; appends resumed ${resumedAt - killedAt} ms after the kill; ` +
          `${failures} attempts failed and were retried`,
      );

      const consumedAll = Date.now() + 45_000;
      while (new Set(consumed.map((c) => c.key)).size < acked.length) {
        if (Date.now() > consumedAll) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      await group.stop();
      assert.equal(await groupFailure, undefined, 'the group rode out the failover');
      assert.deepEqual(
        new Set(consumed.map((c) => c.key)),
        new Set(acked),
        'the consuming group saw every acknowledged record',
      );
      for (let i = 1; i < consumed.length; i++) {
        // At least once: a batch may come again after a failover, but never out of order otherwise.
        if (consumed[i].position <= consumed[i - 1].position) {
          assert.ok(
            consumed.slice(0, i).some((c) => c.position === consumed[i].position),
            'only repeats go backwards',
          );
        }
      }
      t.diagnostic(`the group received ${consumed.length} records for ${acked.length} keys`);

      const seen: string[] = [];
      for (let next = 1; ; ) {
        const page = await log.read(topic, { position: next }, 1000);
        if (page.length === 0) break;
        seen.push(...page.map((r) => r.key as string));
        next = page[page.length - 1].position + 1;
      }
      assert.equal(new Set(acked).size, acked.length);
      assert.equal(seen.length, new Set(seen).size, 'no record is stored twice');
      assert.deepEqual(new Set(seen), new Set(acked), 'every acknowledged record is there, and nothing else');
      assert.equal((await log.stats(topic)).records, acked.length);
    } finally {
      await log.close();
      await admin.close();
    }
  });
});
