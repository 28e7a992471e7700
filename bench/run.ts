/**
 * `npm run bench -- [--smoke] [--database-url postgres://…] [--only a,b] [--backlog N] [--json file] …`
 * Prints the results as markdown on stdout (progress goes to stderr); exits 1 when a scenario failed or a delivery
 * was lost or duplicated, 2 on bad flags. See bench/README.md.
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { isScenarioName, runBench, SCENARIO_NAMES, type ScenarioName } from './harness.js';
import { formatReport } from './lib/report.js';

const USAGE = `Usage: npm run bench -- [options]

  --smoke                        tiny sizes (well under a minute)
  --database-url <url>           also run the PostgreSQL scenario (1 and 2 workers) on this server
  --only <a,b,…>                 scenarios: ${SCENARIO_NAMES.join(', ')}
  --json <file>                  also write the results as JSON
  --backlog <N>                  deliveries queued by the backlog scenario (default 1000000; smoke 1000)
  --backlog-drain-limit <s>      seconds the backlog's worker gets to empty the queue (default 1800; smoke 120)
  --latency-rate <N>             events/s of the latency scenario (default 1000; smoke 100)
  --isolation-rate <N>           events/s of the isolation scenario (default 20, to 20 webhooks; smoke 20, to 10)
  --dead-same-origin             isolation: dead webhooks share the healthy ones' origin (host:port)
  --worker-concurrency <N>       HOOKLINE_WORKER_CONCURRENCY of every Hookline started (default 200)
  --per-webhook-concurrency <N>  HOOKLINE_PER_WEBHOOK_CONCURRENCY (default 10)
  --sender-thread <true|false>   HOOKLINE_SENDER_THREAD (default true)
  -h, --help`;

function fail(message: string): never {
  process.stderr.write(`bench: ${message}\n\n${USAGE}\n`);
  process.exit(2);
}

function positiveInt(flag: string, v: string | undefined): number | null {
  if (v === undefined) return null;
  if (!/^\d+$/.test(v) || Number(v) < 1) fail(`${flag} must be a positive whole number (got "${v}")`);
  return Number(v);
}

function trueOrFalse(flag: string, v: string | undefined): boolean | null {
  if (v === undefined) return null;
  if (v !== 'true' && v !== 'false') fail(`${flag} must be true or false (got "${v}")`);
  return v === 'true';
}

let values: ReturnType<typeof parse>['values'];
function parse() {
  return parseArgs({
    args: process.argv.slice(2),
    options: {
      smoke: { type: 'boolean' },
      'database-url': { type: 'string' },
      only: { type: 'string' },
      backlog: { type: 'string' },
      'backlog-drain-limit': { type: 'string' },
      json: { type: 'string' },
      'latency-rate': { type: 'string' },
      'isolation-rate': { type: 'string' },
      'dead-same-origin': { type: 'boolean' },
      'worker-concurrency': { type: 'string' },
      'per-webhook-concurrency': { type: 'string' },
      'sender-thread': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
try {
  values = parse().values;
} catch (err) {
  fail(err instanceof Error ? err.message : String(err));
}
if (values.help === true) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

let only: ScenarioName[] | null = null;
if (values.only !== undefined) {
  const names = values.only
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const unknown = names.filter((s) => !isScenarioName(s));
  if (unknown.length > 0) fail(`unknown scenario ${unknown.join(', ')}`);
  only = names.filter(isScenarioName);
}
const databaseUrl = values['database-url'] ?? null;
if (databaseUrl !== null && !databaseUrl.startsWith('postgres://') && !databaseUrl.startsWith('postgresql://'))
  fail('--database-url must start with postgres://');
if (only?.includes('postgres') === true && databaseUrl === null) fail('the postgres scenario needs --database-url');

const report = await runBench({
  smoke: values.smoke === true,
  databaseUrl,
  only,
  backlog: positiveInt('--backlog', values.backlog),
  backlogDrainLimitSeconds: positiveInt('--backlog-drain-limit', values['backlog-drain-limit']),
  latencyRate: positiveInt('--latency-rate', values['latency-rate']),
  isolationRate: positiveInt('--isolation-rate', values['isolation-rate']),
  deadSameOrigin: values['dead-same-origin'] === true,
  workerConcurrency: positiveInt('--worker-concurrency', values['worker-concurrency']),
  perWebhookConcurrency: positiveInt('--per-webhook-concurrency', values['per-webhook-concurrency']),
  senderThread: trueOrFalse('--sender-thread', values['sender-thread']),
  handleSignals: true,
});
process.stdout.write(`\n${formatReport(report)}`);
if (values.json !== undefined) {
  fs.writeFileSync(values.json, `${JSON.stringify(report, null, 2)}\n`);
  process.stderr.write(`results written to ${values.json}\n`);
}
process.exit(report.ok ? 0 : 1);
