import { afterEach, describe, expect, it, vi } from 'vitest';
import { LaneScheduler } from '../../src/delivery/lane-scheduler.js';

/** Records what started, in order, and ends items by name. */
function harness(caps: { perLane: number; total: number }, now?: () => number) {
  const started: Array<{ item: string; done: () => void }> = [];
  const lanes = new LaneScheduler<string>(caps, (item, done) => started.push({ item, done }), now);
  const end = (item: string) => {
    const s = started.find((x) => x.item === item);
    if (s === undefined) throw new Error(`${item} has not started`);
    s.done();
  };
  return { lanes, started: () => started.map((s) => s.item), end };
}

describe('LaneScheduler', () => {
  it('starts at most perLane of a lane and queues the rest in order', () => {
    const h = harness({ perLane: 2, total: 10 });
    for (const item of ['a1', 'a2', 'a3', 'a4']) h.lanes.push('a', item);
    expect(h.started()).toEqual(['a1', 'a2']);
    expect(h.lanes.queued).toBe(2);
    h.end('a2');
    expect(h.started()).toEqual(['a1', 'a2', 'a3']);
    h.end('a1');
    h.end('a1'); // a second call of done is ignored
    expect(h.started()).toEqual(['a1', 'a2', 'a3', 'a4']);
    expect(h.lanes.inProgress).toBe(2);
    expect(h.lanes.queued).toBe(0);
  });

  it('keeps to the total, starting the ending lane first, then the others in the order they began waiting', () => {
    const h = harness({ perLane: 5, total: 3 });
    const pushes: Array<[string, string]> = [
      ['a', 'a1'],
      ['b', 'b1'],
      ['c', 'c1'],
      ['c', 'c2'],
      ['b', 'b2'],
      ['a', 'a2'],
    ];
    for (const [lane, item] of pushes) h.lanes.push(lane, item);
    expect(h.started()).toEqual(['a1', 'b1', 'c1']);
    h.end('a1');
    expect(h.started().at(-1)).toBe('a2');
    h.end('b1');
    expect(h.started().at(-1)).toBe('b2');
    h.end('a2');
    expect(h.started().at(-1)).toBe('c2');
    expect(h.lanes.inProgress).toBe(3);
  });

  it('lets a lane with room start at once while another lane waits for its own cap', () => {
    const h = harness({ perLane: 1, total: 10 });
    h.lanes.push('a', 'a1');
    h.lanes.push('a', 'a2');
    h.lanes.push('b', 'b1');
    expect(h.started()).toEqual(['a1', 'b1']);
    expect(h.lanes.queued).toBe(1);
  });

  it('once paused, starts no waiting item when a call ends, and hands the waiting ones over', () => {
    const h = harness({ perLane: 1, total: 10 });
    for (const item of ['a1', 'a2', 'a3']) h.lanes.push('a', item);
    h.lanes.pause();
    h.end('a1');
    expect(h.started()).toEqual(['a1']);
    expect(h.lanes.takeWaiting()).toEqual(['a2', 'a3']);
    expect(h.lanes.queued).toBe(0);
  });

  describe('paced lanes', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it("starts a paced lane's calls at least the gap apart, without holding up other lanes", () => {
      vi.useFakeTimers();
      const h = harness({ perLane: 10, total: 10 }, () => Date.now());
      for (const item of ['a1', 'a2', 'a3']) h.lanes.push('a', item, 100);
      h.lanes.push('b', 'b1');
      h.lanes.push('b', 'b2');
      // a1 at once; a2 and a3 wait for their turn although slots are free; b is not paced.
      expect(h.started()).toEqual(['a1', 'b1', 'b2']);
      vi.advanceTimersByTime(99);
      expect(h.started()).toEqual(['a1', 'b1', 'b2']);
      vi.advanceTimersByTime(1);
      expect(h.started()).toEqual(['a1', 'b1', 'b2', 'a2']);
      vi.advanceTimersByTime(100);
      expect(h.started()).toEqual(['a1', 'b1', 'b2', 'a2', 'a3']);
      // Ending calls does not let a paced lane start early.
      h.lanes.push('a', 'a4', 100);
      h.end('a1');
      h.end('a2');
      expect(h.started()).not.toContain('a4');
      vi.advanceTimersByTime(100);
      expect(h.started()).toContain('a4');
    });

    it('stops pacing a lane pushed without a gap, and starts nothing paced after a pause', () => {
      vi.useFakeTimers();
      const h = harness({ perLane: 10, total: 10 }, () => Date.now());
      h.lanes.push('a', 'a1', 1000);
      h.lanes.push('a', 'a2', 1000);
      h.lanes.pause();
      vi.advanceTimersByTime(5000);
      expect(h.started()).toEqual(['a1']);
      expect(h.lanes.takeWaiting()).toEqual(['a2']);

      const g = harness({ perLane: 10, total: 10 }, () => Date.now());
      g.lanes.push('a', 'a1', 1000);
      g.lanes.push('a', 'a2', 0);
      expect(g.started()).toEqual(['a1', 'a2']);
    });
  });
});
