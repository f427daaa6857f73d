import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.js';
import { defaultSubsystems } from '../../../src/subsystems.js';
import { startTestApi, type TestApi } from '../../support/api.js';

describe('GET /metrics (prom-client loaded at the first scrape)', () => {
  let api: TestApi;

  beforeAll(async () => {
    const { config } = loadConfig({ env: {}, overrides: {} });
    api = await startTestApi({
      subsystems: defaultSubsystems(config).filter((s) => s.name !== 'auth' && s.name !== 'kv'),
    });
  }, 120_000);

  afterAll(async () => {
    await api?.stop();
  });

  it("answers Prometheus' text format with Squall's and the runtime's metrics, at every scrape", async () => {
    for (let i = 0; i < 2; i++) {
      const res = await api.request('GET', '/metrics');
      expect(res.status).toBe(200);
      const text = String(res.body);
      expect(text).toContain('squall_execution_queue_depth');
      expect(text).toContain('squall_execution_queue_limit');
      expect(text).toContain('squall_process_cpu_user_seconds_total');
    }
  });
});
