import { afterAll, beforeAll, expect, it } from 'vitest';
import { openStore, type Store } from '../../../src/store/index.js';
import { SlackEmulator } from '../../emulators/slack/index.js';
import { describeWithServer, tempDir } from '../../support/servers.js';
import type { ServiceProcess } from '../../support/service-process.js';
import { waitFor } from '../../support/wait.js';
import { SCALE_AVAILABLE, SCALE_NEEDS, ScaleCluster, pidOfWorker, writePack } from './support.js';

type Json = Record<string, any>;

const PACK = {
  'aliases/shout.yaml': `---
name: shout
pack: scalechat
description: Runs a shell command and answers with its output.
action_ref: core.local
formats:
  - 'shout {{cmd}}'
`,
};

describeWithServer('a Slack bot across two squall OS processes', SCALE_NEEDS, SCALE_AVAILABLE, () => {
  const packs = tempDir();
  let slack: SlackEmulator;
  let cluster: ScaleCluster;
  let store: Store;

  beforeAll(async () => {
    writePack(packs.dir, 'scalechat', PACK);
    slack = await new SlackEmulator().start();
    cluster = new ScaleCluster({
      SQUALL_PACKS_PATHS: packs.dir,
      SQUALL_CHATOPS_SLACK_ENABLED: 'true',
      SQUALL_CHATOPS_SLACK_BOT_TOKEN: slack.botToken,
      SQUALL_CHATOPS_SLACK_APP_TOKEN: slack.appToken,
      SQUALL_CHATOPS_SLACK_API_URL: slack.apiUrl,
    });
    await cluster.start(2);
    store = await openStore({ dataDir: tempDir().dir, mongoUrl: cluster.mongoUrl });
  }, 120_000);

  afterAll(async () => {
    await cluster?.stopAll();
    await slack?.stop();
    await store?.close();
    packs.cleanup();
  });

  const slackStatus = async (proc: ServiceProcess): Promise<Json> => {
    const list = (await (await fetch(`${proc.url}/api/v1/chatops/adapters`)).json()) as Json[];
    return list.find((a) => a.adapter === 'slack')!;
  };

  /** Both processes name the same holder and only it is connected; resolves with the holder. */
  const agreedHolder = (procs: ServiceProcess[]) =>
    waitFor(
      async () => {
        const statuses = await Promise.all(procs.map(slackStatus));
        const connected = statuses.filter((s) => s.connected_here);
        if (connected.length !== 1 || statuses.some((s) => s.held_by !== connected[0].held_by))
          return undefined;
        return cluster.byPid(pidOfWorker(connected[0].held_by));
      },
      'exactly one process connected to the Slack bot',
      60_000,
      200,
    );

  const commandAnswered = async (words: string) => {
    const ts = await slack.userSays({ text: `!shout echo ${words}` });
    // The card: posted final when the run ends within 300 ms, else edited to its final state.
    const card = await slack.waitForPost((p) => p.thread_ts === ts, 60_000);
    await waitFor(
      () => slack.findMessage(card.channel, card.ts)?.text.includes(words),
      `the card to show ${words}`,
      60_000,
    );
  };

  it('one process holds the Socket Mode connection, the other posts through it, and takes over when it is killed', async () => {
    const holder = await agreedHolder(cluster.procs);
    const other = cluster.procs.find((p) => p !== holder)!;
    expect(holder).toBeDefined();
    expect(slack.connectionCount).toBe(1);
    // The lease names the bot by a hash of its token, never the token.
    const status = await slackStatus(other);
    expect(status.identity).toMatch(/^slack:[0-9a-f]{16}$/);
    const leases = await store.claims.find({ id: { $gte: 'lease:chat:', $lt: 'lease:chat:\uffff' } });
    expect(leases.map((l) => l.id)).toEqual([`lease:chat:${status.identity}`]);
    expect(JSON.stringify(leases)).not.toContain(slack.botToken);
    // The public health of the process without the connection: the bot is connected (by the other).
    await waitFor(
      async () => {
        const health = (await (await fetch(`${other.url}/api/v1/health`)).json()) as Json;
        return health.status === 'ok' &&
          (health.chat as Json[] | undefined)?.some((b) => b.platform === 'slack' && b.state === 'connected')
          ? health
          : undefined;
      },
      'the health of the other process to show the Slack bot connected',
      30_000,
      200,
    );

    // A command is answered in its thread (the result may be posted by either process).
    await commandAnswered('first-answer');
    // The process without the connection posts through the one that has it (over Redis).
    const res = await fetch(`${other.url}/api/v1/chatops/message`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ adapter: 'slack', channel: 'C0OPS', message: 'posted via the other process' }),
    });
    expect(res.status, await res.clone().text()).toBe(201);
    await slack.waitForPost((p) => p.text === 'posted via the other process', 30_000);
    // Still the one connection, after many lease rounds in both processes.
    expect(slack.connectionCount).toBe(1);

    await holder!.stop('SIGKILL');
    expect(await agreedHolder([other])).toBe(other);
    await slack.waitForConnection(2, 60_000);
    expect(slack.connectionCount).toBe(2);
    await commandAnswered('after-takeover');
  }, 240_000);
});
