import http from 'node:http';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { STORE_TARGETS, describeWithServer } from '../../support/servers.js';
import { waitFor } from '../../support/wait.js';
import { instancesOf, startEvents, type EventsService } from './support.js';

interface Sent {
  status?: number;
  code?: string;
  reusedSocket: boolean;
}

/** One webhook POST through `agent`: its answer, or the socket error that ended it without one. */
function postWebhook(agent: http.Agent, url: string, hook: string): Promise<Sent> {
  const target = new URL(`${url}/api/v1/webhooks/${hook}`);
  const body = JSON.stringify({ at: new Date().toISOString() });
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname + target.search,
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode, reusedSocket: req.reusedSocket }));
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) =>
      resolve({ code: err.code, reusedSocket: req.reusedSocket }),
    );
    req.end(body);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A client (or a load balancer's pool) keeps a connection open between webhooks. With Node's 5 s
 * keep-alive timeout the server closed an idle one just as such a client sent on it, and the
 * webhook was lost without an answer (ECONNRESET: 2 of 59,586 in a 300 s soak at 200/s).
 * api.keep_alive_timeout_ms (65 s by default, above AWS ALB's 60 s idle timeout) keeps it open.
 */
for (const target of STORE_TARGETS) {
  describeWithServer(
    `keep-alive connections (${target.kind})`,
    'MongoDB (SQUALL_TEST_MONGO_URL)',
    target.available,
    () => {
      let s: EventsService;
      let short: EventsService;
      beforeAll(async () => {
        [s, short] = await Promise.all([
          startEvents(target),
          startEvents(target, { 'api.keep_alive_timeout_ms': 1000 }),
        ]);
        for (const svc of [s, short]) {
          await svc.createRule({
            name: 'keepalive',
            pack: 'hooks',
            enabled: true,
            trigger: { type: 'core.st2.webhook', parameters: { url: 'keepalive' } },
            action: { ref: 'core.noop' },
          });
        }
      }, 60_000);
      afterAll(async () => {
        await Promise.all([s?.svc.cleanup(), short?.svc.cleanup()]);
      });

      it('answers a webhook sent on a connection idle for 6 s (past Node’s former 5 s), on the same connection', async () => {
        const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
        try {
          expect(await postWebhook(agent, s.svc.url, 'keepalive')).toEqual({
            status: 202,
            reusedSocket: false,
          });
          await sleep(6_000);
          expect(await postWebhook(agent, s.svc.url, 'keepalive')).toEqual({
            status: 202,
            reusedSocket: true,
          });
        } finally {
          agent.destroy();
        }
      }, 30_000);

      it('closes an idle connection after api.keep_alive_timeout_ms, and answers the next webhook on a new one', async () => {
        const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
        try {
          const closed = new Promise<void>((resolve) =>
            agent.once('free', (socket: Socket) => socket.once('close', () => resolve())),
          );
          expect(await postWebhook(agent, short.svc.url, 'keepalive')).toEqual({
            status: 202,
            reusedSocket: false,
          });
          await closed;
          expect(await postWebhook(agent, short.svc.url, 'keepalive')).toEqual({
            status: 202,
            reusedSocket: false,
          });
        } finally {
          agent.destroy();
        }
      }, 30_000);

      it('stops without waiting on a client that keeps its connection after an answer in flight at the stop', async () => {
        const svc = await startEvents(target);
        const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
        try {
          await svc.createRule({
            name: 'slow',
            pack: 'hooks',
            enabled: true,
            trigger: { type: 'core.st2.webhook', parameters: { url: 'slow' } },
            action: { ref: 'core.local', parameters: { cmd: 'sleep 1' } },
          });
          const serverClosed = new Promise<void>((resolve) =>
            agent.once('free', (socket: Socket) => socket.once('close', () => resolve())),
          );
          // The answer waits for the action, so it is still to come when the stop begins.
          const answer = postWebhook(agent, svc.svc.url, 'slow?wait=10');
          await waitFor(
            async () => (await instancesOf(svc, 'slow')).length > 0,
            'the webhook to be dispatched',
          );
          await svc.svc.cleanup();
          expect(await answer).toEqual({ status: 200, reusedSocket: false });
          // The client still pools the connection: the server is the one that closed it.
          await serverClosed;
        } finally {
          agent.destroy();
          await svc.svc.cleanup();
        }
      }, 30_000);
    },
  );
}
