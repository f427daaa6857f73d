import { chatopsSubsystem, type ChatAdapter } from '../chatops/index.js';
import { contentSubsystem } from '../content/index.js';
import { executionsSubsystem } from '../executions/index.js';
import { kvSubsystem, loadOrCreateKey, secretBox } from '../kv/index.js';
import { authSubsystem, kvSettings } from '../auth/index.js';
import { createLogger } from '../log/index.js';
import { loadConfig } from '../config/index.js';
import { startService, type RunningService } from '../service/index.js';

/**
 * An in-process Squall for `squall chat --local`: packs, executions, datastore and chat; auth off,
 * port chosen freely. Its own module, loaded on demand, so that `squall chat` against a server and
 * `--help` do not load the service.
 */
export async function startLocalChat(adapter: ChatAdapter, dataDir?: string): Promise<RunningService> {
  const { config } = loadConfig({
    overrides: { data_dir: dataDir, 'api.port': 0, 'api.host': '127.0.0.1', 'auth.enable': false },
  });
  const logger = createLogger({
    level: process.env.SQUALL_LOG_LEVEL ?? 'warn',
    format: 'json',
    destination: process.stderr,
  });
  const executions = executionsSubsystem();
  return startService({
    config,
    logger,
    subsystems: [
      {
        name: 'local-secrets',
        init(services) {
          const { key } = loadOrCreateKey(kvSettings(config).encryption_key_path);
          services.secrets = secretBox(key);
        },
      },
      kvSubsystem(),
      // Auth is off, but the API routes the built-in chat commands call (keys, inquiries) read
      // who is calling from it: without it they answered 401 and chat said "you're not linked".
      authSubsystem(),
      contentSubsystem(),
      executions,
      chatopsSubsystem(() => executions.service(), { adapters: [adapter] }),
    ],
  });
}
