import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';

/** Debian's chromium; the tests never download a browser. */
export const CHROMIUM_PATH = process.env.SQUALL_CHROMIUM_PATH ?? '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM_PATH);
export const SCREENSHOT_DIR = path.resolve('test-results', 'screenshots');

export interface BrowserSession {
  context: BrowserContext;
  page: Page;
  /** console.error messages (with the page location) and uncaught page errors, in order. */
  consoleErrors: string[];
  /** Requests that failed at the network level or answered 4xx/5xx: `METHOD URL: status`. */
  failedRequests: string[];
  /**
   * Declares one failure the test provokes on purpose (the 401 of a wrong password, the 400 of an
   * invalid form): the next failed request matching `request` (`METHOD URL: status`) and the
   * browser's console line about it are expected. `assertClean()` fails if it did not happen.
   */
  expectFailure(request: RegExp): void;
  /**
   * Fails the test unless every failed request and console error since the last call was
   * declared with expectFailure (and every declared one happened); then starts afresh.
   */
  assertClean(): Promise<void>;
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

/** Chromium logs every 4xx/5xx response as a console error naming the URL. */
const RESOURCE_ERROR = /^Failed to load resource: the server responded with a status of (\d{3})/;

/**
 * What assertClean() checks, apart from the page: `failed` and `console` lose the expected
 * entries; returns the problems (unexpected failures, expected ones that did not happen).
 */
export function unexpectedFailures(failed: string[], consoleErrors: string[], expected: RegExp[]): string[] {
  const problems: string[] = [];
  const requests = [...failed];
  const logged = [...consoleErrors];
  for (const pattern of expected) {
    const i = requests.findIndex((r) => pattern.test(r));
    if (i < 0) {
      problems.push(`expected a failed request matching ${pattern}, there was none`);
      continue;
    }
    const [hit] = requests.splice(i, 1);
    // the console line about that response: same status, same URL
    const [, url, status] = /^\S+ (\S+): (\d{3})$/.exec(hit) ?? [];
    const j = logged.findIndex((c) => RESOURCE_ERROR.exec(c)?.[1] === status && c.includes(`(${url})`));
    if (j >= 0) logged.splice(j, 1);
  }
  problems.push(...requests.map((r) => `unexpected failed request: ${r}`));
  problems.push(...logged.map((c) => `console error: ${c}`));
  return problems;
}

/** Headless chromium with a fresh profile, recording console errors and failed requests. */
export async function openBrowser(baseURL: string): Promise<BrowserSession> {
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(path.join(os.tmpdir(), 'squall-chromium-'));
  // A persistent context on a fresh directory: the profile is ours, and removed on close.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    baseURL,
    viewport: { width: 1280, height: 860 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const consoleErrors: string[] = [];
  const failedRequests: string[] = [];
  const expected: RegExp[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(`${msg.text()} (${msg.location().url})`);
  });
  page.on('pageerror', (err) => consoleErrors.push(`uncaught: ${err.message}`));
  page.on('requestfailed', (req) => {
    const reason = req.failure()?.errorText ?? 'failed';
    // Leaving a page aborts its open event streams and the reads it no longer needs (the page's
    // AbortController, or the navigation): the client's choice, not a failure.
    if (reason.includes('ERR_ABORTED') && (req.url().includes('/stream/') || req.method() === 'GET')) return;
    failedRequests.push(`${req.method()} ${req.url()}: ${reason}`);
  });
  page.on('response', (res) => {
    if (res.status() >= 400) failedRequests.push(`${res.request().method()} ${res.url()}: ${res.status()}`);
  });
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return {
    context,
    page,
    consoleErrors,
    failedRequests,
    expectFailure(request) {
      expected.push(request);
    },
    async assertClean() {
      // A round trip through the page delivers the console lines it logged before now.
      await page.evaluate(() => 0);
      const problems = unexpectedFailures(failedRequests, consoleErrors, expected.splice(0));
      failedRequests.length = 0;
      consoleErrors.length = 0;
      if (problems.length) throw new Error(`the browser saw problems:\n  ${problems.join('\n  ')}`);
    },
    async screenshot(name) {
      const file = path.join(SCREENSHOT_DIR, `${name}.png`);
      // a picture of a signed-in page shows it as a user has it: live, not still connecting
      // (a page without live content drops the stream a second after the one before it left, so
      // "no indicator" is as good as "live")
      await page.locator('.stream:not(.stream-open)').waitFor({ state: 'detached', timeout: 15_000 });
      await page.screenshot({ path: file, fullPage: false });
      return file;
    },
    async close() {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Starts collecting long tasks (main-thread blocks over 50 ms) in every document of the page. */
export async function recordLongTasks(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const w = globalThis as unknown as { __longTasks: number[] };
    w.__longTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) w.__longTasks.push(e.duration);
    }).observe({ type: 'longtask' as never, buffered: true });
  });
}

/** Long-task durations (ms) since the last call; throws when the recorder is missing. */
export async function takeLongTasks(page: Page): Promise<number[]> {
  return page.evaluate(() => {
    const w = globalThis as unknown as { __longTasks: number[] };
    if (!Array.isArray(w.__longTasks)) throw new Error('long-task recorder not installed in this document');
    const out = [...w.__longTasks];
    w.__longTasks = [];
    return out;
  });
}
