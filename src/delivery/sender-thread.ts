/**
 * The body of the sender thread (`ThreadedSender`): an `HttpSender` whose calls are requested, and answered, in
 * batches over the thread's port — one message per turn of each event loop, however many calls it carries.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { HttpSender, type SendRequest } from './http-sender.js';
import { noExchange } from './no-exchange.js';
import { LaneScheduler } from './lane-scheduler.js';
import type { FromSenderThread, SentItem, ThreadedSenderOptions, ToSenderThread } from './threaded-sender.js';

const port = parentPort;
if (port === null) throw new Error('sender-thread.ts runs only as a worker thread');

const { options } = workerData as { options: ThreadedSenderOptions };
const sender = new HttpSender(options);
const lanes = new LaneScheduler<{ id: number; request: SendRequest }>(options.lanes, ({ id, request }, done) => {
  void sender.send(request).then((result) => {
    done();
    finished({ id, result });
  });
});
let done: SentItem[] = [];
let flushing = false;

function post(message: FromSenderThread): void {
  port?.postMessage(message);
}

function finished(item: SentItem): void {
  done.push(item);
  if (flushing) return;
  flushing = true;
  // Every call that ends in this turn of the loop goes back in one message.
  setImmediate(() => {
    flushing = false;
    const items = done;
    done = [];
    post({ kind: 'sent', items });
  });
}

port.on('message', (message: ToSenderThread) => {
  if (message.kind === 'withdraw') {
    for (const { id } of lanes.takeWaiting()) finished({ id, result: noExchange('not_sent', null) });
    return;
  }
  if (message.kind === 'send') {
    for (const item of message.items) {
      if (item.request.lane === undefined)
        void sender.send(item.request).then((result) => finished({ ...item, result }));
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
