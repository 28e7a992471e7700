/** Which request strings may not hold U+0000 (PostgreSQL's text cannot), and how the 400 names them. */
import { describe, expect, it } from 'vitest';
import { nulCharacterProblem } from '../../src/http/nul-characters.js';

const problemOf = (value: unknown) => nulCharacterProblem(JSON.stringify(value), value);

describe('nulCharacterProblem', () => {
  it('names every string and key holding U+0000, in document order, but not inside payloads or metadata', () => {
    const p = problemOf({
      name: 'a\u0000',
      references: { 'k\u0000': 'v', ok: 'fine', list: ['x', 'y\u0000'] },
      data: { deep: ['\u0000'] },
      included: { c: '\u0000' },
      metadata: { note: '\u0000' },
    });
    expect(p?.status).toBe(400);
    expect(p?.code).toBe('validation_failed');
    expect(p?.errors?.map((e) => e.field)).toEqual(['body.name', 'body.references.k\u0000', 'body.references.list[1]']);
    expect(p?.message).toContain('body.name must not contain the character U+0000');
  });

  it('passes a body without the escape, and one whose escape is only text (an escaped backslash)', () => {
    expect(problemOf({ name: 'plain' })).toBeNull();
    // JSON text `"\\u0000"`: a backslash followed by "u0000", not the character.
    expect(problemOf({ name: '\\u0000' })).toBeNull();
  });

  it('walks a deeply nested body without overflowing the stack, and shortens a long path', () => {
    let text = '"a\\u0000"';
    for (let i = 0; i < 100_000; i++) text = `[${text}]`;
    const p = nulCharacterProblem(text, JSON.parse(text));
    const field = p?.errors?.[0]?.field ?? '';
    expect(field.startsWith('body[0][0]')).toBe(true);
    expect(field.length).toBe(200);
  });

  it('names at most 50 fields', () => {
    const p = problemOf({ list: Array.from({ length: 80 }, () => '\u0000') });
    expect(p?.errors).toHaveLength(50);
  });
});
