import { describe, expect, it } from 'vitest';
import { ConfigError, describeConfig, loadConfig } from '../../src/config/config.js';

describe('configuration', () => {
  it('has sane defaults: embedded SQLite under ./data on 127.0.0.1:8080', () => {
    const c = loadConfig({});
    expect(c.port).toBe(8080);
    expect(c.host).toBe('127.0.0.1');
    expect(c.database.kind).toBe('sqlite');
    expect(c.allowPrivateTargets).toBe(false);
    expect(c.retentionDays).toBe(14);
    expect(c.delivery.senderThread).toBe(true);
    expect(loadConfig({ HOOKLINE_SENDER_THREAD: 'false' }).delivery.senderThread).toBe(false);
  });

  it('switches to PostgreSQL with HOOKLINE_DATABASE_URL and masks its password in the summary', () => {
    const c = loadConfig({ HOOKLINE_DATABASE_URL: 'postgres://app:s3cret@db:5432/hookline' });
    expect(c.database).toEqual({ kind: 'postgres', url: 'postgres://app:s3cret@db:5432/hookline' });
    expect(JSON.stringify(describeConfig(c))).not.toContain('s3cret');
  });

  it('names every bad variable', () => {
    try {
      loadConfig({
        HOOKLINE_PORT: '99999',
        HOOKLINE_ALLOW_PRIVATE_TARGETS: 'maybe',
        HOOKLINE_LOG_LEVEL: 'loud',
        HOOKLINE_DATABASE_URL: 'mysql://x',
        HOOKLINE_ADMIN_KEY: 'short',
        HOOKLINE_SENDER_THREAD: 'sometimes',
      });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const msg = (e as Error).message;
      for (const name of [
        'HOOKLINE_PORT',
        'HOOKLINE_ALLOW_PRIVATE_TARGETS',
        'HOOKLINE_LOG_LEVEL',
        'HOOKLINE_DATABASE_URL',
        'HOOKLINE_ADMIN_KEY',
        'HOOKLINE_SENDER_THREAD',
      ]) {
        expect(msg).toContain(name);
      }
    }
  });
});
