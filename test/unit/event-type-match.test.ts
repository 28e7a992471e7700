import { describe, expect, it } from 'vitest';
import { isValidEventTypeName, isValidEventTypePattern, matchesEventType } from '../../src/domain/event-type-match.js';

describe('matchesEventType', () => {
  it('matches exact names only exactly (case-sensitive)', () => {
    expect(matchesEventType(['order.created'], 'order.created')).toBe(true);
    expect(matchesEventType(['order.created'], 'order.created.v2')).toBe(false);
    expect(matchesEventType(['order.created'], 'order.create')).toBe(false);
    expect(matchesEventType(['order.created'], 'Order.Created')).toBe(false);
  });

  it('matches a trailing wildcard at any depth below its prefix', () => {
    expect(matchesEventType(['order.*'], 'order.created')).toBe(true);
    expect(matchesEventType(['order.*'], 'order.line.added')).toBe(true);
    expect(matchesEventType(['order.line.*'], 'order.line.added')).toBe(true);
    expect(matchesEventType(['order.line.*'], 'order.created')).toBe(false);
  });

  it('does not match the wildcard prefix itself nor a type merely sharing its letters', () => {
    expect(matchesEventType(['order.*'], 'order')).toBe(false);
    expect(matchesEventType(['order.*'], 'orders.x')).toBe(false);
    expect(matchesEventType(['order.*'], 'order.')).toBe(false);
  });

  it('lets * match everything', () => {
    expect(matchesEventType(['*'], 'order.created')).toBe(true);
    expect(matchesEventType(['*'], 'ping')).toBe(true);
  });

  it('matches when any pattern matches, and nothing for an empty list', () => {
    expect(matchesEventType(['invoice.paid', 'order.*'], 'order.created')).toBe(true);
    expect(matchesEventType(['invoice.paid', 'refund.*'], 'order.created')).toBe(false);
    expect(matchesEventType([], 'order.created')).toBe(false);
  });

  it('treats a wildcard anywhere but the end as literal text', () => {
    expect(matchesEventType(['order*'], 'order.created')).toBe(false);
    expect(matchesEventType(['*.created'], 'order.created')).toBe(false);
  });
});

describe('isValidEventTypeName', () => {
  it('accepts dotted names of letters, digits and _ . : -', () => {
    for (const n of ['ping', 'order.created', 'Order_v2.line-item:added', 'a', 'x'.repeat(128), '1.2.3']) {
      expect(isValidEventTypeName(n)).toBe(true);
    }
  });

  it('rejects empty segments, other characters, wildcards and names over 128 characters', () => {
    for (const n of [
      '',
      '.order',
      'order.',
      'order..created',
      'order created',
      'order/created',
      'ordér',
      '*',
      'order.*',
      'x'.repeat(129),
    ]) {
      expect(isValidEventTypeName(n)).toBe(false);
    }
  });
});

describe('isValidEventTypePattern', () => {
  it('accepts names, name.* and *', () => {
    for (const p of ['order.created', 'order.*', 'order.line.*', '*']) {
      expect(isValidEventTypePattern(p)).toBe(true);
    }
  });

  it('rejects wildcards that are not a whole trailing segment', () => {
    for (const p of [
      '',
      '.*',
      '*.*',
      'order*',
      'order.*.created',
      '*.created',
      'order.**',
      'order..*',
      '**',
      `${'x'.repeat(127)}.*`,
    ]) {
      expect(isValidEventTypePattern(p)).toBe(false);
    }
  });

  it('only ever validates patterns that behave as documented', () => {
    // Every valid non-* pattern matches at least one valid name, and none matches its own wildcard prefix.
    for (const p of ['order.*', 'a.b.*']) {
      const prefix = p.slice(0, -2);
      expect(matchesEventType([p], `${prefix}.x`)).toBe(true);
      expect(matchesEventType([p], prefix)).toBe(false);
    }
  });
});
