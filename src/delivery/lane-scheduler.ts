/**
 * Caps on calls in progress: at most `perLane` per lane (a webhook) and `total` in all. Calls over a cap wait in their
 * lane's queue, in order; when a call ends, its own lane goes first, then the other waiting lanes in the order they
 * started waiting — stopping as soon as the total is reached, so a wide fan-out (thousands of lanes waiting with a call
 * each) costs a step per start, not a pass over every waiting lane.
 *
 * Used twice: by the worker loop (`WorkerLoop`) for what it hands the sender, and on the sender thread, which applies
 * the real caps there so that a second round of a webhook's calls starts the moment a call ends — without the round
 * trip through the main thread, whose event loop may be busy with a database write when the call ends.
 */
export class LaneScheduler<T> {
  private running = 0;
  private readonly runningPer = new Map<string, number>();
  private readonly waiting = new Map<string, T[]>();
  private paused = false;

  constructor(
    private readonly caps: { perLane: number; total: number },
    /** Starts a call; `done` must be called when it ends (later calls are ignored). */
    private readonly start: (item: T, done: () => void) => void,
  ) {}

  get inProgress(): number {
    return this.running;
  }

  get queued(): number {
    let n = 0;
    for (const queue of this.waiting.values()) n += queue.length;
    return n;
  }

  /** Calls that end no longer start waiting ones (a worker stopping hands those back instead). */
  pause(): void {
    this.paused = true;
  }

  /** Removes and returns every waiting item. */
  takeWaiting(): T[] {
    const items = [...this.waiting.values()].flat();
    this.waiting.clear();
    return items;
  }

  push(lane: string, item: T): void {
    if (!this.waiting.has(lane) && this.hasRoom(lane)) {
      this.launch(lane, item);
      return;
    }
    const queue = this.waiting.get(lane);
    if (queue === undefined) this.waiting.set(lane, [item]);
    else queue.push(item);
  }

  private hasRoom(lane: string): boolean {
    return this.running < this.caps.total && (this.runningPer.get(lane) ?? 0) < this.caps.perLane;
  }

  private launch(lane: string, item: T): void {
    this.running++;
    this.runningPer.set(lane, (this.runningPer.get(lane) ?? 0) + 1);
    let ended = false;
    this.start(item, () => {
      if (ended) return;
      ended = true;
      this.running--;
      const left = (this.runningPer.get(lane) ?? 1) - 1;
      if (left === 0) this.runningPer.delete(lane);
      else this.runningPer.set(lane, left);
      this.startWaiting(lane);
    });
  }

  private startWaiting(preferred: string): void {
    if (this.paused) return;
    this.startFrom(preferred);
    for (const lane of this.waiting.keys()) {
      if (this.running >= this.caps.total) return;
      if (lane !== preferred) this.startFrom(lane);
    }
  }

  private startFrom(lane: string): void {
    const queue = this.waiting.get(lane);
    if (queue === undefined) return;
    while (queue.length > 0 && this.hasRoom(lane)) this.launch(lane, queue.shift() as T);
    if (queue.length === 0) this.waiting.delete(lane);
  }
}
