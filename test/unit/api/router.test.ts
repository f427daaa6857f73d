import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiRouter } from '../../../src/api/router.js';

/**
 * The router dispatches a request by its path's first three segments before Express's walk of
 * every route: which route answers must stay what Express alone would pick (first registered
 * match, paths without case, a trailing slash allowed, HEAD by GET, OPTIONS left unanswered).
 */
describe('API route dispatch', () => {
  let server: Server;
  let base: string;

  beforeAll(async () => {
    const router = new ApiRouter();
    const route = (method: 'get' | 'post', path: string, answer: string) =>
      router.add({ method, path, summary: answer, tag: 't', handler: () => ({ answer }) });
    route('get', '/api/v1/things/:id', 'thing by id');
    // Registered after the :id route, which matches it first, as in Express.
    route('get', '/api/v1/things/special', 'never');
    route('get', '/:api/v1/first/*rest', 'first segment is a parameter');
    route('get', '/api/v1/first/literal', 'behind the parameter route');
    route('post', '/api/v1/hooks/*hook', 'hook');
    route('get', '/api/v1/health', 'health');
    route('get', '/metrics', 'short path');
    const app = express();
    router.mount(app, async () => undefined);
    app.use((_req, res) => void res.status(404).json({ answer: 'no route' }));
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  const answer = async (method: string, path: string) => {
    const res = await fetch(base + path, { method, ...(method === 'POST' ? { body: '{}' } : {}) });
    const text = await res.text();
    return `${res.status} ${text ? (JSON.parse(text) as { answer: string }).answer : ''}`;
  };

  it('answers with the first registered route that matches, whatever its first segments', async () => {
    expect(await answer('GET', '/api/v1/things/special')).toBe('200 thing by id');
    expect(await answer('GET', '/api/v1/first/literal')).toBe('200 first segment is a parameter');
    expect(await answer('POST', '/api/v1/hooks/a/b')).toBe('200 hook');
    expect(await answer('GET', '/metrics')).toBe('200 short path');
  });

  it('matches paths without case, with a trailing slash or a query, and HEAD as GET', async () => {
    expect(await answer('GET', '/API/V1/Things/x')).toBe('200 thing by id');
    expect(await answer('GET', '/api/v1/health/')).toBe('200 health');
    expect(await answer('GET', '/api/v1/health?x=/a/b')).toBe('200 health');
    expect(await answer('HEAD', '/api/v1/health')).toBe('200 ');
  });

  it('passes on what no route answers: another method, OPTIONS, an unknown path', async () => {
    expect(await answer('POST', '/api/v1/health')).toBe('404 no route');
    expect(await answer('OPTIONS', '/api/v1/health')).toBe('404 no route');
    expect(await answer('GET', '/api/v1/hooks/x')).toBe('404 no route');
    expect(await answer('GET', '/api/v1/nothing')).toBe('404 no route');
  });
});
