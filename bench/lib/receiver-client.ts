/** The harness side of `bench/receiver.ts`: starts it and talks to it over IPC. */
import { nowMs, sleep } from './clock.js';
import { forkTs, type Resources } from './processes.js';
import type {
  GroupProgress,
  GroupReport,
  ReceiverCommand,
  ReceiverReply,
  ReceiverResult,
} from './receiver-protocol.js';

export interface WaitOutcome {
  /** `stalled`: nothing new for `stallMs`; `time limit`: still arriving when `maxMs` ran out. */
  ended: 'complete' | 'stalled' | 'time limit';
  /** Slots filled when the wait ended. */
  filled: number;
}

export class ReceiverClient {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: ReceiverResult) => void; reject: (e: Error) => void }>();

  private constructor(
    private readonly send: (msg: unknown) => void,
    /** `http://127.0.0.1:PORT` of the main listener. */
    readonly origin: string,
    readonly pid: number | undefined,
  ) {}

  static async start(res: Resources): Promise<ReceiverClient> {
    const proc = await forkTs(res, 'receiver.ts');
    const ready = proc.ready;
    const port =
      typeof ready === 'object' && ready !== null && 'port' in ready && typeof ready.port === 'number'
        ? ready.port
        : null;
    if (port === null) throw new Error(`receiver sent an unexpected first message: ${JSON.stringify(ready)}`);
    const client = new ReceiverClient(
      (msg) => proc.child.send(msg as object),
      `http://127.0.0.1:${port}`,
      proc.child.pid,
    );
    proc.child.on('message', (raw: unknown) => client.onReply(raw as ReceiverReply));
    proc.child.once('exit', () => {
      for (const p of client.pending.values()) p.reject(new Error('the receiver process exited'));
      client.pending.clear();
    });
    return client;
  }

  private onReply(reply: ReceiverReply): void {
    const p = this.pending.get(reply.id);
    if (p === undefined) return;
    this.pending.delete(reply.id);
    if (reply.ok) p.resolve(reply.result);
    else p.reject(new Error(`receiver: ${reply.error}`));
  }

  private call(cmd: ReceiverCommand): Promise<ReceiverResult> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.send({ ...cmd, id });
    });
  }

  /** URL of a webhook answering 200 at once. */
  okUrl(group: string, hook: number, origin = this.origin): string {
    return `${origin}/ok/${group}/${hook}`;
  }

  /** URL of a webhook that never answers. */
  hangUrl(group: string, hook: number, origin = this.origin): string {
    return `${origin}/hang/${group}/${hook}`;
  }

  /** Opens one more listener (another origin, so another connection pool in the sender); returns its origin. */
  async addOrigin(): Promise<string> {
    const r = await this.call({ op: 'addPort' });
    if (r.port === undefined) throw new Error('receiver did not open a port');
    return `http://127.0.0.1:${r.port}`;
  }

  /**
   * Starts (or restarts) a group expecting each of `events` events at each of `hooks` webhooks exactly once. Latency
   * is summarized over events from `latencyFromSeq` on (the ones before are a warm-up).
   */
  async expect(group: string, hooks: number, events: number, latencyFromSeq = 0): Promise<void> {
    await this.call({ op: 'expect', group, hooks, events, latencyFromSeq });
  }

  async progress(groups: string[]): Promise<GroupProgress[]> {
    return (await this.call({ op: 'progress', groups })).progress ?? [];
  }

  async report(group: string): Promise<GroupReport> {
    const r = (await this.call({ op: 'report', group })).report;
    if (r === undefined) throw new Error(`receiver sent no report for ${group}`);
    return r;
  }

  async drop(groups: string[]): Promise<void> {
    await this.call({ op: 'drop', groups });
  }

  async releaseHanging(): Promise<number> {
    return (await this.call({ op: 'releaseHanging' })).released ?? 0;
  }

  /**
   * Waits until `expected` slots of the group are filled, until nothing new arrived for `stallMs` (then what is
   * missing is lost), or until `maxMs` passed. `onProgress` is called about every 5 s while waiting.
   */
  async waitFor(
    group: string,
    expected: number,
    o: { stallMs: number; maxMs?: number; onProgress?: (filled: number) => void },
  ): Promise<WaitOutcome> {
    const start = nowMs();
    let last = -1;
    let lastChange = start;
    let lastLog = start;
    const { onProgress } = o;
    for (;;) {
      const [p] = await this.progress([group]);
      const filled = p?.filled ?? 0;
      if (filled >= expected) return { ended: 'complete', filled };
      const now = nowMs();
      if (filled !== last) {
        last = filled;
        lastChange = now;
      } else if (now - lastChange > o.stallMs) {
        return { ended: 'stalled', filled };
      }
      if (o.maxMs !== undefined && now - start > o.maxMs) return { ended: 'time limit', filled };
      if (onProgress !== undefined && now - lastLog > 5000) {
        lastLog = now;
        onProgress(filled);
      }
      await sleep(expected - filled > 1000 ? 100 : 20);
    }
  }
}
