import { describe, expect, it } from 'vitest';
import {
  beginProbe,
  type Circuit,
  type CircuitPolicy,
  circuitAllowsCall,
  recordFailure,
  recordSuccess,
  resetCircuit,
} from '../../src/domain/circuit-breaker.js';

const policy: CircuitPolicy = { failureThreshold: 3, cooldownMs: 60_000 };
const T0 = 1_700_000_000_000;

function failTimes(c: Circuit, n: number, at = T0): Circuit {
  let out = c;
  for (let i = 0; i < n; i++) out = recordFailure(out, policy, at);
  return out;
}

describe('circuit breaker', () => {
  it('starts closed with no failures and lets calls through', () => {
    const c = resetCircuit();
    expect(c).toEqual({ state: 'closed', failureCount: 0, openedAt: null });
    expect(circuitAllowsCall(c, policy, T0)).toEqual({ allowed: true, probe: false, retryAt: null });
  });

  it('counts consecutive failures and opens when the threshold is reached', () => {
    const two = failTimes(resetCircuit(), 2);
    expect(two).toMatchObject({ state: 'closed', failureCount: 2 });
    expect(circuitAllowsCall(two, policy, T0).allowed).toBe(true);

    const three = recordFailure(two, policy, T0 + 5);
    expect(three).toEqual({ state: 'open', failureCount: 3, openedAt: T0 + 5 });
  });

  it('a success resets the streak, so only consecutive failures open it', () => {
    const c = failTimes(recordSuccess(failTimes(resetCircuit(), 2)), 2);
    expect(c).toMatchObject({ state: 'closed', failureCount: 2 });
  });

  it('refuses calls while open and says when to come back', () => {
    const open = failTimes(resetCircuit(), 3);
    expect(circuitAllowsCall(open, policy, T0 + 59_999)).toEqual({
      allowed: false,
      probe: false,
      retryAt: T0 + policy.cooldownMs,
    });
  });

  it('allows one probe after the cooldown; a successful probe closes it', () => {
    const open = failTimes(resetCircuit(), 3);
    const decision = circuitAllowsCall(open, policy, T0 + policy.cooldownMs);
    expect(decision).toEqual({ allowed: true, probe: true, retryAt: null });

    const probing = beginProbe(open, T0 + policy.cooldownMs);
    expect(probing.state).toBe('half_open');
    // Other calls hold back while the probe is in flight.
    expect(circuitAllowsCall(probing, policy, T0 + policy.cooldownMs + 1).allowed).toBe(false);

    expect(recordSuccess(probing)).toEqual(resetCircuit());
  });

  it('a failed probe reopens with a fresh cooldown', () => {
    const probeAt = T0 + policy.cooldownMs;
    const probing = beginProbe(failTimes(resetCircuit(), 3), probeAt);
    const reopened = recordFailure(probing, policy, probeAt + 200);
    expect(reopened).toEqual({ state: 'open', failureCount: 4, openedAt: probeAt + 200 });
    expect(circuitAllowsCall(reopened, policy, probeAt + 200 + policy.cooldownMs - 1).allowed).toBe(false);
    expect(circuitAllowsCall(reopened, policy, probeAt + 200 + policy.cooldownMs).probe).toBe(true);
  });

  it('a probe lost with its worker does not keep the circuit half-open for ever', () => {
    const probing = beginProbe(failTimes(resetCircuit(), 3), T0 + policy.cooldownMs);
    expect(circuitAllowsCall(probing, policy, T0 + 2 * policy.cooldownMs)).toEqual({
      allowed: true,
      probe: true,
      retryAt: null,
    });
  });

  it('a late failure of a call already in flight does not push the cooldown back', () => {
    const open = failTimes(resetCircuit(), 3);
    const late = recordFailure(open, policy, T0 + 10_000);
    expect(late).toEqual({ state: 'open', failureCount: 4, openedAt: T0 });
  });

  it('a probe that failed without beginProbe still restarts the cooldown', () => {
    const open = failTimes(resetCircuit(), 3);
    const failedProbe = recordFailure(open, policy, T0 + policy.cooldownMs + 1);
    expect(failedProbe.openedAt).toBe(T0 + policy.cooldownMs + 1);
    expect(circuitAllowsCall(failedProbe, policy, T0 + policy.cooldownMs + 2).allowed).toBe(false);
  });

  it('resetCircuit closes an open circuit at once', () => {
    const open = failTimes(resetCircuit(), 5);
    expect(circuitAllowsCall(open, policy, T0 + 1).allowed).toBe(false);
    expect(circuitAllowsCall(resetCircuit(), policy, T0 + 1)).toEqual({ allowed: true, probe: false, retryAt: null });
  });

  it('does not mutate its input', () => {
    const c = Object.freeze(resetCircuit());
    expect(() => recordFailure(c, policy, T0)).not.toThrow();
    expect(c).toEqual(resetCircuit());
  });

  it('a threshold of 1 opens on the first failure', () => {
    expect(recordFailure(resetCircuit(), { failureThreshold: 1, cooldownMs: 1 }, T0).state).toBe('open');
  });
});
