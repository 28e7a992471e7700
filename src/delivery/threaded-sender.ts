/**
 * Webhook calls made on a thread of their own. A delivery's HTTP exchange — undici's request and response handling,
 * socket writes, timers, the garbage it leaves — was about a third of the main thread's time under load (profile of
 * the throughput bench), and the main thread also runs the API, the queue and the database. Here it runs beside
 * them, on the machine's other core. Requests and results cross the thread's port in batches (`sender-thread.ts`
 * says when), so the cost of crossing is shared by every call in a batch; results as flat arrays (`sent-wire.ts`).
 *
 * The thread holds the only connection pools: the per-origin connection cap and the SSRF guard work as in
 * `HttpSender`, which the thread runs. If the thread dies, its calls in flight end as connection errors (retried
 * like any other) and the next call starts a new thread.
 */
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { buildSync } from 'esbuild';
import type { HttpSenderOptions, LaunchAhead, RequestSender, SendRequest, SendResult } from './http-sender.js';
import { noExchange } from './no-exchange.js';
import { fromSentWire, type SentWire } from './sent-wire.js';

export type ToSenderThread =
  | { kind: 'send'; items: Array<{ id: number; request: SendRequest }> }
  | { kind: 'withdraw' }
  | { kind: 'close' };
export type FromSenderThread = { kind: 'sent'; items: SentWire[] } | { kind: 'ready' } | { kind: 'closed' };

const CLOSE_WAIT_MS = 2_000;
/** How long `warmUp` waits for the thread; past it, calls still start it on demand. */
const READY_WAIT_MS = 10_000;
const YOUNG_GENERATION_MB = 32;

export type ThreadedSenderOptions = Omit<HttpSenderOptions, 'resolver'> & {
  /**
   * Caps on calls in progress, per lane (a request's `lane`: its webhook) and in all. The worker loop hands this sender
   * more than that (`LAUNCH_AHEAD`); those over the caps wait on the thread and start as calls end.
   */
  lanes: { perLane: number; total: number };
};

/**
 * Rounds of a webhook's calls, and of the worker's, handed over at once. The thread must not run dry while the main
 * thread is busy: a 1 000-event batch publish holds its event loop for about 50 ms, and calls handed over come back,
 * and the next ones go out, only between two such turns. With 5 rounds of a webhook's 10 slots (50 calls, 7 ms of
 * work) the thread made about 50 calls per batch, idle (3-10 % busy) while the 20 000 events of the throughput bench
 * were published. With 50 rounds (500 calls) it keeps going through a batch. The worker's total stays at 5 rounds of
 * its concurrency (1 000 calls): enough for a fan-out to many webhooks, and it bounds what a wide fan-out holds on
 * the thread. A stopping worker takes back those not started (`withdraw`), so more rounds do not lengthen a stop.
 */
const LAUNCH_AHEAD: LaunchAhead = { perWebhook: 50, total: 5 };

export class ThreadedSender implements RequestSender {
  readonly launchAhead = LAUNCH_AHEAD;
  private worker: Worker | null = null;
  private readonly waiting = new Map<number, (result: SendResult) => void>();
  private outbox: Array<{ id: number; request: SendRequest }> = [];
  private flushing = false;
  private nextId = 1;
  private closed = false;

  constructor(private readonly options: ThreadedSenderOptions) {}

  send(request: SendRequest): Promise<SendResult> {
    if (this.closed) return Promise.resolve(noExchange('connection_error', 'sender is closed'));
    return new Promise((resolve) => {
      const id = this.nextId++;
      this.waiting.set(id, resolve);
      this.outbox.push({ id, request });
      if (this.flushing) return;
      this.flushing = true;
      // The calls started in this turn of the event loop cross together.
      setImmediate(() => this.flush());
    });
  }

  /**
   * Starts the thread now and resolves when it can take calls, so that a worker's first deliveries do not wait for it
   * (bundling and starting it takes 100-200 ms). Never rejects: a thread that fails to start is retried on demand.
   */
  warmUp(): Promise<void> {
    if (this.closed || this.worker !== null) return Promise.resolve();
    let worker: Worker;
    try {
      worker = this.spawn();
    } catch {
      return Promise.resolve();
    }
    // Held (ref'd) while it starts: a worker process with nothing else running yet must not exit meanwhile.
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        if (this.waiting.size === 0) worker.unref();
        resolve();
      };
      const timer = setTimeout(done, READY_WAIT_MS);
      worker.on('message', (m: FromSenderThread) => m.kind === 'ready' && done());
      worker.once('exit', done);
    });
  }

  withdraw(): void {
    const worker = this.worker;
    if (worker === null) return;
    // Calls handed over in this turn reach the thread first, so they are withdrawn too (or already started).
    if (this.outbox.length > 0) this.flush();
    worker.postMessage({ kind: 'withdraw' } satisfies ToSenderThread);
  }

  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    if (worker === null) return;
    const done = new Promise<void>((resolve) => {
      worker.on('message', (m: FromSenderThread) => m.kind === 'closed' && resolve());
      worker.once('exit', () => resolve());
      setTimeout(resolve, CLOSE_WAIT_MS).unref();
    });
    worker.postMessage({ kind: 'close' } satisfies ToSenderThread);
    await done;
    await worker.terminate();
    this.failAll('sender is closed');
  }

  private flush(): void {
    this.flushing = false;
    const items = this.outbox;
    this.outbox = [];
    if (items.length === 0) return;
    try {
      const worker = this.worker ?? this.spawn();
      worker.ref();
      worker.postMessage({ kind: 'send', items } satisfies ToSenderThread);
    } catch (err) {
      // The thread could not be started, or a request could not be copied to it: those calls fail like a connection
      // (and are retried); the process carries on.
      const why = `sender thread unavailable: ${err instanceof Error ? err.message : String(err)}`;
      for (const { id } of items) {
        const resolve = this.waiting.get(id);
        this.waiting.delete(id);
        resolve?.(noExchange('connection_error', why));
      }
    }
  }

  private spawn(): Worker {
    const fromSource = import.meta.url.endsWith('.ts');
    const worker = new Worker(fromSource ? threadSourceBundle() : new URL('./sender-thread.mjs', import.meta.url), {
      eval: fromSource,
      workerData: { options: this.options },
      // The thread's garbage is short-lived (a request and its response per call), but hundreds of calls are alive
      // at once: in a young generation much smaller than that live set every scavenge copies and promotes it. 16 MB
      // halved the thread's GC time in the wide fan-out against 4 MB (409 -> 195 ms of CPU); 32 MB halved it again
      // (145 / 147 / 139 -> 62 / 81 / 66 ms) and, with 100 calls in flight, cut the thread's CPU a call by about 15 %
      // (four alternating pairs), for 1-4 MB more at the backlog bench's peak (246-249 -> 250 MB).
      resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
    });
    worker.on('message', (m: FromSenderThread) => {
      if (m.kind !== 'sent') return;
      for (const item of m.items) {
        const { id, result } = fromSentWire(item);
        const resolve = this.waiting.get(id);
        this.waiting.delete(id);
        resolve?.(result);
      }
      // Nothing in flight: the thread must not keep the process alive on its own.
      if (this.waiting.size === 0) worker.unref();
    });
    const lost = (why: string) => {
      if (this.worker !== worker) return;
      this.worker = null;
      this.failAll(why);
    };
    worker.on('error', (err) => lost(`sender thread failed: ${err.message}`));
    worker.on('exit', (code) => lost(`sender thread stopped (exit code ${code})`));
    this.worker = worker;
    return worker;
  }

  private failAll(why: string): void {
    const waiting = [...this.waiting.values()];
    this.waiting.clear();
    for (const resolve of waiting) resolve(noExchange('connection_error', why));
  }
}

let bundle: string | null = null;

/**
 * Running from the TypeScript sources (tests, or `bin/hookline.mjs` falling back to tsx): the thread runs its sources
 * bundled into one script by esbuild (the compiler tsx itself uses), built once per process, with packages left to
 * `require` from the sources' directory. Registering tsx in the thread instead would start a loader thread for it
 * too: 27 MB more at the backlog bench's peak (286 → 259 MB). Run from `bin/hookline.mjs`'s bundle, the thread's
 * script is `sender-thread.mjs`, bundled beside this code.
 */
function threadSourceBundle(): string {
  if (bundle !== null) return bundle;
  const entry = fileURLToPath(new URL('./sender-thread.ts', import.meta.url));
  const built = buildSync({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    packages: 'external',
    write: false,
    logLevel: 'silent',
  });
  const code = built.outputFiles[0]?.text ?? '';
  bundle = `(function (require) {\n${code}\n})(require('node:module').createRequire(${JSON.stringify(entry)}));`;
  return bundle;
}
