import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { getRunner, type EgressSettings } from '../../../src/runners/index.js';
import { allSubsystems, finishedExecution, startTestApi } from '../../support/api.js';
import { fakeContext } from '../../support/runner-context.js';

/**
 * Issue 18 item 11: the http-request runner compares addresses, not spellings, and obeys the
 * config's egress policy, which no action parameter can widen.
 */

// DNS answers for made-up names; every other name resolves for real.
const fakeDns = vi.hoisted(() => new Map<string, string[]>());
vi.mock('node:dns/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:dns/promises')>();
  const lookup = (async (host: string, options: unknown) => {
    const answer = fakeDns.get(host);
    if (!answer) return (real.lookup as (h: string, o: unknown) => Promise<unknown>)(host, options);
    return answer.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  }) as typeof real.lookup;
  return { ...real, lookup, default: { ...real, lookup } };
});

const http = getRunner('http-request')!;
let server: Server;
let port: number;
const seen: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(req.url ?? '');
    if (req.url === '/to-metadata') {
      res.writeHead(302, { Location: 'http://169.254.169.254/latest/meta-data/' });
      res.end();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end('{"ok":true}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  seen.length = 0;
  fakeDns.clear();
});

function run(url: string, runnerParameters: Record<string, unknown> = {}, egress?: EgressSettings) {
  const ctx = fakeContext({ runner: 'http-request', runnerParameters: { url, ...runnerParameters } });
  return http.run({ ...ctx, signal: ctx.signal, onOutput: ctx.onOutput, ...(egress ? { egress } : {}) });
}

describe('url_hosts_blacklist and url_hosts_whitelist compare addresses', () => {
  it.each([
    ['an IPv4-mapped IPv6 literal', () => `http://[::ffff:127.0.0.1]:${port}/x`],
    ['the hex spelling of the mapped address', () => `http://[::ffff:7f00:1]:${port}/x`],
    ['a decimal IPv4 spelling', () => `http://2130706433:${port}/x`],
    ['a name that resolves to it', () => `http://localhost:${port}/x`],
  ])('refuses %s of a blacklisted 127.0.0.1 before connecting', async (_what, url) => {
    await expect(run(url(), { url_hosts_blacklist: ['127.0.0.1'] })).rejects.toMatchObject({
      code: 'HTTP_HOST_DENIED',
      message: expect.stringContaining('url_hosts_blacklist'),
    });
    expect(seen).toHaveLength(0);
  });

  it('refuses the address of a blacklisted name, spelled as an address', async () => {
    fakeDns.set('internal.example', ['127.0.0.1']);
    await expect(
      run(`http://[::ffff:127.0.0.1]:${port}/x`, { url_hosts_blacklist: ['internal.example'] }),
    ).rejects.toMatchObject({ code: 'HTTP_HOST_DENIED' });
    expect(seen).toHaveLength(0);
  });

  it('lets a whitelisted address through whatever its spelling', async () => {
    const res = await run(`http://[::ffff:127.0.0.1]:${port}/x`, { url_hosts_whitelist: ['127.0.0.1'] });
    expect(res.status).toBe('succeeded');
    expect(seen).toEqual(['/x']);
  });

  it('refuses a whitelisted-looking name whose address is not on the whitelist', async () => {
    fakeDns.set('looks-fine.example', ['127.0.0.1']);
    await expect(
      run(`http://looks-fine.example:${port}/x`, { url_hosts_whitelist: ['10.1.2.3'] }),
    ).rejects.toMatchObject({ code: 'HTTP_HOST_DENIED' });
  });
});

describe('the egress policy (config)', () => {
  it.each([
    'http://169.254.169.254/latest/meta-data/',
    'http://[::ffff:169.254.169.254]/latest/meta-data/',
    'http://[::ffff:a9fe:a9fe]/',
    'http://[fd00:ec2::254]/',
    'http://metadata.google.internal/computeMetadata/v1/',
  ])('denies the cloud metadata service by default: %s', async (url) => {
    fakeDns.set('metadata.google.internal', ['169.254.169.254']);
    await expect(run(url)).rejects.toMatchObject({
      code: 'HTTP_HOST_DENIED',
      message: expect.stringContaining('egress'),
    });
  });

  it('cannot be widened by an action parameter', async () => {
    await expect(
      run('http://169.254.169.254/', { url_hosts_whitelist: ['169.254.169.254'] }),
    ).rejects.toMatchObject({ code: 'HTTP_HOST_DENIED', message: expect.stringContaining('egress') });
  });

  it('checks every hop of a redirect', async () => {
    await expect(
      run(`http://127.0.0.1:${port}/to-metadata`, { allow_redirects: true }),
    ).rejects.toMatchObject({
      code: 'HTTP_HOST_DENIED',
      message: expect.stringContaining('169.254.169.254'),
    });
    expect(seen).toEqual(['/to-metadata']);
  });

  it('denies configured CIDRs and names, and with an allow list only what it lists', async () => {
    const deny: EgressSettings = { block_metadata: true, deny: ['127.0.0.0/8'], allow: [] };
    await expect(run(`http://localhost:${port}/x`, {}, deny)).rejects.toMatchObject({
      message: expect.stringContaining('egress.deny'),
    });
    const allow: EgressSettings = { block_metadata: true, deny: [], allow: ['10.0.0.0/8'] };
    await expect(run(`http://127.0.0.1:${port}/x`, {}, allow)).rejects.toMatchObject({
      message: expect.stringContaining('egress.allow'),
    });
    const allowed: EgressSettings = { block_metadata: true, deny: [], allow: ['127.0.0.0/8'] };
    expect((await run(`http://[::ffff:127.0.0.1]:${port}/x`, {}, allowed)).status).toBe('succeeded');
    expect(seen).toEqual(['/x']);
  });

  it('connects to the address it checked: a second DNS answer cannot swap it (rebinding)', async () => {
    // Only the checked lookup knows this name; a connection that resolved it again would fail.
    fakeDns.set('rebind.example', ['127.0.0.1']);
    const res = await run(`http://rebind.example:${port}/pinned`);
    expect(res.status).toBe('succeeded');
    expect(seen).toEqual(['/pinned']);
  });
});

describe('the egress policy reaches core.http executions (API)', () => {
  it("refuses a core.http execution to an address the config's egress.deny lists", async () => {
    const api = await startTestApi({
      subsystems: await allSubsystems(),
      overrides: { 'egress.deny': ['127.0.0.0/8'] },
    });
    try {
      const res = await api.request('POST', '/api/v1/executions', {
        body: { action: 'core.http', parameters: { url: `http://[::ffff:127.0.0.1]:${port}/x` } },
      });
      expect(res.status).toBe(201);
      const e = await finishedExecution(api, res.body.id);
      expect(e.status).toBe('failed');
      expect(JSON.stringify(e.result)).toContain('egress.deny');
      expect(seen).toHaveLength(0);
    } finally {
      await api.stop();
    }
  }, 60_000);
});
