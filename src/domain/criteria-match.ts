/**
 * Criteria: key/value conditions on an event's payload that a webhook requires before it is called (the MPT seed's
 * "key value objects necessary to be present and of given value inside the payload"). Keys are dotted paths into
 * the payload. Payloads are arbitrary JSON from publishers, so nothing here may throw, whatever their shape.
 */

const ARRAY_INDEX = /^(?:0|[1-9]\d*)$/;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Sentinel for "no such path", distinct from a present `undefined`/`null`. */
const MISSING = Symbol('missing');

/**
 * The value at `dottedPath` (`order.lines.0.sku`), or undefined when there is none. Numeric segments index arrays.
 * Keys may themselves contain dots (`{ "product.id": … }`): at each level the longest key that exists is tried first,
 * falling back to shorter ones when the rest of the path does not resolve under it. Only own properties are read, so
 * paths like `constructor` or `__proto__` never reach the prototype.
 */
export function getPath(obj: unknown, dottedPath: string): unknown {
  const found = resolve(obj, dottedPath.split('.'), 0, new Map());
  return found === MISSING ? undefined : found;
}

/**
 * Depth-first over the ways of grouping segments into keys. `failed` remembers (object, position) pairs that led
 * nowhere, so a payload crafted with many dotted keys cannot make the search exponential.
 */
function resolve(value: unknown, segments: string[], from: number, failed: Map<object, Set<number>>): unknown {
  if (from === segments.length) return value;
  if (typeof value !== 'object' || value === null) return MISSING;
  if (failed.get(value)?.has(from)) return MISSING;

  if (Array.isArray(value)) {
    const segment = segments[from] ?? '';
    if (ARRAY_INDEX.test(segment)) {
      const index = Number(segment);
      if (index < value.length) {
        const found = resolve(value[index], segments, from + 1, failed);
        if (found !== MISSING) return found;
      }
    }
  } else {
    for (let to = segments.length; to > from; to--) {
      const key = segments.slice(from, to).join('.');
      if (!Object.hasOwn(value, key)) continue;
      const found = resolve((value as Record<string, unknown>)[key], segments, to, failed);
      if (found !== MISSING) return found;
    }
  }

  const seen = failed.get(value) ?? new Set<number>();
  seen.add(from);
  failed.set(value, seen);
  return MISSING;
}

/** Structural equality over JSON values: same primitives (strictly: `1` is not `"1"`), arrays, and key sets. */
function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => jsonEqual(item, b[i]));
  }
  if (!isPlainObject(a) || !isPlainObject(b)) return false;
  const aKeys = Object.keys(a);
  if (aKeys.length !== Object.keys(b).length) return false;
  return aKeys.every((key) => Object.hasOwn(b, key) && jsonEqual(a[key], b[key]));
}

function isPrimitive(v: unknown): boolean {
  return v === null || (typeof v !== 'object' && typeof v !== 'function');
}

/**
 * True when every criterion holds: the payload's value at the key's path deep-equals the criterion's value, or, for a
 * primitive criterion, the payload's value is an array containing it (`{ "tags": "vip" }` matches `tags: ["vip"]`).
 * An absent path never matches, not even a `null` criterion. Empty criteria match every payload.
 */
export function matchesCriteria(criteria: Record<string, unknown>, payload: unknown): boolean {
  return Object.entries(criteria).every(([path, expected]) => {
    const found = resolve(payload, path.split('.'), 0, new Map());
    if (found === MISSING) return false;
    if (jsonEqual(expected, found)) return true;
    return isPrimitive(expected) && Array.isArray(found) && found.some((item) => jsonEqual(item, expected));
  });
}
