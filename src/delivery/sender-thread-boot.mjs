// Starts the sender thread (`threaded-sender.ts`). Plain JavaScript: when Hookline runs from its TypeScript sources
// (`bin/hookline.mjs`), a new thread has no TypeScript loader until this registers tsx, as the main thread did.
import { workerData } from 'node:worker_threads';

if (workerData.tsx) {
  const { register } = await import('tsx/esm/api');
  register();
}
await import(workerData.entry);
