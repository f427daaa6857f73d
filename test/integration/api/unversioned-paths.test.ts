import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allSubsystems, startTestApi, type TestApi } from '../../support/api.js';

/**
 * st2's API service answers its routes at /v1/... and unversioned at /... (st2api's path
 * transforms); st2tests' chains run the st2 CLI with ST2_API_URL=http://host:9101, so every
 * request they make has no version. Squall answers both on the API's own collections.
 */
describe('the API without /api/v1 or /v1 in front', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await startTestApi({ subsystems: await allSubsystems() });
  }, 120_000);
  afterAll(async () => api?.stop());

  it('answers /actions/<ref>, /keys and /triggertypes/<ref> as under /api/v1', async () => {
    for (const path of ['/actions/core.local', '/triggertypes/core.st2.key_value_pair.create']) {
      const versioned = await api.request('GET', `/api/v1${path}`);
      const bare = await api.request('GET', path);
      expect(versioned.status).toBe(200);
      expect(bare.status).toBe(200);
      expect(bare.body).toEqual(versioned.body);
    }
    const put = await api.request('PUT', '/keys/unversioned_key', {
      body: { name: 'unversioned_key', value: 'stanley' },
    });
    expect(put.status).toBe(200);
    const got = await api.request('GET', '/api/v1/keys/unversioned_key');
    expect(got.body.value).toBe('stanley');
  });

  it('still asks for credentials there, and leaves other paths alone', async () => {
    expect((await api.request('GET', '/actions?limit=1', { token: null })).status).toBe(401);
    // As a JSON client asks (a browser's deep link gets the web UI's page when it is built).
    const other = await api.request('GET', '/no_such_collection', {
      headers: { accept: 'application/json' },
    });
    expect(other.status).toBe(404);
    expect(other.body.faultstring).toBe('no route for GET /no_such_collection');
  });

  it('leaves /stream/v1/stream to the stream, though /api/v1/stream answers it too', async () => {
    const ctrl = new AbortController();
    const res = await fetch(`${api.url}/stream/v1/stream?events=st2.execution__update`, {
      headers: { 'X-Auth-Token': api.adminToken },
      signal: ctrl.signal,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    ctrl.abort();
  });
});
