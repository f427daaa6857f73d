import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import { DiscordAdapter } from '../../../adapters/discord/index.js';
import { SlackAdapter } from '../../../adapters/slack/index.js';
import { chatopsSubsystem, type ChatAdapter } from '../../../src/chatops/index.js';
import { contentSubsystem } from '../../../src/content/subsystem.js';
import { PermissionError } from '../../../src/errors.js';
import { executionsSubsystem } from '../../../src/executions/subsystem.js';
import { inquiriesSubsystem } from '../../../src/inquiries/index.js';
import type { Subsystem } from '../../../src/service/index.js';
import { workflowsSubsystem } from '../../../src/workflows/engine/index.js';
import { DiscordEmulator } from '../../emulators/discord/index.js';
import { SlackEmulator } from '../../emulators/slack/index.js';
import { freshMongoUrl, type StoreTarget } from '../../support/servers.js';
import { startTestService, testSecretsSubsystem } from '../../support/test-service.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const FIXTURE_PACKS = path.join(here, 'fixtures', 'packs');

export const quietLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** The Slack adapter in Socket Mode (the real @slack/bolt) talking to `slack`. */
export function socketSlackAdapter(slack: SlackEmulator): SlackAdapter {
  return new SlackAdapter({
    mode: 'socket',
    botToken: slack.botToken,
    appToken: slack.appToken,
    apiUrl: slack.apiUrl,
    // The emulator answers 429 over Slack's rate limits: the client waits Retry-After and retries,
    // as in production (retries are immediate otherwise, so an emulator error does not stall a test).
    retries: 10,
    logger: quietLogger,
  });
}

/** The Discord adapter (the real discord.js) talking to `discord`; what it logs as errors lands in `errors`. */
export function emulatedDiscordAdapter(discord: DiscordEmulator, errors: string[]): DiscordAdapter {
  return new DiscordAdapter({
    token: discord.botToken,
    apiUrl: discord.apiUrl,
    guildId: discord.guildId,
    retries: 0,
    waitGuildTimeout: 2000,
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
  adapter: ChatAdapter,
  options: {
    mongo: boolean;
    users: Record<string, string>;
    /** Start on this store (a restart): the MongoDB database or the embedded data directory. */
    store?: { mongoUrl?: string; dataDir?: string };
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
  const chatops = chatopsSubsystem(() => executions.service(), { adapters: [adapter] });
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
    },
  });
  return { svc, executions, workflows, chatops, inquiries };
}

export type ChatSquall = Awaited<ReturnType<typeof startChatSquall>>;

/**
 * The suite's hooks: a Slack emulator and a chat Squall on it (Socket Mode) before the tests,
 * both stopped after them. `ready` hands them to the suite; `prepare` adds users first.
 */
export function useSlackSquall(
  target: StoreTarget,
  users: Record<string, string>,
  ready: (slack: SlackEmulator, squall: ChatSquall) => void,
  prepare: (slack: SlackEmulator) => void = () => undefined,
): void {
  let slack: SlackEmulator | undefined;
  let squall: ChatSquall | undefined;
  beforeAll(async () => {
    slack = await new SlackEmulator().start();
    prepare(slack);
    squall = await startChatSquall(socketSlackAdapter(slack), { mongo: target.kind === 'mongo', users });
    ready(slack, squall);
  }, 60_000);
  // Each test is its own scenario: it starts with Slack's rate limits full, not drained by the last.
  beforeEach(() => slack?.resetRateLimits());
  afterAll(async () => {
    await squall?.svc.cleanup();
    await slack?.stop();
  });
}

/** The same for Discord; after the tests neither the emulator nor the adapter may have seen an error. */
export function useDiscordSquall(
  target: StoreTarget,
  users: Record<string, string>,
  ready: (discord: DiscordEmulator, squall: ChatSquall) => void,
  prepare: (discord: DiscordEmulator) => void = () => undefined,
): void {
  let discord: DiscordEmulator | undefined;
  let squall: ChatSquall | undefined;
  const errors: string[] = [];
  beforeAll(async () => {
    discord = await new DiscordEmulator().start();
    prepare(discord);
    squall = await startChatSquall(emulatedDiscordAdapter(discord, errors), {
      mongo: target.kind === 'mongo',
      users,
    });
    ready(discord, squall);
  }, 60_000);
  afterAll(async () => {
    await squall?.svc.cleanup();
    await discord?.stop();
    expect(discord?.errors ?? []).toEqual([]);
    expect(errors).toEqual([]);
  });
}
