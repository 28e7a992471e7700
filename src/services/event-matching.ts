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
    patterns: parsed(w.event_types) as string[],
    criteria: parsed(w.criteria) as Record<string, unknown>,
    filter: w.filter === null ? null : (parsed(w.filter) as EventFilter),
  };
}

/**
 * Parsed rule texts by their JSON text: a publish matches every candidate webhook, and most share the same few texts
 * (`["order.*"]`, `{}`), so each is parsed once, not once per webhook per publish. Matching never mutates them.
 */
const parsedRules = new Map<string, unknown>();

function parsed(json: string): unknown {
  let v = parsedRules.get(json);
  if (v === undefined) {
    if (parsedRules.size >= 10_000) parsedRules.clear();
    v = JSON.parse(json) as unknown;
    parsedRules.set(json, v);
  }
  return v;
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
