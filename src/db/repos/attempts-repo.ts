import type { Kysely, Selectable } from 'kysely';
import { envelopeText, PLAIN_ENVELOPE_BODY } from '../../domain/envelope.js';
import type { PageRequest } from '../paging.js';
import type { AttemptsTable, Database } from '../schema.js';

export type AttemptRow = Selectable<AttemptsTable>;

/**
 * The attempt log as the API reads it; attempts are written by `src/queue/record-attempt.ts`. A request body stored
 * as `PLAIN_ENVELOPE_BODY` is rebuilt here from the attempt's event (retention keeps an event while attempts of its
 * deliveries are kept).
 */
export class AttemptsRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async list(
    tenantId: string,
    of: { webhookId: string } | { deliveryId: string },
    f: { since?: number; onlyFailed?: boolean },
    page: PageRequest,
  ): Promise<AttemptRow[]> {
    let q = this.withEvent().where('attempts.tenant_id', '=', tenantId);
    q =
      'webhookId' in of
        ? q.where('attempts.webhook_id', '=', of.webhookId)
        : q.where('attempts.delivery_id', '=', of.deliveryId);
    if (f.since !== undefined) q = q.where('attempts.requested_at', '>=', f.since);
    if (f.onlyFailed === true) q = q.where('attempts.status', '=', 'failed');
    if (page.cursor !== null) q = q.where('attempts.id', '<', page.cursor);
    const rows = await q
      .orderBy('attempts.id', 'desc')
      .limit(page.limit + 1)
      .execute();
    return rows.map(withRequestBody);
  }

  async get(tenantId: string, webhookId: string, id: string): Promise<AttemptRow | undefined> {
    const row = await this.withEvent()
      .where('attempts.tenant_id', '=', tenantId)
      .where('attempts.webhook_id', '=', webhookId)
      .where('attempts.id', '=', id)
      .executeTakeFirst();
    return row === undefined ? undefined : withRequestBody(row);
  }

  /** Attempts with what a plain envelope is rebuilt from: their event's type, time and payload (same tenant only). */
  private withEvent() {
    return this.db
      .selectFrom('attempts')
      .leftJoin('events', (join) =>
        join.onRef('events.id', '=', 'attempts.event_id').onRef('events.tenant_id', '=', 'attempts.tenant_id'),
      )
      .selectAll('attempts')
      .select([
        'events.type as event_type',
        'events.occurred_at as event_occurred_at',
        'events.payload as event_payload',
      ]);
  }
}

function withRequestBody(
  row: AttemptRow & { event_type: string | null; event_occurred_at: number | null; event_payload: string | null },
): AttemptRow {
  const { event_type, event_occurred_at, event_payload, ...attempt } = row;
  if (attempt.request_body !== PLAIN_ENVELOPE_BODY || event_type === null || event_payload === null) return attempt;
  return {
    ...attempt,
    request_body: envelopeText(
      {
        id: attempt.event_id,
        type: event_type,
        occurredAt: Number(event_occurred_at),
        payloadJson: event_payload,
        includedJson: null,
      },
      [],
    ),
  };
}
