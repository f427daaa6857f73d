import path from 'node:path';
import { assertCan } from '../../../src/auth/index.js';
import { contentSubsystem } from '../../../src/content/subsystem.js';
import { executionsSubsystem } from '../../../src/executions/subsystem.js';
import { inquiriesSubsystem } from '../../../src/inquiries/index.js';
import type { Subsystem } from '../../../src/service/index.js';
import { workflowsSubsystem } from '../../../src/workflows/engine/index.js';
import { startTestApi, type TestApi } from '../../support/api.js';
import { freshMongoUrl, type StoreTarget } from '../../support/servers.js';
import { testSecretsSubsystem } from '../../support/test-service.js';

export const INQ_PACKS = path.join(import.meta.dirname, 'fixtures', 'packs');

/** What squall start's security glue does: RBAC decisions where every subsystem finds them. */
export const rbacGlue: Subsystem = {
  name: 'test-rbac',
  init(services) {
    services.rbac = {
      assertCan: (user, permission, resource) => assertCan(user, permission, resource as never),
    };
  },
};

/** An API with RBAC, the inquiry fixture packs, workflows and inquiries (answers resume the workflow). */
export async function startInquiryApi(target: StoreTarget): Promise<TestApi> {
  const executions = executionsSubsystem();
  const workflows = workflowsSubsystem(executions.service, { sweepEveryMs: 1000 });
  return startTestApi({
    subsystems: [
      testSecretsSubsystem(),
      rbacGlue,
      contentSubsystem(),
      executions,
      workflows,
      inquiriesSubsystem(executions.service, { resumeWorkflow: (id) => workflows.engine().resume(id) }),
    ],
    mongoUrl: target.kind === 'mongo' ? freshMongoUrl() : undefined,
    overrides: { 'packs.paths': [INQ_PACKS] },
  });
}
