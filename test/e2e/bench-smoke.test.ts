/**
 * The benchmark harness in `--smoke` mode, on SQLite: real Hookline processes, a real receiver process, every delivery
 * accounted for. It asserts that nothing was lost or duplicated and that each scenario produced its figures — never
 * a timing (this machine's speed is not what the test is about). Isolation (it waits on timeouts) and PostgreSQL are
 * left to `npm run bench`.
 */
import { describe, expect, it } from 'vitest';
import { runBench, type ScenarioName } from '../../bench/harness.js';

const SCENARIOS: ScenarioName[] = [
  'throughput',
  'fan-out',
  'wide-fan-out',
  'latency',
  'backlog',
  'publish-api',
  'sender',
];

describe('npm run bench -- --smoke', () => {
  it('delivers every event of every scenario exactly once and reports each figure', { timeout: 120_000 }, async () => {
    const lines: string[] = [];
    const report = await runBench({ smoke: true, only: SCENARIOS, log: (l) => lines.push(l) });

    expect(report.errors, lines.join('\n')).toEqual([]);
    expect(report.meta.scenarios).toEqual(SCENARIOS);
    // One verification per delivering scenario (throughput, fan-out and wide fan-out verify their warm-up too), plus
    // the publish API's count of failed publishes, plus the sender loop's count of failed calls for each sender.
    expect(report.checks.map((c) => c.scenario)).toEqual([
      'throughput',
      'throughput',
      'fan-out',
      'fan-out',
      'wide fan-out',
      'wide fan-out',
      'latency',
      'backlog',
      'publish API',
      'sender',
      'sender',
      'sender',
    ]);
    for (const c of report.checks) {
      expect({ what: c.what, lost: c.lost, redeliveries: c.redeliveries, duplicates: c.duplicateDeliveries }).toEqual({
        what: c.what,
        lost: 0,
        redeliveries: 0,
        duplicates: 0,
      });
      expect(c.unexpected).toBe(0);
      expect(c.publishErrors).toBe(0);
      expect(c.delivered).toBe(c.expected);
    }
    expect(report.ok).toBe(true);
    // Every figure was measured (none is n/a); whether it meets its target is for the full run to say.
    expect(report.rows.length).toBeGreaterThanOrEqual(SCENARIOS.length);
    for (const r of report.rows)
      expect({ figure: r.figure, measured: r.value !== null }).toEqual({ figure: r.figure, measured: true });
  });
});
