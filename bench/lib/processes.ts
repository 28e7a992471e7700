/**
 * Child processes and temporary directories of a bench run, and their cleanup. Everything a run starts is registered
 * in its `Resources` at once, so a failing scenario, an exception or Ctrl-C still stops every process and removes every
 * directory (last started, first stopped).
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { nowMs } from './clock.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const HOOKLINE_BIN = path.join(ROOT, 'bin', 'hookline.mjs');
/** Output kept per child: enough for the last errors, bounded however much it logs. */
const OUTPUT_TAIL = 64 * 1024;

export class Resources {
  private readonly cleanups: Array<{ label: string; fn: () => Promise<void> }> = [];
  private closed = false;

  /** Registers a cleanup; returns a function that runs it now (once) and forgets it. */
  defer(label: string, fn: () => Promise<void>): () => Promise<void> {
    const entry = { label, fn };
    this.cleanups.push(entry);
    let done = false;
    return async () => {
      if (done) return;
      done = true;
      const i = this.cleanups.indexOf(entry);
      if (i >= 0) this.cleanups.splice(i, 1);
      await fn();
    };
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Runs every cleanup still registered, newest first; errors are reported, never thrown. */
  async closeAll(log: (line: string) => void = () => {}): Promise<void> {
    this.closed = true;
    while (this.cleanups.length > 0) {
      const c = this.cleanups.pop();
      if (c === undefined) break;
      try {
        await c.fn();
      } catch (err) {
        log(`cleanup of ${c.label} failed: ${String(err)}`);
      }
    }
  }

  tempDir(prefix: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    this.defer(`temp dir ${dir}`, async () => fs.rmSync(dir, { recursive: true, force: true }));
    return dir;
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited. */
export async function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Peak resident set size (`VmHWM`) of a live process, in bytes; null where /proc is not available. */
export function peakRssBytes(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
    return m === null ? null : Number(m[1]) * 1024;
  } catch {
    return null;
  }
}

/**
 * CPU time (user + system, all threads, or only the main one) a live process has used so far, in ms; null where /proc
 * is not available.
 * Read before and after a run, it gives CPU per delivery: a figure that other load on the machine barely moves,
 * unlike a rate.
 */
export function cpuTimeMs(pid: number | undefined, thread?: 'main'): number | null {
  if (pid === undefined) return null;
  try {
    // A process's main thread has the process's id as its thread id.
    const stat = fs.readFileSync(thread === 'main' ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks * (1000 / CLOCK_TICKS_PER_SECOND) : null;
  } catch {
    return null;
  }
}

/** `getconf CLK_TCK`: 100 on Linux for every architecture Node runs on. */
const CLOCK_TICKS_PER_SECOND = 100;

export type Role = 'all' | 'api' | 'worker';

export interface HooklineProcess {
  child: ChildProcess;
  role: Role;
  /** `http://127.0.0.1:PORT`, without `/v1`; null for a worker. */
  base: string | null;
  /** Harness clock when the ready line appeared. */
  readyAt: number;
  output(): string;
  stop(): Promise<void>;
}

/** The environment of a child: the harness's own, without any HOOKLINE_* setting that could leak into a run. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('HOOKLINE_')) env[k] = v;
  return { ...env, ...extra };
}

function tail(s: string): string {
  return s.length > OUTPUT_TAIL ? s.slice(s.length - OUTPUT_TAIL) : s;
}

/** `node bin/hookline.mjs serve --role <role>`; resolves when it says it is listening (or running, for a worker). */
export function startHookline(
  res: Resources,
  role: Role,
  env: Record<string, string>,
  o: { startTimeoutMs?: number; nodeArgs?: string[] } = {},
): Promise<HooklineProcess> {
  if (res.isClosed) return Promise.reject(new Error('the bench is shutting down'));
  const startTimeoutMs = o.startTimeoutMs ?? 60_000;
  // `nodeArgs`: e.g. ['--cpu-prof'] when looking into where a figure comes from (or BENCH_HOOKLINE_NODE_ARGS, since
  // Node refuses --cpu-prof in NODE_OPTIONS).
  const nodeArgs = o.nodeArgs ?? (process.env.BENCH_HOOKLINE_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const child = spawn(process.execPath, [...nodeArgs, HOOKLINE_BIN, 'serve', '--role', role], {
    cwd: ROOT,
    env: cleanEnv({ HOOKLINE_PORT: '0', HOOKLINE_HOST: '127.0.0.1', HOOKLINE_LOG_LEVEL: 'warn', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stop = res.defer(`hookline ${role} (pid ${child.pid})`, () => stopChild(child));
  let out = '';
  const ready = role === 'worker' ? /worker is running/ : /API\s+(http:\/\/\S+)\/v1/;
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void stop().finally(() => reject(err));
    };
    const onData = (d: Buffer) => {
      out = tail(out + d.toString());
      if (settled) return;
      const m = ready.exec(out);
      if (m === null) return;
      settled = true;
      clearTimeout(timer);
      resolve({
        child,
        role,
        base: m[1] ?? null,
        readyAt: nowMs(),
        output: () => out,
        stop,
      });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    const timer = setTimeout(
      () => fail(new Error(`hookline --role ${role} did not start in ${startTimeoutMs} ms:\n${out}`)),
      startTimeoutMs,
    );
    child.once('exit', (code, signal) =>
      fail(new Error(`hookline --role ${role} exited (${code ?? signal}):\n${out}`)),
    );
    child.once('error', (err) => fail(err));
  });
}

export interface TsChild {
  child: ChildProcess;
  /** The first IPC message the child sent (its "ready" message). */
  ready: unknown;
  stop(): Promise<void>;
}

/** Forks a TypeScript file of `bench/` with `node --import tsx`, with IPC; resolves on its first message. */
export function forkTs(res: Resources, file: string, startTimeoutMs = 30_000): Promise<TsChild> {
  if (res.isClosed) return Promise.reject(new Error('the bench is shutting down'));
  const child = fork(path.join(ROOT, 'bench', file), [], {
    cwd: ROOT,
    execArgv: ['--import', 'tsx'],
    env: cleanEnv({}),
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const stop = res.defer(`${file} (pid ${child.pid})`, () => stopChild(child, 2000));
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out = tail(out + d.toString());
  });
  child.stderr?.on('data', (d: Buffer) => {
    out = tail(out + d.toString());
  });
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void stop().finally(() => reject(err));
    };
    const timer = setTimeout(
      () => fail(new Error(`${file} did not start in ${startTimeoutMs} ms:\n${out}`)),
      startTimeoutMs,
    );
    child.once('message', (msg: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ child, ready: msg, stop });
    });
    child.once('exit', (code, signal) => fail(new Error(`${file} exited (${code ?? signal}):\n${out}`)));
    child.once('error', (err) => fail(err));
  });
}
