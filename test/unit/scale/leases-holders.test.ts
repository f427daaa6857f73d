/**
 * The two users of leases, in one OS process with two "processes" (worker ids) sharing a store
 * and an event bus: sensors spread and taken over (SensorPartition), a bot connected once and
 * posted through from the other side (ChatConnections). The OS-process versions are in
 * test/integration/scale/.
 */
import os from 'node:os';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import type { ChatAdapter, OutgoingMessage, PostedMessage } from '../../../src/chatops/index.js';
import { ChatConnections, chatAdapterIdentity } from '../../../src/chatops/index.js';
import { loadConfig } from '../../../src/config/index.js';
import { SquallError } from '../../../src/errors.js';
import { EventBus } from '../../../src/events/index.js';
import { createLogger, silentLogger } from '../../../src/log/index.js';
import { Leases } from '../../../src/scale/index.js';
import { SensorPartition } from '../../../src/sensors/index.js';
import type { Services } from '../../../src/service/types.js';
import type { SensorRecord, Store } from '../../../src/store/index.js';
import { testRetention } from '../../support/retention.js';
import { STORE_TARGETS, describeWithServer } from '../../support/servers.js';

const TTL = 3_000;
const TOKEN = 'xoxb-very-secret-token';

async function beat(store: Store, worker: string, agoMs = 0): Promise<void> {
  await store.workers.updateOne(
    { id: worker },
    { $set: { heartbeat_at: new Date(Date.now() - agoMs).toISOString() } },
    { upsert: true },
  );
}

/** A chat adapter that records what it posted and whether it is connected. */
class FakeSlack implements ChatAdapter {
  readonly name = 'slack';
  readonly capabilities = {
    threads: true,
    updates: true,
    uploads: false,
    buttons: false,
    maxMessageLength: 4000,
  };
  connected = false;
  posts: OutgoingMessage[] = [];
  async connect() {
    this.connected = true;
  }
  async disconnect() {
    this.connected = false;
  }
  onMessage() {}
  onButton() {}
  async post(message: OutgoingMessage): Promise<PostedMessage> {
    if (!this.connected) throw new Error('not connected');
    this.posts.push(message);
    return { messageId: `m${this.posts.length}`, thread: message.thread ?? `m${this.posts.length}` };
  }
  async update() {}
  async uploadText(): Promise<PostedMessage> {
    throw new Error('no uploads');
  }
  async ask(): Promise<PostedMessage> {
    throw new Error('no buttons');
  }
  async lookupUser() {
    return null;
  }
}

/** A Slack bot whose connect is refused while `refuse` is set (a wrong token). */
class RefusedSlack extends FakeSlack {
  refuse: string | undefined = 'Slack refused chatops.slack.bot_token (invalid_auth)';
  attempts = 0;
  override async connect() {
    this.attempts += 1;
    if (this.refuse) throw new SquallError('CHAT_CONNECT_FAILED', this.refuse, { adapter: 'slack' });
    await super.connect();
  }
}

const sensor = (ref: string) =>
  ({ id: ref, ref, pack: ref.split('.')[0], enabled: true }) as unknown as SensorRecord;

for (const target of STORE_TARGETS) {
  describeWithServer(`lease holders (${target.kind})`, `${target.kind} store`, target.available, () => {
    let store: Store;
    const bus = new EventBus();
    const leasesOf = (worker: string) => new Leases({ store, workerId: () => worker, ttlMs: TTL });

    beforeAll(async () => {
      store = (await target.open()).store;
    });
    afterAll(async () => {
      await bus.close();
      await store?.close();
    });

    it('sensors: two processes split them, a dead one’s sensors go to the survivor, a stop gives them back', async () => {
      const sensors = ['p.a', 'p.b', 'p.c', 'p.d', 'p.e'].map(sensor);
      await beat(store, 'sensors-1');
      await beat(store, 'sensors-2');
      const one = new SensorPartition(leasesOf('sensors-1'), silentLogger());
      const two = new SensorPartition(leasesOf('sensors-2'), silentLogger());
      // Alone, the first takes everything; once the second joined, it gives back what is over its share.
      expect((await one.assign(sensors)).size).toBe(5);
      await one.settled();
      expect((await two.assign(sensors)).size).toBe(0);
      const kept = await one.assign(sensors);
      expect(kept.size).toBe(3);
      await one.settled();
      const taken = await two.assign(sensors);
      expect([...taken].sort()).toEqual(sensors.map((s) => s.ref).filter((r) => !kept.has(r)));
      // The second process dies: after the ttl the first takes its sensors.
      await beat(store, 'sensors-2', TTL + 500);
      await beat(store, 'sensors-1');
      expect((await one.assign(sensors)).size).toBe(5);
      // A stop gives them back at once.
      await one.releaseAll();
      await beat(store, 'sensors-3');
      const three = new SensorPartition(leasesOf('sensors-3'), silentLogger());
      expect((await three.assign(sensors)).size).toBe(5);
    });

    it('chat: one process connects the bot, the other posts through it, and connects when the first dies', async () => {
      // redis.url only says "events cross processes": here both sides share one in-memory bus.
      const { config } = loadConfig({
        env: {},
        cwd: os.tmpdir(),
        overrides: {
          'redis.url': 'redis://bus-shared-in-this-test',
          'leases.ttl_ms': TTL,
          'leases.check_every_ms': 60_000,
          'chatops.slack.bot_token': TOKEN,
          'chatops.forward_timeout_ms': 5_000,
        },
      });
      const services = { config, logger: silentLogger(), store, bus } as unknown as Services;
      const [slackA, slackB] = [new FakeSlack(), new FakeSlack()];
      const [a, b] = [
        new ChatConnections(services, leasesOf('chat-a')),
        new ChatConnections(services, leasesOf('chat-b')),
      ];
      const [viaA, viaB] = [a.wrap(slackA), b.wrap(slackB)];
      expect(chatAdapterIdentity(services, slackA)).toMatch(/^slack:[0-9a-f]{16}$/);
      expect(chatAdapterIdentity(services, slackA)).not.toContain(TOKEN);
      await beat(store, 'chat-a');
      await beat(store, 'chat-b');
      try {
        await a.start();
        await b.start();
        expect([slackA.connected, slackB.connected]).toEqual([true, false]);
        expect((await b.statuses())[0]).toMatchObject({ connected_here: false, held_by: 'chat-a' });

        // B is not connected: its post goes to A's connection.
        const posted = await viaB.post({ channel: 'C1', text: 'from b' });
        expect(slackA.posts.map((p) => p.text)).toEqual(['from b']);
        expect(posted.messageId).toBe('m1');
        await viaA.post({ channel: 'C1', text: 'from a' });
        expect(slackB.posts).toEqual([]);

        // A dies (no more heartbeats); B's next round takes over.
        await beat(store, 'chat-a', TTL + 500);
        await b.check();
        expect(slackB.connected).toBe(true);
        await viaB.post({ channel: 'C1', text: 'b connected' });
        expect(slackB.posts.map((p) => p.text)).toEqual(['b connected']);
        // A, alive again, notices it lost the bot and disconnects: never two connections.
        await beat(store, 'chat-a');
        await a.check();
        expect([slackA.connected, slackB.connected]).toEqual([false, true]);
      } finally {
        await a.stop();
        await b.stop();
      }
      expect([slackA.connected, slackB.connected]).toEqual([false, false]);
      expect(await leasesOf('x').holders([`chat:${chatAdapterIdentity(services, slackA)}`])).toEqual(
        new Map(),
      );
    });

    it('chat: a bot that cannot connect leaves the process up, its status says why, and it is tried again with backoff', async () => {
      const { config } = loadConfig({
        env: {},
        cwd: os.tmpdir(),
        overrides: {
          'leases.ttl_ms': TTL,
          'leases.check_every_ms': 60_000,
          'chatops.slack.bot_token': `${TOKEN}-refused`,
        },
      });
      const services = { config, logger: silentLogger(), store, bus } as unknown as Services;
      const slack = new RefusedSlack();
      const connections = new ChatConnections(services, leasesOf('chat-refused'));
      connections.wrap(slack);
      await beat(store, 'chat-refused');
      try {
        // Before: start() threw, and the whole service with it.
        await connections.start();
        const [status] = await connections.statuses();
        expect(status).toMatchObject({
          state: 'failed',
          connected_here: false,
          held_by: null,
          error: {
            code: 'CHAT_CONNECT_FAILED',
            message: 'Slack refused chatops.slack.bot_token (invalid_auth)',
            attempts: 1,
          },
        });
        // Within the backoff (5 s) the next round does not try again.
        await connections.check();
        expect(slack.attempts).toBe(1);
        // Fixed, and past the backoff: connected, the error gone.
        slack.refuse = undefined;
        vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 6_000 });
        await beat(store, 'chat-refused');
        await connections.check();
        expect(slack.attempts).toBe(2);
        const [after] = await connections.statuses();
        expect(after).toMatchObject({ state: 'connected', connected_here: true });
        expect(after).not.toHaveProperty('error');
      } finally {
        vi.useRealTimers();
        await connections.stop();
      }
    });

    it("chat: a connect error quoting the bot's token shows it masked, in the status and the log", async () => {
      const { config } = loadConfig({
        env: {},
        cwd: os.tmpdir(),
        overrides: { 'leases.ttl_ms': TTL, 'chatops.slack.bot_token': `${TOKEN}-quoted` },
      });
      const lines: string[] = [];
      const logger = createLogger({
        format: 'json',
        destination: new Writable({
          write(chunk, _enc, done) {
            lines.push(String(chunk));
            done();
          },
        }),
      });
      const services = { config, logger, store, bus } as unknown as Services;
      const slack = new RefusedSlack();
      // An SDK error that quotes the request it failed (a proxy's, a client library's own text).
      slack.refuse = `POST https://slack.com/api/auth.test?token=${TOKEN}-quoted failed: 502`;
      const connections = new ChatConnections(services, leasesOf('chat-quoted'));
      connections.wrap(slack);
      await beat(store, 'chat-quoted');
      try {
        await connections.start();
        const [status] = await connections.statuses();
        expect(status.error?.message).toBe('POST https://slack.com/api/auth.test?token=******** failed: 502');
        expect(lines.join('')).toContain('could not connect chat adapter slack');
        expect(lines.join('')).not.toContain(TOKEN);
      } finally {
        await connections.stop();
      }
    });

    it("retention deletes a dead process's leases once it has been silent for the ttl, and no live one's", async () => {
      const sensors = ['gc.a', 'gc.b'].map(sensor);
      const retention = testRetention(store, {}, TTL);
      const leaseIds = async () =>
        (await store.claims.find({ id: { $gte: 'lease:', $lt: 'lease:\uffff' } }))
          .map((c) => `${c.id} ${c.owner}`)
          .filter((l) => l.includes('gc-'))
          .sort();
      await beat(store, 'gc-live');
      await beat(store, 'gc-dead');
      const live = new SensorPartition(leasesOf('gc-live'), silentLogger());
      const dead = new SensorPartition(leasesOf('gc-dead'), silentLogger());
      // (Members left by the tests above may count in the share: how many each takes varies.)
      expect((await dead.assign(sensors)).size).toBeGreaterThan(0);
      await dead.settled();
      await live.assign(sensors);
      await live.settled();
      const held = await leaseIds();
      expect(held).toContain('lease:sensors:member:gc-dead gc-dead');
      expect(held).toContain('lease:sensors:member:gc-live gc-live');
      expect(
        held.filter((l) => l.startsWith('lease:sensor:') && l.endsWith(' gc-dead')).length,
      ).toBeGreaterThan(0);
      // Both alive, however old the claims: nothing is collected.
      const later = Date.now() + TTL + 1_000;
      await beat(store, 'gc-live');
      await beat(store, 'gc-dead');
      await retention.collect(later);
      expect(await leaseIds()).toEqual(held);
      // gc-dead dies without leaving the group, and its sensors are removed meanwhile: nobody
      // takes its leases over. Once it has been silent for the ttl, retention deletes them.
      await beat(store, 'gc-live');
      await beat(store, 'gc-dead', TTL + 500);
      const report = await retention.collect(later);
      expect(report.claims).toBeGreaterThanOrEqual(2);
      expect(await leaseIds()).toEqual(held.filter((l) => l.endsWith(' gc-live')));
      await live.releaseAll();
    });
  });
}
