import { closeSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { type ModelData, ModelStore } from './model-store.js';
import { ModelRecommender } from './recommender.js';
import type { ModelSource } from './recs-service.js';
import type { ModelInfo, Recommender } from './types.js';

/**
 * The model store on disk (src/recs/model-store.ts) as serving sees it: which version is current
 * for a site, the versions kept, and loading one in a worker thread.
 */
export class StoreModelSource implements ModelSource {
  private readonly store: ModelStore;
  /** Versions never change once written: their info is read once. */
  private readonly infos = new Map<string, ModelInfo | null>();

  constructor(private readonly dataDir: string) {
    this.store = new ModelStore(dataDir);
  }

  /** The store's current version for the site (its newest on disk if none is named). */
  currentVersion(siteId: string): string | null {
    return this.store.current(siteId) ?? this.versions(siteId)[0]?.version ?? null;
  }

  versions(siteId: string): ModelInfo[] {
    return this.store
      .versions()
      .reverse()
      .map((v) => this.info(v))
      .filter((i): i is ModelInfo => i !== null && i.siteId === siteId);
  }

  load(_siteId: string, version: string): Promise<Recommender> {
    return loadInWorker(this.dataDir, version).then((data) => new ModelRecommender(data));
  }

  private info(version: string): ModelInfo | null {
    if (!this.infos.has(version)) {
      let info: ModelInfo | null = null;
      try {
        info = this.store.info(version);
      } catch {
        // A torn info.json: fall back to model.json.
      }
      // Models from before info.json have the info at the head of model.json.
      this.infos.set(version, info ?? readInfo(join(this.store.modelsDir, version, 'model.json')));
    }
    return this.infos.get(version) ?? null;
  }
}

/**
 * `model.json` (of any version) begins with `{"format":1,"info":{…}` and goes on with every user and product id;
 * reading its head is enough for the info, without parsing megabytes on the serving thread.
 */
export function readInfo(file: string): ModelInfo | null {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return null;
  }
  try {
    const buf = Buffer.alloc(64 * 1024);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const head = buf.subarray(0, n).toString('utf8');
    const start = head.indexOf('"info":');
    if (start < 0) return null;
    const open = head.indexOf('{', start);
    let depth = 0;
    let inString = false;
    for (let i = open; i < head.length; i++) {
      const c = head[i];
      if (inString) {
        if (c === '\\') i++;
        else if (c === '"') inString = false;
      } else if (c === '"') inString = true;
      else if (c === '{') depth++;
      else if (c === '}' && --depth === 0) return JSON.parse(head.slice(open, i + 1)) as ModelInfo;
    }
    return null;
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

function workerTarget(): { code: string } | URL {
  // Under tsx (tests, the CLI) the worker is a .ts file that needs tsx's loader in the worker
  // too; a built copy runs the .js directly (as src/recs/als.ts does).
  if (import.meta.url.endsWith('.ts')) {
    const file = new URL('./recs-load-worker.ts', import.meta.url).href;
    const api = import.meta.resolve('tsx/esm/api');
    return {
      code: `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(file)}); })`,
    };
  }
  return new URL('./recs-load-worker.js', import.meta.url);
}

function loadInWorker(dataDir: string, version: string): Promise<ModelData> {
  const target = workerTarget();
  const workerData = { dataDir, version };
  const w =
    target instanceof URL
      ? new Worker(target, { workerData })
      : new Worker(target.code, { eval: true, workerData });
  return new Promise((resolve, reject) => {
    w.once('message', (m: ModelData) => {
      resolve(m);
      void w.terminate();
    });
    w.once('error', reject);
    w.once('exit', (code) =>
      reject(new Error(`the model loader stopped (exit ${code}) before sending ${version}`)),
    );
  });
}
