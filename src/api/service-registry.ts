import { isAdmin } from '../auth/index.js';
import { PermissionError, SquallError } from '../errors.js';
import type { Services } from '../service/index.js';
import { requestUser } from './list.js';
import type { ApiRouter } from './router.js';

/** The one group: every Squall process that shares the store and heartbeats in it. */
export const SERVICE_GROUP = 'squall';

/**
 * st2's service registry (`st2 service-registry group list` / `member list`), which st2 reads from
 * its coordination backend: in Squall the processes are those heartbeating in the store's
 * `workers` (src/executions/recovery.ts), alive while their last beat is within
 * executions.dead_after_ms. Admins only, as in st2.
 */
export function serviceRegistryRoutes(router: ApiRouter, services: Services): void {
  const assertAdmin = (req: Parameters<typeof requestUser>[0]) => {
    const user = requestUser(req);
    if (!isAdmin(user))
      throw new PermissionError(`Administrator access required for the service registry`, {
        user: user.name,
      });
  };

  const members = async () => {
    const since = new Date(Date.now() - services.config.executions.dead_after_ms).toISOString();
    const workers = await services.store.workers.find({ heartbeat_at: { $gte: since } }, { sort: { id: 1 } });
    return workers.map((w) => ({
      group_id: SERVICE_GROUP,
      member_id: w.id,
      capabilities: {
        hostname: w.host ?? null,
        pid: w.pid ?? null,
        heartbeat_at: w.heartbeat_at ?? null,
        running: w.running ?? null,
      },
    }));
  };

  router.add({
    method: 'get',
    path: '/api/v1/service_registry/groups',
    summary: 'Service registry groups (st2 `service-registry group list`): one, "squall"',
    tag: 'system',
    handler: ({ req }) => {
      assertAdmin(req);
      return { groups: [SERVICE_GROUP] };
    },
  });

  router.add({
    method: 'get',
    path: '/api/v1/service_registry/groups/:group_id/members',
    summary: 'The live processes of a service registry group, with their host and pid',
    tag: 'system',
    responses: { 404: 'No such group.' },
    handler: async ({ req, params }) => {
      assertAdmin(req);
      if (params.group_id !== SERVICE_GROUP)
        throw new SquallError(
          'NOT_FOUND',
          `Group with ID "${params.group_id}" not found.`,
          { groups: [SERVICE_GROUP] },
          404,
        );
      return { members: await members() };
    },
  });
}
