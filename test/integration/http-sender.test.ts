import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createGuardedLookup,
  isSsrfBlockedError,
  type Resolver,
  SSRF_BLOCKED_CODE,
} from '../../src/delivery/guarded-lookup.js';
import {
  HttpSender,
  type HttpSenderOptions,
  type RequestSender,
  type SendRequest,
} from '../../src/delivery/http-sender.js';
import { ThreadedSender } from '../../src/delivery/threaded-sender.js';
import { generateWebhookSecret } from '../../src/domain/signing.js';
import { checkTargetUrl, isForbiddenAddress } from '../../src/domain/url-policy.js';

// Real servers on 127.0.0.1 only; nothing here leaves the machine.

let server: Server;
let base: string;
let connections = 0;
let lastHeaders: Record<string, string | string[] | undefined> = {};
let lastBody = '';
/** Calls to /slow in progress, and the most seen at once. */
let slowNow = 0;
let slowPeak = 0;

function listen(s: Server): Promise<number> {
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)));
}

function closeServer(s: Server): Promise<void> {
  // Hanging handlers keep sockets open; cut them so close() resolves and no handle leaks.
  s.closeAllConnections();
  return new Promise((resolve) => s.close(() => resolve()));
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      lastHeaders = req.headers;
      lastBody = Buffer.concat(chunks).toString('utf8');
      switch (req.url) {
        case '/ok':
          res.writeHead(200, { 'Content-Type': 'text/plain', 'X-Custom-Thing': 'yes' });
          res.end('hello receiver');
          return;
        case '/big':
          res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
          res.end(Buffer.alloc(1024 * 1024, 'a'));
          return;
        case '/redirect':
          res.writeHead(302, { Location: '/ok' });
          res.end('moved');
          return;
        case '/gone':
          res.writeHead(410);
          res.end();
          return;
        case '/echo':
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.end(lastBody);
          return;
        case '/slow':
          slowNow++;
          slowPeak = Math.max(slowPeak, slowNow);
          setTimeout(() => {
            slowNow--;
            res.writeHead(200);
            res.end();
          }, 60);
          return;
        case '/hang':
          return; // never answer
        case '/repeated':
          res.setHeader('X-Seen', ['one', 'two']);
          res.writeProcessing(); // a 102 first: interim, the 200 below is the answer
          res.writeHead(200);
          res.end('ok');
          return;
        case '/odd-headers':
          // Raw, so the names reach the wire as written: one shaped like a prototype key; Node sends the value as UTF-8.
          res.writeHead(200, ['__proto__', 'kept', 'X-Latin', 'caf\u00e9', 'Content-Length', '2']);
          res.end('ok');
          return;
        case '/stall-body':
          res.writeHead(200, { 'Content-Type': 'text/plain' });
          res.write('partial'); // headers and a bit of body, then nothing
          return;
        default:
          res.writeHead(404);
          res.end();
      }
    });
  });
  server.on('connection', () => {
    connections++;
  });
  base = `http://127.0.0.1:${await listen(server)}`;
});

afterAll(async () => {
  await closeServer(server);
});

function request(path: string, overrides: Partial<SendRequest> = {}): SendRequest {
  return {
    url: `${base}${path}`,
    headers: { 'content-type': 'application/json' },
    body: '{"hello":"world"}',
    timeoutMs: 5_000,
    maxResponseBytes: 64 * 1024,
    ...overrides,
  };
}

const LANES = { perLane: 10, total: 200 };
/** The same behaviour is required of the sender in this thread and of the one running it on its own thread. */
const SENDERS: Array<[string, (opts: HttpSenderOptions) => RequestSender]> = [
  ['HttpSender', (opts) => new HttpSender(opts)],
  ['ThreadedSender', (opts) => new ThreadedSender({ ...opts, lanes: LANES })],
];

describe.each(SENDERS)('%s (allowPrivate: true, local receivers)', (_name, create) => {
  let sender: RequestSender;
  beforeAll(() => {
    sender = create({ allowPrivate: true, userAgent: 'Hookline-Test/1.0', maxConnectionsPerOrigin: 4 });
  });
  afterAll(async () => {
    await sender.close();
  });

  it('POSTs the body and returns status, reason, lower-cased headers and body', async () => {
    const before = Date.now();
    const result = await sender.send(
      request('/ok', { headers: { 'Content-Type': 'application/json', 'X-Hook-UID': 'h1' } }),
    );
    expect(result).toMatchObject({
      outcome: 'response',
      status: 200,
      reasonPhrase: 'OK',
      body: 'hello receiver',
      bodyTruncated: false,
      error: null,
    });
    expect(result.headers['x-custom-thing']).toBe('yes');
    expect(result.headers['content-type']).toBe('text/plain');
    expect(Object.keys(result.headers).every((name) => name === name.toLowerCase())).toBe(true);
    expect(result.startedAt).toBeGreaterThanOrEqual(before);
    expect(result.finishedAt).toBeGreaterThanOrEqual(result.startedAt);
    expect(result.elapsedMs).toBeGreaterThanOrEqual(0);
    expect(lastBody).toBe('{"hello":"world"}');
    expect(lastHeaders['x-hook-uid']).toBe('h1');
    expect(lastHeaders['user-agent']).toBe('Hookline-Test/1.0');
  });

  it('signs a request with the secrets it is given, and reports the signature it sent', async () => {
    const [current, previous] = [generateWebhookSecret(), generateWebhookSecret()];
    const now = Math.floor(Date.now() / 1000);
    const headers = { 'content-type': 'application/json', 'webhook-id': 'msg_1', 'webhook-timestamp': String(now) };
    const sign = { msgId: 'msg_1', timestampSec: now, secrets: [current, previous] };
    const result = await sender.send(request('/ok', { headers, sign }));
    expect(result.outcome).toBe('response');
    expect(result.signature).toBe(lastHeaders['webhook-signature']);
    expect(String(lastHeaders['webhook-signature']).split(' ')).toHaveLength(2);
    // Either secret verifies the request as received (rotation: the receiver may hold the old or the new one).
    const received = { ...headers, 'webhook-signature': String(lastHeaders['webhook-signature']) };
    for (const secret of [current, previous]) {
      expect(new Webhook(secret).verify(lastBody, received)).toEqual({ hello: 'world' });
    }
    expect(() => new Webhook(generateWebhookSecret()).verify(lastBody, received)).toThrow();
  });

  it('sends nothing when a secret is not a webhook secret', async () => {
    const connectionsBefore = connections;
    const bodyBefore = lastBody;
    const result = await sender.send(
      request('/ok', {
        body: '{"never":"sent"}',
        sign: { msgId: 'msg_2', timestampSec: 1_700_000_000, secrets: ['whsec_not-base64!'] },
      }),
    );
    expect(result.outcome).toBe('connection_error');
    expect(result.error).toMatch(/^request not signed/);
    expect(result.signature).toBeUndefined();
    expect(lastBody).toBe(bodyBefore);
    expect(connections).toBe(connectionsBefore);
  });

  it('keeps a caller-supplied user-agent', async () => {
    await sender.send(request('/ok', { headers: { 'User-Agent': 'custom/2' } }));
    expect(lastHeaders['user-agent']).toBe('custom/2');
  });

  it('reuses the keep-alive connection between sequential requests', async () => {
    await sender.send(request('/ok'));
    const before = connections;
    for (let i = 0; i < 3; i++) expect((await sender.send(request('/ok'))).status).toBe(200);
    expect(connections).toBe(before);
  });

  it('truncates the body at maxResponseBytes', async () => {
    const result = await sender.send(request('/big', { maxResponseBytes: 1000 }));
    expect(result).toMatchObject({ outcome: 'response', status: 200, bodyTruncated: true });
    expect(result.body).toBe('a'.repeat(1000));
  });

  it('returns a 302 as a response without following it', async () => {
    const result = await sender.send(request('/redirect'));
    expect(result).toMatchObject({ outcome: 'response', status: 302, reasonPhrase: 'Found', body: 'moved' });
    expect(result.headers.location).toBe('/ok');
  });

  it('returns non-2xx statuses as responses', async () => {
    const result = await sender.send(request('/gone'));
    expect(result).toMatchObject({ outcome: 'response', status: 410, reasonPhrase: 'Gone', body: '' });
  });

  it('times out when the server never answers', async () => {
    const result = await sender.send(request('/hang', { timeoutMs: 300 }));
    expect(result).toMatchObject({ outcome: 'timeout', status: null, body: null });
    expect(result.error).toContain('timed out');
    expect(result.elapsedMs).toBeGreaterThanOrEqual(250);
    expect(result.elapsedMs).toBeLessThan(3_000);
  });

  it('ends a call waiting for a connection at its own timeout, while the call holding the connection goes on', async () => {
    const single = create({ allowPrivate: true, userAgent: 'Hookline-Test/1.0', maxConnectionsPerOrigin: 1 });
    try {
      let holderDone = false;
      const holder = single.send(request('/hang', { timeoutMs: 60_000 })).finally(() => {
        holderDone = true;
      });
      const queued = await single.send(request('/ok', { timeoutMs: 300 }));
      expect(queued).toMatchObject({ outcome: 'timeout', status: null });
      expect(holderDone).toBe(false);
      await single.close();
      expect(await holder).toMatchObject({ outcome: 'connection_error' });
    } finally {
      await single.close();
    }
  });

  it('joins repeated response headers and skips interim 1xx answers', async () => {
    const result = await sender.send(request('/repeated'));
    expect(result).toMatchObject({ outcome: 'response', status: 200, body: 'ok' });
    expect(result.headers['x-seen']).toBe('one, two');
  });

  it('keeps every response header as sent: any name, and a UTF-8 value as its text', async () => {
    const result = await sender.send(request('/odd-headers'));
    expect(result).toMatchObject({ outcome: 'response', status: 200, body: 'ok' });
    expect(Object.getOwnPropertyDescriptor(result.headers, '__proto__')?.value).toBe('kept');
    expect(result.headers['x-latin']).toBe('caf\u00e9');
    expect(JSON.parse(JSON.stringify(result.headers))).toMatchObject({ 'x-latin': 'caf\u00e9', 'content-length': '2' });
  });

  it('times out when the body stalls, keeping what arrived', async () => {
    const result = await sender.send(request('/stall-body', { timeoutMs: 300 }));
    expect(result).toMatchObject({ outcome: 'timeout', status: 200, body: 'partial' });
    expect(result.elapsedMs).toBeLessThan(3_000);
  });

  it('reports connection refused as connection_error', async () => {
    const closed = createServer();
    const port = await listen(closed);
    await closeServer(closed);
    const result = await sender.send(request('/', { url: `http://127.0.0.1:${port}/` }));
    expect(result).toMatchObject({ outcome: 'connection_error', status: null });
    expect(result.error).toContain('ECONNREFUSED');
    expect(result.error).not.toContain('\n    at ');
  });

  it('refuses an unsendable request as invalid_target without throwing', async () => {
    const result = await sender.send(request('/ok', { headers: { 'x-bad': 'a\r\nInjected: 1' } }));
    expect(result.outcome).toBe('invalid_target');
    expect(result.error).toBeTruthy();
  });

  it('refuses a malformed URL as invalid_target', async () => {
    expect(await sender.send(request('/', { url: 'not a url' }))).toMatchObject({ outcome: 'invalid_target' });
  });
});

/** A name /etc/hosts maps to a loopback address that the URL policy does not refuse by name (e.g. the host name). */
function hostsFileLoopbackName(): string | null {
  let text: string;
  try {
    text = readFileSync('/etc/hosts', 'utf8');
  } catch {
    return null;
  }
  for (const line of text.split('\n')) {
    const [address, ...names] = line.replace(/#.*/, '').trim().split(/\s+/);
    if (address !== '127.0.0.1') continue;
    const name = names.find((n) => checkTargetUrl(`https://${n}/`, { allowPrivate: false }).ok);
    if (name !== undefined) return name;
  }
  return null;
}

describe.each(SENDERS)('%s (allowPrivate: false)', (_name, create) => {
  let sender: RequestSender;
  beforeAll(() => {
    sender = create({ allowPrivate: false, userAgent: 'Hookline-Test/1.0' });
  });
  afterAll(async () => {
    await sender.close();
  });

  it('refuses http:// and literal loopback addresses before connecting', async () => {
    const before = connections;
    const http = await sender.send(request('/ok'));
    expect(http).toMatchObject({ outcome: 'invalid_target', error: 'url must use https://' });
    const literal = await sender.send(request('/ok', { url: `https://127.0.0.1:${new URL(base).port}/ok` }));
    expect(literal).toMatchObject({ outcome: 'invalid_target' });
    expect(literal.error).toContain('127.0.0.1');
    const v6 = await sender.send(request('/ok', { url: 'https://[::ffff:7f00:1]/ok' }));
    expect(v6).toMatchObject({ outcome: 'invalid_target' });
    expect(connections).toBe(before);
  });

  const name = hostsFileLoopbackName();
  it.skipIf(name === null)(`blocks a name resolving to loopback at connect time (${name ?? 'none'})`, async () => {
    const before = connections;
    const result = await sender.send(request('/ok', { url: `https://${name}:${new URL(base).port}/ok` }));
    expect(result).toMatchObject({ outcome: 'ssrf_blocked', status: null });
    expect(result.error).toContain('127.0.0.1');
    expect(connections).toBe(before);
  });
});

describe('ThreadedSender', () => {
  const threadedSender = (extra: Partial<ConstructorParameters<typeof ThreadedSender>[0]> = {}) =>
    new ThreadedSender({ allowPrivate: true, userAgent: 'Hookline-Test/1.0', lanes: LANES, ...extra });

  it('answers each of many concurrent calls with its own result, within the per-origin connection cap', async () => {
    const sender = threadedSender({ maxConnectionsPerOrigin: 3 });
    try {
      await sender.send(request('/ok'));
      const before = connections;
      const bodies = Array.from({ length: 60 }, (_, i) => JSON.stringify({ call: i }));
      const results = await Promise.all(bodies.map((body) => sender.send(request('/echo', { body }))));
      expect(results.map((r) => r.body)).toEqual(bodies);
      expect(results.every((r) => r.outcome === 'response' && r.status === 200)).toBe(true);
      expect(connections - before).toBeLessThanOrEqual(2);
    } finally {
      await sender.close();
    }
  });

  it('holds calls over their lane cap on the thread and starts them as calls of the lane end', async () => {
    const sender = threadedSender({ lanes: { perLane: 2, total: 200 } });
    try {
      slowPeak = 0;
      const results = await Promise.all(Array.from({ length: 6 }, () => sender.send(request('/slow', { lane: 'a' }))));
      expect(results.every((r) => r.status === 200)).toBe(true);
      expect(slowPeak).toBe(2);
      // Another lane is not held up by a full one.
      slowPeak = 0;
      await Promise.all([
        ...Array.from({ length: 3 }, () => sender.send(request('/slow', { lane: 'a' }))),
        ...Array.from({ length: 2 }, () => sender.send(request('/slow', { lane: 'b' }))),
      ]);
      expect(slowPeak).toBe(4);
    } finally {
      await sender.close();
    }
  });

  it('hands back the calls waiting on the thread as not_sent when withdrawn, and goes on with those in progress', async () => {
    const sender = threadedSender({ lanes: { perLane: 1, total: 200 } });
    try {
      await sender.warmUp();
      let holderDone = false;
      const holder = sender.send(request('/hang', { lane: 'a', timeoutMs: 60_000 })).finally(() => {
        holderDone = true;
      });
      const waiting = [1, 2].map(() => sender.send(request('/ok', { lane: 'a' })));
      // Handed over in the same turn as the withdrawal: withdrawn too, never sent.
      sender.withdraw();
      const results = await Promise.all(waiting);
      expect(results.map((r) => r.outcome)).toEqual(['not_sent', 'not_sent']);
      expect(results.every((r) => r.status === null && r.error === null)).toBe(true);
      expect(holderDone).toBe(false);
      // A call handed over after the withdrawal is sent as usual (another lane, so the hung call does not hold it).
      expect(await sender.send(request('/ok', { lane: 'b' }))).toMatchObject({ outcome: 'response', status: 200 });
      await sender.close();
      expect(await holder).toMatchObject({ outcome: 'connection_error' });
    } finally {
      await sender.close();
    }
  });

  it('starts its thread ahead of the first call when warmed up, and not after it is closed', async () => {
    const sender = threadedSender();
    await sender.warmUp();
    await sender.warmUp();
    expect(await sender.send(request('/ok'))).toMatchObject({ outcome: 'response', status: 200 });
    await sender.close();
    await sender.warmUp();
    expect(await sender.send(request('/ok'))).toMatchObject({ outcome: 'connection_error', error: 'sender is closed' });
  });

  it('fails a call it cannot hand to its thread as a connection error, and goes on with the next', async () => {
    const sender = threadedSender();
    try {
      const uncopyable = { 'x-value': (() => 'not data') as unknown as string };
      const failed = await sender.send(request('/ok', { headers: uncopyable }));
      expect(failed).toMatchObject({ outcome: 'connection_error', status: null });
      expect(failed.error).toContain('sender thread unavailable');
      expect(await sender.send(request('/ok'))).toMatchObject({ outcome: 'response', status: 200 });
    } finally {
      await sender.close();
    }
  });

  it('ends a call in flight as a connection error when it closes, and refuses calls after', async () => {
    const sender = threadedSender();
    const hanging = sender.send(request('/hang', { timeoutMs: 60_000 }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const started = Date.now();
    await sender.close();
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await hanging).toMatchObject({ outcome: 'connection_error', status: null });
    expect(await sender.send(request('/ok'))).toMatchObject({ outcome: 'connection_error', error: 'sender is closed' });
  });
});

describe('HttpSender DNS rebinding guard', () => {
  it('checks the address actually resolved at connect time, whatever the name looked like before', async () => {
    // Fake DNS (no network): the name now answers with loopback, as a rebinding attacker's server would.
    const lookedUp: string[] = [];
    const resolver: Resolver = (host, _opts, cb) => {
      lookedUp.push(host);
      cb(null, [{ address: '127.0.0.1', family: 4 }]);
    };
    const sender = new HttpSender({ allowPrivate: false, userAgent: 'Hookline-Test/1.0', resolver });
    try {
      const before = connections;
      const result = await sender.send(request('/ok', { url: `https://rebind.example:${new URL(base).port}/ok` }));
      expect(result).toMatchObject({ outcome: 'ssrf_blocked', status: null });
      expect(result.error).toBe('rebind.example resolves to a private or loopback address (127.0.0.1)');
      expect(lookedUp).toEqual(['rebind.example']);
      expect(connections).toBe(before);
    } finally {
      await sender.close();
    }
  });
});

describe('createGuardedLookup', () => {
  type Outcome = { err: NodeJS.ErrnoException | null; address: unknown; family: number | undefined };
  function run(lookup: ReturnType<typeof createGuardedLookup>, host: string, all: boolean): Promise<Outcome> {
    return new Promise((resolve) => {
      lookup(host, all ? { all: true } : {}, (err, address, family) => resolve({ err, address, family }));
    });
  }

  it('refuses localhost with HOOKLINE_SSRF_BLOCKED when private targets are not allowed', async () => {
    const { err } = await run(createGuardedLookup({ allowPrivate: false }), 'localhost', true);
    expect(err?.code).toBe(SSRF_BLOCKED_CODE);
    expect(err?.code).toBe('HOOKLINE_SSRF_BLOCKED');
    expect(isSsrfBlockedError(err)).toBe(true);
    expect(isSsrfBlockedError(new Error('wrapped', { cause: err }))).toBe(true);
    expect(isSsrfBlockedError(new Error('other'))).toBe(false);
  });

  it('resolves localhost in both result shapes when private targets are allowed', async () => {
    const lookup = createGuardedLookup({ allowPrivate: true });
    const all = await run(lookup, 'localhost', true);
    expect(all.err).toBeNull();
    expect(Array.isArray(all.address)).toBe(true);
    const one = await run(lookup, 'localhost', false);
    expect(one.err).toBeNull();
    expect(typeof one.address).toBe('string');
    expect(isForbiddenAddress(String(one.address))).toBe(true);
    expect([4, 6]).toContain(one.family);
  });

  it('refuses when any resolved address is forbidden, not only the first', async () => {
    // A fake DNS answer (no network): a rebinding name that mixes a public and a metadata address.
    const resolver: Resolver = (_host, _opts, cb) =>
      cb(null, [
        { address: '8.8.8.8', family: 4 },
        { address: '169.254.169.254', family: 4 },
      ]);
    const { err } = await run(createGuardedLookup({ allowPrivate: false, resolver }), 'rebind.example', false);
    expect(err?.code).toBe(SSRF_BLOCKED_CODE);
    expect(err?.message).toContain('169.254.169.254');
  });

  it('passes public answers through', async () => {
    const resolver: Resolver = (_host, _opts, cb) => cb(null, [{ address: '2606:4700:4700::1111', family: 6 }]);
    const lookup = createGuardedLookup({ allowPrivate: false, resolver });
    expect(await run(lookup, 'public.example', false)).toEqual({
      err: null,
      address: '2606:4700:4700::1111',
      family: 6,
    });
    expect((await run(lookup, 'public.example', true)).address).toEqual([
      { address: '2606:4700:4700::1111', family: 6 },
    ]);
  });

  it('passes resolver errors through', async () => {
    const failure: NodeJS.ErrnoException = Object.assign(new Error('getaddrinfo ENOTFOUND nope.example'), {
      code: 'ENOTFOUND',
    });
    const resolver: Resolver = (_host, _opts, cb) => cb(failure, []);
    const { err } = await run(createGuardedLookup({ allowPrivate: false, resolver }), 'nope.example', true);
    expect(err).toBe(failure);
  });
});
