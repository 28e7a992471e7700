/**
 * Configuration: the environment, read once, validated, typed. Nothing else in Hookline reads `process.env`
 * (Svix `cfg.rs`). A bad value stops the process with a message naming the variable.
 */
import path from 'node:path';

export type Role = 'api' | 'worker' | 'all';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  port: number;
  host: string;
  /** `postgres://…` for PostgreSQL; otherwise the SQLite file path. */
  database: { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string };
  dataDir: string;
  /** Root key from the environment; when absent the first start generates one and stores only its hash. */
  adminKey: string | null;
  /** 32-byte key (base64) encrypting webhook secrets at rest; when absent a key file in the data dir is used. */
  encryptionKey: Buffer | null;
  allowPrivateTargets: boolean;
  logLevel: LogLevel;
  role: Role;
  bodyLimitBytes: number;
  /** `POST /v1/events/batch` carries up to 1 000 events: its own, larger limit. */
  batchBodyLimitBytes: number;
  secretRotationGraceSeconds: number;
  retentionDays: number;
  delivery: {
    concurrency: number;
    perWebhookConcurrency: number;
    /** Keep-alive connections per target origin: shared by every webhook on that host and port. */
    connectionsPerOrigin: number;
    /** Make the webhook calls on a thread of their own (the main thread keeps the API, the queue and the database). */
    senderThread: boolean;
    defaultTimeoutMs: number;
    maxTimeoutMs: number;
    responseBodyLimitBytes: number;
    leaseSeconds: number;
    maxRetryAfterSeconds: number;
    circuitFailureThreshold: number;
    circuitCooldownSeconds: number;
    autoDisableAfterHours: number;
    pollIntervalMs: number;
  };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

class Reader {
  readonly problems: string[] = [];
  constructor(private readonly env: Env) {}

  raw(name: string): string | undefined {
    const v = this.env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
      this.problems.push(`${name} must be a whole number between ${min} and ${max} (got "${v}")`);
      return fallback;
    }
    return Number(v);
  }

  bool(name: string, fallback: boolean): boolean {
    const v = this.raw(name)?.toLowerCase();
    if (v === undefined) return fallback;
    if (['true', '1', 'yes', 'on'].includes(v)) return true;
    if (['false', '0', 'no', 'off'].includes(v)) return false;
    this.problems.push(`${name} must be true or false (got "${v}")`);
    return fallback;
  }

  oneOf<T extends string>(name: string, values: readonly T[], fallback: T): T {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    if (!(values as readonly string[]).includes(v)) {
      this.problems.push(`${name} must be one of ${values.join(', ')} (got "${v}")`);
      return fallback;
    }
    return v as T;
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const ROLES = ['api', 'worker', 'all'] as const;

export function loadConfig(env: Env = process.env, overrides: { role?: Role } = {}): Config {
  const r = new Reader(env);
  const dataDir = path.resolve(r.string('HOOKLINE_DATA_DIR', './data'));

  let database: Config['database'] = { kind: 'sqlite', file: path.join(dataDir, 'hookline.db') };
  const dbUrl = r.raw('HOOKLINE_DATABASE_URL');
  if (dbUrl !== undefined) {
    if (/^postgres(ql)?:\/\//.test(dbUrl)) database = { kind: 'postgres', url: dbUrl };
    else if (dbUrl.startsWith('sqlite:'))
      database = { kind: 'sqlite', file: path.resolve(dbUrl.slice('sqlite:'.length)) };
    else r.problems.push('HOOKLINE_DATABASE_URL must start with postgres:// (or sqlite: followed by a file path)');
  }

  const adminKey = r.raw('HOOKLINE_ADMIN_KEY') ?? null;
  if (adminKey !== null && adminKey.length < 24) {
    r.problems.push('HOOKLINE_ADMIN_KEY must be at least 24 characters long');
  }

  let encryptionKey: Buffer | null = null;
  const encRaw = r.raw('HOOKLINE_ENCRYPTION_KEY');
  if (encRaw !== undefined) {
    const buf = Buffer.from(encRaw, 'base64');
    if (buf.length !== 32) r.problems.push('HOOKLINE_ENCRYPTION_KEY must be 32 bytes encoded in base64');
    else encryptionKey = buf;
  }

  const host = r.string('HOOKLINE_HOST', '127.0.0.1');
  const config: Config = {
    port: r.int('HOOKLINE_PORT', 8080, 0, 65535),
    host,
    database,
    dataDir,
    adminKey,
    encryptionKey,
    allowPrivateTargets: r.bool('HOOKLINE_ALLOW_PRIVATE_TARGETS', false),
    logLevel: r.oneOf('HOOKLINE_LOG_LEVEL', LOG_LEVELS, 'info'),
    role: overrides.role ?? r.oneOf('HOOKLINE_ROLE', ROLES, 'all'),
    bodyLimitBytes: r.int('HOOKLINE_BODY_LIMIT_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
    batchBodyLimitBytes: r.int('HOOKLINE_BATCH_BODY_LIMIT_BYTES', 16 * 1024 * 1024, 1024, 256 * 1024 * 1024),
    secretRotationGraceSeconds: r.int('HOOKLINE_SECRET_ROTATION_GRACE_SECONDS', 24 * 3600, 0, 30 * 24 * 3600),
    retentionDays: r.int('HOOKLINE_RETENTION_DAYS', 14, 1, 3650),
    delivery: {
      concurrency: r.int('HOOKLINE_WORKER_CONCURRENCY', 200, 1, 10_000),
      perWebhookConcurrency: r.int('HOOKLINE_PER_WEBHOOK_CONCURRENCY', 10, 1, 1000),
      connectionsPerOrigin: r.int('HOOKLINE_CONNECTIONS_PER_ORIGIN', 128, 1, 10_000),
      senderThread: r.bool('HOOKLINE_SENDER_THREAD', true),
      defaultTimeoutMs: r.int('HOOKLINE_DEFAULT_TIMEOUT_MS', 15_000, 100, 300_000),
      maxTimeoutMs: r.int('HOOKLINE_MAX_TIMEOUT_MS', 60_000, 100, 300_000),
      responseBodyLimitBytes: r.int('HOOKLINE_RESPONSE_BODY_LIMIT_BYTES', 64 * 1024, 0, 10 * 1024 * 1024),
      leaseSeconds: r.int('HOOKLINE_LEASE_SECONDS', 120, 5, 3600),
      maxRetryAfterSeconds: r.int('HOOKLINE_MAX_RETRY_AFTER_SECONDS', 3600, 0, 86_400),
      circuitFailureThreshold: r.int('HOOKLINE_CIRCUIT_FAILURE_THRESHOLD', 10, 1, 100_000),
      circuitCooldownSeconds: r.int('HOOKLINE_CIRCUIT_COOLDOWN_SECONDS', 60, 1, 86_400),
      autoDisableAfterHours: r.int('HOOKLINE_AUTO_DISABLE_AFTER_HOURS', 120, 1, 24 * 365),
      pollIntervalMs: r.int('HOOKLINE_POLL_INTERVAL_MS', 1000, 10, 60_000),
    },
  };
  if (config.delivery.defaultTimeoutMs > config.delivery.maxTimeoutMs) {
    r.problems.push('HOOKLINE_DEFAULT_TIMEOUT_MS must not exceed HOOKLINE_MAX_TIMEOUT_MS');
  }
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return config;
}

/** The start-up summary: what runs where, with secrets masked. */
export function describeConfig(config: Config): Record<string, unknown> {
  const db =
    config.database.kind === 'postgres'
      ? config.database.url.replace(/\/\/([^:@/]+):([^@/]*)@/, '//$1:****@')
      : `sqlite:${config.database.file}`;
  return {
    listen: `http://${config.host}:${config.port}`,
    database: db,
    dataDir: config.dataDir,
    role: config.role,
    adminKey: config.adminKey === null ? '(stored hash)' : '****',
    encryptionKey: config.encryptionKey === null ? '(key file in data dir)' : '****',
    allowPrivateTargets: config.allowPrivateTargets,
    retentionDays: config.retentionDays,
  };
}
