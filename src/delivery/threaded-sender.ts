/**
 * Webhook calls made on a thread of their own. A delivery's HTTP exchange — undici's request and response handling,
 * socket writes, timers, the garbage it leaves — was about a third of the main thread's time under load (profile of
 * the throughput bench), and the main thread also runs the API, the queue and the database. Here it runs beside
 * them, on the machine's other core. Requests and results cross the thread's port in batches, one message per turn
 * of the event loop each way, so the cost of crossing is shared by every call made in that turn.
 *
 * The thread holds the only connection pools: the per-origin connection cap and the SSRF guard work as in
 * `HttpSender`, which the thread runs. If the thread dies, its calls in flight end as connection errors (retried
 * like any other) and the next call starts a new thread.
 */
import { Worker } from 'node:worker_threads';
import type { HttpSenderOptions, RequestSender, SendRequest, SendResult } from './http-sender.js';

export interface SentItem {
  id: number;
  result: SendResult;
}
export type ToSenderThread = { kind: 'send'; items: Array<{ id: number; request: SendRequest }> } | { kind: 'close' };
export type FromSenderThread = { kind: 'sent'; items: SentItem[] } | { kind: 'closed' };

const CLOSE_WAIT_MS = 2_000;

export type ThreadedSenderOptions = Omit<HttpSenderOptions, 'resolver'>;

export class ThreadedSender implements RequestSender {
  private worker: Worker | null = null;
  private readonly waiting = new Map<number, (result: SendResult) => void>();
  private outbox: Array<{ id: number; request: SendRequest }> = [];
  private flushing = false;
  private nextId = 1;
  private closed = false;
  private readonly entry: string;
  /** Running from the TypeScript sources: the thread needs tsx to load its entry. */
  private readonly tsx: boolean;

  constructor(private readonly options: ThreadedSenderOptions) {
    const fromSource = import.meta.url.endsWith('.ts');
    this.entry = new URL(`./sender-thread.${fromSource ? 'ts' : 'js'}`, import.meta.url).href;
    this.tsx = fromSource;
  }

  send(request: SendRequest): Promise<SendResult> {
    if (this.closed) return Promise.resolve(failure('sender is closed'));
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
    const worker = this.worker ?? this.start();
    worker.ref();
    worker.postMessage({ kind: 'send', items } satisfies ToSenderThread);
  }

  private start(): Worker {
    const worker = new Worker(new URL('./sender-thread-boot.mjs', import.meta.url), {
      workerData: { entry: this.entry, tsx: this.tsx, options: this.options },
    });
    worker.on('message', (m: FromSenderThread) => {
      if (m.kind !== 'sent') return;
      for (const { id, result } of m.items) {
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
    for (const resolve of waiting) resolve(failure(why));
  }
}

function failure(error: string): SendResult {
  const now = Date.now();
  return {
    outcome: 'connection_error',
    status: null,
    reasonPhrase: null,
    headers: {},
    body: null,
    bodyTruncated: false,
    elapsedMs: 0,
    error,
    startedAt: now,
    finishedAt: now,
  };
}
