/**
 * The sender alone (forked by the `sender` scenario, driven over IPC): signed 1 KB calls to the bench receiver, a fixed
 * number at a time, made by a bare undici dispatcher (the reference: an HMAC per call and nothing else), by Hookline's
 * `HttpSender`, and by its `ThreadedSender` (the worker's default), one after the other in this process. It reports
 * calls/s and the process's CPU per call (every thread) — a figure with far less noise than the end-to-end scenarios,
 * which share the two cores with the API, the database and the receiver.
 */
import { createHmac } from 'node:crypto';
import { Agent } from 'undici';
import type { RequestSender, SendRequest } from '../src/delivery/http-sender.js';
import { HttpSender } from '../src/delivery/http-sender.js';
import { ThreadedSender } from '../src/delivery/threaded-sender.js';
import { generateWebhookSecret } from '../src/domain/signing.js';
import { benchEvent } from './lib/payload.js';

export interface SenderLoopRequest {
  url: string;
  calls: number;
  warmupCalls: number;
  concurrency: number;
  /** Calls handed to the ThreadedSender ahead of its cap, as the worker does (its `launchAhead` rounds). */
  ahead: number;
}
export interface SenderLoopFigure {
  sender: 'undici' | 'HttpSender' | 'ThreadedSender';
  perSecond: number;
  cpuUsPerCall: number;
  failed: number;
  firstFailure: string | null;
}

const secret = generateWebhookSecret();
const body = JSON.stringify(benchEvent(0, 0));

function headersOf(i: number): Record<string, string> {
  return {
    'content-type': 'application/json',
    'user-agent': 'Hookline/bench',
    'webhook-id': `dlv_bench${i}`,
    'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
    'x-request-uid': `att_bench${i}`,
    'x-hook-uid': 'wh_bench',
    'x-event-key': 'bench.event',
  };
}

/** One call the bare way: undici's dispatcher with a handler that keeps the body, and an HMAC of the body. */
function bareCall(agent: Agent, url: URL, i: number): Promise<string | null> {
  const headers = headersOf(i);
  headers['webhook-signature'] = `v1,${createHmac('sha256', secret).update(body).digest('base64')}`;
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let status = 0;
    agent.dispatch(
      { origin: url.origin, path: url.pathname, method: 'POST', headers, body },
      {
        onConnect() {},
        onHeaders(code: number) {
          status = code;
          return true;
        },
        onData(chunk: Buffer) {
          chunks.push(chunk);
          return true;
        },
        onComplete() {
          Buffer.concat(chunks).toString('utf8');
          resolve(status === 200 ? null : `status ${status}`);
        },
        onError(err: Error) {
          resolve(err.message);
        },
      },
    );
  });
}

function senderCall(sender: RequestSender, url: string, i: number): Promise<string | null> {
  const request: SendRequest = {
    url,
    headers: headersOf(i),
    body,
    timeoutMs: 15_000,
    maxResponseBytes: 64 * 1024,
    lane: 'wh_bench',
    sign: { msgId: `dlv_bench${i}`, timestampSec: Math.floor(Date.now() / 1000), secrets: [secret] },
  };
  return sender
    .send(request)
    .then((r) => (r.outcome === 'response' && r.status === 200 ? null : `${r.outcome} ${r.status ?? ''}`));
}

/** `calls` calls, `inFlight` at a time; the failures and the first one's reason. */
async function loop(call: (i: number) => Promise<string | null>, calls: number, inFlight: number) {
  let next = 0;
  let failed = 0;
  let firstFailure: string | null = null;
  const lane = async () => {
    while (next < calls) {
      const failure = await call(next++);
      if (failure !== null) {
        failed++;
        firstFailure ??= failure;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, calls) }, lane));
  return { failed, firstFailure };
}

async function measure(
  sender: SenderLoopFigure['sender'],
  call: (i: number) => Promise<string | null>,
  req: SenderLoopRequest,
  inFlight: number,
): Promise<SenderLoopFigure> {
  await loop(call, req.warmupCalls, inFlight);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const { failed, firstFailure } = await loop(call, req.calls, inFlight);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return {
    sender,
    perSecond: req.calls / seconds,
    cpuUsPerCall: (cpu.user + cpu.system) / req.calls,
    failed,
    firstFailure,
  };
}

async function run(req: SenderLoopRequest): Promise<SenderLoopFigure[]> {
  const url = new URL(req.url);
  const figures: SenderLoopFigure[] = [];
  const agent = new Agent({ connections: req.concurrency, pipelining: 1 });
  figures.push(await measure('undici', (i) => bareCall(agent, url, i), req, req.concurrency));
  await agent.close();
  const options = { allowPrivate: true, userAgent: 'Hookline/bench' };
  const direct = new HttpSender({ ...options, maxConnectionsPerOrigin: req.concurrency });
  figures.push(await measure('HttpSender', (i) => senderCall(direct, req.url, i), req, req.concurrency));
  await direct.close();
  const threaded = new ThreadedSender({
    ...options,
    maxConnectionsPerOrigin: req.concurrency,
    lanes: { perLane: req.concurrency, total: req.concurrency * req.ahead },
  });
  await threaded.warmUp();
  figures.push(
    await measure('ThreadedSender', (i) => senderCall(threaded, req.url, i), req, req.concurrency * req.ahead),
  );
  await threaded.close();
  return figures;
}

process.on('disconnect', () => process.exit(0));
process.on('message', (req: SenderLoopRequest) => {
  run(req).then(
    (figures) => process.send?.({ figures }),
    (err: unknown) => process.send?.({ error: err instanceof Error ? err.message : String(err) }),
  );
});
process.send?.({ ready: true });
