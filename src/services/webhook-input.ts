/**
 * Checks of webhook input that a JSON Schema cannot express: the URL policy, header names Hookline owns, event type
 * patterns, secrets. Each failure names its field.
 */
import { invalidField, AppError } from '../domain/errors.js';
import { type EventFilter, validateFilter } from '../domain/event-filter.js';
import { isValidEventTypePattern } from '../domain/event-type-match.js';
import { isValidWebhookSecret } from '../domain/signing.js';
import { checkTargetUrl } from '../domain/url-policy.js';

/** Headers Hookline sets itself (signatures, ids, framing): a webhook may not override them. */
const RESERVED_HEADERS = new Set([
  'host',
  'content-length',
  'content-type',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'proxy-authorization',
  'user-agent',
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
  'x-request-uid',
  'x-hook-uid',
  'x-event-key',
  'x-correlation-id',
]);

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export type HeadersInput = Record<string, string> | Array<{ name: string; value: string }>;

/** Accepts `{ name: value }` or the PIM seed's `[{ name, value }]`; answers one normalised object. */
export function normaliseHeaders(input: HeadersInput, field = 'body.headers'): Record<string, string> {
  const entries = Array.isArray(input) ? input.map((h) => [h.name, h.value] as const) : Object.entries(input);
  if (entries.length > 50) throw invalidField(field, 'at most 50 custom headers are allowed');
  const out: Record<string, string> = {};
  for (const [name, value] of entries) {
    if (!TOKEN.test(name)) throw invalidField(`${field}.${name}`, 'is not a valid HTTP header name');
    if (RESERVED_HEADERS.has(name.toLowerCase())) {
      throw invalidField(`${field}.${name}`, 'is set by Hookline and cannot be overridden');
    }
    if (typeof value !== 'string' || /[\r\n\0]/.test(value) || value.length > 4096) {
      throw invalidField(`${field}.${name}`, 'must be a string of at most 4096 characters without line breaks');
    }
    out[name] = value;
  }
  return out;
}

export function checkEventTypes(patterns: string[], field = 'body.eventTypes'): string[] {
  if (patterns.length === 0) throw invalidField(field, 'must list at least one event type (use "*" for all)');
  patterns.forEach((p, i) => {
    if (!isValidEventTypePattern(p)) {
      throw invalidField(
        `${field}[${i}]`,
        `"${p}" is not a valid event type or pattern (e.g. order.created, order.*, *)`,
      );
    }
  });
  return [...new Set(patterns)];
}

export function checkUrl(url: string, allowPrivate: boolean, field = 'body.url'): string {
  const result = checkTargetUrl(url, { allowPrivate });
  if (!result.ok) {
    throw new AppError('url_not_allowed', `${field}: ${result.reason}`, {
      errors: [{ field, message: result.reason }],
    });
  }
  return result.url.toString();
}

export function checkSecret(secret: string, field = 'body.secret'): string {
  if (!isValidWebhookSecret(secret)) {
    throw invalidField(field, 'must be "whsec_" followed by 24 to 64 bytes in base64');
  }
  return secret;
}

export function checkRetrySchedule(schedule: number[] | null | undefined, field = 'body.retrySchedule'): void {
  if (schedule === null || schedule === undefined) return;
  if (schedule.length === 0) throw invalidField(field, 'must hold at least one entry (the first attempt)');
}

export function checkCriteria(criteria: Record<string, unknown>, field = 'body.criteria'): void {
  for (const key of Object.keys(criteria)) {
    if (key === '' || key.startsWith('.') || key.endsWith('.') || key.includes('..')) {
      throw invalidField(`${field}.${key}`, 'is not a valid dotted path');
    }
  }
}

/** Refuses an invalid rich filter at create time, naming the operator and where it sits (`body.filter.$or[1]…`). */
export function checkFilter(filter: EventFilter, field = 'body.filter'): EventFilter {
  const result = validateFilter(filter);
  if (!result.ok) {
    const where = result.path.replace(/^filter/, field);
    const op = result.operator === null ? '' : ` (operator ${result.operator})`;
    throw invalidField(where, `${result.message}${op}`);
  }
  return filter;
}
