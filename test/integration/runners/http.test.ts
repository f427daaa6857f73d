import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { getRunner } from '../../../src/runners/index.js';
import { fakeContext } from '../../support/runner-context.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

const http = getRunner('http-request')!;
let server: Server;
let base: string;
const seen: Seen[] = [];
const endlessClosed: number[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const u = new URL(req.url ?? '/', 'http://x');
      if (u.pathname === '/json') {
        res.writeHead(200, { 'Content-Type': 'application/json', 'X-Test': 'yes' });
        res.end(JSON.stringify({ hello: 'world', query: Object.fromEntries(u.searchParams) }));
      } else if (u.pathname === '/echo') {
        res.writeHead(201, { 'Content-Type': 'application/json' });
        res.end(
          JSON.stringify({
            method: req.method,
            body,
            contentType: req.headers['content-type'] ?? null,
            auth: req.headers.authorization ?? null,
            cookie: req.headers.cookie ?? null,
          }),
        );
      } else if (u.pathname === '/redirect') {
        res.writeHead(302, { Location: '/json' });
        res.end();
      } else if (u.pathname === '/endless') {
        // A stream that never ends (a log tail, a video): only the client closing stops it.
        res.writeHead(200, { 'Content-Type': 'application/json' });
        const chunk = Buffer.alloc(64 * 1024, 'y');
        const pump = (): void => {
          while (!res.destroyed && res.write(chunk));
          if (!res.destroyed) res.once('drain', pump);
        };
        res.on('close', () => endlessClosed.push(Date.now()));
        pump();
      } else if (u.pathname === '/slow') {
        setTimeout(() => res.end('late'), 5000);
      } else {
        res.writeHead(404, { 'Content-Type': 'text/plain' });
        res.end('not here');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  seen.length = 0;
});

describe('http-request against a local HTTP server', () => {
  it('keeps the first executions.max_output_chars bytes of an endless body, closes the connection and says so', async () => {
    const ctx = fakeContext({ runner: 'http-request', runnerParameters: { url: `${base}/endless` } });
    ctx.maxOutputChars = 1024 * 1024;
    const res = await http.run(ctx);
    const result = res.result as { status_code: number; body: string; parsed: boolean };
    expect(res.status).toBe('succeeded');
    expect(result.status_code).toBe(200);
    expect(result.parsed).toBe(false);
    expect(
      result.body.startsWith(
        'y'.repeat(1024 * 1024) + '\n[squall: the response body was cut after 1,048,576 bytes',
      ),
    ).toBe(true);
    await expect.poll(() => endlessClosed.length).toBe(1);
  });

  it('GETs JSON and returns status_code, parsed body and headers', async () => {
    const ctx = fakeContext({
      runner: 'http-request',
      runnerParameters: { url: `${base}/json` },
      actionParameters: { params: { q: 'a b' } },
    });
    const res = await http.run(ctx);
    expect(res.status).toBe('succeeded');
    expect(res.result).toMatchObject({
      status_code: 200,
      parsed: true,
      body: { hello: 'world', query: { q: 'a b' } },
    });
    expect((res.result as { headers: Record<string, string> }).headers['x-test']).toBe('yes');
  });

  it('POSTs an object body as JSON with basic auth and cookies', async () => {
    const ctx = fakeContext({
      runner: 'http-request',
      runnerParameters: { url: `${base}/echo`, username: 'u', password: 'p', cookies: { a: '1', b: '2' } },
      actionParameters: { body: { x: 1 } },
    });
    const res = await http.run(ctx);
    expect(res.status).toBe('succeeded');
    expect((res.result as { body: unknown }).body).toEqual({
      method: 'POST',
      body: '{"x":1}',
      contentType: 'application/json',
      auth: `Basic ${Buffer.from('u:p').toString('base64')}`,
      cookie: 'a=1; b=2',
    });
  });

  it('fails on a 404 and keeps the text body unparsed', async () => {
    const ctx = fakeContext({ runner: 'http-request', runnerParameters: { url: `${base}/missing` } });
    const res = await http.run(ctx);
    expect(res.status).toBe('failed');
    expect(res.result).toMatchObject({ status_code: 404, body: 'not here', parsed: false });
  });

  it('does not follow redirects unless allow_redirects is set', async () => {
    const noFollow = await http.run(
      fakeContext({ runner: 'http-request', runnerParameters: { url: `${base}/redirect` } }),
    );
    expect(noFollow.status).toBe('failed');
    expect((noFollow.result as { status_code: number }).status_code).toBe(302);
    const follow = await http.run(
      fakeContext({
        runner: 'http-request',
        runnerParameters: { url: `${base}/redirect`, allow_redirects: true },
      }),
    );
    expect(follow.status).toBe('succeeded');
    expect((follow.result as { body: { hello: string } }).body.hello).toBe('world');
  });

  it('refuses a blacklisted host before making any request', async () => {
    const ctx = fakeContext({
      runner: 'http-request',
      runnerParameters: { url: `${base}/json`, url_hosts_blacklist: ['127.0.0.1'] },
    });
    await expect(http.run(ctx)).rejects.toMatchObject({
      code: 'HTTP_HOST_DENIED',
      message: expect.stringContaining('url_hosts_blacklist'),
    });
    expect(seen).toHaveLength(0);
  });

  it('refuses a host missing from the whitelist before making any request', async () => {
    const ctx = fakeContext({
      runner: 'http-request',
      runnerParameters: { url: `${base}/json`, url_hosts_whitelist: ['example.com'] },
    });
    await expect(http.run(ctx)).rejects.toMatchObject({
      code: 'HTTP_HOST_DENIED',
      message: expect.stringContaining('url_hosts_whitelist'),
    });
    expect(seen).toHaveLength(0);
  });

  it('allows a whitelisted host', async () => {
    const ctx = fakeContext({
      runner: 'http-request',
      runnerParameters: { url: `${base}/json`, url_hosts_whitelist: ['127.0.0.1'] },
    });
    expect((await http.run(ctx)).status).toBe('succeeded');
    expect(seen).toHaveLength(1);
  });

  it('times out with st2 status and message', async () => {
    const ctx = fakeContext({
      runner: 'http-request',
      runnerParameters: { url: `${base}/slow` },
      actionParameters: { timeout: 1 },
    });
    const res = await http.run(ctx);
    expect(res).toEqual({ status: 'timeout', result: { error: 'Action failed to complete in 1 seconds' } });
  });

  it('is canceled through the abort signal', async () => {
    const ctx = fakeContext({ runner: 'http-request', runnerParameters: { url: `${base}/slow` } });
    const running = http.run(ctx);
    setTimeout(() => ctx.abort.abort(), 200);
    expect((await running).status).toBe('canceled');
  });

  it('reports a refused connection as a failed result naming the URL', async () => {
    const ctx = fakeContext({ runner: 'http-request', runnerParameters: { url: 'http://127.0.0.1:1/x' } });
    const res = await http.run(ctx);
    expect(res.status).toBe('failed');
    expect((res.result as { error: string }).error).toMatch(/127\.0\.0\.1:1\/x.*ECONNREFUSED/);
  });
});
