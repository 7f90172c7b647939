import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { ApiError, Unauthorized } from './api';
import type { Session } from './api-types';
import './recommendations-page.css';
import { fmtInt, fmtMoney } from './format';
import { type CustomerSummary, ordersApi } from './orders-api';
import {
  type ModelInfo,
  type ModelsView,
  type Recommendation,
  recsApi,
  type SimilarItems,
  type UserRecs,
} from './recs-api';
import { queryParam, setQueryParam } from './router';
import { Card } from './widgets';

const fmtDate = (iso: string) =>
  new Date(iso).toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  });

const KIND_TEXT: Record<Recommendation['reason']['kind'], string> = {
  als: 'personal',
  cooccurrence: 'together',
  popular: 'popular',
  history: 'history',
};

type Lookup<T> =
  | { state: 'idle' }
  | { state: 'busy' }
  | { state: 'error'; message: string }
  | { state: 'done'; value: T };

/**
 * Look up what the store would recommend: to a user (with why, next to what they did recently)
 * and next to a product (customers also viewed / bought, with the counts). Product ids, brands
 * and reasons are data from the store's events, so they are rendered as text only.
 */
export function RecommendationsPage(props: { site: string; session: Session; onUnauthorized: () => void }) {
  const { site, session, onUnauthorized } = props;
  const [models, setModels] = useState<ModelsView | null>(null);
  const [modelsError, setModelsError] = useState<string | null>(null);
  const [userInput, setUserInput] = useState(() => queryParam('user') ?? '');
  const [productInput, setProductInput] = useState(() => queryParam('product') ?? '');
  const [user, setUser] = useState(() => queryParam('user') ?? '');
  const [product, setProduct] = useState(() => queryParam('product') ?? '');
  const [userRecs, setUserRecs] = useState<Lookup<{ recs: UserRecs; history: CustomerSummary | null }>>({
    state: 'idle',
  });
  const [similar, setSimilar] = useState<Lookup<SimilarItems>>({ state: 'idle' });

  const failed = useCallback(
    (err: unknown): string | null => {
      if (err instanceof Unauthorized) {
        onUnauthorized();
        return null;
      }
      return err instanceof ApiError || err instanceof Error ? err.message : String(err);
    },
    [onUnauthorized],
  );

  const loadModels = useCallback(() => {
    recsApi.models(site).then(
      (m) => {
        setModels(m);
        setModelsError(null);
      },
      (err) => setModelsError(failed(err)),
    );
  }, [site, failed]);
  useEffect(loadModels, [loadModels]);

  // While a training runs, follow its progress; while there is no model, watch for one (a
  // `storepulse recs train` elsewhere); otherwise look for a newer version now and then.
  const training = !!models?.training.some((j) => j.state === 'running');
  const hasModel = !!models?.current;
  useEffect(() => {
    const t = setInterval(loadModels, training ? 2000 : hasModel ? 60_000 : 5000);
    return () => clearInterval(t);
  }, [training, hasModel, loadModels]);

  const version = models?.current?.version;
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new model version changes the answer, so ask again
  useEffect(() => {
    if (!user) return setUserRecs({ state: 'idle' });
    let stale = false;
    setUserRecs({ state: 'busy' });
    Promise.all([recsApi.forUser(site, user), ordersApi.customer(site, user)]).then(
      ([recs, history]) => !stale && setUserRecs({ state: 'done', value: { recs, history } }),
      (err) => {
        const message = failed(err);
        if (!stale && message !== null) setUserRecs({ state: 'error', message });
      },
    );
    return () => {
      stale = true;
    };
  }, [site, user, version, failed]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: a new model version changes the answer, so ask again
  useEffect(() => {
    if (!product) return setSimilar({ state: 'idle' });
    let stale = false;
    setSimilar({ state: 'busy' });
    recsApi.similar(site, product).then(
      (value) => !stale && setSimilar({ state: 'done', value }),
      (err) => {
        const message = failed(err);
        if (!stale && message !== null) setSimilar({ state: 'error', message });
      },
    );
    return () => {
      stale = true;
    };
  }, [site, product, version, failed]);

  const lookUpUser = (e: FormEvent) => {
    e.preventDefault();
    setUser(userInput.trim());
    setQueryParam('user', userInput.trim());
  };
  const lookUpProduct = (id: string) => {
    setProductInput(id);
    setProduct(id);
    setQueryParam('product', id);
  };

  const train = async () => {
    try {
      await recsApi.train(site, session.csrfToken);
    } catch (err) {
      setModelsError(failed(err));
    }
    loadModels();
  };

  return (
    <main className="page recs" data-testid="recs-page">
      <ModelCard models={models} error={modelsError} canTrain={session.permissions.admin} onTrain={train} />
      <div className="recs-grid">
        <Card title="Recommended for a user" testId="recs-user">
          <form className="recs-search" onSubmit={lookUpUser}>
            <label htmlFor="recs-user-id">User id</label>
            <div className="recs-search-row">
              <input
                id="recs-user-id"
                value={userInput}
                onChange={(e) => setUserInput(e.target.value)}
                placeholder="e.g. 541312140"
                autoComplete="off"
                spellCheck={false}
                maxLength={256}
                data-testid="recs-user-input"
              />
              <button type="submit" disabled={userInput.trim() === ''}>
                Recommend
              </button>
            </div>
          </form>
          <UserResult lookup={userRecs} onProduct={lookUpProduct} />
        </Card>
        <Card title="Customers also viewed / bought" testId="recs-similar">
          <form
            className="recs-search"
            onSubmit={(e) => {
              e.preventDefault();
              lookUpProduct(productInput.trim());
            }}
          >
            <label htmlFor="recs-product-id">Product id</label>
            <div className="recs-search-row">
              <input
                id="recs-product-id"
                value={productInput}
                onChange={(e) => setProductInput(e.target.value)}
                placeholder="e.g. 1004856"
                autoComplete="off"
                spellCheck={false}
                maxLength={256}
                data-testid="recs-product-input"
              />
              <button type="submit" disabled={productInput.trim() === ''}>
                Similar items
              </button>
            </div>
          </form>
          <SimilarResult lookup={similar} onProduct={lookUpProduct} />
        </Card>
      </div>
    </main>
  );
}

function ModelCard(props: {
  models: ModelsView | null;
  error: string | null;
  canTrain: boolean;
  onTrain: () => void;
}) {
  const { models, error } = props;
  const m = models?.current ?? null;
  const running = models?.training.find((j) => j.state === 'running');
  const last = models?.training[0];
  return (
    <Card title="Model" testId="recs-model">
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {models && !m && (
        <p className="muted" data-testid="recs-no-model">
          {models.hint ?? 'No model yet — train one with `storepulse recs train`.'}
        </p>
      )}
      {m && <ModelFacts m={m} />}
      {models && models.versions.length > 1 && (
        <details className="recs-versions">
          <summary>{fmtInt(models.versions.length - 1)} earlier version(s) kept for rollback</summary>
          <ul>
            {models.versions
              .filter((v) => v.version !== m?.version)
              .map((v) => (
                <li key={v.version}>
                  <code>{v.version}</code> · trained {fmtDate(v.trainedAt)} · {fmtInt(v.interactions)}{' '}
                  interactions
                </li>
              ))}
          </ul>
        </details>
      )}
      {props.canTrain && (
        <div className="recs-train">
          <button
            type="button"
            className="ghost"
            onClick={props.onTrain}
            disabled={!!running}
            data-testid="recs-train"
          >
            {running ? 'Training…' : 'Train now'}
          </button>
          {last && (
            <span className="muted small" data-testid="recs-train-status">
              {last.state === 'running'
                ? (last.progress.at(-1) ?? 'starting…')
                : last.state === 'failed'
                  ? `last training failed: ${last.error}`
                  : `last training finished ${fmtDate(last.finishedAt ?? last.startedAt)}${last.progress.length ? ` — ${last.progress.at(-1)}` : ''}`}
            </span>
          )}
        </div>
      )}
    </Card>
  );
}

function ModelFacts({ m }: { m: ModelInfo }) {
  return (
    <dl className="recs-facts" data-testid="recs-model-facts">
      <dt>Version</dt>
      <dd data-testid="recs-model-version">{m.version}</dd>
      <dt>Trained</dt>
      <dd>
        {fmtDate(m.trainedAt)} in {m.trainSeconds.toFixed(1)} s
      </dd>
      <dt>Events from</dt>
      <dd>
        {m.from ? fmtDate(m.from) : 'the lake’s start'} to {m.to ? fmtDate(m.to) : 'the training'}
      </dd>
      <dt>Size</dt>
      <dd data-testid="recs-model-size">
        {fmtInt(m.users)} users × {fmtInt(m.items)} products, {fmtInt(m.interactions)} interactions
      </dd>
      <dt>ALS</dt>
      <dd>
        {m.factors} factors, {m.iterations} iterations
      </dd>
    </dl>
  );
}

function Pending<T>({ lookup }: { lookup: Lookup<T> }) {
  if (lookup.state === 'busy') return <p className="muted">Loading…</p>;
  if (lookup.state === 'error')
    return (
      <p className="error" role="alert" data-testid="recs-error">
        {lookup.message}
      </p>
    );
  return null;
}

function UserResult(props: {
  lookup: Lookup<{ recs: UserRecs; history: CustomerSummary | null }>;
  onProduct: (id: string) => void;
}) {
  const { lookup } = props;
  if (lookup.state !== 'done') return <Pending lookup={lookup} />;
  const { recs, history } = lookup.value;
  const recent = (history?.activity ?? []).filter((a) => a.productId).slice(0, 12);
  return (
    <>
      <p className="muted small" data-testid="recs-user-summary">
        {recs.coldStart
          ? `User “${recs.userId}” has no activity in the model's training range: best-sellers instead.`
          : `${fmtInt(recs.recommendations.length)} products for “${recs.userId}”, from model ${recs.model.version}.`}
        {recs.excludedRecentPurchases > 0 &&
          ` ${fmtInt(recs.excludedRecentPurchases)} bought since the model was trained left out.`}
      </p>
      <RecTable items={recs.recommendations} onProduct={props.onProduct} testId="recs-user-list" />
      <h3 className="recs-sub">Recent activity</h3>
      {recent.length === 0 ? (
        <p className="muted small" data-testid="recs-history-none">
          No recent product activity kept for this user (imported history appears after{' '}
          <code>storepulse orders rebuild</code>).
        </p>
      ) : (
        <ol className="recs-history" data-testid="recs-history">
          {recent.map((a) => (
            <li key={a.eventId}>
              <span className={`pill t-${a.type}`}>{a.type}</span>{' '}
              <button type="button" className="link" onClick={() => props.onProduct(a.productId ?? '')}>
                {a.productId}
              </button>{' '}
              <span className="muted small">{fmtDate(new Date(a.time).toISOString())}</span>
            </li>
          ))}
        </ol>
      )}
    </>
  );
}

function SimilarResult(props: { lookup: Lookup<SimilarItems>; onProduct: (id: string) => void }) {
  const { lookup } = props;
  if (lookup.state !== 'done') return <Pending lookup={lookup} />;
  const s = lookup.value;
  return (
    <>
      <p className="muted small" data-testid="recs-similar-summary">
        {s.items.length === 0
          ? `Nothing seen together with “${s.productId}” yet.`
          : `${fmtInt(s.items.length)} products seen with “${s.productId}”.`}
      </p>
      <RecTable items={s.items} onProduct={props.onProduct} counts testId="recs-similar-list" />
    </>
  );
}

function RecTable(props: {
  items: Recommendation[];
  onProduct: (id: string) => void;
  counts?: boolean;
  testId: string;
}) {
  if (props.items.length === 0) return null;
  return (
    <div className="table-scroll">
      <table className="recs-table" data-testid={props.testId}>
        <thead>
          <tr>
            <th className="num">#</th>
            <th>Product</th>
            <th className="num">Price</th>
            {props.counts && <th className="num">Viewed together</th>}
            {props.counts && <th className="num">Bought together</th>}
            <th className="recs-why-col">Why</th>
          </tr>
        </thead>
        <tbody>
          {props.items.map((r, i) => (
            <tr key={r.productId} data-testid="rec" data-product-id={r.productId} data-kind={r.reason.kind}>
              <td className="num muted">{i + 1}</td>
              <td className="recs-product">
                <button
                  type="button"
                  className="link"
                  onClick={() => props.onProduct(r.productId)}
                  title="Similar items"
                >
                  {r.productId}
                </button>
                <div className="muted small recs-product-meta">
                  <span data-testid="rec-brand">{r.brand ?? '—'}</span> · {r.categoryCode ?? '—'}
                </div>
                {/* On a phone the "why" column is hidden and the reason goes under the product. */}
                <div className="small recs-why-inline">{r.reason.text}</div>
              </td>
              <td className="num">{r.price == null ? '—' : fmtMoney(r.price)}</td>
              {props.counts && (
                <td className="num">
                  {r.reason.viewedTogether == null ? '—' : fmtInt(r.reason.viewedTogether)}
                </td>
              )}
              {props.counts && (
                <td className="num">
                  {r.reason.boughtTogether == null ? '—' : fmtInt(r.reason.boughtTogether)}
                </td>
              )}
              <td className="recs-why-col">
                <span className={`pill reason-${r.reason.kind}`}>{KIND_TEXT[r.reason.kind]}</span>{' '}
                <span className="recs-why" data-testid="rec-reason">
                  {r.reason.text}
                </span>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
