/**
 * The per-webhook circuit breaker, as a pure state machine (no clock, no I/O: callers pass `nowMs` and persist the
 * returned `Circuit`). It stops calling an endpoint that keeps failing, then tests it with one call now and then.
 *
 *   closed    ── failure that brings failureCount to the threshold ──▶ open       (openedAt = now)
 *   open      ── cooldown passed: one call allowed as a probe ───────▶ half_open  (`beginProbe`, openedAt = now)
 *   half_open ── probe succeeds ─────────────────────────────────────▶ closed     (failureCount = 0)
 *   half_open ── probe fails ────────────────────────────────────────▶ open       (openedAt = now)
 *   any       ── any success, or `resetCircuit` (API reset) ─────────▶ closed
 *
 * - closed: calls flow; each failure adds to `failureCount` (consecutive failures), any success resets it to 0.
 * - open: no calls until `openedAt + cooldownMs`.
 * - half_open: a probe is in flight. More calls wait one cooldown from the probe's start, so a probe lost with a
 *   crashed worker does not hold the circuit half-open for ever.
 *
 * `openedAt` is when the cooldown started: the circuit opening, or the latest probe beginning.
 */

export type CircuitState = 'closed' | 'open' | 'half_open';

export interface Circuit {
  state: CircuitState;
  /** Consecutive failures since the last success (the seeds' `circuit_failure_count`). */
  failureCount: number;
  /** Epoch ms the current cooldown started; null when closed. */
  openedAt: number | null;
}

export interface CircuitPolicy {
  /** Consecutive failures that open the circuit (at least 1). */
  failureThreshold: number;
  /** How long an open circuit refuses calls before it allows a probe. */
  cooldownMs: number;
}

export interface CircuitDecision {
  allowed: boolean;
  /** The call is a half-open probe: its outcome alone decides whether the circuit closes or reopens. */
  probe: boolean;
  /** When refused: the earliest time a probe will be allowed, to reschedule the delivery for. */
  retryAt: number | null;
}

export function resetCircuit(): Circuit {
  return { state: 'closed', failureCount: 0, openedAt: null };
}

function cooldownEndsAt(c: Circuit, policy: CircuitPolicy): number | null {
  // An open circuit without openedAt is corrupt data; treating its cooldown as over lets a probe repair it.
  return c.openedAt === null ? null : c.openedAt + policy.cooldownMs;
}

export function circuitAllowsCall(c: Circuit, policy: CircuitPolicy, nowMs: number): CircuitDecision {
  if (c.state === 'closed') return { allowed: true, probe: false, retryAt: null };
  const endsAt = cooldownEndsAt(c, policy);
  if (endsAt !== null && nowMs < endsAt) return { allowed: false, probe: false, retryAt: endsAt };
  return { allowed: true, probe: true, retryAt: null };
}

/** Mark a probe as started (after `circuitAllowsCall` answered `probe: true`), so other workers hold back. */
export function beginProbe(c: Circuit, nowMs: number): Circuit {
  return { state: 'half_open', failureCount: c.failureCount, openedAt: nowMs };
}

/** Any success closes the circuit: the endpoint answered, so the failure streak is over. */
export function recordSuccess(_c: Circuit): Circuit {
  return resetCircuit();
}

export function recordFailure(c: Circuit, policy: CircuitPolicy, nowMs: number): Circuit {
  const failureCount = c.failureCount + 1;
  if (c.state === 'closed') {
    return failureCount >= policy.failureThreshold
      ? { state: 'open', failureCount, openedAt: nowMs }
      : { state: 'closed', failureCount, openedAt: null };
  }
  if (c.state === 'half_open') return { state: 'open', failureCount, openedAt: nowMs };
  // Open: a failure after the cooldown can only come from a probe whose caller skipped `beginProbe`, so it restarts
  // the cooldown; a failure within it is a call that was already in flight when the circuit opened, and must not
  // keep pushing the probe further away.
  const endsAt = cooldownEndsAt(c, policy);
  const openedAt = endsAt === null || nowMs >= endsAt ? nowMs : c.openedAt;
  return { state: 'open', failureCount, openedAt };
}
