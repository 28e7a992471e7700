/**
 * The real `hookline` command as a user runs it: first start on an empty data dir (root key printed once, database
 * created), a second start (no new key), a bad variable (named, exit code 2).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const BIN = path.resolve('bin/hookline.mjs');
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hookline-start-'));
const children: ChildProcess[] = [];

function start(env: Record<string, string>): Promise<{ child: ChildProcess; base: string; output: () => string }> {
  const child = spawn(process.execPath, [BIN, 'serve'], {
    env: { ...process.env, HOOKLINE_PORT: '0', HOOKLINE_DATA_DIR: dataDir, HOOKLINE_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start within 20 s:\n${out}`)), 20_000);
    const check = setInterval(() => {
      const m = /API\s+(http:\/\/\S+)\/v1/.exec(out);
      if (m?.[1] !== undefined) {
        clearInterval(check);
        clearTimeout(timer);
        resolve({ child, base: m[1], output: () => out });
      }
    }, 50);
    child.on('exit', (code) => {
      clearInterval(check);
      clearTimeout(timer);
      reject(new Error(`exited with ${code}:\n${out}`));
    });
  });
}

async function stop(child: ChildProcess) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

afterAll(async () => {
  for (const c of children) await stop(c);
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('hookline serve', () => {
  it('creates the database, prints a root key once, and serves the API and the docs', async () => {
    const first = await start({});
    const key = /Root API key \(shown once, store it now\): (\S+)/.exec(first.output())?.[1];
    expect(key).toMatch(/^hl_root_/);
    expect(fs.existsSync(path.join(dataDir, 'hookline.db'))).toBe(true);
    expect((await fetch(`${first.base}/healthz`)).status).toBe(200);
    expect((await fetch(`${first.base}/docs/`)).status).toBe(200);
    const tenants = await fetch(`${first.base}/v1/tenants`, { headers: { authorization: `Bearer ${key}` } });
    expect(tenants.status).toBe(200);
    await stop(first.child);

    const second = await start({});
    expect(second.output()).not.toContain('Root API key');
    const again = await fetch(`${second.base}/v1/tenants`, { headers: { authorization: `Bearer ${key}` } });
    expect(again.status).toBe(200);
    await stop(second.child);
  });

  it('stops with a message naming a bad variable', () => {
    const res = spawnSync(process.execPath, [BIN, 'serve'], {
      env: { ...process.env, HOOKLINE_DATA_DIR: dataDir, HOOKLINE_PORT: 'eighty' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(res.status).toBe(2);
    expect(res.stderr).toContain('HOOKLINE_PORT');
  });

  it('applies migrations with `hookline migrate`', () => {
    const res = spawnSync(process.execPath, [BIN, 'migrate'], {
      env: { ...process.env, HOOKLINE_DATA_DIR: dataDir },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(res.status).toBe(0);
    expect(res.stdout).toContain('up to date');
  });
});
