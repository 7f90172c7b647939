#!/usr/bin/env node
import { Argument, Command, Option } from 'commander';
import { ConfigError, configHelp, loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { registerRecsCommands } from './recs-commands.js';

/**
 * `storepulse` — one binary for the server and its tools. Each subcommand lives in its own
 * file and is loaded only when used, so `storepulse query` does not pay for the server.
 */
const program = new Command()
  .name('storepulse')
  .description('Real-time analytics and monitoring for online stores, self-hosted.')
  .option('-c, --config <file>', 'config file (YAML or JSON); default ./storepulse.yaml if present')
  .option('-d, --data-dir <dir>', 'data directory (overrides config dataDir)')
  .showHelpAfterError('(run with --help for usage)');

export function config(): Config {
  const opts = program.opts<{ config?: string; dataDir?: string }>();
  return loadConfig({ file: opts.config, overrides: { dataDir: opts.dataDir } });
}

program
  .command('serve')
  .description('run the platform: collector, stream, lake sinks, SQL API')
  .option('-p, --port <port>', 'HTTP port', (v) => Number(v))
  .option('--host <host>', 'address to listen on')
  .addHelpText(
    'after',
    `\nEvery setting (config file key, environment variable, meaning):\n${configHelp()}\n`,
  )
  .action(async (o: { port?: number; host?: string }) => {
    const { serve } = await import('./serve.js');
    const opts = program.opts<{ config?: string; dataDir?: string }>();
    await serve(
      loadConfig({
        file: opts.config,
        overrides: { dataDir: opts.dataDir, 'server.port': o.port, 'server.host': o.host },
      }),
    );
  });

program
  .command('query')
  .description('run read-only SQL over the lake (tables: events, bad_records)')
  .argument('<sql>', 'one SELECT statement')
  .addOption(
    new Option('-f, --format <format>', 'output format').choices(['table', 'csv', 'json']).default('table'),
  )
  .option('--max-rows <n>', 'row cap', (v) => Number(v))
  .action(async (sql: string, o: { format: 'table' | 'csv' | 'json'; maxRows?: number }) => {
    const { runQuery } = await import('./query.js');
    process.exitCode = await runQuery(config(), sql, o);
  });

program
  .command('import')
  .description('bulk-load a file into the lake (streams it; rejected rows go to bad_records)')
  .argument('<file>', 'file to import (.csv or .csv.gz)')
  .addOption(
    new Option('--format <format>', 'input format (apache, nginx, jsonl: logs)')
      .choices(['rees46', 'apache', 'nginx', 'jsonl'])
      .default('rees46'),
  )
  .option('--site <id>', 'site the rows belong to', 'default')
  .option('--no-progress', 'no progress bar')
  .option('--memory-limit <size>', 'most memory DuckDB may use; beyond it work spills to the data dir', '1GB')
  .action(
    async (
      file: string,
      o: {
        format: 'rees46' | 'apache' | 'nginx' | 'jsonl';
        site: string;
        progress: boolean;
        memoryLimit: string;
      },
    ) => {
      const { runImport } = await import('./import.js');
      process.exitCode = await runImport(config(), file, o);
    },
  );

program
  .command('demo')
  .description('simulate a store: live traffic to a server, a backfill into the lake, or a REES46 CSV')
  .addOption(new Option('--mode <mode>', 'what to do').choices(['live', 'backfill', 'csv']).default('live'))
  .option('--url <url>', 'server to send live traffic to', 'http://127.0.0.1:8080')
  .option('--rate <n>', 'live events per second', (v) => Number(v), 50)
  .option('--duration <s>', 'stop live traffic after this many seconds (default: run until Ctrl-C)', (v) =>
    Number(v),
  )
  .option('--days <n>', 'backfill: days of history', (v) => Number(v), 7)
  .option('--end <time>', 'backfill: the history ends here (ISO date or time; default now)')
  .option('--events-per-day <n>', 'backfill: events per day', (v) => Number(v), 20000)
  .option(
    '--conversion <x>',
    'backfill: orders per event multiplier (1: ~0.6% of events are purchases; 2.5: REES46-like ~1.5%)',
    (v) => Number(v),
    1,
  )
  .option('--rows <n>', 'csv: rows to write', (v) => Number(v), 1_000_000)
  .option('--out <file>', 'csv: output file (.csv or .csv.gz)', 'demo-rees46.csv')
  .option('--seed <n>', 'random seed (same seed, same store)', (v) => Number(v), 42)
  .option('--site <id>', 'site to send as', 'demo')
  .action(async (o) => {
    const { runDemo } = await import('./demo.js');
    process.exitCode = await runDemo(config(), o);
  });

const stream = program.command('stream').description('inspect the durable stream and replay consumers');
stream
  .command('status')
  .description("records, size and positions per topic, and each consumer group's lag")
  .action(async () => {
    const { streamStatus } = await import('./stream.js');
    process.exitCode = await streamStatus(config());
  });
stream
  .command('replay')
  .description('move a consumer group back (or forward) so it handles records again; stop the server first')
  .argument('<group>', 'consumer group, e.g. lake')
  .addOption(new Option('--topic <topic>', 'topic').choices(['events', 'bad_records']).default('events'))
  .option('--time <iso>', 'from the first record appended at or after this time')
  .option('--position <n>', 'from this stream position', (v) => Number(v))
  .option('--earliest', 'from the oldest record kept')
  .action(
    async (group: string, o: { topic: string; time?: string; position?: number; earliest?: boolean }) => {
      const { streamSeek } = await import('./stream.js');
      process.exitCode = await streamSeek(config(), o.topic, group, o);
    },
  );

const logsCmd = program.command('logs').description('server and application logs');
logsCmd
  .command('tail')
  .description(
    "follow log files (like tail -F, across rename and copytruncate rotation) and send their lines to a running server's /api/v1/logs/lines; a file's position is saved only after the server acknowledged its lines, so a restart resumes where it stopped",
  )
  .argument('<files...>', 'log files to follow')
  .option('--url <url>', 'the running server', 'http://127.0.0.1:8080')
  .option('--key <key>', "the site's write key (default: $STOREPULSE_KEY; see `storepulse sites list`)")
  .addOption(
    new Option('--format <format>', 'line format')
      .choices(['auto', 'apache', 'nginx', 'jsonl', 'combined', 'common', 'kv'])
      .default('auto'),
  )
  .option('--source <name>', 'source name for the lines (default: each file name)')
  .option('--state <file>', 'where positions are kept (default: <data dir>/logs-tail/state.json)')
  .option('--from-end', 'start files that have no saved position at their end instead of their beginning')
  .option('--batch-lines <n>', 'most lines per request', (v) => Number(v), 5000)
  .option('--once', 'send what the files hold now, then exit (instead of following)')
  .option('-q, --quiet', 'no progress lines (problems are still reported on stderr)')
  .action(async (files: string[], o) => {
    const { logsTail } = await import('./logs.js');
    process.exitCode = await logsTail(config().dataDir, files, o);
  });

const realtime = program.command('realtime').description('the live metrics of the running server');
realtime
  .command('rebuild')
  .description(
    'recompute the live metrics from the lake (includes imports) or the stream, e.g. after adding a metric',
  )
  .requiredOption('--from <time>', 'start of the history to rebuild (ISO-8601 or epoch ms)')
  .addOption(
    new Option('--source <source>', 'where the history comes from')
      .choices(['lake', 'stream'])
      .default('lake'),
  )
  .option('--url <url>', 'the running server', 'http://127.0.0.1:8080')
  .option('--api-key <key>', 'admin API key (default: $STOREPULSE_API_KEY)')
  .action(async (o: { from: string; source: 'lake' | 'stream'; url: string; apiKey?: string }) => {
    const { realtimeRebuild } = await import('./realtime.js');
    process.exitCode = await realtimeRebuild(o);
  });

const sites = program.command('sites').description('manage sites and their write keys');
sites
  .command('add')
  .description('add a site and print its write key')
  .argument('<id>', 'site id (lowercase letters, digits, - and _)')
  .option('--name <name>', 'display name')
  .option('--origin <origin...>', 'browser origins allowed to send (default: any)')
  .action(async (id: string, o: { name?: string; origin?: string[] }) => {
    const { sitesAdd } = await import('./admin.js');
    process.exitCode = sitesAdd(config(), id, o);
  });
sites
  .command('list')
  .description('list sites with their write keys')
  .action(async () => {
    const { sitesList } = await import('./admin.js');
    process.exitCode = sitesList(config());
  });

const keys = program.command('keys').description('manage API keys for programmatic access');
keys
  .command('create')
  .description('create an API key (shown once)')
  .argument('<name>', 'what the key is for')
  .addOption(new Option('--scope <scope...>', 'scopes').choices(['query', 'admin']).default(['query']))
  .action(async (name: string, o: { scope: ('query' | 'admin')[] }) => {
    const { keysCreate } = await import('./admin.js');
    process.exitCode = keysCreate(config(), name, o.scope);
  });
keys
  .command('list')
  .description('list API keys (not their secrets)')
  .action(async () => {
    const { keysList } = await import('./admin.js');
    process.exitCode = keysList(config());
  });
keys
  .command('revoke')
  .description('revoke an API key by id')
  .argument('<id>')
  .action(async (id: string) => {
    const { keysRevoke } = await import('./admin.js');
    process.exitCode = keysRevoke(config(), id);
  });

const users = program.command('users').description('manage dashboard users (roles: viewer, analyst, admin)');
const roleOption = () =>
  new Option('--role <role>', 'viewer: realtime; analyst: + SQL; admin: + users, keys, audit').choices([
    'viewer',
    'analyst',
    'admin',
  ]);
users
  .command('add')
  .description('add a user; asks for the password on a terminal')
  .argument('<email>')
  .addOption(roleOption().default('viewer'))
  .option('--password-stdin', 'read the password from standard input (for scripts)')
  .action(async (email: string, o: { role: 'viewer' | 'analyst' | 'admin'; passwordStdin?: boolean }) => {
    const { usersAdd } = await import('./users.js');
    process.exitCode = await usersAdd(config(), email, o);
  });
users
  .command('list')
  .description('list users and their roles')
  .action(async () => {
    const { usersList } = await import('./users.js');
    process.exitCode = usersList(config());
  });
users
  .command('remove')
  .description('remove a user and end their sessions')
  .argument('<email>')
  .action(async (email: string) => {
    const { usersRemove } = await import('./users.js');
    process.exitCode = usersRemove(config(), email);
  });
users
  .command('set-role')
  .description("change a user's role (applies to their open sessions at once)")
  .argument('<email>')
  .addArgument(new Argument('<role>').choices(['viewer', 'analyst', 'admin']))
  .action(async (email: string, role: 'viewer' | 'analyst' | 'admin') => {
    const { usersSetRole } = await import('./users.js');
    process.exitCode = usersSetRole(config(), email, role);
  });
users
  .command('set-password')
  .description("set a user's password and end their sessions")
  .argument('<email>')
  .option('--password-stdin', 'read the password from standard input (for scripts)')
  .action(async (email: string, o: { passwordStdin?: boolean }) => {
    const { usersSetPassword } = await import('./users.js');
    process.exitCode = await usersSetPassword(config(), email, o);
  });

const orders = program.command('orders').description('the order history behind the customer pages');
orders
  .command('rebuild')
  .description('load orders and recent activity from the lake (after `storepulse import`); safe to run live')
  .option('--site <id>', 'only this site')
  .option('--memory-limit <size>', 'most memory DuckDB may use; beyond it work spills to the data dir', '1GB')
  .option('--no-progress', 'no progress lines')
  .action(async (o: { site?: string; memoryLimit: string; progress: boolean }) => {
    const { ordersRebuild } = await import('./orders.js');
    process.exitCode = await ordersRebuild(config(), o);
  });

const alerts = program.command('alerts').description('detectors and alerting');
alerts
  .command('score')
  .description(
    'replay the demo store with labelled incidents through the detectors and score them: recall, time to detect, false alarms per week, precision',
  )
  .option(
    '--days <n>',
    'simulated days (the first --warmup-days only fill the baselines)',
    (v) => Number(v),
    28,
  )
  .option(
    '--events-per-day <n>',
    'store volume: average events per day (REES46 October: ~1.4M)',
    (v) => Number(v),
    1_500_000,
  )
  .option(
    '--conversion <x>',
    "the demo's cart propensity multiplier: 2.5 gives REES46's ~1.5% purchases among events",
    (v) => Number(v),
    2.5,
  )
  .option('--seed <n>', 'demo seed (tune on one, report on another)', (v) => Number(v), 2)
  .option('--warmup-days <n>', 'days before incidents and false alarms count', (v) => Number(v), 7)
  .addOption(
    new Option('--sensitivity <level>', 'order-rate sensitivity')
      .choices(['low', 'medium', 'high'])
      .default('medium'),
  )
  .option(
    '--raw-ips',
    'keep full IP addresses (the collector anonymises them to their /24 by default)',
    false,
  )
  .option('--details', 'list missed incidents and false alarms', false)
  .option('--json <file>', 'write the full result (every incident, episode and score) as JSON')
  .option('--no-progress', 'no progress bar')
  .action(async (o) => {
    const { alertsScore } = await import('./alerts.js');
    process.exitCode = await alertsScore(o);
  });

alerts
  .command('power')
  .description(
    'how fast an order-rate change is seen, by store volume (synthetic Poisson orders, same detector)',
  )
  .option('--change <share>', 'relative change of the order rate', (v) => Number(v), -0.3)
  .option(
    '--minutes <n>',
    'how long the change lasts (and how long to wait for a signal)',
    (v) => Number(v),
    30,
  )
  .option('--runs <n>', 'runs per volume', (v) => Number(v), 20)
  .option('--orders <list>', 'mean orders per minute to try, comma-separated', '5,10,20,40,80,160')
  .addOption(
    new Option('--sensitivity <level>', 'order-rate sensitivity')
      .choices(['low', 'medium', 'high'])
      .default('medium'),
  )
  .action(async (o) => {
    const { alertsPower } = await import('./alerts.js');
    process.exitCode = await alertsPower(o);
  });

registerRecsCommands(program, config);

program.parseAsync(process.argv).catch((err: Error) => {
  if (err instanceof ConfigError) console.error(`storepulse: ${err.message}`);
  else console.error(`storepulse: ${err.message}`);
  process.exitCode = err instanceof ConfigError ? 78 : 1;
});
