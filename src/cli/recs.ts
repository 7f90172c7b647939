import type { Config } from '../config/schema.js';
import { ModelStore } from '../recs/model-store.js';
import { type TrainOptions, type TrainProgress, trainAndSave } from '../recs/train.js';
import { printTable } from './table.js';

const int = (n: number) => n.toLocaleString('en-US');

export interface RecsTrainCli {
  site?: string;
  from?: string;
  to?: string;
  factors: number;
  iterations: number;
  alpha: number;
  lambda: number;
  cgSteps: number;
  threads: number;
  viewWeight: number;
  cartWeight: number;
  purchaseWeight: number;
  neighbours: number;
  beta: number;
  keep: number;
  memoryLimit: string;
  progress: boolean;
}

export function trainOptions(config: Config, o: RecsTrainCli): TrainOptions {
  return {
    dataDir: config.dataDir,
    site: o.site,
    from: o.from,
    to: o.to,
    memoryLimit: o.memoryLimit,
    als: {
      factors: o.factors,
      iterations: o.iterations,
      alpha: o.alpha,
      lambda: o.lambda,
      cgSteps: o.cgSteps,
      threads: o.threads,
    },
    cooccurrence: { neighbours: o.neighbours, beta: o.beta },
    weights: { view: o.viewWeight, cart: o.cartWeight, purchase: o.purchaseWeight },
  };
}

/** Progress lines on stderr: reading, co-occurrence, and one line per ALS iteration with its loss. */
export function printProgress(enabled: boolean) {
  let lastRead = 0;
  return (p: TrainProgress) => {
    if (!enabled) return;
    if (p.stage === 'read') {
      if (Date.now() - lastRead < 2000) return;
      lastRead = Date.now();
      process.stderr.write(`  reading interactions: ${int(p.interactions)} of ${int(p.total)}\n`);
    } else if (p.stage === 'loaded') {
      process.stderr.write(
        `  ${int(p.events)} events → ${int(p.interactions)} interactions of ${int(p.users)} users × ${int(p.items)} items (${p.seconds.toFixed(1)} s)\n`,
      );
    } else if (p.stage === 'cooccurrence') {
      process.stderr.write(
        `  co-occurrence: ${int(p.pairs)} neighbour pairs kept (${p.seconds.toFixed(1)} s)\n`,
      );
    } else {
      process.stderr.write(
        `  ALS iteration ${String(p.iteration).padStart(String(p.iterations).length)}/${p.iterations}  loss ${p.loss.toExponential(4)}  ${p.seconds.toFixed(2)} s\n`,
      );
    }
  };
}

export async function recsTrain(config: Config, o: RecsTrainCli): Promise<number> {
  try {
    const opts = trainOptions(config, o);
    const { version, model } = await trainAndSave({
      ...opts,
      keep: o.keep,
      onProgress: printProgress(o.progress),
    });
    const i = model.info;
    console.log(
      `trained model ${version}: ${int(i.users)} users, ${int(i.items)} items, ${int(i.interactions)} interactions, ` +
        `${i.factors} factors × ${i.iterations} iterations in ${i.trainSeconds.toFixed(1)} s; it is now current ` +
        `(previous kept for \`storepulse recs rollback\`)`,
    );
    return 0;
  } catch (err) {
    console.error(`storepulse: recs train failed: ${(err as Error).message}`);
    return 1;
  }
}

export function recsList(config: Config): number {
  const store = new ModelStore(config.dataDir);
  const currents = new Set(Object.values(store.currents()));
  const rows = store.versions().map((v) => {
    const i = store.info(v);
    return {
      version: v,
      site: i?.siteId ?? '',
      current: currents.has(v) ? '*' : '',
      trained_at: i?.trainedAt ?? '',
      users: i?.users ?? '',
      items: i?.items ?? '',
      interactions: i?.interactions ?? '',
      seconds: i ? i.trainSeconds.toFixed(1) : '',
    };
  });
  if (rows.length === 0) console.log('no models yet: run `storepulse recs train`');
  else printTable(rows);
  return 0;
}

export function recsRollback(config: Config, o: { site?: string } = {}): number {
  const store = new ModelStore(config.dataDir);
  let site: string | null;
  try {
    site = o.site ?? store.onlySite();
  } catch (err) {
    console.error(`storepulse: ${(err as Error).message}`);
    return 1;
  }
  const from = site === null ? null : store.current(site);
  const to = site === null ? null : store.rollback(site);
  if (!to) {
    console.error(
      `storepulse: nothing to roll back to: ${from ? `${from} is the oldest model of site ${site} kept` : `no model trained yet${o.site ? ` for site ${o.site}` : ''}`}`,
    );
    return 1;
  }
  console.log(`current model of site ${site} is now ${to} (was ${from})`);
  return 0;
}
