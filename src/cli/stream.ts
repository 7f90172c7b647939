import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import { type EventLog, type StartFrom, TOPICS } from '../stream/event-log.js';
import { SqliteEventLog } from '../stream/sqlite-log.js';
import { printTable } from './table.js';

/** The consumer groups the platform runs; each is a stream consumer with its own position. */
export const KNOWN_GROUPS = ['lake'];

async function openLog(config: Config): Promise<EventLog> {
  if (config.mode === 'scaleout') {
    const { NatsEventLog } = await import('../stream/nats-log.js');
    return NatsEventLog.connect({ servers: config.stream.natsServers, replicas: config.stream.natsReplicas });
  }
  return new SqliteEventLog({ dir: join(config.dataDir, 'stream'), fsync: config.stream.fsync });
}

export async function streamStatus(config: Config): Promise<number> {
  const log = await openLog(config);
  try {
    const rows: Record<string, unknown>[] = [];
    for (const topic of Object.values(TOPICS)) {
      const s = await log.stats(topic);
      for (const group of KNOWN_GROUPS) {
        const committed = await log.committed(topic, group);
        rows.push({
          topic,
          records: s.records,
          bytes: s.bytes,
          first: s.firstPosition,
          last: s.lastPosition,
          group,
          committed,
          lag: Math.max(0, s.lastPosition - committed),
        });
      }
    }
    printTable(rows);
    return 0;
  } finally {
    await log.close();
  }
}

/**
 * Moves a group's position so its consumer handles records again (or skips them). The lake
 * sink is idempotent per file name, but a replay with other batch boundaries can write rows
 * twice until the hour is compacted (compaction de-duplicates by event_id).
 */
export async function streamSeek(
  config: Config,
  topic: string,
  group: string,
  o: { time?: string; position?: number; earliest?: boolean },
): Promise<number> {
  let from: StartFrom;
  if (o.earliest) from = 'earliest';
  else if (o.position !== undefined) from = { position: o.position };
  else if (o.time !== undefined) {
    const ms = Date.parse(o.time);
    if (Number.isNaN(ms)) {
      console.error(`storepulse: --time "${o.time}" is not a date; use ISO-8601, e.g. 2026-11-23T10:00:00Z`);
      return 2;
    }
    from = { time: ms };
  } else {
    console.error('storepulse: say where to: --time, --position or --earliest');
    return 2;
  }
  const log = await openLog(config);
  try {
    const before = await log.committed(topic, group);
    await log.seek(topic, group, from);
    const after = await log.committed(topic, group);
    console.log(
      `group "${group}" on ${topic}: position ${before} → ${after}; it resumes with the next record when the server starts`,
    );
    return 0;
  } finally {
    await log.close();
  }
}
