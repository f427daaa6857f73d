import path from 'node:path';
import { assertCan } from '../../../src/auth/index.js';
import type { Subsystem } from '../../../src/service/index.js';

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
