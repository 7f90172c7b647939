import { type Command, InvalidArgumentError } from 'commander';
import type { Config } from '../config/schema.js';
import { DEFAULT_ALS, DEFAULT_COOCCURRENCE, DEFAULT_WEIGHTS } from '../recs/params.js';

/**
 * `storepulse recs …`: train, evaluate, list and roll back recommendation models. The options
 * live here so main.ts stays a table of contents; the work is loaded only when a command runs.
 */
export function registerRecsCommands(program: Command, config: () => Config): void {
  const num = (v: string) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`expected a number ≥ 0, got ${v}`);
    return n;
  };
  const count = (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1)
      throw new InvalidArgumentError(`expected a whole number ≥ 1, got ${v}`);
    return n;
  };
  const recs = program.command('recs').description('product recommendations: train, evaluate, roll back');

  const modelOptions = (c: Command) =>
    c
      .option('--site <id>', 'the site to train for (default: the only site in the lake)')
      .option('--factors <n>', 'ALS latent factors', count, DEFAULT_ALS.factors)
      .option('--iterations <n>', 'ALS iterations', count, DEFAULT_ALS.iterations)
      .option('--alpha <x>', 'ALS confidence scale: c = 1 + alpha × weight', num, DEFAULT_ALS.alpha)
      .option('--lambda <x>', 'ALS regularisation', num, DEFAULT_ALS.lambda)
      .option('--cg-steps <n>', 'conjugate-gradient steps per row and iteration', count, DEFAULT_ALS.cgSteps)
      .option('--threads <n>', 'worker threads', count, DEFAULT_ALS.threads)
      .option('--view-weight <x>', 'weight of a view', num, DEFAULT_WEIGHTS.view)
      .option('--cart-weight <x>', 'weight of an add-to-cart', num, DEFAULT_WEIGHTS.cart)
      .option('--purchase-weight <x>', 'weight of a purchase', num, DEFAULT_WEIGHTS.purchase)
      .option(
        '--neighbours <n>',
        'co-occurrence neighbours kept per item',
        count,
        DEFAULT_COOCCURRENCE.neighbours,
      )
      .option('--beta <x>', 'co-occurrence popularity damping (0.5: cosine)', num, DEFAULT_COOCCURRENCE.beta)
      .option('--memory-limit <size>', 'most memory DuckDB may use while reading the lake', '2GB')
      .option('--no-progress', 'no progress lines');

  modelOptions(
    recs
      .command('train')
      .description(
        'train a model on the lake’s view/cart/purchase events and make it current (the previous one is kept)',
      )
      .option('--from <time>', 'first event time (ISO date or time; default: the lake’s start)')
      .option('--to <time>', 'end of the range, exclusive (default: now)')
      .option('--keep <n>', 'model versions kept on disk (for rollback)', num, 2),
  ).action(async (o) => {
    const { recsTrain } = await import('./recs.js');
    process.exitCode = await recsTrain(config(), o);
  });

  modelOptions(
    recs
      .command('eval')
      .description(
        'time-based evaluation: train on the days before the split, test on the next days; HR, precision, recall, NDCG, MAP @k and coverage for ALS, co-occurrence and the baselines',
      )
      .option(
        '--split <time>',
        'train before this time, test from it (default: --test-days before the lake’s end)',
      )
      .option('--test-days <n>', 'days tested after the split', count, 3)
      .option('--test-minutes <n>', 'test on the last minutes instead of days (tiny samples)', num)
      .option('--train-days <n>', 'days trained on before the split (default: everything before it)', num)
      .option('-k, --k <n>', 'list length', count, 10)
      .option('--max-users <n>', 'evaluate at most this many test users (a deterministic sample)', num, 20000)
      .option('--json <file>', 'also write the results as JSON'),
  ).action(async (o) => {
    const { recsEval } = await import('./recs-eval.js');
    process.exitCode = await recsEval(config(), o);
  });

  recs
    .command('list')
    .description('models on disk, each site’s current one starred')
    .action(async () => {
      const { recsList } = await import('./recs.js');
      process.exitCode = recsList(config());
    });

  recs
    .command('rollback')
    .description('serve the previous model again (after a bad retrain)')
    .option('--site <id>', 'the site whose model to roll back (needed when several sites have models)')
    .action(async (o) => {
      const { recsRollback } = await import('./recs.js');
      process.exitCode = recsRollback(config(), o);
    });
}
