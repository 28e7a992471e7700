import { describe, expect, it } from 'vitest';
import { firstIdAt, isId, newId } from '../../src/domain/ids.js';

describe('ids', () => {
  it('are unique and sort in creation order, within a millisecond and across many', () => {
    const ids: string[] = [];
    // More distinct milliseconds than one draw of random bytes covers, so the generator refills its pool.
    for (let ms = 1_700_000_000_000; ms < 1_700_000_001_000; ms++) {
      for (let i = 0; i < 3; i++) ids.push(newId('event', ms));
    }
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    expect(ids.every((id) => isId('event', id))).toBe(true);
  });

  it('draw fresh random bits in each new millisecond', () => {
    const a = newId('delivery', 1_800_000_000_000);
    const b = newId('delivery', 1_800_000_000_001);
    // Same time prefix length; the 16 random characters differ (not an increment of the previous ones).
    expect(a.slice(-16)).not.toBe(b.slice(-16));
    expect(a.slice(-16).slice(0, 12)).not.toBe(b.slice(-16).slice(0, 12));
  });

  it('bound by time: ids made before a moment sort below its first id, ids made from it on do not', () => {
    const at = 1_900_000_000_000;
    const before = [newId('attempt', at - 86_400_000), newId('attempt', at - 1)];
    const from = [newId('attempt', at), newId('attempt', at + 1), newId('attempt', at + 86_400_000)];
    const bound = firstIdAt('attempt', at);
    expect(isId('attempt', bound)).toBe(true);
    for (const id of before) expect(id < bound).toBe(true);
    for (const id of from) expect(id >= bound).toBe(true);
  });
});
