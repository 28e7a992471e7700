/**
 * JSON Schemas that tenants attach to event types. Compiled once per (tenant, type, updatedAt) and cached, so
 * publishing validates payloads without recompiling.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { ValidateFunction } from 'ajv';
import { invalidField } from '../domain/errors.js';

const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: true });
(addFormats as unknown as (a: Ajv2020) => void)(ajv);

/** Refuses a schema that is not valid JSON Schema (draft 2020-12), naming the field. */
export function checkPayloadSchema(schema: unknown, field = 'body.schema'): void {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
    throw invalidField(field, 'must be a JSON Schema object');
  }
  if (!ajv.validateSchema(schema)) {
    throw invalidField(field, `is not a valid JSON Schema: ${ajv.errorsText(ajv.errors, { dataVar: 'schema' })}`);
  }
  try {
    ajv.compile(schema);
  } catch (e) {
    throw invalidField(field, `cannot be compiled: ${e instanceof Error ? e.message : String(e)}`);
  }
}

const cache = new Map<string, ValidateFunction>();

export function compilePayloadSchema(cacheKey: string, schemaText: string): ValidateFunction {
  let fn = cache.get(cacheKey);
  if (fn === undefined) {
    if (cache.size > 5000) cache.clear();
    fn = ajv.compile(JSON.parse(schemaText) as object);
    cache.set(cacheKey, fn);
  }
  return fn;
}
