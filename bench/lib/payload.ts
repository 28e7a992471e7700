/**
 * The bench's events: about 1 KB of JSON each as published (`{ type, data }`), with `data.seq` (which event of the
 * scenario it is, for the receiver's loss and duplicate accounting) and `data.sentAt` (the harness clock when the
 * publish request left, for latency).
 */
export const EVENT_TYPE = 'bench.event';
export const EVENT_TYPE_PATTERN = 'bench.*';

export interface BenchData {
  seq: number;
  sentAt: number;
  pad: string;
}

export interface BenchEvent {
  type: string;
  data: BenchData;
}

/** Published body size the padding aims at. */
export const PAYLOAD_BYTES = 1024;
const SKELETON = JSON.stringify({ type: EVENT_TYPE, data: { seq: 1_000_000, sentAt: 1_700_000_000_000.123, pad: '' } });
const PAD = 'x'.repeat(PAYLOAD_BYTES - SKELETON.length);

export function benchEvent(seq: number, sentAt: number): BenchEvent {
  return { type: EVENT_TYPE, data: { seq, sentAt, pad: PAD } };
}
