import { kvSettings } from '../auth/index.js';
import type { Services, Subsystem } from '../service/index.js';
import { loadOrCreateKey } from './crypto.js';
import { getKeyValueService, registerKeyValueService } from './registry.js';
import { kvRoutes } from './routes.js';
import { KeyValueService } from './service.js';

export { getKeyValueService } from './registry.js';

/**
 * The key-value datastore: loads (or on first start generates) the encryption key, serves
 * /api/v1/keys and deletes expired keys every `kv.purge_interval_ms`.
 */
export function kvSubsystem(): Subsystem {
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<unknown> | undefined;
  return {
    name: 'kv',
    routes: kvRoutes,
    init(services: Services) {
      const settings = kvSettings(services.config);
      const { key, created } = loadOrCreateKey(settings.encryption_key_path);
      if (created) {
        services.logger.info(
          { file: settings.encryption_key_path },
          'generated the datastore encryption key',
        );
      }
      registerKeyValueService(services, new KeyValueService(services.store, key, services.bus));
    },
    start(services: Services) {
      const kv = getKeyValueService(services);
      const every = kvSettings(services.config).purge_interval_ms;
      timer = setInterval(() => {
        if (inFlight) return;
        inFlight = kv
          .purgeExpired()
          .catch((err) => services.logger.warn({ err }, 'purging expired keys failed'))
          .finally(() => (inFlight = undefined));
      }, every);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await inFlight;
    },
  };
}
