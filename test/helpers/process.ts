/** Real `hookline serve` processes for crash and multi-worker tests. */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

const BIN = path.resolve('bin/hookline.mjs');

export interface HooklineProcess {
  child: ChildProcess;
  base: string | null;
  output(): string;
  kill(signal: NodeJS.Signals): Promise<void>;
}

export function startHookline(
  env: Record<string, string>,
  role: 'all' | 'api' | 'worker' = 'all',
): Promise<HooklineProcess> {
  const child = spawn(process.execPath, [BIN, 'serve', '--role', role], {
    env: { ...process.env, HOOKLINE_PORT: '0', HOOKLINE_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const ready = role === 'worker' ? /worker is running/ : /API\s+(http:\/\/\S+)\/v1/;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`hookline did not start in 30 s:\n${out}`)), 30_000);
    const check = setInterval(() => {
      const m = ready.exec(out);
      if (m !== null) {
        clearInterval(check);
        clearTimeout(timer);
        resolve({
          child,
          base: m[1] ?? null,
          output: () => out,
          async kill(signal) {
            if (child.exitCode !== null || child.signalCode !== null) return;
            const exited = new Promise((r) => child.once('exit', r));
            child.kill(signal);
            await exited;
          },
        });
      }
    }, 25);
    child.once('exit', (code) => {
      clearInterval(check);
      clearTimeout(timer);
      reject(new Error(`hookline exited with ${code}:\n${out}`));
    });
  });
}

export async function api(
  base: string,
  key: string,
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const res = await fetch(`${base}${url}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? null : (JSON.parse(text) as Record<string, unknown>) };
}
