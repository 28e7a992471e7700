import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE } from '../../src/domain/errors.js';

describe('error catalogue', () => {
  it('is documented in docs/errors.md with the same codes, statuses and titles', () => {
    const doc = fs.readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
    const rows = [...doc.matchAll(/^\| `([a-z_]+)` \| (\d{3}) \| ([^|]+) \|/gm)].map((m) => ({
      code: m[1],
      status: Number(m[2]),
      title: m[3]?.trim(),
    }));
    const fromCode = Object.entries(ERROR_CATALOGUE).map(([code, e]) => ({ code, status: e.status, title: e.title }));
    expect(rows).toEqual(fromCode);
  });
});
