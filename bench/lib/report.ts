/** The printed form of a bench report: a header, the figures table, the delivery checks. */
import type { BenchReport } from '../harness.js';
import { fmtNumber, type Row } from './context.js';

function cell(s: string): string {
  return s.replace(/\|/g, '\\|');
}

function value(r: Row): string {
  if (r.value === null) return 'n/a';
  if (r.unit === '×') return `${r.value.toFixed(2)}×`;
  if (r.unit === 'ms') return `${r.value.toFixed(r.value >= 100 ? 0 : 1)} ms`;
  return `${fmtNumber(r.value)} ${r.unit}`;
}

function ratio(r: Row): string {
  return r.ratio === null ? '' : `${Math.round(r.ratio * 100)} %`;
}

function met(r: Row): string {
  if (r.met === null) return '';
  return r.met ? 'yes' : '**no**';
}

const n = (v: number) => v.toLocaleString('en-US');

export function formatReport(report: BenchReport): string {
  const m = report.meta;
  const lines: string[] = [
    `# Hookline benchmark (${m.mode})`,
    '',
    `- date: ${m.date}`,
    `- machine: ${m.machine.cpuCount} × ${m.machine.cpus}, ${m.machine.totalMemGiB} GiB RAM, ${m.machine.os}`,
    `- node: ${m.node}`,
    `- commit: ${m.commit}`,
    `- database: ${m.database}`,
    `- Hookline settings: worker concurrency ${m.params.workerConcurrency}, per webhook ${m.params.perWebhookConcurrency}, sender thread ${m.params.senderThread ? 'on' : 'off'}`,
    `- duration: ${(report.durationMs / 1000).toFixed(1)} s`,
    '',
    '| scenario | figure | value | ceiling / target | ratio | target met |',
    '|---|---|--:|---|--:|---|',
  ];
  for (const r of report.rows)
    lines.push(
      `| ${cell(r.scenario)} | ${cell(r.figure)} | ${value(r)} | ${cell(r.reference)} | ${ratio(r)} | ${met(r)} |`,
    );
  lines.push(
    '',
    '## Deliveries',
    '',
    '| scenario | what | expected | delivered | lost | redelivered | duplicated | unexpected | publish errors | ok |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|---|',
  );
  for (const c of report.checks)
    lines.push(
      `| ${cell(c.scenario)} | ${cell(c.what)} | ${n(c.expected)} | ${n(c.delivered)} | ${n(c.lost)}${c.unfinished ? ' (unfinished)' : ''} | ${n(c.redeliveries)} | ${n(c.duplicateDeliveries)} | ${n(c.unexpected)} | ${n(c.publishErrors)} | ${c.ok ? 'yes' : '**NO**'} |`,
    );
  for (const c of report.checks.filter((c) => c.notes.length > 0)) {
    lines.push('', `${c.scenario} — ${c.what}:`);
    for (const note of c.notes) lines.push(`- ${note}`);
  }
  if (report.errors.length > 0) {
    lines.push('', '## Scenarios that failed', '');
    for (const e of report.errors) lines.push(`- ${e.scenario}: ${e.error.split('\n').slice(0, 8).join('\n  ')}`);
  }
  lines.push(
    '',
    report.ok
      ? 'Result: every delivery arrived exactly once.'
      : 'Result: FAILED — a scenario failed, or a delivery was lost, duplicated or unexpected (see above).',
  );
  return `${lines.join('\n')}\n`;
}
