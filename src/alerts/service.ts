import { join } from 'node:path';
import type Database from 'better-sqlite3';
import type { Mailer } from '../notify/mailer.js';
import { AlertManager } from './manager.js';
import { Notifier } from './notifier.js';
import { openAlertDb } from './store.js';
import type { Evaluation } from './types.js';

/**
 * The alerting side of the server: one alerts.sqlite, the manager that keeps alert state and the
 * notifier that delivers. Detectors hand their evaluations to `evaluate()`.
 */
export class AlertService {
  readonly db: Database.Database;
  readonly manager: AlertManager;
  readonly notifier: Notifier;
  private timer: NodeJS.Timeout | null = null;

  constructor(o: {
    dataDir: string;
    mailer: Mailer;
    allowNetworks: string[];
    publicUrl?: string;
    onError?: (err: Error) => void;
  }) {
    this.db = openAlertDb(join(o.dataDir, 'alerts.sqlite'));
    this.manager = new AlertManager({ db: this.db });
    this.notifier = new Notifier(this.db, {
      mailer: o.mailer,
      policy: { allowNetworks: o.allowNetworks },
      publicUrl: o.publicUrl,
      firing: () => this.manager.alerts({ state: 'firing' }),
      onError: o.onError,
    });
  }

  start(): void {
    // Repeats, ended silences and retries are time-driven, so tick even without new evaluations.
    this.timer = setInterval(() => {
      this.manager.tick();
      void this.notifier.flush();
    }, 2000);
    this.timer.unref();
    this.notifier.start(60_000);
  }

  evaluate(ev: Evaluation): void {
    this.manager.process(ev);
    void this.notifier.flush();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.notifier.stop();
    this.db.close();
  }
}
