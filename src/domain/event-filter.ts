/**
 * Event filters: the rich, MongoDB-flavoured filter language other webhook services offer, evaluated against the
 * event envelope `{ id, type, timestamp, data, accountId, references }`.
 *
 * A filter is a JSON object whose entries must all hold (an empty filter matches everything):
 * - `$and: [filters]` (all hold), `$or: [filters]` (at least one holds), `$not: filter` (does not hold);
 * - any other key is a dotted path into the subject (`data.order.total`, `data.lines.0.sku`; numeric segments index
 *   arrays, keys that contain dots are found the way `getPath` finds them). Its value is either a literal, meaning
 *   `$eq`, or an operator object such as `{ "$gte": 10, "$lt": 100 }`, whose operators must all hold.
 *   An object value counts as an operator object when any of its keys starts with `$`; it may then hold nothing but
 *   operators. A literal object or array is compared as a whole (use `$eq` to compare with an object holding `$` keys).
 *   Paths cannot start with `$`.
 *
 * Field operators and their semantics ("missing" = the path does not resolve):
 * - `$eq: value`: deep JSON equality, no coercion (`1` is not `"1"`, key order is irrelevant, array order matters).
 *   Never matches a missing path, not even `$eq: null`.
 * - `$ne: value`: exactly `not $eq`, so it matches a missing path.
 * - `$gt $gte $lt $lte: number | string`: numbers compare with numbers and strings with strings (UTF-16 code unit
 *   order); any other pairing is false.
 * - `$in: [values]`: some entry would match as `$eq` (so `$in: [x]` is `$eq: x`); `$nin: [values]` is `not $in`.
 * - `$exists: boolean`: whether the path resolves (a present `null` exists).
 * - `$startsWith / $endsWith: string`: the value is a string with that prefix / suffix.
 * - `$not: operators`: the operator object does not hold (`{ "price": { "$not": { "$gt": 5 } } }`), so, like
 *   filter-level `$not`, it matches a missing path.
 *
 * Array semantics (MongoDB-style) when the path resolves to an array:
 * - `$eq` with a non-array operand, `$gt $gte $lt $lte $startsWith $endsWith`, and `$in` entries that are not arrays
 *   match when ANY element matches (one level deep: elements that are arrays are not flattened). `$eq` with an array
 *   operand compares the whole array, in order.
 * - `$ne`, `$nin` and field `$not` are the negations of the above, so they hold only when NO element matches
 *   (`{ "tags": { "$ne": "vip" } }` excludes `["vip", "eu"]`). An "any element differs" reading would make
 *   `$ne` true for almost every array and break the rule that `$ne` and `$not: { $eq }` agree.
 * - `$exists` is about the path, not its elements: an empty array exists.
 * - Several operators in one object are each satisfied independently, each by any element: `{ "$gt": 1, "$lt": 3 }`
 *   matches `[0, 5]`. Numeric path segments (`data.tags.0`) address one element explicitly.
 * - Path segments do not fan out over arrays: `data.lines.sku` does not look inside each line (use `data.lines.0.sku`).
 *
 * Limits, enforced by `validateFilter`: logical nesting depth at most `MAX_FILTER_DEPTH` (the root filter is level 1;
 * every filter inside `$and`/`$or`/`$not`, every field's operator object and every field-level `$not` adds a level)
 * and at most `MAX_FILTER_NODES` JSON values in the whole filter, literal operands and their elements included.
 *
 * `matchesFilter` never throws: it re-validates the filter and returns false for one that is not valid.
 */

import { getPath } from './criteria-match.js';

export type EventFilter = Record<string, unknown>;

export type FilterValidation = { ok: true } | { ok: false; path: string; operator: string | null; message: string };

export const MAX_FILTER_DEPTH = 10;
export const MAX_FILTER_NODES = 200;

const ORDERING_OPERATORS = new Set(['$gt', '$gte', '$lt', '$lte']);
const FIELD_OPERATORS = new Set([
  '$eq',
  '$ne',
  '$gt',
  '$gte',
  '$lt',
  '$lte',
  '$in',
  '$nin',
  '$exists',
  '$startsWith',
  '$endsWith',
  '$not',
]);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Any non-array object; subjects are compared by own enumerable keys whatever their prototype. */
function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** An object value under a field path is an operator object as soon as one of its keys is an operator. */
function isOperatorObject(v: unknown): v is Record<string, unknown> {
  return isPlainObject(v) && Object.keys(v).some((key) => key.startsWith('$'));
}

// ---------------------------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------------------------

class InvalidFilter extends Error {
  readonly at: string;
  readonly operator: string | null;

  constructor(at: string, operator: string | null, detail: string) {
    super(`${at}: ${detail}`);
    this.at = at;
    this.operator = operator;
  }
}

interface Walk {
  nodes: number;
}

function countNode(walk: Walk, at: string): void {
  walk.nodes += 1;
  if (walk.nodes > MAX_FILTER_NODES) {
    throw new InvalidFilter(at, null, `filter has more than ${MAX_FILTER_NODES} nodes (JSON values)`);
  }
}

function checkDepth(depth: number, at: string, operator: string | null): void {
  if (depth > MAX_FILTER_DEPTH) {
    throw new InvalidFilter(at, operator, `filter nests deeper than ${MAX_FILTER_DEPTH} levels`);
  }
}

/**
 * Checks that `filter` is a valid event filter. On failure `path` names the offending place
 * (`filter.$or[1].data.total.$gte`), `operator` the operator involved (null when none is), and `message` says what
 * is wrong, prefixed with the path.
 */
export function validateFilter(filter: unknown): FilterValidation {
  try {
    checkFilter(filter, 'filter', 1, { nodes: 0 }, null);
    return { ok: true };
  } catch (err) {
    if (err instanceof InvalidFilter) return { ok: false, path: err.at, operator: err.operator, message: err.message };
    // Only a hostile non-JSON value (a throwing getter or proxy) gets here.
    return { ok: false, path: 'filter', operator: null, message: 'filter: filter could not be read as JSON' };
  }
}

function checkFilter(node: unknown, at: string, depth: number, walk: Walk, via: string | null): void {
  countNode(walk, at);
  checkDepth(depth, at, via);
  if (!isPlainObject(node)) throw new InvalidFilter(at, via, 'a filter must be a JSON object');
  for (const [key, value] of Object.entries(node)) {
    const here = `${at}.${key}`;
    if (key.startsWith('$')) checkLogical(key, value, here, depth, walk);
    else checkField(key, value, here, depth, walk);
  }
}

function checkLogical(op: string, operand: unknown, at: string, depth: number, walk: Walk): void {
  switch (op) {
    case '$and':
    case '$or': {
      countNode(walk, at);
      if (!Array.isArray(operand) || operand.length === 0) {
        throw new InvalidFilter(at, op, `${op} takes a non-empty array of filters`);
      }
      operand.forEach((item, i) => {
        checkFilter(item, `${at}[${i}]`, depth + 1, walk, op);
      });
      return;
    }
    case '$not':
      checkFilter(operand, at, depth + 1, walk, op);
      return;
    default:
      if (FIELD_OPERATORS.has(op)) {
        throw new InvalidFilter(
          at,
          op,
          `${op} compares a field, so it goes under a field path: { "data.x": { "${op}": … } }`,
        );
      }
      throw new InvalidFilter(at, op, `unknown operator ${op}`);
  }
}

function checkField(path: string, value: unknown, at: string, depth: number, walk: Walk): void {
  if (path.split('.').some((segment) => segment === '')) {
    throw new InvalidFilter(at, null, 'a field path must not be empty or contain empty segments');
  }
  if (isOperatorObject(value)) checkOperators(value, at, depth + 1, walk, null);
  else checkLiteral(value, at, walk, null);
}

function checkOperators(ops: Record<string, unknown>, at: string, depth: number, walk: Walk, via: string | null): void {
  countNode(walk, at);
  checkDepth(depth, at, via);
  const stray = Object.keys(ops).find((key) => !key.startsWith('$'));
  if (stray !== undefined) {
    throw new InvalidFilter(at, via, `an operator object cannot also hold the field name "${stray}"`);
  }
  for (const [op, operand] of Object.entries(ops)) {
    const here = `${at}.${op}`;
    switch (op) {
      case '$eq':
      case '$ne':
        checkLiteral(operand, here, walk, op);
        break;
      case '$gt':
      case '$gte':
      case '$lt':
      case '$lte':
        countNode(walk, here);
        if (typeof operand !== 'string' && !(typeof operand === 'number' && Number.isFinite(operand))) {
          throw new InvalidFilter(here, op, `${op} takes a number or a string`);
        }
        break;
      case '$in':
      case '$nin':
        countNode(walk, here);
        if (!Array.isArray(operand)) throw new InvalidFilter(here, op, `${op} takes an array of values`);
        operand.forEach((item, i) => {
          checkLiteral(item, `${here}[${i}]`, walk, op);
        });
        break;
      case '$exists':
        countNode(walk, here);
        if (typeof operand !== 'boolean') throw new InvalidFilter(here, op, '$exists takes true or false');
        break;
      case '$startsWith':
      case '$endsWith':
        countNode(walk, here);
        if (typeof operand !== 'string') throw new InvalidFilter(here, op, `${op} takes a string`);
        break;
      case '$not':
        if (!isOperatorObject(operand)) {
          countNode(walk, here);
          throw new InvalidFilter(here, op, '$not on a field takes an operator object, e.g. { "$not": { "$gt": 5 } }');
        }
        checkOperators(operand, here, depth + 1, walk, op);
        break;
      case '$and':
      case '$or':
        throw new InvalidFilter(
          here,
          op,
          `${op} combines filters, so it goes at filter level: { "${op}": [{ "data.a": 1 }, { "data.b": 2 }] }`,
        );
      default:
        throw new InvalidFilter(here, op, `unknown operator ${op}`);
    }
  }
}

/** A JSON value: null, boolean, finite number, string, array or plain object of JSON values. */
function checkLiteral(value: unknown, at: string, walk: Walk, op: string | null): void {
  countNode(walk, at);
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new InvalidFilter(at, op, 'numbers must be finite');
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      checkLiteral(item, `${at}[${i}]`, walk, op);
    });
    return;
  }
  if (isPlainObject(value)) {
    for (const [key, item] of Object.entries(value)) checkLiteral(item, `${at}.${key}`, walk, op);
    return;
  }
  throw new InvalidFilter(at, op, `value is not JSON (${typeof value})`);
}

// ---------------------------------------------------------------------------------------------------------------
// Matching
// ---------------------------------------------------------------------------------------------------------------

/**
 * True when `subject` (the event envelope) satisfies `filter`. Never throws: a filter that does not pass
 * `validateFilter` matches nothing.
 */
export function matchesFilter(filter: EventFilter, subject: unknown): boolean {
  if (!validateFilter(filter).ok) return false;
  try {
    return evalFilter(filter, subject);
  } catch {
    return false;
  }
}

function evalFilter(filter: Record<string, unknown>, subject: unknown): boolean {
  for (const [key, value] of Object.entries(filter)) {
    if (!evalEntry(key, value, subject)) return false;
  }
  return true;
}

function evalEntry(key: string, value: unknown, subject: unknown): boolean {
  switch (key) {
    case '$and':
      return Array.isArray(value) && value.every((f) => isPlainObject(f) && evalFilter(f, subject));
    case '$or':
      return Array.isArray(value) && value.some((f) => isPlainObject(f) && evalFilter(f, subject));
    case '$not':
      return isPlainObject(value) && !evalFilter(value, subject);
    default: {
      if (key.startsWith('$')) return false;
      const found = getPath(subject, key);
      return isOperatorObject(value) ? evalOperators(value, found) : eqMatch(found, value);
    }
  }
}

/** `found` is undefined when the path is missing (JSON has no undefined). */
function evalOperators(ops: Record<string, unknown>, found: unknown): boolean {
  for (const [op, operand] of Object.entries(ops)) {
    if (!evalOperator(op, operand, found)) return false;
  }
  return true;
}

function evalOperator(op: string, operand: unknown, found: unknown): boolean {
  switch (op) {
    case '$eq':
      return eqMatch(found, operand);
    case '$ne':
      return !eqMatch(found, operand);
    case '$in':
      return Array.isArray(operand) && operand.some((candidate) => eqMatch(found, candidate));
    case '$nin':
      return Array.isArray(operand) && !operand.some((candidate) => eqMatch(found, candidate));
    case '$exists':
      return typeof operand === 'boolean' && (found !== undefined) === operand;
    case '$startsWith':
      return typeof operand === 'string' && anyElement(found, (v) => typeof v === 'string' && v.startsWith(operand));
    case '$endsWith':
      return typeof operand === 'string' && anyElement(found, (v) => typeof v === 'string' && v.endsWith(operand));
    case '$not':
      return isOperatorObject(operand) && !evalOperators(operand, found);
    default:
      return ORDERING_OPERATORS.has(op) && anyElement(found, (v) => ordered(op, v, operand));
  }
}

/** The value itself, or, for an array, any of its elements, satisfies `test`. A missing value satisfies nothing. */
function anyElement(found: unknown, test: (v: unknown) => boolean): boolean {
  if (found === undefined) return false;
  return Array.isArray(found) ? found.some(test) : test(found);
}

function eqMatch(found: unknown, expected: unknown): boolean {
  if (found === undefined) return false;
  if (jsonEqual(found, expected)) return true;
  return Array.isArray(found) && !Array.isArray(expected) && found.some((item) => jsonEqual(item, expected));
}

function ordered(op: string, a: unknown, b: unknown): boolean {
  let sign: number;
  if (typeof a === 'number' && typeof b === 'number') sign = a < b ? -1 : a > b ? 1 : a === b ? 0 : Number.NaN;
  else if (typeof a === 'string' && typeof b === 'string') sign = a < b ? -1 : a > b ? 1 : 0;
  else return false;
  switch (op) {
    case '$gt':
      return sign > 0;
    case '$gte':
      return sign >= 0;
    case '$lt':
      return sign < 0;
    case '$lte':
      return sign <= 0;
    default:
      return false;
  }
}

/**
 * Structural equality over JSON values: strict on primitives, element-wise on arrays, key-set-wise on objects.
 * Recursion follows both values together, so it is bounded by the (validated, small) filter operand.
 */
function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => jsonEqual(item, b[i]));
  }
  if (!isRecord(a) || !isRecord(b)) return false;
  const aKeys = Object.keys(a);
  if (aKeys.length !== Object.keys(b).length) return false;
  return aKeys.every((key) => Object.hasOwn(b, key) && jsonEqual(a[key], b[key]));
}
