/**
 * The body of the sender thread (`ThreadedSender`): an `HttpSender` whose calls are requested, and answered, in
 * batches over the thread's port — however many calls a message carries: requests one message per turn of the main
 * thread's event loop, results one per turn of this one, or one every `RESULT_BATCH_MS` while calls wait here.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { HttpSender, type SendRequest, type SendResult } from './http-sender.js';
import { noExchange } from './no-exchange.js';
import { LaneScheduler } from './lane-scheduler.js';
import { type SentWire, toSentWire } from './sent-wire.js';
import type { FromSenderThread, ThreadedSenderOptions, ToSenderThread } from './threaded-sender.js';

const port = parentPort;
if (port === null) throw new Error('sender-thread.ts runs only as a worker thread');

const { options } = workerData as { options: ThreadedSenderOptions };
const sender = new HttpSender(options);
const lanes = new LaneScheduler<{ id: number; request: SendRequest }>(options.lanes, ({ id, request }, done) => {
  void sender.send(request).then((result) => {
    done();
    finished(id, result);
  });
});
let done: SentWire[] = [];
let flushing = false;

function post(message: FromSenderThread): void {
  port?.postMessage(message);
}

/**
 * While calls wait here for a slot, results go back at most every `RESULT_BATCH_MS`: the main thread has handed over
 * work ahead, so no call starts sooner for hearing back sooner, and every message costs both threads a wake-up and a
 * copy. With nothing waiting, the calls that end in this turn of the loop go back at once, in one message, so the main
 * thread can hand over more and a lone delivery is recorded without delay. Measured in a loop of 40 000 calls, 10 at
 * a time, 50 handed over ahead, four alternating pairs: 189 → 176 µs of CPU a call, both threads.
 */
const RESULT_BATCH_MS = 2;

function flush(): void {
  flushing = false;
  const items = done;
  done = [];
  post({ kind: 'sent', items });
}

function finished(id: number, result: SendResult): void {
  done.push(toSentWire(id, result));
  if (flushing) return;
  flushing = true;
  if (lanes.hasWaiting) setTimeout(flush, RESULT_BATCH_MS);
  else setImmediate(flush);
}

port.on('message', (message: ToSenderThread) => {
  if (message.kind === 'withdraw') {
    for (const { id } of lanes.takeWaiting()) finished(id, noExchange('not_sent', null));
    return;
  }
  if (message.kind === 'send') {
    for (const item of message.items) {
      if (item.request.lane === undefined) void sender.send(item.request).then((result) => finished(item.id, result));
      else lanes.push(item.request.lane, item, item.request.minIntervalMs);
    }
    return;
  }
  void sender.close().then(() => {
    if (done.length > 0) post({ kind: 'sent', items: done.splice(0) });
    post({ kind: 'closed' });
  });
});

post({ kind: 'ready' });
