/**
 * Generates the OpenAPI document without a database or a listening socket: the routes are registered against
 * throw-away services on an in-memory SQLite, then `app.swagger()` is read. Used by `npm run openapi` and by the test
 * that keeps the committed `openapi.json` true to the code.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../config/config.js';
import { createCore } from '../bootstrap.js';
import { buildApp } from './app.js';

export async function generateOpenApi(): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hookline-openapi-'));
  const config = loadConfig({
    HOOKLINE_DATA_DIR: dir,
    HOOKLINE_ADMIN_KEY: 'openapi-generation-only-key-000000',
    HOOKLINE_LOG_LEVEL: 'silent',
  });
  const core = await createCore(config);
  try {
    const app = await buildApp({ config, db: core.db, services: core.services });
    await app.ready();
    const doc = `${JSON.stringify(app.swagger(), null, 2)}\n`;
    await app.close();
    return doc;
  } finally {
    await core.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
