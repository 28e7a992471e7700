/**
 * Moves SQLite's WAL checkpoints off the event loop. A checkpoint copies the pages committed to the write-ahead log
 * back into the database file and syncs it — tens of milliseconds at a time under load. Run inside a commit (SQLite's
 * automatic checkpoint), that pause lands on whatever request or delivery is waiting on the event loop. Here a worker
 * thread with its own connection runs a PASSIVE checkpoint every `intervalMs`: it never blocks the writer, and the log
 * restarts from the top once a checkpoint has caught up. The main connection's automatic checkpoint stays on with a
 * high threshold, as a backstop if the thread ever falls behind.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** Plain JavaScript run by the thread (no TypeScript loader there); better-sqlite3 is passed in by absolute path. */
const THREAD_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 1000');
const run = (mode) => { try { db.pragma('wal_checkpoint(' + mode + ')'); } catch {} };
const timer = setInterval(() => run('PASSIVE'), workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m !== 'stop') return;
  clearInterval(timer);
  run('PASSIVE');
  db.close();
  parentPort.postMessage('stopped');
});
`;

export class Checkpointer {
  private readonly worker: Worker;

  constructor(file: string, intervalMs = 250) {
    this.worker = new Worker(THREAD_SOURCE, {
      eval: true,
      workerData: { file, intervalMs, driver: createRequire(import.meta.url).resolve('better-sqlite3') },
    });
    // A failing checkpointer only means the main connection's own backstop checkpoints take over.
    this.worker.on('error', () => {});
    this.worker.unref();
  }

  async stop(): Promise<void> {
    const stopped = new Promise<void>((resolve) => {
      this.worker.once('message', () => resolve());
      this.worker.once('exit', () => resolve());
    });
    this.worker.postMessage('stop');
    await Promise.race([stopped, new Promise((r) => setTimeout(r, 2000).unref())]);
    await this.worker.terminate();
  }
}
