import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PACK_RECORD_METHODS, servePackRecordCall } from '../../../src/runners/pack-records-rpc.js';

/** The runner side of st2's persistence calls (packs.unload): API calls with the execution's token. */
describe('pack record calls of the Python shim', () => {
  let server: Server;
  let ctx: { apiUrl: string; authToken: string };
  const seen: Array<{ method?: string; url?: string; token?: string | string[] }> = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push({ method: req.method, url: req.url, token: req.headers['x-auth-token'] });
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.url === '/api/v1/packs/mine/records')
        return reply(200, { pack: 'mine', records: { Action: [] } });
      if (req.url === '/api/v1/packs/gone/records')
        return reply(404, { faultstring: 'pack "gone" was not found' });
      if (req.url === '/api/v1/packs/mine/records/Action/a1') return reply(200, { deleted: true });
      if (req.url?.startsWith('/api/v1/packs/theirs/'))
        return reply(403, {
          faultstring: 'User "olga" doesn\'t have required permission "pack_uninstall"',
          code: 'FORBIDDEN',
        });
      reply(500, { faultstring: 'unexpected' });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    ctx = { apiUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, authToken: 'tok' };
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('serves only its own methods', () => {
    expect([...PACK_RECORD_METHODS]).toEqual(['pack_records', 'pack_record_delete']);
  });

  it("reads a pack's records with the execution's token, and null for a pack with none", async () => {
    expect(await servePackRecordCall(ctx, 'pack_records', { pack: 'mine' })).toEqual({
      pack: 'mine',
      records: { Action: [] },
    });
    expect(await servePackRecordCall(ctx, 'pack_records', { pack: 'gone' })).toBeNull();
    expect(seen[0]).toEqual({ method: 'GET', url: '/api/v1/packs/mine/records', token: 'tok' });
  });

  it('deletes one record and answers whether it was there', async () => {
    expect(
      await servePackRecordCall(ctx, 'pack_record_delete', { pack: 'mine', model: 'Action', id: 'a1' }),
    ).toBe(true);
    expect(seen.at(-1)).toMatchObject({ method: 'DELETE', url: '/api/v1/packs/mine/records/Action/a1' });
  });

  it("passes the API's refusal on, naming the permission", async () => {
    await expect(
      servePackRecordCall(ctx, 'pack_record_delete', { pack: 'theirs', model: 'Action', id: 'x' }),
    ).rejects.toThrow(
      'Squall API answered 403: User "olga" doesn\'t have required permission "pack_uninstall"',
    );
  });

  it('refuses a call without a pack', async () => {
    await expect(servePackRecordCall(ctx, 'pack_records', {})).rejects.toThrow(
      '"pack" must be a non-empty string',
    );
  });
});
