/** The IPC messages between the harness and `bench/receiver.ts`. */
import type { LatencySummary } from './stats.js';

export type ReceiverRequest = { id: number } & (
  | { op: 'addPort' }
  | { op: 'expect'; group: string; hooks: number; events: number; latencyFromSeq?: number }
  | { op: 'progress'; groups: string[] }
  | { op: 'report'; group: string }
  | { op: 'drop'; groups: string[] }
  | { op: 'releaseHanging' }
);

/** Distributes `Omit` over the union, so each request keeps its own fields. */
export type ReceiverCommand = ReceiverRequest extends infer R
  ? R extends ReceiverRequest
    ? Omit<R, 'id'>
    : never
  : never;

export interface GroupProgress {
  group: string;
  filled: number;
  requests: number;
}

export interface GroupReport {
  group: string;
  /** hooks × events; 0 for a group without an expectation. */
  expected: number;
  filled: number;
  missing: number;
  requests: number;
  distinctIds: number;
  /** Requests repeating a `webhook-id` already received (a retry of one delivery). */
  redeliveries: number;
  /** A second delivery (another `webhook-id`) of an event to a webhook that already had it. */
  duplicateDeliveries: number;
  /** Requests that fit no expected slot (no `webhook-id`, unknown hook or seq). */
  unexpected: number;
  firstAt: number | null;
  lastAt: number | null;
  latency: LatencySummary;
}

export interface ReceiverResult {
  port?: number;
  progress?: GroupProgress[];
  report?: GroupReport;
  released?: number;
}

export type ReceiverReply = { id: number; ok: true; result: ReceiverResult } | { id: number; ok: false; error: string };
