/**
 * The sender alone (`bench/sender-loop.ts`, its own process): CPU per signed call of Hookline's `HttpSender` and of
 * its `ThreadedSender` (both threads), against a bare undici dispatcher making the same calls to the same receiver in
 * the same process. Not a target of the issue: the part of a delivery's cost that is the sender's, measured where the
 * end-to-end scenarios' noise does not reach it.
 */
import { type Check, type Ctx, fmtNumber } from '../lib/context.js';
import { forkTs } from '../lib/processes.js';
import type { SenderLoopFigure, SenderLoopRequest } from '../sender-loop.js';

export async function sender(ctx: Ctx): Promise<void> {
  const p = ctx.params.sender;
  const loop = await forkTs(ctx.res, 'sender-loop.ts');
  const request: SenderLoopRequest = {
    url: ctx.receiver.okUrl('sender-loop', 0),
    calls: p.calls,
    warmupCalls: p.warmupCalls,
    concurrency: ctx.params.perWebhookConcurrency,
    ahead: p.ahead,
  };
  ctx.log(
    `  ${p.calls.toLocaleString('en-US')} calls each, ${request.concurrency} at a time: undici, HttpSender, ThreadedSender`,
  );
  const answer = await new Promise<{ figures?: SenderLoopFigure[]; error?: string }>((resolve) => {
    loop.child.once('message', (m: { figures?: SenderLoopFigure[]; error?: string }) => resolve(m));
    loop.child.send(request);
  });
  await loop.stop();
  // The receiver keeps every request's id per group; these 135 000 are of no later use.
  await ctx.receiver.drop(['sender-loop']);
  if (answer.figures === undefined) throw new Error(`the sender loop failed: ${answer.error ?? 'no answer'}`);
  const figures = answer.figures;
  const bare = figures.find((f) => f.sender === 'undici');
  for (const f of figures) {
    const check: Check = {
      scenario: 'sender',
      what: `${f.sender}: ${p.calls.toLocaleString('en-US')} calls (not deliveries: no Hookline)`,
      expected: p.calls,
      delivered: p.calls - f.failed,
      lost: f.failed,
      unfinished: false,
      redeliveries: 0,
      duplicateDeliveries: 0,
      unexpected: 0,
      publishErrors: 0,
      notes: f.firstFailure === null ? [] : [`first failed call: ${f.firstFailure}`],
      ok: f.failed === 0,
    };
    ctx.checks.push(check);
    const ratio = bare === undefined || f === bare ? null : f.cpuUsPerCall / bare.cpuUsPerCall;
    ctx.rows.push({
      scenario: 'sender',
      figure: `CPU per signed call, ${f.sender}${f === bare ? ' (reference)' : ''} (info)`,
      value: Math.round(f.cpuUsPerCall * 10) / 10,
      unit: 'µs',
      reference: bare === undefined || f === bare ? '' : `bare undici ${fmtNumber(bare.cpuUsPerCall)} µs`,
      ratio,
      met: null,
    });
    ctx.rows.push({
      scenario: 'sender',
      figure: `calls/s, ${f.sender} (info)`,
      value: f.perSecond,
      unit: 'requests/s',
      reference: '',
      ratio: null,
      met: null,
    });
  }
}
