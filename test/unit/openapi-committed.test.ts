import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateOpenApi } from '../../src/http/openapi-document.js';

describe('openapi.json', () => {
  it('matches what the code generates (run `npm run openapi` after changing a route)', async () => {
    const committed = fs.readFileSync(new URL('../../openapi.json', import.meta.url), 'utf8');
    expect(JSON.parse(committed)).toEqual(JSON.parse(await generateOpenApi()));
  });
});
