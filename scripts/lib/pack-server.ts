// An in-process Squall with packs from elsewhere (st2's contrib/examples, st2tests' packs)
// registered into it, for the acceptance scripts that run st2's own tests against Squall
// (scripts/st2-self-check, scripts/st2-wiring).
import { cpSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { loadConfig } from '../../src/config/index.js';
import { loadPacks } from '../../src/content/index.js';
import { registerLoadedPack } from '../../src/content/register.js';
import { silentLogger } from '../../src/log/index.js';
import { startService, type RunningService } from '../../src/service/index.js';
import { defaultSubsystems } from '../../src/subsystems.js';
import { PACK_VENVS } from './pack-venvs.js';

/** True when nothing listens on 127.0.0.1:`port`. */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/** Copies each pack (ref -> its directory) to `packsDir`/<ref>, where the server will load it from. */
export function copyPacks(sources: Record<string, string>, packsDir: string): void {
  for (const [ref, src] of Object.entries(sources))
    cpSync(src, path.join(packsDir, ref), { recursive: true });
}

export interface PackServerOptions {
  /** Names the script in what it prints. */
  label: string;
  /** The run's own directory: the store's data lives in `dir`/data. */
  dir: string;
  /** Where copyPacks put them. */
  packsDir: string;
  /** The packs to register, in this order; each over a bundled pack of the same ref. */
  refs: string[];
  /** MongoDB or FerretDB instead of the embedded store. */
  mongoUrl?: string;
  /** The rest of the configuration (port, roles, auth). */
  overrides: Record<string, unknown>;
}

/**
 * Starts Squall (its logs silent, the packs' virtualenvs in PACK_VENVS) and registers the packs
 * as a user's installed packs would be. Throws, with the service stopped, when one does not load;
 * files of them that do not load are reported on stderr.
 */
export async function startWithPacks(options: PackServerOptions): Promise<RunningService> {
  const { config } = loadConfig({
    env: {},
    overrides: {
      data_dir: path.join(options.dir, 'data'),
      ...(options.mongoUrl ? { 'store.url': options.mongoUrl } : {}),
      'packs.virtualenvs_dir': PACK_VENVS,
      'log.level': 'silent',
      ...options.overrides,
    },
  });
  const running = await startService({
    config,
    logger: silentLogger(),
    subsystems: defaultSubsystems(config),
  });
  try {
    const loaded = await loadPacks(
      options.refs.map((r) => path.join(options.packsDir, r)),
      { configDir: config.packs.config_dir! },
    );
    for (const ref of options.refs) {
      const pack = loaded.packs.find((p) => p.ref === ref);
      if (!pack)
        throw new Error(`${options.label}: pack ${ref} did not load: ${JSON.stringify(loaded.problems)}`);
      await registerLoadedPack(running.services.store, pack);
    }
    for (const p of loaded.problems.filter((x) => x.severity === 'error'))
      process.stderr.write(`${options.label}: did not load: ${JSON.stringify(p)}\n`);
  } catch (err) {
    await running.stop();
    throw err;
  }
  return running;
}
