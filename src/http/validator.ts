/**
 * Two Ajv instances: bodies are validated strictly (no type coercion, unknown fields refused — a number sent as a
 * string is a client bug we should report, not paper over), while query strings and headers, which are text by nature,
 * are coerced to the schema's types.
 */
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

function makeAjv(coerce: boolean): Ajv {
  const ajv = new Ajv({
    strict: false,
    allErrors: true,
    removeAdditional: false,
    useDefaults: true,
    coerceTypes: coerce ? 'array' : false,
  });
  (addFormats as unknown as (a: Ajv) => void)(ajv);
  return ajv;
}

const strict = makeAjv(false);
const coercing = makeAjv(true);

export const validatorCompiler: FastifySchemaCompiler<object> = ({ schema, httpPart }) => {
  if (httpPart !== 'body') return coercing.compile(schema) as ReturnType<FastifySchemaCompiler<object>>;
  const validate = strict.compile(schema);
  // No body is validated as `{}`: an action with only optional fields accepts a bare POST, and a create without a
  // body reports each missing required field by name instead of "body must be object".
  const check = (data: unknown) => {
    const ok = validate(data ?? {});
    check.errors = validate.errors;
    return ok;
  };
  check.errors = validate.errors;
  return check as unknown as ReturnType<FastifySchemaCompiler<object>>;
};
