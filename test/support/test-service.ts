import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { SquallConfig } from '../../src/config/index.js';
import { loadConfig } from '../../src/config/index.js';
import { silentLogger } from '../../src/log/index.js';
import { startService, type RunningService, type Subsystem } from '../../src/service/index.js';
import type { SecretBox } from '../../src/executions/secrets.js';
import { tempDir } from './servers.js';

/** An AES-256-GCM box with a throwaway key, for tests that do not exercise the datastore. */
export function testSecretBox(): SecretBox {
  const key = randomBytes(32);
  return {
    seal(plaintext) {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
      return Buffer.concat([iv, c.getAuthTag(), body]).toString('base64');
    },
    open(sealed) {
      const raw = Buffer.from(sealed, 'base64');
      const d = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
      d.setAuthTag(raw.subarray(12, 28));
      return Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString('utf8');
    },
  };
}

export function testSecretsSubsystem(): Subsystem {
  return {
    name: 'test-secrets',
    init(services) {
      services.secrets = testSecretBox();
    },
  };
}

export interface TestServiceOptions {
  subsystems: Subsystem[];
  mongoUrl?: string;
  dataDir?: string;
  config?: Record<string, unknown>;
}

/** An in-process Squall on a free port with a temp data dir (auth off unless a subsystem adds it). */
export async function startTestService(
  options: TestServiceOptions,
): Promise<RunningService & { config: SquallConfig; cleanup: () => Promise<void> }> {
  const tmp = options.dataDir ? undefined : tempDir();
  const { config } = loadConfig({
    env: {},
    overrides: {
      data_dir: options.dataDir ?? tmp!.dir,
      'api.port': 0,
      'store.url': options.mongoUrl,
      'scheduler.process_every_ms': 500,
      ...(options.config ?? {}),
    },
  });
  const running = await startService({ config, logger: silentLogger(), subsystems: options.subsystems });
  return {
    ...running,
    config,
    async cleanup() {
      await running.stop();
      tmp?.cleanup();
    },
  };
}
