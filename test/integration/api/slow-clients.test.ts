import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streamRoutes } from '../../../src/stream/index.js';
import { startTestApi, type TestApi } from '../../support/api.js';
import { tempDir } from '../../support/servers.js';

// Clients that hold sockets without doing anything: a request whose headers trickle in a byte at
// a time (slowloris: Node's defaults kept it 60 s, checked every 30 s), and event streams opened
// by the thousand by one user (each one a socket, and a write for every event on the bus).
describe('slow and greedy clients', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi({
      subsystems: [{ name: 'stream', routes: streamRoutes() }],
      overrides: { 'api.max_streams_per_user': 3, 'api.headers_timeout_ms': 1000 },
    });
  });
  afterAll(async () => {
    await api?.stop();
  });

  it('closes a connection whose headers do not arrive within api.headers_timeout_ms', async () => {
    const port = Number(new URL(api.url).port);
    const began = Date.now();
    const outcome = await new Promise<{ data: string; ms: number }>((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1');
      let data = '';
      socket.setEncoding('utf8');
      socket.on('data', (d: string) => (data += d));
      socket.on('error', () => undefined);
      socket.write('GET /api/v1/health HTTP/1.1\r\nHost: localhost\r\n');
      const drip = setInterval(() => socket.writable && socket.write('X-Slow: 1\r\n'), 200);
      const give = setTimeout(() => {
        clearInterval(drip);
        socket.destroy();
        reject(new Error('the slow client was still connected after 15 s'));
      }, 15_000);
      socket.on('close', () => {
        clearInterval(drip);
        clearTimeout(give);
        resolve({ data, ms: Date.now() - began });
      });
    });
    expect(outcome.data).toMatch(/^HTTP\/1\.1 408/);
    expect(outcome.ms).toBeLessThan(6_000);
    // The server still answers others.
    expect((await api.request('get', '/api/v1/health')).status).toBe(200);
  }, 30_000);

  it('answers 429 past api.max_streams_per_user open streams of one user, and frees a place when one closes', async () => {
    const open = async (token = api.adminToken) => {
      const ctl = new AbortController();
      const res = await fetch(`${api.url}/stream/v1/stream`, {
        headers: { 'X-Auth-Token': token },
        signal: ctl.signal,
      });
      return { res, ctl };
    };
    const streams = [await open(), await open(), await open()];
    expect(streams.map((s) => s.res.status)).toEqual([200, 200, 200]);
    const fourth = await open();
    expect(fourth.res.status).toBe(429);
    expect(await fourth.res.json()).toMatchObject({ code: 'TOO_MANY_STREAMS' });
    // Another user is not affected.
    const other = await open(await api.tokenFor('streamer', ['observer']));
    expect(other.res.status).toBe(200);
    other.ctl.abort();
    streams[0].ctl.abort();
    let again: Awaited<ReturnType<typeof open>> | undefined;
    for (let i = 0; i < 50; i++) {
      again = await open();
      if (again.res.status === 200) break;
      await again.res.text();
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(again?.res.status).toBe(200);
    for (const s of [...streams.slice(1), again!]) s.ctl.abort();
  }, 30_000);

  it('closes an event stream whose client stops reading once api.max_stream_buffer_bytes wait for it, and keeps feeding one that reads', async () => {
    const logDir = tempDir('squall-slow-stream-');
    const logFile = path.join(logDir.dir, 'service.log');
    const own = await startTestApi({
      subsystems: [{ name: 'stream', routes: streamRoutes() }],
      overrides: { 'api.max_stream_buffer_bytes': 1_000_000 },
      log: { level: 'warn', file: logFile },
    });
    const stalled = net.connect({ port: Number(new URL(own.url).port), host: '127.0.0.1' });
    const reader = new AbortController();
    try {
      // A client that sends its request and then never reads a byte.
      stalled.on('error', () => undefined);
      const stalledClosed = new Promise<void>((resolve) => stalled.on('close', () => resolve()));
      stalled.write(
        `GET /stream/v1/stream?events=st2.announcement__* HTTP/1.1\r\nHost: localhost\r\nX-Auth-Token: ${own.adminToken}\r\n\r\n`,
      );
      stalled.pause();
      const reading = await fetch(`${own.url}/stream/v1/stream?events=st2.announcement__*`, {
        headers: { 'X-Auth-Token': await own.tokenFor('reader', ['observer']) },
        signal: reader.signal,
      });
      expect(reading.status).toBe(200);
      let tail = '';
      let wake = () => {};
      void (async () => {
        const decoder = new TextDecoder();
        try {
          for await (const chunk of reading.body!) {
            tail = (tail + decoder.decode(chunk as Uint8Array, { stream: true })).slice(-200);
            wake();
          }
        } catch {
          // aborted at the end of the test
        }
      })();
      const cutLogged = () =>
        existsSync(logFile) && readFileSync(logFile, 'utf8').includes('read too slowly');
      // Events of 1 MB, each once the reading client has it, until the stalled one is cut: the
      // kernel's socket buffers take tens of MB first (tcp_rmem autotuning), then the limit counts.
      const blob = 'x'.repeat(1_000_000);
      let sent = 0;
      for (; sent < 500 && !cutLogged(); sent++) {
        own.services.bus.publish('st2.announcement__big', { blob, i: sent });
        while (!tail.includes(`"i":${sent}}`)) {
          const more = await Promise.race([
            new Promise<boolean>((resolve) => (wake = () => resolve(true))),
            new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 5_000)),
          ]);
          if (!more) throw new Error(`the reading client did not get event ${sent}`);
        }
      }
      expect(cutLogged()).toBe(true);
      // A paused socket sees its end only once it reads what is buffered: it reads now, and finds
      // the stream closed, short of what was sent (the stream never ends on its own).
      stalled.resume();
      const cut = await Promise.race([
        stalledClosed.then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), 30_000)),
      ]);
      expect(cut).toBe(true);
      expect(stalled.bytesRead).toBeLessThan(sent * 1_000_000);
      expect((await own.request('get', '/api/v1/health')).status).toBe(200);
    } finally {
      reader.abort();
      stalled.destroy();
      await own.stop();
      logDir.cleanup();
    }
  }, 120_000);
});
