import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { tempDir } from '../../support/servers.js';
import { ROOT } from '../../support/service-process.js';

/** The commonest first-start failure: the API's port is taken (another Squall, a dev server…). */
const data = tempDir();
let taken: Server;
let port: number;

beforeAll(async () => {
  taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  port = (taken.address() as { port: number }).port;
});
afterAll(async () => {
  await new Promise((resolve) => taken.close(resolve));
  data.cleanup();
});

it('squall start on a port in use says which port, what to do, and exits 1', async () => {
  const { code, stderr } = await new Promise<{ code: number; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/run.ts', 'start', '--port', String(port)],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          SQUALL_DATA_DIR: data.dir,
          SQUALL_LOG_LEVEL: 'warn',
          SQUALL_CHATOPS_ENABLE: 'false',
        },
        timeout: 60_000,
      },
      (err, _stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? -1) : 0, stderr }),
    );
  });
  expect(code).toBe(1);
  expect(stderr).toContain(`squall: cannot listen on 127.0.0.1:${port}: the port is already in use`);
  expect(stderr).toContain(
    `hint: stop the other process, or start on another port: squall start --port ${port + 1}`,
  );
  // One line for humans, not a stack trace.
  expect(stderr).not.toMatch(/\n\s+at /);
}, 90_000);
