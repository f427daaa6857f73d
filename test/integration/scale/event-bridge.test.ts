import { afterEach, expect, it } from 'vitest';
import { EventBus, RedisEventTransport, type SquallEvent } from '../../../src/events/index.js';
import { createLogger } from '../../../src/log/index.js';
import { PassThrough } from 'node:stream';
import { attachRedisEvents, redisChannels } from '../../../src/service/index.js';
import { redisNotificationChannel } from '../../../src/service/redis.js';
import { REDIS_URL, describeWithServer, tempDir } from '../../support/servers.js';
import { startDelayProxy, type DelayProxy } from '../../support/delay-proxy.js';
import { connectRedis } from '../../../src/redis.js';
import { RedisNotificationChannel } from '../../../src/scheduler/index.js';
import { CONTENT_CACHE_FORGET, wireContentCache } from '../../../src/service/content-cache.js';
import { openStore, type ContentCollectionKey } from '../../../src/store/index.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Two processes' buses on one Redis channel of their own (the test Redis is shared). */
async function twoBuses(): Promise<{ a: EventBus; b: EventBus; channel: string }> {
  const channel = `squall:test-events:${process.pid}:${Date.now().toString(36)}:${Math.random()}`;
  const a = new EventBus('process-a');
  const b = new EventBus('process-b');
  await a.attach(new RedisEventTransport(REDIS_URL!, { channel }));
  await b.attach(new RedisEventTransport(REDIS_URL!, { channel }));
  return { a, b, channel };
}

/** Publishes raw messages on `channel` as a plain Redis client does (a peer that is not Squall). */
async function publishAsPeer(channel: string, messages: string[]): Promise<void> {
  const peer = connectRedis(REDIS_URL!, {});
  try {
    for (const message of messages) await peer.publish(channel, message);
  } finally {
    peer.disconnect();
  }
}

async function until(done: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!done() && Date.now() < end) await sleep(10);
}

describeWithServer(
  'events between processes over Redis',
  'Redis (SQUALL_TEST_REDIS_URL)',
  Boolean(REDIS_URL),
  () => {
    const open: EventBus[] = [];
    const proxies: DelayProxy[] = [];
    afterEach(async () => {
      await Promise.all(open.splice(0).map((bus) => bus.close()));
      await Promise.all(proxies.splice(0).map((p) => p.close()));
    });

    it('another process hears every event of a burst once, in order, with its payload', async () => {
      const { a, b } = await twoBuses();
      open.push(a, b);
      const heardByB: SquallEvent[] = [];
      const heardByA: SquallEvent[] = [];
      b.subscribe('st2.execution__*', (e) => heardByB.push(e));
      a.subscribe('st2.execution__*', (e) => heardByA.push(e));
      // A burst in one turn of the event loop, then events spread over several turns.
      for (let i = 0; i < 200; i++)
        a.publish('st2.execution__update', { id: `ex-${i}`, result: { n: i, text: 'é'.repeat(i % 7) } });
      for (let i = 200; i < 210; i++) {
        await sleep(1);
        a.publish('st2.execution__create', { id: `ex-${i}` });
      }
      await until(() => heardByB.length >= 210);
      await sleep(200); // nothing more arrives: no duplicates
      expect(heardByB.map((e) => (e.payload as { id: string }).id)).toEqual(
        Array.from({ length: 210 }, (_, i) => `ex-${i}`),
      );
      expect(heardByB[7]).toMatchObject({
        name: 'st2.execution__update',
        origin: 'process-a',
        payload: { id: 'ex-7', result: { n: 7, text: '' } },
      });
      expect(heardByB[13]?.payload).toEqual({ id: 'ex-13', result: { n: 13, text: 'éééééé' } });
      expect(typeof heardByB[0]?.timestamp).toBe('string');
      // The publisher heard its own events once each (locally), not again from Redis.
      expect(heardByA).toHaveLength(210);
    });

    it('events published from both sides at once reach the other side, each in its own order', async () => {
      const { a, b } = await twoBuses();
      open.push(a, b);
      const heardByA: string[] = [];
      const heardByB: string[] = [];
      a.subscribe('squall.test*', (e) => heardByA.push(String(e.payload)));
      b.subscribe('squall.test*', (e) => heardByB.push(String(e.payload)));
      for (let i = 0; i < 50; i++) {
        a.publish('squall.test', `a${i}`);
        b.publish('squall.test', `b${i}`);
        if (i % 10 === 0) await sleep(0);
      }
      // announce() (sent to the others only, without waiting for the store) resolves once Redis has it.
      await b.announce('squall.test_announce', 'b-last');
      await until(() => heardByA.length >= 101 && heardByB.length >= 100);
      expect(heardByA.filter((p) => /^b\d/.test(p))).toEqual(Array.from({ length: 50 }, (_, i) => `b${i}`));
      expect(heardByA).toContain('b-last');
      expect(heardByB.filter((p) => p.startsWith('a'))).toEqual(
        Array.from({ length: 50 }, (_, i) => `a${i}`),
      );
    });

    it('deployments on different MongoDB databases sharing one Redis do not hear each other', async () => {
      const logger = createLogger({ level: 'silent', format: 'json' });
      const tag = `${process.pid}-${Date.now().toString(36)}`;
      const [alpha, alphaPeer, beta] = ['process-a', 'process-a2', 'process-b'].map((o) => new EventBus(o));
      await attachRedisEvents(alpha!, REDIS_URL!, logger, undefined, `alpha-${tag}`);
      await attachRedisEvents(alphaPeer!, REDIS_URL!, logger, undefined, `alpha-${tag}`);
      await attachRedisEvents(beta!, REDIS_URL!, logger, undefined, `beta-${tag}`);
      open.push(alpha!, alphaPeer!, beta!);
      const heardByPeer: string[] = [];
      const heardByBeta: string[] = [];
      alphaPeer!.subscribe('st2.execution__*', (e) => heardByPeer.push((e.payload as { id: string }).id));
      beta!.subscribe('st2.execution__*', (e) => heardByBeta.push((e.payload as { id: string }).id));
      alpha!.publish('st2.execution__create', { id: 'alpha-run' });
      beta!.publish('st2.execution__create', { id: 'beta-run' });
      await until(() => heardByPeer.length >= 1);
      await sleep(300); // anything crossing deployments would have arrived by now
      expect(heardByPeer).toEqual(['alpha-run']);
      expect(heardByBeta).toEqual(['beta-run']);
      // The default database keeps the channel names of earlier versions (rolling upgrades).
      expect(redisChannels('squall')).toEqual({ events: 'squall:events', jobs: 'squall:agenda:jobs' });
      expect(redisChannels(undefined)).toEqual(redisChannels('squall'));
      expect(redisChannels(`beta-${tag}`).events).toBe(`squall:beta-${tag}:events`);
    });

    it('announce() resolves once every other process has handled it, however late it hears Redis', async () => {
      const channel = `squall:test-announce:${process.pid}:${Date.now().toString(36)}`;
      const proxy: DelayProxy = await startDelayProxy(REDIS_URL!);
      proxies.push(proxy);
      const a = new EventBus('process-a');
      const far = new EventBus('process-far');
      const near = new EventBus('process-near');
      const errors: unknown[] = [];
      await a.attach(new RedisEventTransport(REDIS_URL!, { channel, onError: (e) => errors.push(e) }));
      await far.attach(new RedisEventTransport(proxy.url, { channel }));
      await near.attach(new RedisEventTransport(REDIS_URL!, { channel }));
      open.push(a, far, near);
      const heard: string[] = [];
      far.subscribe('squall.test_forget', (e) => heard.push(`far:${String(e.payload)}`));
      near.subscribe('squall.test_forget', (e) => heard.push(`near:${String(e.payload)}`));
      // The far process hears everything Redis sends it 400 ms late.
      proxy.delayMs = 400;
      const started = Date.now();
      await a.announce('squall.test_forget', 'one');
      // Nothing awaited since: both had handled it when announce() resolved.
      expect(heard.sort()).toEqual(['far:one', 'near:one']);
      expect(Date.now() - started).toBeGreaterThanOrEqual(400);
      proxy.delayMs = 0;
      await a.announce('squall.test_forget', 'two');
      expect(heard.filter((h) => h.endsWith('two')).sort()).toEqual(['far:two', 'near:two']);
      expect(errors).toEqual([]);
    });

    it('a subscriber that answers after the wait is slow, not silent: the next announcement waits for it again', async () => {
      const channel = `squall:test-announce:${process.pid}:${Date.now().toString(36)}:slow`;
      const proxy = await startDelayProxy(REDIS_URL!);
      proxies.push(proxy);
      const errors: unknown[] = [];
      const a = new EventBus('process-a');
      const slow = new EventBus('process-slow');
      await a.attach(
        new RedisEventTransport(REDIS_URL!, { channel, announceWaitMs: 300, onError: (e) => errors.push(e) }),
      );
      await slow.attach(new RedisEventTransport(proxy.url, { channel }));
      open.push(a, slow);
      const heard: string[] = [];
      slow.subscribe('squall.test_forget', (e) => heard.push(String(e.payload)));
      proxy.delayMs = 600;
      await a.announce('squall.test_forget', 'one');
      expect(errors).toHaveLength(1);
      expect(heard).toEqual([]);
      // Its answer comes after the wait, and is counted.
      await until(() => heard.length === 1);
      // What the link still holds (the echo of its own answer) is through before the next.
      await sleep(800);
      proxy.delayMs = 200;
      await a.announce('squall.test_forget', 'two');
      expect(heard).toEqual(['one', 'two']);
      expect(errors).toHaveLength(1);
    });

    it('a subscriber that never answers costs one wait, reported, then is excused', async () => {
      const channel = `squall:test-announce:${process.pid}:${Date.now().toString(36)}:silent`;
      const errors: unknown[] = [];
      const a = new EventBus('process-a');
      const b = new EventBus('process-b');
      await a.attach(
        new RedisEventTransport(REDIS_URL!, { channel, announceWaitMs: 300, onError: (e) => errors.push(e) }),
      );
      await b.attach(new RedisEventTransport(REDIS_URL!, { channel }));
      open.push(a, b);
      // A plain Redis client on the channel (not Squall: it never acknowledges).
      const silent = connectRedis(REDIS_URL!, {});
      await silent.subscribe(channel);
      try {
        const heardByB: string[] = [];
        b.subscribe('squall.test_forget', (e) => heardByB.push(String(e.payload)));
        let started = Date.now();
        await a.announce('squall.test_forget', 'one');
        expect(Date.now() - started).toBeGreaterThanOrEqual(300);
        expect(heardByB).toEqual(['one']);
        expect(errors).toHaveLength(1);
        expect(errors[0]).toMatchObject({ code: 'EVENT_ANNOUNCE_UNANSWERED', context: { missing: 1 } });
        // The next announcement waits for the processes that answer, not for the silent one.
        started = Date.now();
        await a.announce('squall.test_forget', 'two');
        expect(Date.now() - started).toBeLessThan(300);
        expect(heardByB).toEqual(['one', 'two']);
        expect(errors).toHaveLength(1);
      } finally {
        silent.disconnect();
      }
    });
    it('a peer on the channel that publishes what is not an event, or a forget Squall would not send, stops no process and leaves nothing cached stale', async () => {
      const channel = `squall:test-events:${process.pid}:${Date.now().toString(36)}:peer`;
      const dir = tempDir('squall-bridge-peer-');
      const store = await openStore({ dataDir: dir.dir });
      const forgotten: string[] = [];
      const invalidate = store.contentCache.invalidate.bind(store.contentCache);
      store.contentCache.invalidate = (c?: ContentCollectionKey) => {
        forgotten.push(c ?? '(all)');
        invalidate(c);
      };
      const errors: Array<{ code?: string }> = [];
      const b = new EventBus('process-b');
      wireContentCache(store, b, true, createLogger({ level: 'silent', format: 'json' }));
      await b.attach(
        new RedisEventTransport(REDIS_URL!, { channel, onError: (e) => errors.push(e as never) }),
      );
      const a = new EventBus('process-a');
      await a.attach(new RedisEventTransport(REDIS_URL!, { channel }));
      open.push(a, b);
      forgotten.length = 0; // turning the cache on forgets everything once
      const heard: unknown[] = [];
      b.subscribe('st2.execution__update', (e) => heard.push((e.payload as { id: string }).id));
      b.subscribe('st2.execution__update', (e) => heard.push(`second:${JSON.stringify(e.payload)}`));
      try {
        await publishAsPeer(channel, [
          'null',
          '[null, 5, "x", {"name": 5}]',
          '{"name":"st2.execution__update","payload":null,"origin":{"toString":1}}',
          `{"name":"${CONTENT_CACHE_FORGET}","payload":{}}`,
          `[{"name":"${CONTENT_CACHE_FORGET}"},{"name":"${CONTENT_CACHE_FORGET}","payload":{"collections":["actions"]}}]`,
        ]);
        // A real process's announcement after all of that is heard and acknowledged at once.
        await a.announce(CONTENT_CACHE_FORGET, { collections: ['rules'] });
        expect(forgotten).toEqual(['(all)', '(all)', 'actions', 'rules']);
        // The handler that could not read the payload did not keep the other from hearing it.
        expect(heard).toEqual(['second:null']);
        expect(errors.map((e) => e.code)).toEqual([
          'EVENT_MALFORMED',
          'EVENT_MALFORMED',
          'EVENT_MALFORMED',
          'EVENT_MALFORMED',
          'EVENT_MALFORMED',
          'EVENT_HANDLER_FAILED',
        ]);
      } finally {
        await store.close();
        dir.cleanup();
      }
    });

    it('a peer flooding the channels with what is not an event or a job fills no disk: the first reports of each code in full, the rest counted', async () => {
      const tag = `flood-${process.pid}-${Date.now().toString(36)}`;
      const out = new PassThrough();
      const lines: Array<{ msg: string; code?: string; suppressed?: number; err?: { code?: string } }> = [];
      let rest = '';
      out.on('data', (chunk: Buffer) => {
        const parts = (rest + chunk.toString()).split('\n');
        rest = parts.pop()!;
        for (const line of parts) lines.push(JSON.parse(line) as never);
      });
      const logger = createLogger({ level: 'info', format: 'json', destination: out });
      const bus = new EventBus('process-b');
      open.push(bus);
      await attachRedisEvents(bus, REDIS_URL!, logger, undefined, tag);
      const jobs = redisNotificationChannel(REDIS_URL!, logger, tag);
      await jobs.connect();
      const heard: string[] = [];
      bus.subscribe('peer.after_flood', () => void heard.push('after'));
      try {
        const garbage = Array.from({ length: 300 }, (_, i) => (i % 2 ? 'null' : '[5, 6]'));
        await publishAsPeer(redisChannels(tag).events, [...garbage, '{"name":"peer.after_flood"}']);
        await publishAsPeer(redisChannels(tag).jobs, garbage);
        await until(() => heard.length > 0);
        await sleep(200);
        expect(heard).toEqual(['after']);
        const full = (code: string) => lines.filter((l) => l.err?.code === code).length;
        expect(full('EVENT_MALFORMED')).toBe(10);
        expect(full('JOB_NOTIFICATION_MALFORMED')).toBe(10);
        expect(lines).toHaveLength(20);
      } finally {
        await jobs.disconnect();
      }
    });

    it("a peer on Agenda's job channel that publishes what is not a job notification stops no process", async () => {
      const name = `squall:test-jobs:${process.pid}:${Date.now().toString(36)}`;
      const channel = new RedisNotificationChannel(REDIS_URL!, { channelName: name });
      const errors: Array<{ code?: string }> = [];
      channel.on('error', (e) => errors.push(e as never));
      const heard: string[] = [];
      channel.subscribe((n) => void heard.push(String(n.jobName)));
      await channel.connect();
      try {
        await publishAsPeer(name, [
          'null',
          '[1]',
          '{"jobName":"a","timestamp":{"toString":1}}',
          '{"jobName":"b"}',
        ]);
        await until(() => heard.length >= 2);
        expect(heard).toEqual(['a', 'b']);
        expect(errors.map((e) => e.code)).toEqual([
          'JOB_NOTIFICATION_MALFORMED',
          'JOB_NOTIFICATION_MALFORMED',
        ]);
      } finally {
        await channel.disconnect();
      }
    });
  },
);
