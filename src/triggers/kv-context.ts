import { SquallError } from '../errors.js';
import type { HiddenValue } from '../executions/index.js';
import { getKeyValueService } from '../kv/index.js';
import type { Services } from '../service/index.js';

export interface KvContext {
  st2kv: { system: Record<string, unknown>; user: Record<string, unknown> };
  decrypt?: (ciphertext: string) => string;
  /**
   * What `decrypt` handed out, when the caller tracks it: as an execution request's `secrets`
   * (masked in its parameters, redacted from its output), which is where it goes.
   */
  secrets?: HiddenValue[];
}

/**
 * Datastore values for Jinja's `st2kv` (empty when this process has no datastore, or when
 * `snapshot` is false: no template to render reaches the datastore, so no key is read).
 */
export async function kvContext(services: Services, user?: string, snapshot = true): Promise<KvContext> {
  let kv;
  try {
    kv = getKeyValueService(services);
  } catch (err) {
    // A process without the kv subsystem renders with an empty datastore, as documented.
    if (err instanceof SquallError && err.code === 'KV_NOT_INITIALISED')
      return { st2kv: { system: {}, user: {} } };
    throw err;
  }
  const snap = snapshot ? await kv.snapshot(user) : { system: {}, user: {} };
  return { st2kv: { system: snap.system, user: snap.user }, decrypt: (c) => kv.decrypt(c) };
}
