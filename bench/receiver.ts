/**
 * The bench receiver: a separate process (forked with `node --import tsx`, driven over IPC) that counts what arrives.
 *
 * URLs: `/ok/<group>/<hook>` answers 200 at once; `/hang/<group>/<hook>` never answers (the socket is held until the
 * sender gives up). `<group>` names a scenario's set of webhooks, `<hook>` is the webhook's index in it.
 *
 * Accounting per group: every request's `webhook-id` (unique per delivery, repeated on retries) and `data.seq` (which
 * event). A group with an expectation (`hooks` × `events` slots) reports slots never filled (losses), requests
 * repeating a `webhook-id` (redeliveries), second deliveries for a filled slot under another `webhook-id` (duplicate
 * deliveries) and requests that fit no slot. `data.sentAt` gives publish→receipt latency on the shared clock.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { nowMs } from './lib/clock.js';
import type { GroupReport, ReceiverReply, ReceiverRequest, ReceiverResult } from './lib/receiver-protocol.js';
import { Samples, summarize } from './lib/stats.js';

interface Group {
  hooks: number;
  events: number;
  counts: Uint8Array | null;
  filled: number;
  requests: number;
  ids: Set<string>;
  redeliveries: number;
  duplicateDeliveries: number;
  unexpected: number;
  /** Latency counts only events from this `seq` on: earlier ones are the warm-up. */
  latencyFromSeq: number;
  firstAt: number | null;
  lastAt: number | null;
  latencies: Samples;
}

function newGroup(hooks = 0, events = 0, latencyFromSeq = 0): Group {
  return {
    hooks,
    events,
    counts: hooks * events > 0 ? new Uint8Array(hooks * events) : null,
    filled: 0,
    requests: 0,
    ids: new Set(),
    redeliveries: 0,
    duplicateDeliveries: 0,
    unexpected: 0,
    latencyFromSeq,
    firstAt: null,
    lastAt: null,
    latencies: new Samples(),
  };
}

const groups = new Map<string, Group>();
const hanging = new Set<http.ServerResponse>();
const servers: http.Server[] = [];

function groupOf(name: string): Group {
  let g = groups.get(name);
  if (g === undefined) {
    g = newGroup();
    groups.set(name, g);
  }
  return g;
}

function seqOf(body: string): { seq: number | null; sentAt: number | null } {
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed !== 'object' || parsed === null || !('data' in parsed)) return { seq: null, sentAt: null };
    const data: unknown = parsed.data;
    if (typeof data !== 'object' || data === null) return { seq: null, sentAt: null };
    const seq = 'seq' in data && typeof data.seq === 'number' ? data.seq : null;
    const sentAt = 'sentAt' in data && typeof data.sentAt === 'number' ? data.sentAt : null;
    return { seq, sentAt };
  } catch {
    return { seq: null, sentAt: null };
  }
}

function record(url: string, headers: http.IncomingHttpHeaders, body: string, at: number): boolean {
  // '', 'ok' | 'hang', group, hook
  const [, mode, groupName, hookText] = url.split('/');
  const hang = mode === 'hang';
  const g = groupOf(groupName ?? '');
  g.requests++;
  g.firstAt ??= at;
  g.lastAt = at;
  const idHeader = headers['webhook-id'];
  const id = typeof idHeader === 'string' ? idHeader : '';
  const { seq, sentAt } = seqOf(body);
  if (sentAt !== null && (seq ?? 0) >= g.latencyFromSeq) g.latencies.push(at - sentAt);
  if (id === '') {
    g.unexpected++;
    return hang;
  }
  if (g.ids.has(id)) {
    g.redeliveries++;
    return hang;
  }
  g.ids.add(id);
  const hook = Number(hookText);
  if (g.counts === null) return hang;
  if (seq === null || !Number.isInteger(hook) || hook < 0 || hook >= g.hooks || seq < 0 || seq >= g.events) {
    g.unexpected++;
    return hang;
  }
  const slot = hook * g.events + seq;
  const n = g.counts[slot] ?? 0;
  if (n === 0) g.filled++;
  else g.duplicateDeliveries++;
  if (n < 255) g.counts[slot] = n + 1;
  return hang;
}

function handler(req: http.IncomingMessage, res: http.ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const hang = record(req.url ?? '', req.headers, Buffer.concat(chunks).toString('utf8'), nowMs());
    if (hang) {
      hanging.add(res);
      res.on('close', () => hanging.delete(res));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
    res.end('ok');
  });
}

async function listen(): Promise<number> {
  const server = http.createServer(handler);
  // Longer than any sender's idle keep-alive (Hookline's and undici's are 4 s), so the sender always closes first.
  server.keepAliveTimeout = 10_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return (server.address() as AddressInfo).port;
}

function report(name: string): GroupReport {
  const g = groups.get(name) ?? newGroup();
  const slots = g.hooks * g.events;
  return {
    group: name,
    expected: slots,
    filled: g.filled,
    missing: slots - g.filled,
    requests: g.requests,
    distinctIds: g.ids.size,
    redeliveries: g.redeliveries,
    duplicateDeliveries: g.duplicateDeliveries,
    unexpected: g.unexpected,
    firstAt: g.firstAt,
    lastAt: g.lastAt,
    latency: summarize(g.latencies.view()),
  };
}

function releaseHanging(): number {
  const n = hanging.size;
  for (const res of hanging) res.destroy();
  hanging.clear();
  return n;
}

async function handle(msg: ReceiverRequest): Promise<ReceiverResult> {
  switch (msg.op) {
    case 'addPort':
      return { port: await listen() };
    case 'expect':
      groups.set(msg.group, newGroup(msg.hooks, msg.events, msg.latencyFromSeq ?? 0));
      return {};
    case 'progress':
      return {
        progress: msg.groups.map((name) => {
          const g = groups.get(name);
          return { group: name, filled: g?.filled ?? 0, requests: g?.requests ?? 0 };
        }),
      };
    case 'report':
      return { report: report(msg.group) };
    case 'drop':
      for (const name of msg.groups) groups.delete(name);
      return {};
    case 'releaseHanging':
      return { released: releaseHanging() };
  }
}

process.on('message', (raw: unknown) => {
  const msg = raw as ReceiverRequest;
  handle(msg).then(
    (result) => process.send?.({ id: msg.id, ok: true, result } satisfies ReceiverReply),
    (err: unknown) => process.send?.({ id: msg.id, ok: false, error: String(err) } satisfies ReceiverReply),
  );
});
// The harness is gone (finished, crashed or killed): so is the receiver.
process.on('disconnect', () => {
  releaseHanging();
  process.exit(0);
});

const port = await listen();
process.send?.({ ready: true, port });
