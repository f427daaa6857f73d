/**
 * A service running Python fixture packs on the st2 runtime (built once for the run by
 * st2-runtime-setup.ts, vitest's global setup): the packs directory, the service and its API.
 */
import { cpSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { isCompleted } from '../../src/executions/index.js';
import { tempDir } from './servers.js';
import { sensorPackSubsystems, startTestService } from './test-service.js';
import { waitFor } from './wait.js';

type Json = Record<string, any>;

const FIXTURE_PACKS = path.resolve(import.meta.dirname, '../fixtures/packs');

/** A service running Python fixture packs with the st2 runtime, and what the tests ask it. */
export interface St2PackService {
  svc: Awaited<ReturnType<typeof startTestService>>;
  /** An API call without auth; the body parsed as JSON (null when empty). */
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }>;
  /** Runs an action through the API and waits for it to complete; the execution. */
  run(action: string, parameters?: Json, timeoutMs?: number): Promise<Json>;
}

/**
 * A packs directory holding copies of these fixture packs (test/fixtures/packs/<name>), for a
 * test to add to before it starts the service with `startSt2PackService`.
 */
export function fixturePacksDir(packs: string[]): { dir: string; cleanup: () => void } {
  const packsDir = tempDir();
  for (const pack of packs)
    cpSync(path.join(FIXTURE_PACKS, pack), path.join(packsDir.dir, pack), { recursive: true });
  return packsDir;
}

/**
 * Starts a service (auth off) on the packs in `packsDir` with `sensorPack`'s sensors running (the
 * other packs' sensors disabled), as st2's python runner and sensor container would run them.
 */
export async function startSt2PackService(options: {
  packsDir: string;
  sensorPack: string;
  config?: Record<string, unknown>;
}): Promise<St2PackService> {
  const svc = await startTestService({
    subsystems: sensorPackSubsystems(options.sensorPack),
    config: { 'auth.enable': false, 'packs.paths': [options.packsDir], ...options.config },
  });
  const api: St2PackService['api'] = async (method, p, body) => {
    const res = await fetch(`${svc.url}${p}`, {
      method,
      headers: body ? { 'content-type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as Json };
  };
  const run: St2PackService['run'] = async (action, parameters = {}, timeoutMs = 30_000) => {
    const res = await api('POST', '/api/v1/executions', { action, parameters });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return waitFor(
      async () => {
        const { body } = await api('GET', `/api/v1/executions/${res.body.id}`);
        return isCompleted(body.status) ? body : null;
      },
      `${action} to finish`,
      timeoutMs,
    );
  };
  return { svc, api, run };
}
