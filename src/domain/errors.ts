/**
 * The error catalogue: every problem a client can receive, with a stable code, HTTP status and title.
 * `docs/errors.md` documents the same list and a test keeps the two in step (Fastify `lib/errors.js`).
 * Answers follow RFC 9457 (problem details); `detail` says what was wrong and names the field.
 */
export const ERROR_CATALOGUE = {
  validation_failed: { status: 400, title: 'The request is not valid' },
  malformed_json: { status: 400, title: 'The request body is not valid JSON' },
  url_not_allowed: { status: 400, title: 'The target URL is not allowed' },
  tenant_required: { status: 400, title: 'A tenant must be named for this request' },
  unauthorized: { status: 401, title: 'Missing or invalid API key' },
  forbidden: { status: 403, title: 'The API key may not do this' },
  not_found: { status: 404, title: 'Not found' },
  route_not_found: { status: 404, title: 'No such route' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  conflict: { status: 409, title: 'The request conflicts with the current state' },
  idempotency_conflict: { status: 409, title: 'The idempotency key was used with a different request' },
  body_too_large: { status: 413, title: 'The request body is too large' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type' },
  unprocessable: { status: 422, title: 'The request cannot be processed' },
  rate_limited: { status: 429, title: 'Too many requests' },
  internal: { status: 500, title: 'Internal error' },
  unavailable: { status: 503, title: 'Service unavailable' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export interface FieldError {
  /** JSON-pointer-ish location of the bad input, e.g. `body.url`, `query.limit`, `body.events[3].type`. */
  field: string;
  message: string;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly title: string;
  readonly errors: FieldError[] | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(
    code: ErrorCode,
    detail: string,
    opts: { errors?: FieldError[]; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(detail, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = ERROR_CATALOGUE[code].status;
    this.title = ERROR_CATALOGUE[code].title;
    this.errors = opts.errors;
    this.headers = opts.headers;
  }
}

/** A 400 naming one field: the common case for input the schema could not catch. */
export function invalidField(field: string, message: string): AppError {
  return new AppError('validation_failed', `${field}: ${message}`, { errors: [{ field, message }] });
}

export function notFound(what: string, id: string): AppError {
  return new AppError('not_found', `${what} ${id} was not found`);
}

export function problemType(code: ErrorCode): string {
  return `urn:hookline:problem:${code}`;
}
