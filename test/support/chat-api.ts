import { ShellAdapter, type ShellEvent } from '../../adapters/shell/index.js';
import { assertCan, issueExecutionToken, revokeExecutionToken } from '../../src/auth/index.js';
import { chatopsSubsystem, type ChatAdapter } from '../../src/chatops/index.js';
import { contentSubsystem } from '../../src/content/subsystem.js';
import { executionsSubsystem } from '../../src/executions/subsystem.js';
import type { Subsystem } from '../../src/service/index.js';
import { afterAll, beforeAll, expect } from 'vitest';
import { workflowsSubsystem } from '../../src/workflows/engine/index.js';
import { eventsSubsystem } from '../../src/rules/index.js';
import { notifierSubsystem } from '../../src/notifier/index.js';
import { freshMongoUrl } from './servers.js';
import { finishedExecution, startTestApi, type TestApi } from './api.js';
import { testSecretsSubsystem } from './test-service.js';

/** RBAC where every subsystem finds it, as `squall start` wires it when auth is on. */
export function rbacSubsystem(): Subsystem {
  return {
    name: 'rbac',
    init(services) {
      services.rbac = { assertCan: (user, permission, resource) => assertCan(user, permission, resource) };
    },
  };
}

/**
 * Content, executions and chatops on `adapters` (with the test secret box). With auth on, each
 * execution gets its temporary API token (ST2_ACTION_AUTH_TOKEN) as under `squall start`.
 */
export function chatSubsystems(
  adapters: ChatAdapter[],
  options: { workflows?: boolean; rules?: boolean } = {},
): Subsystem[] {
  const executions = executionsSubsystem((services) =>
    services.config.auth.enable
      ? {
          issueToken: (id, user) => issueExecutionToken(services, id, user),
          revokeToken: async (id) => void (await revokeExecutionToken(services, id)),
        }
      : {},
  );
  const chatops = chatopsSubsystem(() => executions.service(), { adapters });
  return [
    testSecretsSubsystem(),
    contentSubsystem(),
    executions,
    ...(options.workflows ? [workflowsSubsystem(() => executions.service(), { sweepEveryMs: 1000 })] : []),
    // `rules`: the rules engine and the notifier (notify routes, core.st2.generic.notifytrigger).
    ...(options.rules ? [eventsSubsystem(() => executions.service())] : []),
    chatops,
    ...(options.rules
      ? [
          notifierSubsystem(
            () => executions.service(),
            () => chatops.notifier(),
          ),
        ]
      : []),
  ];
}

/**
 * Squall with auth and RBAC on, content, executions and chatops on `adapters`: chat commands
 * run as real Squall users with their roles (see startTestApi for `overrides` and `mongoUrl`).
 */
export async function startChatApi(
  adapters: ChatAdapter[],
  options: {
    overrides?: Record<string, unknown>;
    mongoUrl?: string;
    workflows?: boolean;
    rules?: boolean;
  } = {},
): Promise<TestApi> {
  const { workflows, rules, ...rest } = options;
  return startTestApi({
    subsystems: [rbacSubsystem(), ...chatSubsystems(adapters, { workflows, rules })],
    ...rest,
  });
}

/**
 * A suite's Squall (startChatApi) on the terminal adapter, with the packs of `packsDir` and the
 * chat route `ops` (the terminal's channel ops), and what the chatops pack tests ask of it.
 */
export function chatPackApi(
  packsDir: string,
  mongo: boolean,
  options: { workflows?: boolean; rules?: boolean } = {},
) {
  const fx: { api?: TestApi; shell?: ShellAdapter } = {};
  beforeAll(async () => {
    fx.shell = new ShellAdapter();
    fx.api = await startChatApi([fx.shell], {
      overrides: {
        'packs.paths': [packsDir],
        'chatops.routes': { ops: { adapter: 'shell', channel: 'ops' } },
      },
      mongoUrl: mongo ? freshMongoUrl() : undefined,
      workflows: options.workflows,
      rules: options.rules,
    });
  }, 60_000);
  afterAll(async () => fx.api?.stop());
  const api = () => fx.api!;
  return {
    api,
    shell: () => fx.shell!,
    botSaid: (channel: string) => botTexts(fx.shell!, channel),
    run: (action: string, parameters: Record<string, unknown>) => runToEnd(api(), action, parameters),
    announced: (body: () => Promise<unknown>) => announcedDuring(api(), body),
  };
}

/** What the bot said in a terminal chat thread (whispers included), oldest first. */
export function botSaidIn(
  shell: ShellAdapter,
  channel: string,
  thread: string,
): Array<Extract<ShellEvent, { type: 'message' }>> {
  return shell
    .transcript(channel)
    .filter(
      (e): e is Extract<ShellEvent, { type: 'message' }> =>
        e.type === 'message' && e.from === 'squall' && e.thread === thread,
    );
}

/** What the bot said in a terminal chat channel (whispers included), oldest first, as text. */
export function botTexts(shell: ShellAdapter, channel: string): string[] {
  return shell
    .transcript(channel)
    .filter((e): e is Extract<ShellEvent, { type: 'message' }> => e.type === 'message' && e.from === 'squall')
    .map((m) => m.text);
}

/** Runs `action` through the API (expecting it accepted) and returns the finished execution. */
export async function runToEnd(api: TestApi, action: string, parameters: Record<string, unknown>) {
  const created = await api.request('post', '/api/v1/executions', { body: { action, parameters } });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return finishedExecution(api, created.body.id);
}

/** The `st2.announcement__*` events published while `body` runs (what hubot-stackstorm posts). */
export async function announcedDuring(
  api: TestApi,
  body: () => Promise<unknown>,
): Promise<Array<{ event: string; data: unknown }>> {
  const events: Array<{ event: string; data: unknown }> = [];
  const unsubscribe = api.services.bus.subscribe('st2.announcement__*', (e) =>
    events.push({ event: e.name, data: e.payload }),
  );
  try {
    await body();
  } finally {
    unsubscribe();
  }
  return events;
}
