// Runs the real `squall start` (dist/) as a child process on a temp data dir (embedded store).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeBenchPack } from './pack.mjs';
import { startProcess, sleep } from './proc.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Auth is OFF for the bench (auth.enable: false): every webhook is accepted without a credential
 * lookup. Log level warn: no per-request info lines.
 */
export function writeSquallConfig(dir, packsDir, extra = {}) {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'squall.yaml');
  const cfg = {
    data_dir: path.join(dir, 'data'),
    api: { host: '127.0.0.1', port: 0 },
    auth: { enable: false },
    log: { level: 'warn', format: 'json' },
    packs: { paths: [packsDir] },
    ...extra,
  };
  writeFileSync(file, JSON.stringify(cfg, null, 2)); // JSON is YAML
  return file;
}

/** A temp directory holding the bench pack and a configuration using it (`extra` merged in). */
export function benchSquallDir(prefix, extra = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  const packs = path.join(dir, 'packs');
  writeBenchPack(packs);
  const cfg = writeSquallConfig(path.join(dir, 'squall'), packs, extra);
  return { dir, cfg, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Starts Squall; readyMs is spawn → first 200 from /api/v1/health (or, with `health: false` for a
 * process without the api role, which serves no HTTP, spawn → "Squall is up").
 */
export async function startSquall(configFile, { nodeArgs = [], env = {}, health = true } = {}) {
  const t0 = performance.now();
  const started = await startProcess(
    process.execPath,
    [...nodeArgs, path.join(ROOT, 'bin', 'squall.js'), 'start', '--config', configFile],
    {
      cwd: path.dirname(configFile),
      env: { SQUALL_AUTH_ADMIN_PASSWORD: 'bench-admin-pw', ...env },
      ready: (line) => /Squall is up: (http\S+)/.exec(line)?.[1],
      label: 'squall start',
      timeoutMs: 120_000,
    },
  );
  const url = started.value;
  while (health) {
    try {
      const res = await fetch(`${url}/api/v1/health`);
      if (res.ok) break;
    } catch {
      /* not yet */
    }
    if (performance.now() - t0 > 120_000) {
      started.child.kill('SIGKILL'); // the caller never gets it to stop
      throw new Error('squall: /api/v1/health never became healthy');
    }
    await sleep(10);
  }
  return { child: started.child, url, readyMs: performance.now() - t0, log: started.log };
}
