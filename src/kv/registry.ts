import { SquallError } from '../errors.js';
import type { Services } from '../service/index.js';
import type { KeyValueService } from './service.js';

const registry = new WeakMap<Services, KeyValueService>();

export function registerKeyValueService(services: Services, kv: KeyValueService): void {
  registry.set(services, kv);
}

/** The datastore of a running process (created by the kv subsystem's init). */
export function getKeyValueService(services: Services): KeyValueService {
  const kv = registry.get(services);
  if (!kv) {
    throw new SquallError(
      'KV_NOT_INITIALISED',
      'the kv subsystem is not part of this process: add kvSubsystem() to the subsystems',
      {},
      500,
    );
  }
  return kv;
}
