#!/usr/bin/env node
// Runs the TypeScript sources with no build step. At start, esbuild (the compiler tsx uses) bundles them into plain ES
// modules — the entry point, the sender thread's script, and a chunk for each lazily loaded part (the HTTP server is
// loaded only by processes that serve the API) — and this process imports them. Registering tsx instead keeps a module
// loader thread alive for the process's whole life: about 38 MB of memory in an idle worker (149 → 112 MB).
//
// The bundle goes to node_modules/.cache/hookline/<hash of its contents>/, next to the installed packages, which it
// imports as they are. A directory named by the content's hash is written once and never changed, so processes
// starting together share it safely; each file is written under a temporary name and renamed into place, the entry
// point last. Where that directory cannot be written, the sources run through tsx as before.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(fileURLToPath(new URL('..', import.meta.url)));

async function bundled() {
  const { buildSync } = await import('esbuild');
  const built = buildSync({
    entryPoints: {
      main: path.join(root, 'src', 'main.ts'),
      'sender-thread': path.join(root, 'src', 'delivery', 'sender-thread.ts'),
    },
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    outdir: path.join(root, '.bundle'),
    outExtension: { '.js': '.mjs' },
    write: false,
    logLevel: 'silent',
  });
  const hash = createHash('sha256');
  for (const file of built.outputFiles) hash.update(path.basename(file.path)).update(file.contents);
  const dir = path.join(root, 'node_modules', '.cache', 'hookline', hash.digest('hex').slice(0, 16));
  const entry = path.join(dir, 'main.mjs');
  if (!fs.existsSync(entry)) {
    pruneOldBundles(path.dirname(dir));
    fs.mkdirSync(dir, { recursive: true });
    const files = [...built.outputFiles].sort(
      (a, b) => Number(a.path.endsWith('main.mjs')) - Number(b.path.endsWith('main.mjs')),
    );
    for (const file of files) {
      const target = path.join(dir, path.basename(file.path));
      const temporary = `${target}.${process.pid}.tmp`;
      fs.writeFileSync(temporary, file.contents);
      fs.renameSync(temporary, target);
    }
  }
  return entry;
}

/** Bundles of earlier sources (a day old and more) go when a new one is written, so the cache does not grow. */
function pruneOldBundles(cache) {
  const dayAgo = Date.now() - 24 * 3_600_000;
  for (const name of fs.existsSync(cache) ? fs.readdirSync(cache) : []) {
    const dir = path.join(cache, name);
    try {
      if (fs.statSync(dir).mtimeMs < dayAgo) fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // Another process pruned it first.
    }
  }
}

let entry = null;
try {
  entry = await bundled();
} catch {
  // A read-only install, or the bundler missing: run the sources through tsx instead.
}
if (entry !== null) {
  await import(pathToFileURL(entry).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/main.ts');
}
