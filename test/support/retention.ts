import { silentLogger } from '../../src/log/index.js';
import { Retention } from '../../src/scale/index.js';
import type { Services } from '../../src/service/index.js';
import type { Store } from '../../src/store/index.js';

/**
 * A Retention on `store` alone, every history limit off (0) unless `limits` sets it, in batches
 * of 2 so that batching is exercised; leases expire after `leaseTtlMs`.
 */
export function testRetention(
  store: Store,
  limits: Partial<Record<string, number>> = {},
  leaseTtlMs = 30_000,
): Retention {
  return new Retention({
    store,
    logger: silentLogger(),
    config: {
      leases: { ttl_ms: leaseTtlMs },
      retention: {
        executions_days: 0,
        executions_max_count: 0,
        execution_output_days: 0,
        trigger_instances_days: 0,
        rule_enforcements_days: 0,
        traces_days: 0,
        tokens_days: 0,
        inquiries_days: 0,
        batch_size: 2,
        batch_pause_ms: 0,
        check_every_ms: 3_600_000,
        ...limits,
      },
    },
  } as unknown as Services);
}
