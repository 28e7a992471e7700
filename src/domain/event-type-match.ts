/**
 * Which event types a webhook subscribes to. Names are dotted (`order.created`, `order.line.added`); a pattern is a
 * name, a name followed by `.*` (every type below it, at any depth), or `*` (everything). The wildcard sits only on a
 * whole trailing segment, so `order.*` never matches `orders.x`, and never matches `order` itself: subscribing to a
 * family and to its root are separate choices (Svix event-type filtering; Convoy `order.*` subscriptions).
 */

const MAX_LENGTH = 128;
/** Letters, digits and `_ . : -`, with no empty segment (no leading, trailing or doubled dot). */
const NAME = /^[A-Za-z0-9_:-]+(?:\.[A-Za-z0-9_:-]+)*$/;
const WILDCARD_SUFFIX = '.*';

export function isValidEventTypeName(n: string): boolean {
  return n.length >= 1 && n.length <= MAX_LENGTH && NAME.test(n);
}

/** A pattern is `*`, a valid name, or a valid name + `.*`; patterns share the names' 128-character limit. */
export function isValidEventTypePattern(p: string): boolean {
  if (p === '*') return true;
  if (p.length > MAX_LENGTH) return false;
  if (p.endsWith(WILDCARD_SUFFIX)) return isValidEventTypeName(p.slice(0, -WILDCARD_SUFFIX.length));
  return isValidEventTypeName(p);
}

function matchesOne(pattern: string, type: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith(WILDCARD_SUFFIX)) {
    // Keep the dot in the prefix so the match falls on a segment boundary.
    const prefix = pattern.slice(0, -1);
    return type.length > prefix.length && type.startsWith(prefix);
  }
  return pattern === type;
}

/**
 * True when any pattern matches. Matching is case-sensitive, like the names in the catalogue. An empty list matches
 * nothing: whether "no event types" means "all" is a decision for the caller, made explicit by storing `*`.
 */
export function matchesEventType(patterns: readonly string[], type: string): boolean {
  return patterns.some((pattern) => matchesOne(pattern, type));
}
