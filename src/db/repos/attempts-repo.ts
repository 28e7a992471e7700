import type { Kysely, Selectable } from 'kysely';
import type { PageRequest } from '../paging.js';
import type { AttemptsTable, Database } from '../schema.js';

export type AttemptRow = Selectable<AttemptsTable>;

/** The attempt log as the API reads it; attempts are written by `src/queue/record-attempt.ts`. */
export class AttemptsRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async list(
    tenantId: string,
    of: { webhookId: string } | { deliveryId: string },
    f: { since?: number; onlyFailed?: boolean },
    page: PageRequest,
  ): Promise<AttemptRow[]> {
    let q = this.db.selectFrom('attempts').selectAll().where('tenant_id', '=', tenantId);
    q = 'webhookId' in of ? q.where('webhook_id', '=', of.webhookId) : q.where('delivery_id', '=', of.deliveryId);
    if (f.since !== undefined) q = q.where('requested_at', '>=', f.since);
    if (f.onlyFailed === true) q = q.where('status', '=', 'failed');
    if (page.cursor !== null) q = q.where('id', '<', page.cursor);
    return q
      .orderBy('id', 'desc')
      .limit(page.limit + 1)
      .execute();
  }

  async get(tenantId: string, webhookId: string, id: string): Promise<AttemptRow | undefined> {
    return this.db
      .selectFrom('attempts')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('webhook_id', '=', webhookId)
      .where('id', '=', id)
      .executeTakeFirst();
  }
}
