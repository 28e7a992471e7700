import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type EventFilter,
  MAX_FILTER_DEPTH,
  MAX_FILTER_NODES,
  matchesFilter,
  validateFilter,
} from '../../src/domain/event-filter.js';

const event = {
  id: 'evt_1',
  type: 'order.created',
  timestamp: '2024-05-01T10:00:00.000Z',
  accountId: 'acc_1',
  references: [{ type: 'order', id: 'ord_1' }],
  data: {
    order: {
      total: 42,
      currency: 'EUR',
      paid: false,
      note: null,
      lines: [
        { sku: 'A-1', qty: 1 },
        { sku: 'B-2', qty: 3 },
      ],
      tags: ['vip', 'eu', 7],
      scores: [3, 8, 15],
      empty: [],
      meta: { source: 'web', flags: { rush: true } },
    },
    'product.id': 'PRD-FLAT',
  },
};

const m = (filter: EventFilter, subject: unknown = event) => matchesFilter(filter, subject);

function invalid(filter: unknown) {
  const result = validateFilter(filter);
  if (result.ok) throw new Error(`expected ${JSON.stringify(filter)} to be refused`);
  return result;
}

describe('matchesFilter: fields and implicit $eq', () => {
  it('matches top-level envelope fields and dotted paths', () => {
    expect(m({ type: 'order.created' })).toBe(true);
    expect(m({ type: 'order.updated' })).toBe(false);
    expect(m({ 'data.order.total': 42, 'data.order.currency': 'EUR' })).toBe(true);
    expect(m({ 'data.order.total': 42, 'data.order.currency': 'USD' })).toBe(false);
    expect(m({ 'data.order.meta.flags.rush': true })).toBe(true);
    expect(m({ 'data.product.id': 'PRD-FLAT' })).toBe(true);
  });

  it('indexes arrays with numeric segments', () => {
    expect(m({ 'data.order.lines.1.sku': 'B-2' })).toBe(true);
    expect(m({ 'data.order.lines.0.sku': 'B-2' })).toBe(false);
    expect(m({ 'data.order.tags.2': 7 })).toBe(true);
    expect(m({ 'references.0.id': 'ord_1' })).toBe(true);
    expect(m({ 'data.order.lines.5.sku': { $exists: false } })).toBe(true);
  });

  it('does not fan a non-numeric segment out over an array', () => {
    expect(m({ 'data.order.lines.sku': 'A-1' })).toBe(false);
    expect(m({ 'data.order.lines.sku': { $exists: true } })).toBe(false);
  });

  it('compares literal objects and arrays as wholes, without coercion', () => {
    expect(m({ 'data.order.meta': { flags: { rush: true }, source: 'web' } })).toBe(true);
    expect(m({ 'data.order.meta': { source: 'web' } })).toBe(false);
    expect(m({ 'data.order.tags': ['vip', 'eu', 7] })).toBe(true);
    expect(m({ 'data.order.tags': ['eu', 'vip', 7] })).toBe(false);
    expect(m({ 'data.order.total': '42' })).toBe(false);
    expect(m({ 'data.order.paid': 0 })).toBe(false);
    expect(m({ 'data.order.note': null })).toBe(true);
    expect(m({ 'data.order.missing': null })).toBe(false);
  });

  it('matches a scalar literal against any element of an array value', () => {
    expect(m({ 'data.order.tags': 'vip' })).toBe(true);
    expect(m({ 'data.order.tags': 7 })).toBe(true);
    expect(m({ 'data.order.tags': 'us' })).toBe(false);
    expect(m({ 'data.order.lines': { sku: 'B-2', qty: 3 } })).toBe(true);
  });

  it('treats the empty filter as match-all', () => {
    expect(m({})).toBe(true);
    expect(m({}, null)).toBe(true);
  });
});

describe('matchesFilter: comparison operators', () => {
  it('$eq and $ne use deep equality', () => {
    expect(m({ 'data.order.total': { $eq: 42 } })).toBe(true);
    expect(m({ 'data.order.meta.flags': { $eq: { rush: true } } })).toBe(true);
    expect(m({ 'data.order.total': { $ne: 42 } })).toBe(false);
    expect(m({ 'data.order.total': { $ne: 43 } })).toBe(true);
    expect(m({ 'data.order.total': { $ne: '42' } })).toBe(true);
  });

  it('$eq can compare with an object holding $ keys', () => {
    const subject = { data: { q: { $gt: 1 } } };
    expect(m({ 'data.q': { $eq: { $gt: 1 } } }, subject)).toBe(true);
    expect(m({ 'data.q': { $gt: 1 } }, subject)).toBe(false);
  });

  it('$eq never matches a missing path, $ne always does', () => {
    expect(m({ 'data.nope': { $eq: null } })).toBe(false);
    expect(m({ 'data.nope': { $ne: null } })).toBe(true);
    expect(m({ 'data.nope': { $ne: 1 } })).toBe(true);
  });

  it('$gt $gte $lt $lte order numbers', () => {
    expect(m({ 'data.order.total': { $gt: 41 } })).toBe(true);
    expect(m({ 'data.order.total': { $gt: 42 } })).toBe(false);
    expect(m({ 'data.order.total': { $gte: 42 } })).toBe(true);
    expect(m({ 'data.order.total': { $lt: 42 } })).toBe(false);
    expect(m({ 'data.order.total': { $lte: 42 } })).toBe(true);
    expect(m({ 'data.order.total': { $gte: 10, $lt: 100 } })).toBe(true);
    expect(m({ 'data.order.total': { $gte: 10, $lt: 42 } })).toBe(false);
    expect(m({ 'data.order.total': { $gt: -1.5 } })).toBe(true);
  });

  it('$gt $gte $lt $lte order strings by code unit', () => {
    expect(m({ timestamp: { $gte: '2024-01-01', $lt: '2025-01-01' } })).toBe(true);
    expect(m({ timestamp: { $lt: '2024-05-01' } })).toBe(false);
    expect(m({ 'data.order.currency': { $gt: 'AAA' } })).toBe(true);
    expect(m({ 'data.order.currency': { $lte: 'EUR' } })).toBe(true);
    expect(m({ 'data.order.currency': { $gt: 'eur' } })).toBe(false);
  });

  it('never orders across types', () => {
    expect(m({ 'data.order.total': { $gt: '1' } })).toBe(false);
    expect(m({ 'data.order.total': { $lt: '99' } })).toBe(false);
    expect(m({ 'data.order.currency': { $gt: 0 } })).toBe(false);
    expect(m({ 'data.order.paid': { $lt: 1 } })).toBe(false);
    expect(m({ 'data.order.note': { $gte: 0 } })).toBe(false);
    expect(m({ 'data.order.meta': { $gte: 0 } })).toBe(false);
    expect(m({ 'data.nope': { $lt: 1 } })).toBe(false);
  });

  it('$in and $nin take lists of values', () => {
    expect(m({ type: { $in: ['order.created', 'order.updated'] } })).toBe(true);
    expect(m({ type: { $in: ['order.deleted'] } })).toBe(false);
    expect(m({ type: { $in: [] } })).toBe(false);
    expect(m({ type: { $nin: ['order.deleted'] } })).toBe(true);
    expect(m({ type: { $nin: ['order.created'] } })).toBe(false);
    expect(m({ type: { $nin: [] } })).toBe(true);
    expect(m({ 'data.order.meta.flags': { $in: [{ rush: true }] } })).toBe(true);
    expect(m({ 'data.order.total': { $in: ['42'] } })).toBe(false);
    expect(m({ 'data.nope': { $in: [null] } })).toBe(false);
    expect(m({ 'data.nope': { $nin: [null] } })).toBe(true);
  });

  it('$exists tests presence, including present nulls', () => {
    expect(m({ 'data.order.note': { $exists: true } })).toBe(true);
    expect(m({ 'data.order.paid': { $exists: true } })).toBe(true);
    expect(m({ 'data.order.nope': { $exists: true } })).toBe(false);
    expect(m({ 'data.order.nope': { $exists: false } })).toBe(true);
    expect(m({ 'data.order.note': { $exists: false } })).toBe(false);
  });

  it('$startsWith and $endsWith apply to strings only', () => {
    expect(m({ type: { $startsWith: 'order.' } })).toBe(true);
    expect(m({ type: { $startsWith: 'invoice.' } })).toBe(false);
    expect(m({ type: { $endsWith: '.created' } })).toBe(true);
    expect(m({ type: { $endsWith: '.deleted' } })).toBe(false);
    expect(m({ type: { $startsWith: '' } })).toBe(true);
    expect(m({ 'data.order.total': { $startsWith: '4' } })).toBe(false);
    expect(m({ 'data.nope': { $endsWith: '' } })).toBe(false);
  });

  it('field-level $not negates an operator object, so it matches missing paths', () => {
    expect(m({ 'data.order.total': { $not: { $gt: 5 } } })).toBe(false);
    expect(m({ 'data.order.total': { $not: { $gt: 50 } } })).toBe(true);
    expect(m({ 'data.order.total': { $not: { $gte: 10, $lt: 100 } } })).toBe(false);
    expect(m({ 'data.nope': { $not: { $gt: 5 } } })).toBe(true);
    expect(m({ 'data.order.total': { $gt: 10, $not: { $eq: 42 } } })).toBe(false);
    expect(m({ 'data.order.total': { $not: { $not: { $eq: 42 } } } })).toBe(true);
  });
});

describe('matchesFilter: array values', () => {
  it('ordering and string operators match when ANY element matches', () => {
    expect(m({ 'data.order.scores': { $gt: 10 } })).toBe(true);
    expect(m({ 'data.order.scores': { $gt: 15 } })).toBe(false);
    expect(m({ 'data.order.scores': { $lt: 4 } })).toBe(true);
    expect(m({ 'data.order.tags': { $startsWith: 'v' } })).toBe(true);
    expect(m({ 'data.order.tags': { $endsWith: 'u' } })).toBe(true);
    expect(m({ 'data.order.tags': { $endsWith: 'x' } })).toBe(false);
    expect(m({ 'data.order.tags': { $gte: 7 } })).toBe(true);
  });

  it('each operator of an object is satisfied independently, by any element', () => {
    expect(m({ 'data.order.scores': { $gt: 10, $lt: 5 } })).toBe(true);
    expect(m({ 'data.order.scores': { $gt: 20, $lt: 5 } })).toBe(false);
  });

  it('$eq with a scalar or object matches an element; with an array, the whole array', () => {
    expect(m({ 'data.order.scores': { $eq: 8 } })).toBe(true);
    expect(m({ 'data.order.scores': { $eq: [3, 8, 15] } })).toBe(true);
    expect(m({ 'data.order.scores': { $eq: [3, 8] } })).toBe(false);
    expect(m({ 'data.order.lines': { $eq: { sku: 'A-1', qty: 1 } } })).toBe(true);
    expect(m({ a: { $eq: [1] } }, { a: [[1], 2] })).toBe(false);
  });

  it('$in matches when any element is listed', () => {
    expect(m({ 'data.order.tags': { $in: ['us', 'eu'] } })).toBe(true);
    expect(m({ 'data.order.tags': { $in: ['us', 'ca'] } })).toBe(false);
    expect(m({ 'data.order.scores': { $in: [[3, 8, 15]] } })).toBe(true);
  });

  it('$ne, $nin and $not hold only when NO element matches', () => {
    expect(m({ 'data.order.tags': { $ne: 'vip' } })).toBe(false);
    expect(m({ 'data.order.tags': { $ne: 'us' } })).toBe(true);
    expect(m({ 'data.order.tags': { $nin: ['us', 'eu'] } })).toBe(false);
    expect(m({ 'data.order.tags': { $nin: ['us', 'ca'] } })).toBe(true);
    expect(m({ 'data.order.scores': { $not: { $gt: 10 } } })).toBe(false);
    expect(m({ 'data.order.scores': { $not: { $gt: 20 } } })).toBe(true);
  });

  it('$exists is about the path, so an empty array exists', () => {
    expect(m({ 'data.order.empty': { $exists: true } })).toBe(true);
    expect(m({ 'data.order.empty': { $gt: 0 } })).toBe(false);
    expect(m({ 'data.order.empty': { $ne: 1 } })).toBe(true);
    expect(m({ 'data.order.empty': [] })).toBe(true);
  });

  it('does not flatten nested arrays', () => {
    expect(m({ a: { $gt: 1 } }, { a: [[5]] })).toBe(false);
    expect(m({ a: 5 }, { a: [[5]] })).toBe(false);
    // An array operand is compared with the whole value, never with an element.
    expect(m({ a: [5] }, { a: [[5]] })).toBe(false);
    expect(m({ a: [[5]] }, { a: [[5]] })).toBe(true);
    expect(m({ a: { $in: [[5]] } }, { a: [[5], 6] })).toBe(false);
  });
});

describe('matchesFilter: logic', () => {
  it('$and requires every filter', () => {
    expect(m({ $and: [{ type: 'order.created' }, { 'data.order.total': { $gt: 40 } }] })).toBe(true);
    expect(m({ $and: [{ type: 'order.created' }, { 'data.order.total': { $gt: 50 } }] })).toBe(false);
  });

  it('$or requires one filter', () => {
    expect(m({ $or: [{ type: 'order.deleted' }, { 'data.order.total': { $gt: 40 } }] })).toBe(true);
    expect(m({ $or: [{ type: 'order.deleted' }, { 'data.order.total': { $gt: 50 } }] })).toBe(false);
  });

  it('$not negates a filter', () => {
    expect(m({ $not: { type: 'order.created' } })).toBe(false);
    expect(m({ $not: { type: 'order.deleted' } })).toBe(true);
    expect(m({ $not: {} })).toBe(false);
  });

  it('combines logic with sibling fields and nests freely', () => {
    const filter: EventFilter = {
      type: { $startsWith: 'order.' },
      $or: [
        { 'data.order.currency': 'USD' },
        {
          $and: [
            { 'data.order.total': { $gte: 10, $lt: 100 } },
            { $not: { 'data.order.tags': { $in: ['blocked', 'test'] } } },
            { $or: [{ 'data.order.paid': true }, { 'data.order.meta.source': 'web' }] },
          ],
        },
      ],
    };
    expect(m(filter)).toBe(true);
    expect(m(filter, { ...event, type: 'invoice.created' })).toBe(false);
    expect(m(filter, { ...event, data: { order: { ...event.data.order, tags: ['test'] } } })).toBe(false);
    expect(m(filter, { ...event, data: { order: { ...event.data.order, total: 500, currency: 'USD' } } })).toBe(true);
  });
});

describe('matchesFilter: safety', () => {
  it('returns false for invalid filters instead of throwing', () => {
    const bad: unknown[] = [
      { $foo: 1 },
      { $and: [] },
      { $or: 'x' },
      { $not: 5 },
      { a: { $in: 3 } },
      { a: { $gt: {} } },
      { a: { $exists: 'yes' } },
      { a: { $not: 5 } },
      { a: { $gt: 1, b: 2 } },
      { $not: { $not: { a: { $bogus: 1 } } } },
    ];
    for (const filter of bad) {
      expect(() => matchesFilter(filter as EventFilter, event)).not.toThrow();
      expect(matchesFilter(filter as EventFilter, event)).toBe(false);
    }
    expect(matchesFilter(null as unknown as EventFilter, event)).toBe(false);
    expect(matchesFilter([] as unknown as EventFilter, event)).toBe(false);
  });

  it('survives cyclic and very deep filters', () => {
    const cyclic: EventFilter = {};
    cyclic.$not = cyclic;
    expect(matchesFilter(cyclic, event)).toBe(false);
    const cyclicLiteral: Record<string, unknown> = {};
    cyclicLiteral.self = cyclicLiteral;
    expect(matchesFilter({ a: cyclicLiteral }, event)).toBe(false);
    let deep: EventFilter = { type: 'order.created' };
    for (let i = 0; i < 100_000; i++) deep = { $not: deep };
    expect(matchesFilter(deep, event)).toBe(false);
  });

  it('survives odd subjects', () => {
    for (const subject of [null, undefined, 0, 'order.created', [], [event], { data: null }, { data: [1, 2] }]) {
      expect(matchesFilter({ type: 'order.created' }, subject)).toBe(false);
      expect(matchesFilter({ 'data.0': { $exists: true } }, subject)).toBe(
        Array.isArray((subject as { data?: unknown } | null)?.data),
      );
    }
  });

  it('never reads inherited properties', () => {
    expect(m({ constructor: { $exists: true } }, {})).toBe(false);
    expect(m({ 'data.toString': { $exists: true } })).toBe(false);
    const protoKey: EventFilter = JSON.parse('{ "__proto__": { "$exists": true } }');
    expect(validateFilter(protoKey)).toEqual({ ok: true });
    expect(m(protoKey, {})).toBe(false);
    expect(m(protoKey, JSON.parse('{ "__proto__": 1 }'))).toBe(true);
  });
});

describe('validateFilter', () => {
  it('accepts valid filters', () => {
    expect(validateFilter({})).toEqual({ ok: true });
    expect(
      validateFilter({
        type: 'order.created',
        'data.order.meta': { source: 'web' },
        'data.order.total': { $gte: 10, $lt: 100, $ne: 50, $not: { $in: [1, 2] } },
        $or: [{ 'data.a': { $exists: true } }, { 'data.b': { $nin: [null, [1], { x: 1 }] } }],
        $and: [{ id: { $startsWith: 'evt_', $endsWith: '1' } }],
        $not: { accountId: { $eq: { $gt: 1 } } },
      }),
    ).toEqual({ ok: true });
  });

  it('refuses non-object filters at the root', () => {
    for (const filter of [null, undefined, 1, 'x', [], [{}], new Date()]) {
      expect(invalid(filter)).toMatchObject({ path: 'filter', operator: null });
    }
  });

  it('refuses unknown operators, naming operator and path', () => {
    expect(invalid({ $nor: [{}] })).toEqual({
      ok: false,
      path: 'filter.$nor',
      operator: '$nor',
      message: 'filter.$nor: unknown operator $nor',
    });
    const nested = invalid({ $or: [{ a: 1 }, { 'data.total': { $gte: 1, $regex: 'x' } }] });
    expect(nested).toMatchObject({ path: 'filter.$or[1].data.total.$regex', operator: '$regex' });
    expect(nested.message).toContain('$regex');
    expect(nested.message).toContain('filter.$or[1].data.total.$regex');
  });

  it('refuses operators in the wrong place', () => {
    const fieldOpAtTop = invalid({ $gt: 5 });
    expect(fieldOpAtTop).toMatchObject({ path: 'filter.$gt', operator: '$gt' });
    expect(fieldOpAtTop.message).toMatch(/field path/);
    const logicOnField = invalid({ a: { $or: [{ b: 1 }] } });
    expect(logicOnField).toMatchObject({ path: 'filter.a.$or', operator: '$or' });
    expect(logicOnField.message).toMatch(/filter level/);
  });

  it('refuses wrong operand types', () => {
    const cases: Array<[unknown, string, string, RegExp]> = [
      [{ $and: [] }, 'filter.$and', '$and', /non-empty array/],
      [{ $and: {} }, 'filter.$and', '$and', /non-empty array/],
      [{ $or: null }, 'filter.$or', '$or', /non-empty array/],
      [{ $or: [{}, 3] }, 'filter.$or[1]', '$or', /JSON object/],
      [{ $not: [] }, 'filter.$not', '$not', /JSON object/],
      [{ $not: 'x' }, 'filter.$not', '$not', /JSON object/],
      [{ a: { $in: 'x' } }, 'filter.a.$in', '$in', /array/],
      [{ a: { $nin: {} } }, 'filter.a.$nin', '$nin', /array/],
      [{ a: { $exists: 1 } }, 'filter.a.$exists', '$exists', /true or false/],
      [{ a: { $gt: null } }, 'filter.a.$gt', '$gt', /number or a string/],
      [{ a: { $gte: [1] } }, 'filter.a.$gte', '$gte', /number or a string/],
      [{ a: { $lt: true } }, 'filter.a.$lt', '$lt', /number or a string/],
      [{ a: { $lte: Number.POSITIVE_INFINITY } }, 'filter.a.$lte', '$lte', /number or a string/],
      [{ a: { $startsWith: 1 } }, 'filter.a.$startsWith', '$startsWith', /string/],
      [{ a: { $endsWith: ['x'] } }, 'filter.a.$endsWith', '$endsWith', /string/],
      [{ a: { $not: 5 } }, 'filter.a.$not', '$not', /operator object/],
      [{ a: { $not: { b: 1 } } }, 'filter.a.$not', '$not', /operator object/],
      [{ a: { $not: {} } }, 'filter.a.$not', '$not', /operator object/],
      [{ a: { $eq: undefined } }, 'filter.a.$eq', '$eq', /not JSON/],
      [{ a: { $in: [1, Number.NaN] } }, 'filter.a.$in[1]', '$in', /finite/],
      [{ a: { $ne: { x: [() => 1] } } }, 'filter.a.$ne.x[0]', '$ne', /not JSON/],
    ];
    for (const [filter, path, operator, message] of cases) {
      const result = invalid(filter);
      expect(result, JSON.stringify(filter)).toMatchObject({ path, operator });
      expect(result.message).toMatch(message);
      expect(result.message.startsWith(`${path}: `)).toBe(true);
      expect(result.message).toContain(operator);
    }
  });

  it('refuses bad field paths and operator objects that mix in field names', () => {
    expect(invalid({ 'a..b': 1 })).toMatchObject({ path: 'filter.a..b', operator: null });
    expect(invalid({ '': 1 })).toMatchObject({ path: 'filter.', operator: null });
    expect(invalid({ 'a.': 1 }).message).toMatch(/empty segments/);
    const mixed = invalid({ price: { $gt: 1, currency: 'EUR' } });
    expect(mixed).toMatchObject({ path: 'filter.price', operator: null });
    expect(mixed.message).toContain('currency');
    expect(invalid({ a: undefined })).toMatchObject({ path: 'filter.a', operator: null });
  });

  it(`refuses nesting deeper than ${MAX_FILTER_DEPTH} levels`, () => {
    const nest = (levels: number): EventFilter => {
      let f: EventFilter = { type: 'x' };
      for (let i = 1; i < levels; i++) f = { $not: f };
      return f;
    };
    expect(validateFilter(nest(MAX_FILTER_DEPTH)).ok).toBe(true);
    const tooDeep = invalid(nest(MAX_FILTER_DEPTH + 1));
    expect(tooDeep.path).toBe(`filter${'.$not'.repeat(MAX_FILTER_DEPTH)}`);
    expect(tooDeep.operator).toBe('$not');
    expect(tooDeep.message).toMatch(/deeper than 10/);

    // A field's operator object is a level, and so is each field-level $not inside it.
    let ops: Record<string, unknown> = { $eq: 1 };
    for (let i = 0; i < MAX_FILTER_DEPTH - 2; i++) ops = { $not: ops };
    expect(validateFilter({ a: ops }).ok).toBe(true);
    expect(invalid({ a: { $not: ops } })).toMatchObject({ operator: '$not' });
    expect(invalid({ $and: [{ a: { $not: ops } }] }).message).toMatch(/deeper than/);
  });

  it(`refuses more than ${MAX_FILTER_NODES} nodes, literal values included`, () => {
    const values = (n: number) => Array.from({ length: n }, (_, i) => i);
    // root object + operator object + the array = 3 nodes besides the elements
    expect(validateFilter({ a: { $in: values(MAX_FILTER_NODES - 3) } }).ok).toBe(true);
    const tooBig = invalid({ a: { $in: values(MAX_FILTER_NODES - 2) } });
    expect(tooBig).toMatchObject({ path: `filter.a.$in[${MAX_FILTER_NODES - 3}]`, operator: null });
    expect(tooBig.message).toMatch(/more than 200 nodes/);
    const wide = Object.fromEntries(values(MAX_FILTER_NODES).map((i) => [`f${i}`, i]));
    expect(invalid(wide).message).toMatch(/more than 200 nodes/);
    expect(invalid({ $or: values(300).map((i) => ({ a: i })) }).message).toMatch(/more than 200 nodes/);
  });

  it('never throws, whatever it is given', () => {
    fc.assert(
      fc.property(fc.anything(), (value) => {
        const result = validateFilter(value);
        expect(typeof result.ok).toBe('boolean');
      }),
    );
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Property-based tests
// ---------------------------------------------------------------------------------------------------------------

const scalar = fc.oneof(
  fc.integer({ min: -3, max: 3 }),
  fc.constantFrom('a', 'b', 'ab', 'ba', '', 'order.created'),
  fc.boolean(),
  fc.constant(null),
);
const orderable = fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom('a', 'b', 'ab', ''));
const literal = fc.oneof(
  { weight: 4, arbitrary: scalar },
  fc.array(scalar, { maxLength: 3 }),
  fc.dictionary(fc.constantFrom('x', 'y'), scalar, { maxKeys: 2 }),
);
const path = fc.constantFrom('type', 'id', 'data.a', 'data.b', 'data.tags', 'data.tags.0', 'data.n.x', 'data.missing');

const operatorObject: fc.Arbitrary<Record<string, unknown>> = fc.letrec<{ ops: Record<string, unknown> }>((tie) => ({
  ops: fc
    .uniqueArray(
      fc.oneof(
        { depthSize: 'small', maxDepth: 2 },
        fc.tuple(fc.constantFrom('$eq', '$ne'), literal),
        fc.tuple(fc.constantFrom('$gt', '$gte', '$lt', '$lte'), orderable),
        fc.tuple(fc.constantFrom('$in', '$nin'), fc.array(literal, { maxLength: 3 })),
        fc.tuple(fc.constant('$exists'), fc.boolean()),
        fc.tuple(fc.constantFrom('$startsWith', '$endsWith'), fc.constantFrom('', 'a', 'b', 'order.')),
        fc.tuple(fc.constant('$not'), tie('ops')),
      ),
      { minLength: 1, maxLength: 2, selector: ([op]) => op },
    )
    .map((entries) => Object.fromEntries(entries)),
})).ops;

const filterArb: fc.Arbitrary<EventFilter> = fc.letrec<{ filter: EventFilter }>((tie) => ({
  filter: fc.oneof(
    { depthSize: 'small', maxDepth: 3 },
    fc
      .uniqueArray(fc.tuple(path, fc.oneof(literal, operatorObject)), {
        maxLength: 2,
        selector: ([p]) => p,
      })
      .map((entries): EventFilter => Object.fromEntries(entries)),
    fc.array(tie('filter'), { minLength: 1, maxLength: 2 }).map((fs): EventFilter => ({ $and: fs })),
    fc.array(tie('filter'), { minLength: 1, maxLength: 2 }).map((fs): EventFilter => ({ $or: fs })),
    tie('filter').map((f): EventFilter => ({ $not: f })),
  ),
})).filter;

const envelope = fc.record(
  {
    id: fc.constantFrom('a', 'evt_1'),
    type: fc.constantFrom('order.created', 'a', 'ab'),
    timestamp: fc.constant('2024-05-01T10:00:00.000Z'),
    accountId: fc.constant('acc_1'),
    references: fc.constant([]),
    data: fc.record(
      {
        a: fc.oneof(scalar, literal),
        b: fc.oneof(scalar, fc.array(scalar, { maxLength: 3 })),
        tags: fc.array(scalar, { maxLength: 4 }),
        n: fc.oneof(fc.record({ x: scalar }), fc.array(fc.record({ x: scalar }), { maxLength: 2 }), fc.jsonValue()),
      },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: ['type', 'data'] },
);
const subjectArb = fc.oneof({ weight: 3, arbitrary: envelope }, fc.jsonValue());

/** Wrapping must not push a generated filter past the limits, or the equivalences below would not apply. */
const valid = (...filters: EventFilter[]) => filters.every((f) => validateFilter(f).ok);

describe('matchesFilter properties', () => {
  const runs = { numRuns: 500 };

  it('generated filters are valid', () => {
    fc.assert(
      fc.property(filterArb, (f) => {
        expect(validateFilter(f)).toEqual({ ok: true });
      }),
      runs,
    );
  });

  it('never throws and returns a boolean on JSON subjects', () => {
    fc.assert(
      fc.property(filterArb, fc.jsonValue(), (f, subject) => {
        expect(typeof matchesFilter(f, subject)).toBe('boolean');
      }),
      runs,
    );
  });

  it('never throws on arbitrary (mostly invalid) filters', () => {
    const key = fc.oneof(
      fc.constantFrom('$and', '$or', '$not', '$in', '$gt', '$exists', 'data.a', 'type', '__proto__', 'a..b'),
      fc.string(),
    );
    fc.assert(
      fc.property(fc.dictionary(key, fc.jsonValue()), subjectArb, (f, subject) => {
        const result = matchesFilter(f, subject);
        expect(typeof result).toBe('boolean');
        if (!validateFilter(f).ok) expect(result).toBe(false);
      }),
      runs,
    );
  });

  it('$not inverts', () => {
    fc.assert(
      fc.property(filterArb, subjectArb, (f, subject) => {
        fc.pre(valid({ $not: f }));
        expect(matchesFilter({ $not: f }, subject)).toBe(!matchesFilter(f, subject));
      }),
      runs,
    );
  });

  it('$and of [f] equals f', () => {
    fc.assert(
      fc.property(filterArb, subjectArb, (f, subject) => {
        fc.pre(valid({ $and: [f] }));
        expect(matchesFilter({ $and: [f] }, subject)).toBe(matchesFilter(f, subject));
      }),
      runs,
    );
  });

  it('$and of [f, g] equals f && g, $or of [f, g] equals f || g', () => {
    fc.assert(
      fc.property(filterArb, filterArb, subjectArb, (f, g, subject) => {
        fc.pre(valid({ $and: [f, g] }));
        const mf = matchesFilter(f, subject);
        const mg = matchesFilter(g, subject);
        expect(matchesFilter({ $or: [f, g] }, subject)).toBe(mf || mg);
        expect(matchesFilter({ $and: [f, g] }, subject)).toBe(mf && mg);
      }),
      runs,
    );
  });

  it('field operators obey their dualities', () => {
    fc.assert(
      fc.property(
        path,
        literal,
        fc.array(literal, { maxLength: 3 }),
        operatorObject,
        subjectArb,
        (p, x, xs, ops, s) => {
          const eq = matchesFilter({ [p]: { $eq: x } }, s);
          expect(matchesFilter({ [p]: { $ne: x } }, s)).toBe(!eq);
          expect(matchesFilter({ [p]: { $in: [x] } }, s)).toBe(eq);
          expect(matchesFilter({ [p]: { $not: { $eq: x } } }, s)).toBe(!eq);
          const inList = matchesFilter({ [p]: { $in: xs } }, s);
          expect(matchesFilter({ [p]: { $nin: xs } }, s)).toBe(!inList);
          expect(inList).toBe(xs.some((item) => matchesFilter({ [p]: { $eq: item } }, s)));
          const withOps = matchesFilter({ [p]: ops }, s);
          expect(matchesFilter({ [p]: { $not: ops } }, s)).toBe(!withOps);
          expect(matchesFilter({ $not: { [p]: ops } }, s)).toBe(!withOps);
          // An operator object is the conjunction of its operators.
          const each = Object.entries(ops).every(([op, operand]) => matchesFilter({ [p]: { [op]: operand } }, s));
          expect(withOps).toBe(each);
        },
      ),
      runs,
    );
  });

  it('an implicit literal equals $eq', () => {
    fc.assert(
      fc.property(path, literal, subjectArb, (p, x, s) => {
        expect(matchesFilter({ [p]: x }, s)).toBe(matchesFilter({ [p]: { $eq: x } }, s));
      }),
      runs,
    );
  });

  it('matching an envelope against its own values at a path succeeds', () => {
    fc.assert(
      fc.property(envelope, path, (s, p) => {
        const segments = p.split('.');
        let value: unknown = s;
        for (const segment of segments) {
          value =
            typeof value === 'object' && value !== null && Object.hasOwn(value, segment)
              ? (value as Record<string, unknown>)[segment]
              : undefined;
        }
        fc.pre(value !== undefined && validateFilter({ [p]: { $eq: value } }).ok);
        expect(matchesFilter({ [p]: { $eq: value } }, s)).toBe(true);
        expect(matchesFilter({ [p]: { $exists: true } }, s)).toBe(true);
      }),
      runs,
    );
  });
});
