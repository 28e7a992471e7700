/**
 * The `hookline` command and composition root: config -> database -> API and/or worker.
 *   hookline serve [--role api|worker|all]   run the service (default: all, in one process)
 *   hookline migrate                          apply pending database migrations and exit
 */
import { parseArgs } from 'node:util';
import pino from 'pino';
import { ConfigError, describeConfig, loadConfig, type Role } from './config/config.js';
import { createCore } from './bootstrap.js';
import { openDatabase } from './db/connect.js';
import { migrateToLatest } from './db/migrate.js';
import { DeliveryEngine } from './delivery/engine.js';
import { HOOKLINE_VERSION } from './version.js';

const USAGE = `hookline ${HOOKLINE_VERSION}

Usage:
  hookline serve [--role api|worker|all]   run Hookline (default role: all)
  hookline migrate                          apply database migrations and exit
  hookline version

Configuration is read from HOOKLINE_* environment variables; see docs/configuration.md.`;

async function serve(roleArg: string | undefined) {
  if (roleArg !== undefined && !['api', 'worker', 'all'].includes(roleArg)) {
    throw new ConfigError([`--role must be api, worker or all (got "${roleArg}")`]);
  }
  const config = loadConfig(process.env, roleArg === undefined ? {} : { role: roleArg as Role });
  const logger = pino({ level: config.logLevel, base: { service: 'hookline' } });
  const core = await createCore(config);
  logger.info({ config: describeConfig(config), version: HOOKLINE_VERSION }, 'hookline starting');

  if (core.generatedRootKey !== null) {
    // Printed once, on the first start only; Hookline keeps nothing but its hash.
    process.stdout.write(
      `\n  Root API key (shown once, store it now): ${core.generatedRootKey}\n  Set HOOKLINE_ADMIN_KEY to choose your own.\n\n`,
    );
  }

  // Signals are handled from here on: a stop that arrives while the parts below are still starting closes those
  // already started, instead of killing the process mid-start.
  const closers: Array<() => Promise<void>> = [() => core.close()];
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'hookline stopping');
    for (const close of closers) await close().catch((err: unknown) => logger.error({ err }, 'error while stopping'));
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  // Printed once every part has started (in `--role all`, the worker too): the line tells a user, and the process
  // tests and bench, that the process is ready.
  let banner = '';
  if (config.role === 'api' || config.role === 'all') {
    // Loaded only where the API runs: a worker process does without Fastify, its plugins and the route schemas.
    const { buildApp } = await import('./http/app.js');
    const app = await buildApp({ config, db: core.db, services: core.services, logger });
    await app.listen({ port: config.port, host: config.host });
    const base = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${(app.server.address() as { port: number }).port}`;
    banner = `  Hookline ${HOOKLINE_VERSION} is running\n    API      ${base}/v1\n    Docs     ${base}/docs\n    Health   ${base}/healthz\n    Database ${core.db.describe}\n\n`;
    closers.unshift(() => app.close());
  }
  if (config.role === 'worker' || config.role === 'all') {
    const engine = new DeliveryEngine({
      db: core.db,
      config,
      executor: core.executor,
      notifier: core.notifier,
      logger,
    });
    // Stop claiming and let calls in flight be recorded before the database closes.
    closers.unshift(() => engine.stop());
    await engine.start();
    // One process serving both: publishes hand their deliveries straight to this worker when it has room.
    if (config.role === 'all') core.services.publish.setLocalDispatch(engine.dispatch);
    if (config.role === 'worker')
      banner = `  Hookline ${HOOKLINE_VERSION} worker is running (database ${core.db.describe})\n`;
  }
  process.stdout.write(banner);
}

async function migrate() {
  const config = loadConfig(process.env);
  const db = openDatabase(
    config.database.kind === 'postgres' ? { kind: 'postgres', url: config.database.url } : config.database,
  );
  try {
    const { applied } = await migrateToLatest(db.kysely);
    process.stdout.write(applied.length === 0 ? 'Database is up to date.\n' : `Applied: ${applied.join(', ')}\n`);
  } finally {
    await db.close();
  }
}

async function run(argv: string[]) {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { role: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  const command = positionals[0] ?? 'serve';
  if (values.help === true || command === 'help') return void process.stdout.write(`${USAGE}\n`);
  if (command === 'serve') return serve(values.role);
  if (command === 'migrate') return migrate();
  if (command === 'version') return void process.stdout.write(`${HOOKLINE_VERSION}\n`);
  throw new ConfigError([`unknown command "${command}"\n\n${USAGE}`]);
}

run(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`hookline: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`hookline: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
