/** TypeBox schemas of the webhook resource: what clients send and what they get back. */
import { Type } from 'typebox';
import { Metadata, NullableString } from '../schemas.js';

const EventTypes = Type.Array(Type.String({ minLength: 1, maxLength: 130 }), { minItems: 1, maxItems: 200 });
const HeadersInput = Type.Union([
  Type.Record(Type.String({ maxLength: 128 }), Type.String({ maxLength: 4096 }), { maxProperties: 50 }),
  Type.Array(
    Type.Object(
      { name: Type.String({ maxLength: 128 }), value: Type.String({ maxLength: 4096 }) },
      { additionalProperties: false },
    ),
    {
      maxItems: 50,
    },
  ),
]);
const Criteria = Type.Record(Type.String({ minLength: 1, maxLength: 256 }), Type.Unknown(), { maxProperties: 50 });

const mutable = {
  name: Type.Optional(NullableString(255)),
  description: Type.Optional(NullableString(2000)),
  url: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
  status: Type.Optional(Type.Union([Type.Literal('enabled'), Type.Literal('disabled')])),
  kind: Type.Optional(Type.Union([Type.Literal('notification'), Type.Literal('validation')])),
  eventTypes: Type.Optional(EventTypes),
  objectType: Type.Optional(NullableString(128)),
  criteria: Type.Optional(Criteria),
  filter: Type.Optional(
    Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()], {
      description:
        'rich filter over the envelope { id, type, timestamp, data, accountId, references }: $eq $ne $gt $gte $lt $lte $in $nin $exists $startsWith $endsWith $and $or $not on dotted paths',
    }),
  ),
  includeResources: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { maxItems: 50 })),
  headers: Type.Optional(HeadersInput),
  maxBatchSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  maxBatchTimeDelay: Type.Optional(Type.Integer({ minimum: 0, maximum: 3_600_000, description: 'milliseconds' })),
  timeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 300_000 })),
  retrySchedule: Type.Optional(
    Type.Union(
      [Type.Array(Type.Integer({ minimum: 0, maximum: 7 * 86_400 }), { minItems: 1, maxItems: 50 }), Type.Null()],
      {
        description: 'seconds to wait before each attempt; the first entry is the first attempt (usually 0)',
      },
    ),
  ),
  ordering: Type.Optional(Type.Union([Type.Literal('none'), Type.Literal('fifo')])),
  orderingOnFailure: Type.Optional(
    Type.Union([Type.Literal('skip'), Type.Literal('block')], {
      description:
        'fifo only: after a delivery finally fails, go on with the next (skip) or wait for it to be repaired (block)',
    }),
  ),
  rateLimitPerSecond: Type.Optional(
    Type.Union([Type.Integer({ minimum: 1, maximum: 100_000 }), Type.Null()], {
      description:
        'at most this many calls a second: calls start at least 1/rate s apart, in each worker process (null: no limit)',
    }),
  ),
  metadata: Type.Optional(Metadata),
  reference: Type.Optional(NullableString(255)),
  referenceOrigin: Type.Optional(NullableString(255)),
  accountId: Type.Optional(NullableString(64)),
};

export const WebhookCreateBody = Type.Object(
  {
    ...mutable,
    url: Type.String({ minLength: 1, maxLength: 2048 }),
    eventTypes: EventTypes,
    secret: Type.Optional(Type.String({ maxLength: 200, description: 'bring your own whsec_… secret' })),
  },
  { additionalProperties: false },
);

export const WebhookPatchBody = Type.Object(mutable, { additionalProperties: false, minProperties: 1 });

const Call = Type.Union([
  Type.Object(
    {
      success: Type.Boolean(),
      callTime: Type.String(),
      responseTime: Type.Union([Type.String(), Type.Null()]),
      httpStatusCode: Type.Union([Type.Integer(), Type.Null()]),
      reasonPhrase: Type.Union([Type.String(), Type.Null()]),
      headers: Type.Record(Type.String(), Type.String()),
      error: Type.Union([Type.String(), Type.Null()]),
      response: Type.Unknown(),
    },
    { additionalProperties: true },
  ),
  Type.Null(),
]);
const AuditEntry = Type.Object({
  at: Type.String(),
  by: Type.Object({
    type: Type.String(),
    id: Type.Union([Type.String(), Type.Null()]),
    name: Type.Union([Type.String(), Type.Null()]),
  }),
});
const Str = Type.String();
const NStr = Type.Union([Type.String(), Type.Null()]);

export const WebhookSchema = Type.Object(
  {
    id: Str,
    href: Str,
    name: NStr,
    description: NStr,
    url: Str,
    status: Str,
    disabledAt: NStr,
    disabledReason: NStr,
    kind: Str,
    eventTypes: Type.Array(Str),
    objectType: NStr,
    criteria: Type.Record(Str, Type.Unknown()),
    filter: Type.Union([Type.Record(Str, Type.Unknown()), Type.Null()]),
    includeResources: Type.Array(Str),
    headers: Type.Record(Str, Str),
    maxBatchSize: Type.Integer(),
    maxBatchTimeDelay: Type.Integer(),
    timeoutMs: Type.Integer(),
    retrySchedule: Type.Array(Type.Integer()),
    ordering: Str,
    orderingOnFailure: Str,
    rateLimitPerSecond: Type.Union([Type.Integer(), Type.Null()]),
    circuit: Type.Object({ state: Str, failureCount: Type.Integer(), openedAt: NStr }),
    statistics: Type.Object({
      total: Type.Integer(),
      successes: Type.Integer(),
      failures: Type.Integer(),
      failuresSinceLastSuccess: Type.Integer(),
    }),
    lastSuccess: Call,
    lastFailure: Call,
    lastCall: Call,
    secretRotation: Type.Union([Type.Object({ previousSecretExpiresAt: NStr }), Type.Null()]),
    metadata: Type.Record(Str, Type.Unknown()),
    reference: NStr,
    referenceOrigin: NStr,
    mode: Str,
    accountId: NStr,
    account: Type.Union([Type.Object({ id: Str, href: Str, name: NStr }), Type.Null()]),
    audit: Type.Object({
      created: Type.Optional(AuditEntry),
      updated: Type.Optional(AuditEntry),
      enabled: Type.Optional(AuditEntry),
      disabled: Type.Optional(AuditEntry),
    }),
    version: Type.Integer(),
    createdAt: Str,
    updatedAt: Str,
  },
  { $id: 'Webhook' },
);

export const WebhookWithSecret = Type.Intersect([Type.Ref('Webhook'), Type.Object({ secret: Type.String() })]);

export const WebhookVersionSchema = Type.Object({
  id: Str,
  webhookId: Str,
  version: Type.Integer(),
  action: Str,
  changedAt: Str,
  changedBy: Type.Object({ type: Str, id: NStr, name: NStr }),
  changes: Type.Record(Str, Type.Object({ from: Type.Unknown(), to: Type.Unknown() })),
});

export const WebhookListQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 250, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
    status: Type.Optional(Type.Union([Type.Literal('enabled'), Type.Literal('disabled')])),
    kind: Type.Optional(Type.Union([Type.Literal('notification'), Type.Literal('validation')])),
    eventType: Type.Optional(Type.String({ maxLength: 130 })),
    accountId: Type.Optional(Type.String({ maxLength: 64 })),
    reference: Type.Optional(Type.String({ maxLength: 255 })),
    createdAfter: Type.Optional(Type.String({ maxLength: 40 })),
    createdBefore: Type.Optional(Type.String({ maxLength: 40 })),
  },
  { additionalProperties: false },
);
