/**
 * Whether an event is for a webhook: its event-type patterns, its exact `criteria` on the payload, and its rich
 * `filter` on the envelope. One rule for publishing, recovery and validation calls.
 */
import { matchesCriteria } from '../domain/criteria-match.js';
import { type EventFilter, matchesFilter } from '../domain/event-filter.js';
import { matchesEventType } from '../domain/event-type-match.js';

export interface MatchRules {
  patterns: string[];
  criteria: Record<string, unknown>;
  filter: EventFilter | null;
}

export interface MatchSubject {
  id: string;
  type: string;
  data: unknown;
  occurredAt: number;
  accountId: string | null;
  references: Record<string, string>;
}

export function rulesOf(w: { event_types: string; criteria: string; filter: string | null }): MatchRules {
  return {
    patterns: JSON.parse(w.event_types) as string[],
    criteria: JSON.parse(w.criteria) as Record<string, unknown>,
    filter: w.filter === null ? null : (JSON.parse(w.filter) as EventFilter),
  };
}

export function eventMatches(rules: MatchRules, e: MatchSubject): boolean {
  if (!matchesEventType(rules.patterns, e.type) || !matchesCriteria(rules.criteria, e.data)) return false;
  if (rules.filter === null) return true;
  return matchesFilter(rules.filter, {
    id: e.id,
    type: e.type,
    timestamp: new Date(e.occurredAt).toISOString(),
    data: e.data,
    accountId: e.accountId,
    references: e.references,
  });
}
