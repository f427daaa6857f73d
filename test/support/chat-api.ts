import type { ShellAdapter, ShellEvent } from '../../adapters/shell/index.js';
import { assertCan, issueExecutionToken, revokeExecutionToken } from '../../src/auth/index.js';
import { chatopsSubsystem, type ChatAdapter } from '../../src/chatops/index.js';
import { contentSubsystem } from '../../src/content/subsystem.js';
import { executionsSubsystem } from '../../src/executions/subsystem.js';
import type { Subsystem } from '../../src/service/index.js';
import { startTestApi, type TestApi } from './api.js';
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
export function chatSubsystems(adapters: ChatAdapter[]): Subsystem[] {
  const executions = executionsSubsystem((services) =>
    services.config.auth.enable
      ? {
          issueToken: (id, user) => issueExecutionToken(services, id, user),
          revokeToken: async (id) => void (await revokeExecutionToken(services, id)),
        }
      : {},
  );
  return [
    testSecretsSubsystem(),
    contentSubsystem(),
    executions,
    chatopsSubsystem(() => executions.service(), { adapters }),
  ];
}

/**
 * Squall with auth and RBAC on, content, executions and chatops on `adapters`: chat commands
 * run as real Squall users with their roles (see startTestApi for `overrides` and `mongoUrl`).
 */
export async function startChatApi(
  adapters: ChatAdapter[],
  options: { overrides?: Record<string, unknown>; mongoUrl?: string } = {},
): Promise<TestApi> {
  return startTestApi({ subsystems: [rbacSubsystem(), ...chatSubsystems(adapters)], ...options });
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
