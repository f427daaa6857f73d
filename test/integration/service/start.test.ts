import { expect, it } from 'vitest';
import { STORE_TARGETS, describeWithServer, freshMongoUrl, tempDir } from '../../support/servers.js';
import { startServiceProcess } from '../../support/service-process.js';

for (const target of STORE_TARGETS) {
  describeWithServer(
    `squall start (${target.kind})`,
    'MongoDB (SQUALL_TEST_MONGO_URL)',
    target.available,
    () => {
      it(`serves /api/v1/health reporting the ${target.kind} store, and stops cleanly on SIGTERM`, async () => {
        const { dir, cleanup } = tempDir();
        const env = target.kind === 'mongo' ? { SQUALL_MONGO_URL: freshMongoUrl() } : {};
        const svc = await startServiceProcess(['--data-dir', dir], env);
        try {
          const res = await fetch(`${svc.url}/api/v1/health`);
          expect(res.status).toBe(200);
          expect(res.headers.get('x-request-id')).toBeTruthy();
          const body = (await res.json()) as Record<string, unknown>;
          expect(body).toMatchObject({ status: 'ok', store: target.kind, version: expect.any(String) });
          expect(body.uptime).toEqual(expect.any(Number));
        } finally {
          const { code } = await svc.stop('SIGTERM');
          cleanup();
          expect(code).toBe(0);
        }
      });
    },
  );
}

it('exits with code 2 and names the key on a bad configuration', async () => {
  const { dir, cleanup } = tempDir();
  await expect(startServiceProcess(['--data-dir', dir], { SQUALL_API_PORT: 'many' }, 20_000)).rejects.toThrow(
    /exited \(2\)[\s\S]*SQUALL_API_PORT: expected an integer, got "many"/,
  );
  cleanup();
});
