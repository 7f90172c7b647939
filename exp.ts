import { connect } from '@nats-io/transport-node';
import { headers } from '@nats-io/nats-core';
import { jetstream, jetstreamManager, DiscardPolicy, StorageType, DeliverPolicy } from '@nats-io/jetstream';
const nc = await connect({ servers: ['127.0.0.1:14222'] });
const jsm = await jetstreamManager(nc);
const js = jetstream(nc);
try { await jsm.streams.delete('x_t'); } catch {}
await jsm.streams.add({ name: 'x_t', subjects: ['x.t'], storage: StorageType.File, discard: DiscardPolicy.Old, num_replicas: 1 });
for (let i = 0; i < 10; i++) {
  const h = headers(); h.set('Sp-Ts', String(1000 + i));
  const a = await js.publish('x.t', 'v' + 'x'.repeat(100 * i), { msgID: 'k' + (i % 8), headers: h });
  console.log(a);
}
let info = await jsm.streams.info('x_t'); console.log(info.state);
console.log(await jsm.streams.getMessage('x_t', { seq: 3 }).then((m) => [m?.seq, m?.header.get('Sp-Ts'), m?.header.get('Nats-Msg-Id'), m?.string().length]));
console.log('missing', await jsm.streams.getMessage('x_t', { seq: 99 }));
const c = await js.consumers.get('x_t', { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: 3 });
console.log('pending', (await c.info(true)).num_pending);
const it = await c.consume({ max_messages: 4 });
for await (const m of it) { console.log(m.seq, m.info.pending, m.headers?.get('Sp-Ts'), m.time); if (m.info.pending === 0) break; }
await c.delete();
await jsm.streams.update('x_t', { max_bytes: 800 });
info = await jsm.streams.info('x_t'); console.log('after max_bytes', info.state, info.config.max_bytes);
await jsm.streams.update('x_t', { max_bytes: -1 });
console.log(await jsm.streams.purge('x_t', { seq: 7 }));
info = await jsm.streams.info('x_t'); console.log(info.state);
console.log(await jsm.streams.purge('x_t', { seq: 9 }));
info = await jsm.streams.info('x_t'); console.log(info.state);
await jsm.streams.delete('x_t');
await nc.close();
