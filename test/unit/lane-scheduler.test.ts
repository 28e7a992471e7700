import { describe, expect, it } from 'vitest';
import { LaneScheduler } from '../../src/delivery/lane-scheduler.js';

/** Records what started, in order, and ends items by name. */
function harness(caps: { perLane: number; total: number }) {
  const started: Array<{ item: string; done: () => void }> = [];
  const lanes = new LaneScheduler<string>(caps, (item, done) => started.push({ item, done }));
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
});
