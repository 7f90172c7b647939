import { ApiError, Unauthorized } from './api';

/**
 * The recommendations API the page reads (src/collector/routes-recs.ts). Types mirror
 * src/recs/types.ts and src/recs/recs-service.ts; copied because the server's modules use Node.
 */

export interface RecReason {
  kind: 'als' | 'cooccurrence' | 'popular' | 'history';
  text: string;
  because?: string[];
  viewedTogether?: number;
  boughtTogether?: number;
}

export interface Recommendation {
  productId: string;
  score: number;
  categoryCode?: string | null;
  brand?: string | null;
  price?: number | null;
  reason: RecReason;
}

export interface ModelInfo {
  version: string;
  siteId: string;
  trainedAt: string;
  from: string;
  to: string;
  users: number;
  items: number;
  interactions: number;
  factors: number;
  iterations: number;
  trainSeconds: number;
  params: Record<string, number | string | boolean>;
}

export interface TrainJob {
  id: string;
  siteId: string;
  trigger: 'schedule' | 'api';
  state: 'running' | 'succeeded' | 'failed';
  startedAt: string;
  finishedAt: string | null;
  days: number;
  progress: string[];
  error: string | null;
}

export interface ModelsView {
  site: string;
  current: ModelInfo | null;
  versions: ModelInfo[];
  hint: string | null;
  training: TrainJob[];
}

export interface UserRecs {
  siteId: string;
  userId: string;
  coldStart: boolean;
  model: { version: string; trainedAt: string };
  excludedRecentPurchases: number;
  recommendations: Recommendation[];
}

export interface SimilarItems {
  siteId: string;
  productId: string;
  model: { version: string; trainedAt: string };
  items: Recommendation[];
}

async function call<T>(path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(path, { credentials: 'same-origin', ...init });
  if (res.status === 401) throw new Unauthorized();
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, body?.error ?? `${res.status} ${res.statusText}`);
  return body as T;
}

const base = (site: string) => `/api/v1/sites/${encodeURIComponent(site)}/recommendations`;

export const recsApi = {
  models: (site: string) => call<ModelsView>(`${base(site)}/model`),
  forUser: (site: string, user: string, n = 20) =>
    call<UserRecs>(`${base(site)}/users/${encodeURIComponent(user)}?n=${n}`),
  similar: (site: string, product: string, n = 20) =>
    call<SimilarItems>(`${base(site)}/items/${encodeURIComponent(product)}/similar?n=${n}`),
  train: (site: string, csrfToken: string) =>
    call<{ job: TrainJob }>(`${base(site)}/train`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf-token': csrfToken },
      body: '{}',
    }),
};
