import { describe, expect, it } from 'vitest';
import type { SendResult } from '../../src/delivery/http-sender.js';
import { fromSentWire, toSentWire } from '../../src/delivery/sent-wire.js';

const answered: SendResult = {
  outcome: 'response',
  status: 503,
  reasonPhrase: 'Service Unavailable',
  headers: { 'retry-after': '30', 'content-type': 'application/json' },
  body: '{"busy":true}',
  bodyTruncated: true,
  elapsedMs: 12,
  error: null,
  startedAt: 1_764_600_000_000,
  finishedAt: 1_764_600_000_012,
  signature: 'v1,abc=',
};

describe('a result crossing from the sender thread', () => {
  it('arrives with every field, and its headers also as the JSON the attempt log stores', () => {
    const { id, result } = fromSentWire(structuredClone(toSentWire(7, answered)));
    expect(id).toBe(7);
    expect(result).toEqual({ ...answered, headersJson: JSON.stringify(answered.headers) });
  });

  it('arrives without a signature when none was sent, and without a status when none came', () => {
    const unsent: SendResult = { ...answered, outcome: 'connection_error', status: null, reasonPhrase: null };
    delete unsent.signature;
    const { result } = fromSentWire(structuredClone(toSentWire(1, { ...unsent, headers: {}, body: null })));
    expect(result).not.toHaveProperty('signature');
    expect(result).toMatchObject({ outcome: 'connection_error', status: null, body: null, headers: {} });
  });
});
