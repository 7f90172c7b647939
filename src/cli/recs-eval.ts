import { writeFileSync } from 'node:fs';
import type { Config } from '../config/schema.js';
import { type EvalResult, evaluate, type Row } from '../recs/eval.js';
import { printProgress, type RecsTrainCli, trainOptions } from './recs.js';
import { formatTable } from './table.js';

export interface RecsEvalCli extends RecsTrainCli {
  split?: string;
  testDays: number;
  testMinutes?: number;
  trainDays?: number;
  k: number;
  maxUsers: number;
  json?: string;
}

export function evalTable(rows: Row[], k: number): string {
  const pop = rows.find((r) => r.method === 'popularity')?.ndcg ?? 0;
  const f = (x: number) => x.toFixed(4);
  return formatTable(
    rows.map((r) => ({
      method: r.method,
      [`HR@${k}`]: f(r.hit),
      [`precision@${k}`]: f(r.precision),
      [`recall@${k}`]: f(r.recall),
      [`NDCG@${k}`]: f(r.ndcg),
      [`MAP@${k}`]: f(r.ap),
      coverage: f(r.coverage),
      'NDCG vs popularity': pop > 0 ? `${(r.ndcg / pop).toFixed(2)}×` : '–',
    })),
  );
}

export function printEval(r: EvalResult, k: number): void {
  const m = r.model;
  console.log(
    `trained on ${r.trainFrom} … ${r.split}: ${m.users.toLocaleString('en-US')} users, ${m.items.toLocaleString('en-US')} items, ` +
      `${m.interactions.toLocaleString('en-US')} interactions (${m.factors} factors, ${m.iterations} iterations, ` +
      `alpha ${m.params.alpha}, lambda ${m.params.lambda})`,
  );
  console.log(
    `tested on ${r.split} … ${r.testTo}: ${r.testUsers.toLocaleString('en-US')} users, ${r.coldUsers.toLocaleString('en-US')} of them unknown to the model (they get popularity from every method)\n`,
  );
  console.log(`all test users (${r.testUsers}):`);
  console.log(evalTable(r.all, k));
  console.log(`\nusers seen in training (${r.testUsers - r.coldUsers}):`);
  console.log(evalTable(r.known, k));
  console.log(`\n(${r.seconds.toFixed(1)} s)`);
}

export async function recsEval(config: Config, o: RecsEvalCli): Promise<number> {
  try {
    const r = await evaluate(
      {
        ...trainOptions(config, o),
        onProgress: printProgress(o.progress),
        split: o.split,
        testDays: o.testDays,
        testMinutes: o.testMinutes,
        trainDays: o.trainDays,
        k: o.k,
        maxUsers: o.maxUsers,
      },
      (s) => {
        if (o.progress) process.stderr.write(`${s}\n`);
      },
    );
    printEval(r, o.k);
    if (o.json) writeFileSync(o.json, `${JSON.stringify(r, null, 2)}\n`);
    return 0;
  } catch (err) {
    console.error(`storepulse: recs eval failed: ${(err as Error).message}`);
    return 1;
  }
}
