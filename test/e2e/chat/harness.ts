import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import type { DiscordAdapter } from '../../../adapters/discord/index.js';
import type { SlackAdapter } from '../../../adapters/slack/index.js';
import { chatopsSubsystem, type ChatAdapter, type ChatopsOptions } from '../../../src/chatops/index.js';
import { contentSubsystem } from '../../../src/content/subsystem.js';
import { PermissionError } from '../../../src/errors.js';
import { executionsSubsystem } from '../../../src/executions/subsystem.js';
import { inquiriesSubsystem } from '../../../src/inquiries/index.js';
import type { Subsystem } from '../../../src/service/index.js';
import { workflowsSubsystem } from '../../../src/workflows/engine/index.js';
import { DiscordEmulator } from '../../emulators/discord/index.js';
import { SlackEmulator, type SlackEmulatorOptions } from '../../emulators/slack/index.js';
import { STORE_TARGETS, describeWithServer, freshMongoUrl, type StoreTarget } from '../../support/servers.js';
import { discordAdapterFor, quietLogger, slackAdapterFor } from '../../support/chat-emulators.js';
import { startTestService, testSecretsSubsystem } from '../../support/test-service.js';
import { waitFor } from '../../support/wait.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const FIXTURE_PACKS = path.join(here, 'fixtures', 'packs');

export { quietLogger };

/** The Slack adapter in Socket Mode (the real @slack/bolt) talking to `slack`. */
export function socketSlackAdapter(slack: SlackEmulator): SlackAdapter {
  // The emulator answers 429 over Slack's rate limits: the client waits Retry-After and retries,
  // as in production (retries are immediate otherwise, so an emulator error does not stall a test).
  return slackAdapterFor(slack, { retries: 10 });
}

/** The Discord adapter (the real discord.js) talking to `discord`; what it logs as errors lands in `errors`. */
export function emulatedDiscordAdapter(discord: DiscordEmulator, errors: string[]): DiscordAdapter {
  return discordAdapterFor(discord, {
    logger: { ...quietLogger, error: (_o, msg) => void errors.push(msg) },
  });
}

/** RBAC stand-in: the Squall user "mallory" may not execute anything. */
function denyMallory(): Subsystem {
  return {
    name: 'fake-rbac',
    init(services) {
      services.rbac = {
        assertCan(user, permission) {
          if (user.name === 'mallory')
            throw new PermissionError(
              `User "${user.name}" doesn't have required permission "${permission}"`,
              {
                permission,
              },
            );
        },
      };
    },
  };
}

/**
 * Squall in-process with content, executions, workflows, chatops running `adapter` (the real SDK)
 * and inquiries, wired as src/subsystems.ts wires them (inquiries after chatops, whose adapters
 * it attaches to; answered inquiries resume their workflow through the engine).
 */
export async function startChatSquall(
  /** The adapter, or what makes them from the config (chatTransports, as `squall start` does). */
  adapter: ChatAdapter | NonNullable<Extract<ChatopsOptions['adapters'], (...args: never[]) => unknown>>,
  options: {
    mongo: boolean;
    users: Record<string, string>;
    /** Start on this store (a restart): the MongoDB database or the embedded data directory. */
    store?: { mongoUrl?: string; dataDir?: string };
    /** More config, e.g. the bot's token under chatops.<adapter> (then it is leased, as in production). */
    config?: Record<string, unknown>;
  },
) {
  const executions = executionsSubsystem(
    () => ({}),
    () => ({
      rerunFromTasks: (id, tasks, noReset, user) =>
        workflows.engine().rerunFromTasks(id, tasks, noReset, user),
    }),
  );
  const workflows = workflowsSubsystem(executions.service);
  const chatops = chatopsSubsystem(() => executions.service(), {
    adapters: typeof adapter === 'function' ? adapter : [adapter],
  });
  const inquiries = inquiriesSubsystem(executions.service, {
    chatAdapters: () => chatops.pipeline().adapters,
    resumeWorkflow: (id) => workflows.engine().resume(id),
  });
  const svc = await startTestService({
    subsystems: [
      testSecretsSubsystem(),
      denyMallory(),
      contentSubsystem(),
      executions,
      workflows,
      chatops,
      inquiries,
    ],
    mongoUrl: options.store?.mongoUrl ?? (options.mongo ? freshMongoUrl() : undefined),
    ...(options.store?.dataDir ? { dataDir: options.store.dataDir } : {}),
    config: {
      'auth.enable': false,
      'packs.paths': [FIXTURE_PACKS],
      'chatops.users': options.users,
      ...options.config,
    },
  });
  return { svc, executions, workflows, chatops, inquiries };
}

export type ChatSquall = Awaited<ReturnType<typeof startChatSquall>>;

/** A chat suite once per store target (embedded, and MongoDB when it is up), titled `<title> (<kind>)`. */
export function describeChat(title: string, body: (target: StoreTarget) => void): void {
  for (const target of STORE_TARGETS)
    describeWithServer(`${title} (${target.kind})`, 'MongoDB (SQUALL_TEST_MONGO_URL)', target.available, () =>
      body(target),
    );
}

/** What a chat suite's tests reach: the emulator (started before them) and the Squall on it. */
export interface ChatSuite<Emulator> {
  emulator: Emulator;
  squall: () => ChatSquall;
}

/**
 * The suite's hooks: `emulator` started before the tests with a chat Squall on it (the adapter
 * `adapterFor` gives), both stopped after them, then the `afterStop` checks. The emulator is
 * made at once, so a suite may add users to it before it starts; the Squall exists only once
 * the tests run.
 */
function useChatSquall<Emulator extends { start(): Promise<unknown>; stop(): Promise<void> }>(
  target: StoreTarget,
  users: Record<string, string>,
  emulator: Emulator,
  adapterFor: (emulator: Emulator) => ChatAdapter,
  afterStop: () => void = () => undefined,
): ChatSuite<Emulator> {
  let squall: ChatSquall | undefined;
  beforeAll(async () => {
    await emulator.start();
    squall = await startChatSquall(adapterFor(emulator), { mongo: target.kind === 'mongo', users });
  }, 60_000);
  afterAll(async () => {
    await squall?.svc.cleanup();
    await emulator.stop();
    afterStop();
  });
  return {
    emulator,
    squall: () => {
      if (!squall) throw new Error('the chat Squall is started in beforeAll: use it inside a test');
      return squall;
    },
  };
}

/** A Slack emulator in Socket Mode and a chat Squall on it, for the suite. */
export function useSlackSquall(
  target: StoreTarget,
  users: Record<string, string>,
  options: SlackEmulatorOptions = {},
): { slack: SlackEmulator; squall: () => ChatSquall } {
  const { emulator, squall } = useChatSquall(target, users, new SlackEmulator(options), socketSlackAdapter);
  // Each test is its own scenario: it starts with Slack's rate limits full, not drained by the last.
  beforeEach(() => emulator.resetRateLimits());
  return { slack: emulator, squall };
}

/** The same for Discord; after the tests neither the emulator nor the adapter may have seen an error. */
export function useDiscordSquall(
  target: StoreTarget,
  users: Record<string, string>,
): { discord: DiscordEmulator; squall: () => ChatSquall } {
  const errors: string[] = [];
  const discord = new DiscordEmulator();
  // As for Slack: each test starts with Discord's per-channel limits full.
  beforeEach(() => discord.resetRateLimits());
  const { squall } = useChatSquall(
    target,
    users,
    discord,
    (d) => emulatedDiscordAdapter(d, errors),
    () => {
      expect(discord.errors).toEqual([]);
      expect(errors).toEqual([]);
    },
  );
  return { discord, squall };
}

/**
 * The command `text` was audited once, as the person's: the bot's own posts, which the emulators
 * echo back as events, were not taken for commands.
 */
export async function expectAuditedOnce(squall: ChatSquall, text: string, botUserId: string): Promise<void> {
  const audit = squall.svc.services.store.audit;
  await waitFor(() => audit.findOne({ kind: 'chat.command', text }), 'the audit of the command');
  const commands = await audit.find({ kind: 'chat.command' });
  expect(commands.filter((a) => a.text === text)).toHaveLength(1);
  expect(commands.every((a) => (a.user as { id: string }).id !== botUserId)).toBe(true);
}

/** Posts `message` as the bot through the API (what sdk.chat.postMessage and chatops.post_message do). */
export function postThroughApi(
  squall: ChatSquall,
  adapter: string,
  channel: string,
  message: string,
): Promise<Response> {
  return fetch(`${squall.svc.url}/api/v1/chatops/message`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ adapter, channel, message }),
  });
}
