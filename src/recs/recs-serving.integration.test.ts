import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CHROME_UA } from '../testing/ingest-context.js';
import {
  eventually,
  postEvents,
  runCli,
  type ServerProcess,
  sql,
  startServer,
} from '../testing/server-process.js';
import type { ModelInfo, Recommendation } from './types.js';

/**
 * Recommendations as the store's backend sees them, against a real server: a week of demo
 * history backfilled into the lake, `storepulse recs train` from the CLI, and the server picks
 * the model up by itself; then known and cold-start users, similar items, the errors a caller
 * can make, a purchase newer than the model, and a retraining through the API that keeps the
 * previous version.
 */
interface UserBody {
  userId: string;
  coldStart: boolean;
  model: { version: string };
  excludedRecentPurchases: number;
  recommendations: Recommendation[];
  error?: string;
}
interface SimilarBody {
  productId: string;
  items: Recommendation[];
  error?: string;
}
interface ModelBody {
  current: ModelInfo | null;
  versions: ModelInfo[];
  hint: string | null;
  training: { id: string; state: string; progress: string[]; error: string | null }[];
  error?: string;
}

describe('recommendations API', () => {
  let server: ServerProcess;
  let readKey = '';

  before(async () => {
    server = await startServer({
      env: { STOREPULSE_RECS__RELOAD_SECONDS: '1', STOREPULSE_QUERY__MAX_ROWS: '100000' },
    });
    // What a store's backend would use: a read (query) key, not the admin key.
    const key = await runCli(['keys', 'create', 'shop backend', '--scope', 'query'], {
      dataDir: server.dataDir,
    });
    assert.equal(key.code, 0, key.stderr);
    readKey = key.stdout.trim().split('\n').at(-1) ?? '';
    assert.match(readKey, /^sp_key_/);
  });
  after(() => server?.cleanup());

  const get = async <T>(path: string, key: string | null = readKey) => {
    const res = await fetch(`${server.url}${path}`, {
      headers: key ? { authorization: `Bearer ${key}` } : {},
    });
    return { status: res.status, body: (await res.json()) as T & { error?: string } };
  };

  it('says how to get a model before there is one', async () => {
    const r = await get<UserBody>('/api/v1/recommendations/users/anyone');
    assert.equal(r.status, 503);
    assert.match(r.body.error ?? '', /no model yet.*storepulse recs train/);
    const m = await get<ModelBody>('/api/v1/recommendations/model');
    assert.equal(m.status, 200);
    assert.equal(m.body.current, null);
    assert.match(m.body.hint ?? '', /storepulse recs train/);
  });

  it('serves a model trained from the CLI, with reasons, and refuses bad requests', {
    timeout: 240_000,
  }, async () => {
    const demo = await runCli(
      ['demo', '--mode', 'backfill', '--days', '7', '--events-per-day', '20000', '--site', 'default'],
      { dataDir: server.dataDir },
    );
    assert.equal(demo.code, 0, demo.stderr);
    const trained = await runCli(['recs', 'train', '--site', 'default', '--iterations', '5'], {
      dataDir: server.dataDir,
    });
    assert.equal(trained.code, 0, `${trained.stdout}\n${trained.stderr}`);
    assert.match(trained.stderr, /ALS iteration 5\/5/);
    const version = /trained model (\S+):/.exec(trained.stdout)?.[1];
    assert.ok(version, trained.stdout);

    // The running server notices the new version on its own.
    await eventually(
      async () => (await get<ModelBody>('/api/v1/recommendations/model')).body.current?.version === version,
    );
    const model = (await get<ModelBody>('/api/v1/recommendations/model')).body.current;
    assert.ok(model && model.users > 1000 && model.items > 100, JSON.stringify(model));

    // The most active buyer: a known user with purchases to leave out.
    const [buyer] = await sql(
      server,
      `select user_id from events where user_id is not null and event_type = 'purchase'
       group by 1 order by count(*) desc, user_id limit 1`,
    );
    const user = String(buyer.user_id);
    const bought = new Set(
      (
        await sql(
          server,
          `select distinct product_id from events where user_id = '${user}' and event_type = 'purchase'`,
        )
      ).map((r) => String(r.product_id)),
    );
    assert.ok(bought.size > 0);

    const known = await get<UserBody>(`/api/v1/recommendations/users/${user}?n=10`);
    assert.equal(known.status, 200, JSON.stringify(known.body));
    assert.equal(known.body.coldStart, false);
    assert.equal(known.body.model.version, version);
    assert.equal(known.body.recommendations.length, 10);
    assert.equal(new Set(known.body.recommendations.map((r) => r.productId)).size, 10, 'no duplicates');
    for (const r of known.body.recommendations) {
      assert.ok(!bought.has(r.productId), `recommends ${r.productId}, which ${user} already bought`);
      assert.ok(r.reason.text.length > 0);
    }
    assert.ok(known.body.recommendations.some((r) => r.reason.kind === 'als'));

    // The same through the site-scoped path.
    const scoped = await get<UserBody>(`/api/v1/sites/default/recommendations/users/${user}?n=3`);
    assert.deepEqual(
      scoped.body.recommendations.map((r) => r.productId),
      known.body.recommendations.slice(0, 3).map((r) => r.productId),
    );

    const cold = await get<UserBody>('/api/v1/recommendations/users/never-seen-shopper?n=5');
    assert.equal(cold.status, 200);
    assert.equal(cold.body.coldStart, true);
    assert.equal(cold.body.recommendations.length, 5);
    assert.ok(
      cold.body.recommendations.every((r) => r.reason.kind === 'popular'),
      JSON.stringify(cold.body),
    );

    // A product bought with others: its neighbours come with their co-occurrence counts.
    const [anchor] = await sql(
      server,
      `select product_id from events where event_type = 'view' and product_id is not null
       group by 1 order by count(*) desc, product_id limit 1`,
    );
    const product = String(anchor.product_id);
    const similar = await get<SimilarBody>(`/api/v1/recommendations/items/${product}/similar?n=5`);
    assert.equal(similar.status, 200, JSON.stringify(similar.body));
    assert.equal(similar.body.items.length, 5);
    assert.ok(similar.body.items.every((r) => r.productId !== product));
    const together = similar.body.items.filter((r) => r.reason.kind === 'cooccurrence');
    assert.ok(together.length > 0, JSON.stringify(similar.body.items));
    assert.ok(together.every((r) => (r.reason.viewedTogether ?? 0) + (r.reason.boughtTogether ?? 0) > 0));

    const unknown = await get<SimilarBody>('/api/v1/recommendations/items/no-such-product/similar');
    assert.equal(unknown.status, 404);
    assert.match(unknown.body.error ?? '', /no-such-product/);
    assert.equal((await get(`/api/v1/recommendations/users/${user}`, null)).status, 401);
    assert.equal((await get(`/api/v1/recommendations/items/${product}/similar`, null)).status, 401);
    assert.equal((await get(`/api/v1/recommendations/users/${user}`, 'sp_key_not-a-key')).status, 403);
    for (const n of ['0', '101', '2.5', 'ten']) {
      const bad = await get(`/api/v1/recommendations/users/${user}?n=${n}`);
      assert.equal(bad.status, 400, `n=${n}`);
      assert.match(bad.body.error ?? '', /1 to 100/);
    }
    assert.equal((await get(`/api/v1/recommendations/users/${user}?n=100`)).status, 200);
    assert.equal((await get(`/api/v1/sites/nope/recommendations/users/${user}`)).status, 404);

    // A purchase newer than the model (from the order history) is left out at once.
    const top = known.body.recommendations[0].productId;
    const sent = await postEvents(
      server,
      { events: [{ type: 'purchase', user_id: user, order_id: 'fresh-1', product_id: top, price: 10 }] },
      { 'user-agent': CHROME_UA },
    );
    assert.equal(sent.status, 200);
    await eventually(async () => {
      const r = await get<UserBody>(`/api/v1/recommendations/users/${user}?n=10`);
      return !r.body.recommendations.some((x) => x.productId === top);
    });
    const fresh = await get<UserBody>(`/api/v1/recommendations/users/${user}?n=10`);
    assert.equal(fresh.body.recommendations.length, 10);
    assert.equal(fresh.body.excludedRecentPurchases, 1);
    assert.deepEqual(
      fresh.body.recommendations.slice(0, 9).map((r) => r.productId),
      known.body.recommendations.slice(1, 10).map((r) => r.productId),
    );

    // The store's stock feed marks products unavailable: they leave the lists at once, and return.
    const setAvailability = (body: unknown, key: string | null = server.apiKey) =>
      fetch(`${server.url}/api/v1/recommendations/availability`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
        body: JSON.stringify(body),
      });
    const offUser = fresh.body.recommendations[0].productId;
    const offSimilar = similar.body.items.map((r) => r.productId).find((p) => p !== offUser) ?? '';
    assert.equal((await setAvailability({ unavailable: [offUser] }, null)).status, 401);
    assert.equal(
      (await setAvailability({ unavailable: [offUser] }, readKey)).status,
      403,
      'read keys cannot',
    );
    const malformed = await setAvailability({ unavailable: offUser });
    assert.equal(malformed.status, 400);
    assert.match(((await malformed.json()) as { error: string }).error, /must be an array of product ids/);
    const marked = await setAvailability({ unavailable: [offUser, offSimilar] });
    assert.equal(marked.status, 200);
    assert.equal(((await marked.json()) as { count: number }).count, 2);
    const withoutUser = await get<UserBody>(`/api/v1/recommendations/users/${user}?n=10`);
    assert.equal(withoutUser.body.recommendations.length, 10);
    assert.ok(!withoutUser.body.recommendations.some((r) => r.productId === offUser));
    const withoutSimilar = await get<SimilarBody>(`/api/v1/recommendations/items/${product}/similar?n=5`);
    assert.equal(withoutSimilar.body.items.length, 5);
    assert.ok(!withoutSimilar.body.items.some((r) => r.productId === offSimilar));
    const listed = await get<{ unavailable: string[] }>('/api/v1/recommendations/availability');
    assert.deepEqual(listed.body.unavailable, [offUser, offSimilar].sort());
    const audited = await get<{
      entries: { action: string; target: string; detail: Record<string, number> }[];
    }>('/api/v1/audit', server.apiKey);
    const change = audited.body.entries.find((e) => e.action === 'recs_availability_changed');
    assert.deepEqual(change?.detail, { unavailable: 2, available: 0, nowUnavailable: 2 });
    assert.equal(change?.target, 'default');
    const back = await setAvailability({ available: [offUser, offSimilar] });
    assert.equal(((await back.json()) as { count: number }).count, 0);
    assert.deepEqual(
      (await get<UserBody>(`/api/v1/recommendations/users/${user}?n=10`)).body.recommendations.map(
        (r) => r.productId,
      ),
      fresh.body.recommendations.map((r) => r.productId),
    );
  });

  it('retrains through the API (admins only), keeping the previous model', { timeout: 240_000 }, async () => {
    const before = (await get<ModelBody>('/api/v1/recommendations/model')).body;
    assert.ok(before.current);
    const post = (key: string | null) =>
      fetch(`${server.url}/api/v1/recommendations/train`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
        body: JSON.stringify({ days: 30 }),
      });
    assert.equal((await post(null)).status, 401);
    assert.equal((await post(readKey)).status, 403, 'a read key cannot start training');
    const started = await post(server.apiKey);
    assert.equal(started.status, 202);
    const { job } = (await started.json()) as { job: { id: string; state: string } };
    assert.equal(job.state, 'running');
    const again = await post(server.apiKey);
    assert.equal(again.status, 409, 'one training at a time');
    // Who started it is in the audit log; the refused attempts are not trainings.
    const audit = await get<{
      entries: { action: string; actor: string; target: string; detail: { job: string } }[];
    }>('/api/v1/audit', server.apiKey);
    const trainings = audit.body.entries.filter((e) => e.action === 'recs_training_started');
    assert.equal(trainings.length, 1, JSON.stringify(audit.body));
    assert.match(trainings[0].actor, /^api-key:/);
    assert.equal(trainings[0].target, 'default');
    assert.equal(trainings[0].detail.job, job.id);

    // Serving goes on meanwhile, from the old model.
    const during = await get<UserBody>('/api/v1/recommendations/users/never-seen-shopper?n=3');
    assert.equal(during.status, 200);

    let last: ModelBody | null = null;
    await eventually(
      async () => {
        last = (await get<ModelBody>('/api/v1/recommendations/model')).body;
        const j = last.training.find((t) => t.id === job.id);
        return j?.state !== 'running' && last.current?.version !== before.current?.version;
      },
      200_000,
      500,
    );
    const after = last as unknown as ModelBody;
    const j = after.training.find((t) => t.id === job.id);
    assert.equal(j?.state, 'succeeded', JSON.stringify(j));
    assert.ok(
      j?.progress.some((l) => /ALS iteration/.test(l)),
      'progress lines are kept',
    );
    assert.deepEqual(
      after.versions.map((v) => v.version),
      [after.current?.version, before.current?.version],
      'the previous model is kept for rollback',
    );
    const served = await get<UserBody>('/api/v1/recommendations/users/never-seen-shopper?n=3');
    assert.equal(served.body.model.version, after.current?.version);
  });
});
