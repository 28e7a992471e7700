import { describe, expect, it } from 'vitest';
import { getPath, matchesCriteria } from '../../src/domain/criteria-match.js';

const order = {
  id: 'ord_1',
  status: 'Active',
  total: 42,
  paid: false,
  note: null,
  product: { id: 'PRD-1', vendor: { name: 'Acme' } },
  'product.id': 'PRD-FLAT',
  lines: [
    { sku: 'A', qty: 1 },
    { sku: 'B', qty: 2 },
  ],
  tags: ['vip', 'eu', 7],
  address: { 'zip.code': '1000', city: 'Brussels' },
};

describe('getPath', () => {
  it('follows dotted paths through objects', () => {
    expect(getPath(order, 'id')).toBe('ord_1');
    expect(getPath(order, 'product.vendor.name')).toBe('Acme');
    expect(getPath(order, 'product.vendor')).toEqual({ name: 'Acme' });
  });

  it('indexes arrays with numeric segments', () => {
    expect(getPath(order, 'lines.1.sku')).toBe('B');
    expect(getPath(order, 'tags.0')).toBe('vip');
    expect(getPath(order, 'lines.2.sku')).toBeUndefined();
    expect(getPath(order, 'lines.01.sku')).toBeUndefined();
    expect(getPath(order, 'lines.-1')).toBeUndefined();
    expect(getPath([[1, 2], [3]], '0.1')).toBe(2);
  });

  it('prefers an existing key that contains dots', () => {
    expect(getPath(order, 'product.id')).toBe('PRD-FLAT');
    expect(getPath(order, 'address.zip.code')).toBe('1000');
  });

  it('falls back to nested keys when the dotted key does not lead to the rest of the path', () => {
    const p = { 'a.b': { x: 1 }, a: { b: { c: 2 } } };
    expect(getPath(p, 'a.b.x')).toBe(1);
    expect(getPath(p, 'a.b.c')).toBe(2);
  });

  it('returns undefined for missing paths and non-container values', () => {
    expect(getPath(order, 'missing')).toBeUndefined();
    expect(getPath(order, 'id.length')).toBeUndefined();
    expect(getPath(order, 'total.x')).toBeUndefined();
    expect(getPath(null, 'a')).toBeUndefined();
    expect(getPath('text', 'length')).toBeUndefined();
    expect(getPath(42, 'a')).toBeUndefined();
  });

  it('never reads inherited properties', () => {
    expect(getPath({}, 'constructor')).toBeUndefined();
    expect(getPath({}, 'toString')).toBeUndefined();
    expect(getPath({}, '__proto__')).toBeUndefined();
    expect(getPath([], 'length')).toBeUndefined();
    expect(getPath(JSON.parse('{"__proto__": {"x": 1}}'), '__proto__.x')).toBe(1);
  });

  it('stays fast on payloads crafted with many dotted keys', () => {
    // Each level has both `a` and `a.a`: without memoisation a miss would explore every grouping (2^n).
    let node: Record<string, unknown> = {};
    for (let i = 0; i < 40; i++) node = { a: node, 'a.a': node };
    const started = Date.now();
    expect(getPath(node, `${Array(40).fill('a').join('.')}.zzz`)).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});

describe('matchesCriteria', () => {
  it('matches when every criterion equals the value at its path', () => {
    expect(matchesCriteria({ status: 'Active', 'product.vendor.name': 'Acme', total: 42 }, order)).toBe(true);
    expect(matchesCriteria({ status: 'Active', total: 43 }, order)).toBe(false);
  });

  it('matches everything with empty criteria', () => {
    expect(matchesCriteria({}, order)).toBe(true);
    expect(matchesCriteria({}, null)).toBe(true);
  });

  it('compares strictly: no type coercion', () => {
    expect(matchesCriteria({ total: '42' }, order)).toBe(false);
    expect(matchesCriteria({ paid: 0 }, order)).toBe(false);
    expect(matchesCriteria({ paid: false }, order)).toBe(true);
  });

  it('deep-compares objects and arrays regardless of key order', () => {
    expect(matchesCriteria({ product: { vendor: { name: 'Acme' }, id: 'PRD-1' } }, order)).toBe(true);
    expect(matchesCriteria({ 'product.vendor': { name: 'Acme', extra: 1 } }, order)).toBe(false);
    expect(
      matchesCriteria(
        {
          lines: [
            { qty: 1, sku: 'A' },
            { sku: 'B', qty: 2 },
          ],
        },
        order,
      ),
    ).toBe(true);
    expect(
      matchesCriteria(
        {
          lines: [
            { sku: 'B', qty: 2 },
            { sku: 'A', qty: 1 },
          ],
        },
        order,
      ),
    ).toBe(false);
    expect(matchesCriteria({ tags: ['vip', 'eu', 7] }, order)).toBe(true);
    expect(matchesCriteria({ tags: { 0: 'vip', 1: 'eu', 2: 7 } }, order)).toBe(false);
  });

  it('matches a primitive criterion contained in an array value', () => {
    expect(matchesCriteria({ tags: 'vip' }, order)).toBe(true);
    expect(matchesCriteria({ tags: 7 }, order)).toBe(true);
    expect(matchesCriteria({ tags: 'us' }, order)).toBe(false);
    expect(matchesCriteria({ tags: '7' }, order)).toBe(false);
    // Containment is for primitives only; an object criterion must equal the whole value.
    expect(matchesCriteria({ lines: { sku: 'A', qty: 1 } }, order)).toBe(false);
  });

  it('distinguishes an explicit null from an absent path', () => {
    expect(matchesCriteria({ note: null }, order)).toBe(true);
    expect(matchesCriteria({ missing: null }, order)).toBe(false);
  });

  it('uses dotted keys in the payload as getPath does', () => {
    expect(matchesCriteria({ 'product.id': 'PRD-FLAT' }, order)).toBe(true);
    expect(matchesCriteria({ 'lines.0.sku': 'A' }, order)).toBe(true);
  });

  it('never throws on any JSON payload', () => {
    const payloads: unknown[] = [
      null,
      true,
      0,
      'x',
      [],
      {},
      [null],
      { a: null },
      { a: [[]] },
      JSON.parse('{"__proto__":1}'),
    ];
    for (const p of payloads) {
      for (const c of [{ a: 1 }, { 'a.b.0': null }, { '': 'x' }, { '..': [] }, { __proto__: 1 }, { constructor: {} }]) {
        expect(() => matchesCriteria(c, p)).not.toThrow();
      }
    }
    expect(matchesCriteria({ constructor: {} }, {})).toBe(false);
  });
});
