import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chatopsSubsystem, type ChatAdapter } from '../../../src/chatops/index.js';
import { contentSubsystem } from '../../../src/content/subsystem.js';
import { PermissionError } from '../../../src/errors.js';
import { executionsSubsystem } from '../../../src/executions/subsystem.js';
import type { Subsystem } from '../../../src/service/index.js';
import { freshMongoUrl } from '../../support/servers.js';
import { startTestService, testSecretsSubsystem } from '../../support/test-service.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const FIXTURE_PACKS = path.join(here, 'fixtures', 'packs');

export const quietLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

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

/** Squall in-process with content, executions and chatops running `adapter` (the real SDK). */
export async function startChatSquall(
  adapter: ChatAdapter,
  options: { mongo: boolean; users: Record<string, string> },
) {
  const executions = executionsSubsystem();
  const chatops = chatopsSubsystem(() => executions.service(), { adapters: [adapter] });
  const svc = await startTestService({
    subsystems: [testSecretsSubsystem(), denyMallory(), contentSubsystem(), executions, chatops],
    mongoUrl: options.mongo ? freshMongoUrl() : undefined,
    config: {
      'auth.enable': false,
      'packs.paths': [FIXTURE_PACKS],
      'chatops.users': options.users,
    },
  });
  return { svc, executions, chatops };
}
