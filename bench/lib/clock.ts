/**
 * One time base for every bench process: epoch milliseconds with sub-millisecond resolution. The harness stamps an
 * event's `data.sentAt` with it and the receiver (another process) stamps the arrival with it, so
 * publish→receipt latency is a difference of two readings of the same clock.
 */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
