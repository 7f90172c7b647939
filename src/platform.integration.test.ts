import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { freePort, killNatsNode, type NatsNode, natsServerMissing, startNatsNode } from './testing/nats.js';
import { eventually, postEvents, type ServerProcess, sql, startServer } from './testing/server-process.js';

/** The whole platform in scale-out mode: the collector acknowledges once JetStream has the events. */
describe('scale-out mode on NATS JetStream', { skip: natsServerMissing() }, () => {
  let nats: NatsNode | undefined;
  let server: ServerProcess | undefined;
  after(async () => {
    server?.cleanup();
    if (nats) await killNatsNode(nats, true);
  });

  it('ingests over HTTP through JetStream into the lake, and resumes after a restart', {
    timeout: 60_000,
  }, async () => {
    nats = await startNatsNode('sp-platform', await freePort());
    const env = { STOREPULSE_MODE: 'scaleout', STOREPULSE_STREAM__NATS_SERVERS: nats.url };
    server = await startServer({ env });
    const first = await postEvents(server, {
      events: [
        { type: 'view', event_id: 'n1' },
        { type: 'cart', event_id: 'n2' },
      ],
    });
    assert.equal(first.status, 200);
    await eventually(
      async () => (await sql(server!, "select * from events where event_id in ('n1','n2')")).length === 2,
    );

    await server.stop();
    await server.restart();
    const again = await postEvents(server, {
      events: [
        { type: 'purchase', event_id: 'n3', price: 5 },
        { type: 'view', event_id: 'n1' },
      ],
    });
    assert.equal(again.status, 200);
    assert.equal(again.body?.duplicates, 1, 'JetStream de-duplicates the retried id');
    await eventually(
      async () => (await sql(server!, "select * from events where event_id = 'n3'")).length === 1,
    );
    const [{ n }] = await sql(server, 'select count(*) as n from events');
    assert.equal(Number(n), 3);
  });
});
