/**
 * Every error answer is an RFC 9457 problem (`application/problem+json`). What clients see is separate from what
 * happened inside: unexpected errors are logged with context and answered as a bare 500 (Svix `error.rs`).
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, ERROR_CATALOGUE, type ErrorCode, type FieldError, problemType } from '../domain/errors.js';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  instance?: string;
  correlationId?: string;
  errors?: FieldError[];
}

export function sendProblem(
  request: FastifyRequest,
  reply: FastifyReply,
  code: ErrorCode,
  detail: string,
  errors?: FieldError[],
  headers?: Record<string, string>,
) {
  const { status, title } = ERROR_CATALOGUE[code];
  const body: Problem = {
    type: problemType(code),
    title,
    status,
    detail,
    code,
    instance: request.url.split('?')[0],
    correlationId: String(request.id),
  };
  if (errors !== undefined && errors.length > 0) body.errors = errors;
  if (headers !== undefined) reply.headers(headers);
  return reply.code(status).type('application/problem+json').send(body);
}

interface AjvIssue {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

/** `/events/3/type` + context `body` → `body.events[3].type`: the field named the way a client writes it. */
function fieldOf(context: string, issue: AjvIssue): string {
  let path = context;
  for (const seg of issue.instancePath.split('/').slice(1)) {
    const s = seg.replace(/~1/g, '/').replace(/~0/g, '~');
    path += /^\d+$/.test(s) ? `[${s}]` : `.${s}`;
  }
  if (issue.keyword === 'additionalProperties' && typeof issue.params.additionalProperty === 'string') {
    path += `.${issue.params.additionalProperty}`;
  } else if (issue.keyword === 'required' && typeof issue.params.missingProperty === 'string') {
    path += `.${issue.params.missingProperty}`;
  }
  return path;
}

function messageOf(issue: AjvIssue): string {
  switch (issue.keyword) {
    case 'additionalProperties':
      return 'is not a known field';
    case 'required':
      return 'is required';
    default:
      return issue.message ?? 'is not valid';
  }
}

/** Fastify's names for request parts, as clients know them. */
const CONTEXT_NAMES: Record<string, string> = {
  querystring: 'query',
  params: 'path',
  headers: 'headers',
  body: 'body',
};

export function validationErrors(error: FastifyError): FieldError[] {
  const raw = (error as FastifyError & { validationContext?: string }).validationContext ?? 'body';
  const context = CONTEXT_NAMES[raw] ?? raw;
  const issues = (error.validation ?? []) as unknown as AjvIssue[];
  const seen = new Set<string>();
  const out: FieldError[] = [];
  for (const issue of issues) {
    const fe = { field: fieldOf(context, issue), message: messageOf(issue) };
    const key = `${fe.field}:${fe.message}`;
    // anyOf/oneOf produce one issue per branch; keep the answer short and readable.
    if (issue.keyword === 'anyOf' || issue.keyword === 'oneOf' || seen.has(key)) continue;
    seen.add(key);
    out.push(fe);
  }
  return out.slice(0, 20);
}

export function handleError(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  if (error instanceof AppError) {
    return sendProblem(request, reply, error.code, error.message, error.errors, error.headers);
  }
  if (error.validation !== undefined) {
    const errors = validationErrors(error);
    const detail = errors.map((e) => `${e.field} ${e.message}`).join('; ') || 'The request is not valid';
    return sendProblem(request, reply, 'validation_failed', detail, errors);
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return sendProblem(
        request,
        reply,
        'body_too_large',
        `body: the request body exceeds the limit of ${request.routeOptions.bodyLimit} bytes`,
        [{ field: 'body', message: 'is too large' }],
      );
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return sendProblem(
        request,
        reply,
        'unsupported_media_type',
        'content-type: send JSON with content-type application/json',
        [{ field: 'headers.content-type', message: 'must be application/json' }],
      );
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return sendProblem(
        request,
        reply,
        'malformed_json',
        'body: the body is empty but content-type is application/json',
        [{ field: 'body', message: 'is empty' }],
      );
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return sendProblem(request, reply, 'validation_failed', 'content-length: does not match the body');
  }
  if (error instanceof SyntaxError || error.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
    return sendProblem(request, reply, 'malformed_json', `body: ${error.message}`, [
      { field: 'body', message: 'is not valid JSON' },
    ]);
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    const code: ErrorCode =
      status === 404
        ? 'not_found'
        : status === 405
          ? 'method_not_allowed'
          : status === 429
            ? 'rate_limited'
            : status === 413
              ? 'body_too_large'
              : status === 415
                ? 'unsupported_media_type'
                : 'validation_failed';
    return sendProblem(request, reply, code, error.message);
  }
  request.log.error({ err: error }, 'unhandled error');
  return sendProblem(
    request,
    reply,
    'internal',
    'An unexpected error occurred; it has been logged with the correlation id',
  );
}
