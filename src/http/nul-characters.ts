/**
 * U+0000 in the strings of a request body. PostgreSQL's `text` cannot hold it: a webhook's name or description, a
 * reference, an event type or any other field stored as text failed its INSERT, and the request got a 500 (SQLite
 * stored it). Refused before any route runs, on both databases alike, naming each field.
 *
 * Event payloads (`data`, `included`) and `metadata` are stored as JSON text, in which U+0000 stays escaped (`\u0000`),
 * so they may hold it, as any JSON may.
 */
import { AppError, type FieldError } from '../domain/errors.js';

const STORED_AS_JSON = new Set(['data', 'included', 'metadata']);
const MESSAGE = 'must not contain the character U+0000';
/** Fields named in one answer, at most (as for schema errors), and the longest path shown. */
const MAX_NAMED = 50;
const MAX_PATH = 200;

/** Null when the body is fine; else the 400 to answer. `text` is the body as received, `parsed` its JSON. */
export function nulCharacterProblem(text: string, parsed: unknown): AppError | null {
  // JSON can carry U+0000 only escaped: a body without the escape has none (the common case, one scan of the text).
  if (!text.includes('\\u0000')) return null;
  const fields: string[] = [];
  collect(parsed, 'body', fields);
  if (fields.length === 0) return null;
  const errors: FieldError[] = fields.map((field) => ({ field, message: MESSAGE }));
  return new AppError('validation_failed', errors.map((e) => `${e.field} ${e.message}`).join('; '), { errors });
}

/** Depth first, in document order, with a stack of its own: a deeply nested body must not overflow the call stack. */
function collect(root: unknown, rootPath: string, out: string[]): void {
  const stack: Array<[unknown, string]> = [[root, rootPath]];
  while (stack.length > 0 && out.length < MAX_NAMED) {
    const [value, at] = stack.pop() as [unknown, string];
    if (typeof value === 'string') {
      if (value.includes('\u0000')) out.push(at.length > MAX_PATH ? `${at.slice(0, MAX_PATH - 1)}…` : at);
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    const children: Array<[unknown, string]> = [];
    if (Array.isArray(value)) {
      value.forEach((v, i) => {
        children.push([v, `${at}[${i}]`]);
      });
    } else {
      for (const [key, v] of Object.entries(value)) {
        const path = `${at}.${key}`;
        if (key.includes('\u0000')) children.push([key, path]);
        else if (!STORED_AS_JSON.has(key)) children.push([v, path]);
      }
    }
    // Reversed onto the stack, so they come off in document order.
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i] as [unknown, string]);
  }
}
