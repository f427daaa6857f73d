/**
 * One Squall (every subsystem, auth on, the embedded store) and one headless chromium for a
 * browser test file, with the UI built first when its sources are newer than the build.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe } from 'vitest';
import { getAuthService } from '../../src/auth/index.js';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/log/index.js';
import { startService, type RunningService } from '../../src/service/index.js';
import { defaultSubsystems } from '../../src/subsystems.js';
import { hasChromium, openBrowser, type BrowserSession } from '../support/browser.js';
import { withCacheLock } from '../support/cache-lock.js';
import { tempDir } from '../support/servers.js';

export const requireAll = process.env.SQUALL_REQUIRE_ALL === '1';
export const PASSWORD = 'web-ui-test-password';
export const describeTitle = (what: string) =>
  `${what}${hasChromium ? '' : ' (skipped: no chromium at /usr/bin/chromium)'}`;
export const skipBrowser = !hasChromium && !requireAll;

const WEB_DIST = path.resolve('src/web/dist/index.html');

async function ensureBuilt(): Promise<void> {
  const src = path.resolve('src/web/src');
  const newest = (dir: string): number =>
    Math.max(
      ...execFileSync('find', [dir, '-type', 'f'], { encoding: 'utf8' })
        .split('\n')
        .filter(Boolean)
        .map((f) => statSync(f).mtimeMs),
    );
  const stale = (): boolean => !existsSync(WEB_DIST) || statSync(WEB_DIST).mtimeMs < newest(src);
  if (!stale()) return;
  // Browser files in two forks would both build into src/web/dist at once, and vite empties it
  // first, under the other's running server: one builds, the other waits and re-checks.
  await withCacheLock(path.dirname(WEB_DIST), async () => {
    if (!stale()) return;
    // vitest runs with NODE_ENV=test, which would make vite build React's development bundle
    // (StrictMode mounting each page twice): the tests drive the build users get.
    await promisify(execFile)('npm', ['run', 'build:web', '--silent'], {
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, NODE_ENV: 'production' },
    });
  });
}

export interface BrowserHarness {
  running: RunningService;
  b: BrowserSession;
  admin: string;
  /** A login token of the admin, for what the test does outside the browser (curl, API checks). */
  token(): Promise<string>;
  /** The API as the test sees it from outside the browser, as the admin. */
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any; text: string }>;
  /** Logs in through the form unless a session is there already (tests may run alone with -t). */
  signedIn(): Promise<void>;
  stop(): Promise<void>;
}

export async function startBrowserHarness(overrides: Record<string, unknown> = {}): Promise<BrowserHarness> {
  if (!hasChromium)
    throw new Error('chromium is required (SQUALL_REQUIRE_ALL=1) but /usr/bin/chromium is missing');
  await ensureBuilt();
  const tmp = tempDir('squall-web-');
  const { config } = loadConfig({
    env: {},
    cwd: tmp.dir,
    overrides: {
      data_dir: tmp.dir,
      'api.host': '127.0.0.1',
      'api.port': 0,
      'auth.enable': true,
      'auth.admin_password': PASSWORD,
      'log.level': 'silent',
      'scheduler.process_every_ms': 200,
      ...overrides,
    },
  });
  const running = await startService({
    config,
    logger: createLogger({ level: 'silent', format: 'json' }),
    subsystems: defaultSubsystems(config),
  });
  const auth = getAuthService(running.services);
  const admin = auth.settings.admin_username;
  let b: BrowserSession;
  try {
    b = await openBrowser(running.url);
  } catch (err) {
    await running.stop();
    tmp.cleanup();
    throw err;
  }
  const token = async () => (await auth.issueToken(admin, 3600)).token;
  let apiToken: string | undefined;
  return {
    running,
    b,
    admin,
    token,
    async api(method, p, body) {
      apiToken ??= await token();
      const res = await fetch(running.url + p, {
        method,
        headers: {
          'X-Auth-Token': apiToken,
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined, text };
    },
    async signedIn() {
      const { page } = b;
      if (page.url().startsWith(running.url)) return;
      await page.goto('/');
      await page.getByLabel('Username').fill(admin);
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('navigation', { name: 'Main' }).waitFor();
    },
    async stop() {
      await b.close();
      await running.stop();
      tmp.cleanup();
    },
  };
}

/**
 * A describe block of browser tests sharing one harness, started (with config `overrides`) before
 * them and stopped after. `h` is filled in by the block's first beforeAll, so a beforeAll of the
 * block's own (seeding, page set-up) runs with it ready. Skipped without chromium, unless
 * SQUALL_REQUIRE_ALL=1 makes its absence a failure.
 */
export function describeBrowser(what: string, body: (h: BrowserHarness) => void): void;
export function describeBrowser(
  what: string,
  overrides: Record<string, unknown>,
  body: (h: BrowserHarness) => void,
): void;
export function describeBrowser(
  what: string,
  ...args: [(h: BrowserHarness) => void] | [Record<string, unknown>, (h: BrowserHarness) => void]
): void {
  const [overrides, body] = args.length === 1 ? [{}, args[0]] : args;
  describe.skipIf(skipBrowser)(describeTitle(what), () => {
    const h = {} as BrowserHarness;
    beforeAll(async () => {
      Object.assign(h, await startBrowserHarness(overrides));
    }, 120_000);
    // Not started (its beforeAll failed): nothing to stop.
    afterAll(async () => h.stop?.());
    body(h);
  });
}
