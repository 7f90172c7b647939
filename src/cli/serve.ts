import type { Config } from '../config/schema.js';
import { startPlatform } from '../platform.js';

export async function serve(config: Config): Promise<void> {
  const platform = await startPlatform(config);
  const { url, firstRun, setupUrl } = platform;
  // Printed whenever no user exists yet: only the token's hash is stored, so a restart prints a new one.
  const setup = setupUrl
    ? `\n  Create the first admin (link works once, for 24 h; or run \`storepulse users add EMAIL --role admin\`):\n    setup link: ${setupUrl}\n`
    : '';
  if (firstRun) {
    // Printed once: the key is stored only as a hash.
    console.log(`
  storepulse is running at ${url}   (data in ${config.dataDir}, ${config.mode} mode)

  First run: created site "${firstRun.siteId}" and an admin API key. Keep them; the API key is not shown again.
    write key (trackers, SDKs):  ${firstRun.writeKey}
    admin API key (SQL, admin):  ${firstRun.apiKey}

  Try:
    curl -X POST ${url}/api/v1/events -H 'Authorization: Bearer ${firstRun.writeKey}' \\
         -H 'content-type: application/json' -d '{"type":"view","product_id":"42","price":9.99}'
    npm run storepulse -- query "select event_type, count(*) from events group by 1"
${setup}`);
  } else {
    console.log(
      `storepulse is running at ${url}  (data in ${config.dataDir}, ${config.mode} mode; \`storepulse sites list\` shows write keys)${setup}`,
    );
  }
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    platform.app.log.info({ signal }, 'shutting down');
    await platform.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}
