import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import { backfillFromLake } from '../orders/lake-backfill.js';
import { BACKFILLED } from '../orders/order-sink.js';
import { OrderStore } from '../orders/order-store.js';

const int = (n: number) => n.toLocaleString('en-US');

/**
 * `storepulse orders rebuild`: loads purchases, refunds and each customer's newest events from
 * the lake into orders.sqlite. Imports write the lake directly, so this is how imported history
 * becomes findable. Rows merge by event id: nothing is doubled, and the server may keep running.
 */
export async function ordersRebuild(
  config: Config,
  o: { site?: string; memoryLimit?: string; progress?: boolean },
): Promise<number> {
  const store = new OrderStore(join(config.dataDir, 'orders.sqlite'));
  let last = 0;
  try {
    const s = await backfillFromLake(store, {
      dataDir: config.dataDir,
      site: o.site,
      memoryLimit: o.memoryLimit,
      onProgress: (p) => {
        if (o.progress === false || Date.now() - last < 1000) return;
        last = Date.now();
        process.stderr.write(`  ${p.pass}: ${int(p.rows)} rows read\n`);
      },
    });
    if (!o.site) store.setMeta(BACKFILLED, new Date().toISOString());
    console.log(
      `read ${int(s.orderRows)} purchase/refund rows (${int(s.newLines)} new order lines) and ` +
        `${int(s.activityRows)} recent-activity rows of ${int(s.customers)} customers (${int(s.newActivity)} new) ` +
        `from the lake in ${(s.elapsedMs / 1000).toFixed(1)} s`,
    );
    const c = store.counts();
    console.log(
      `the order history now holds ${int(c.orders)} orders, ${int(c.lines)} lines, ${int(c.customers)} customers`,
    );
    return 0;
  } catch (err) {
    console.error(`storepulse: orders rebuild failed: ${(err as Error).message}`);
    return 1;
  } finally {
    store.close();
  }
}
