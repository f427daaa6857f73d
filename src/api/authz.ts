import type { Request } from 'express';
import type { Services } from '../service/index.js';
import { requestUser } from './list.js';

/** Checks the request's user against RBAC (st2 permission types and resource uids). */
export function authorize(
  services: Services,
  req: Request,
  permission: string,
  resource?: { uid: string; pack?: string; [k: string]: unknown },
): void {
  services.rbac?.assertCan(requestUser(req), permission, resource);
}

/**
 * An execution as an RBAC resource, as every route that reads or acts on one names it: its own uid,
 * its owner (the user it runs as: with `rbac.permission_isolation` no one else but an admin may
 * touch it) and its action as the parent whose grants it inherits (action_view, action_execute).
 * Named by its action alone, permission isolation was never asked about (the policy only applies it
 * to `execution:` resources), so any viewer could read, cancel or re-run another user's execution
 * and walk a workflow's children.
 */
export function executionResource(e: {
  id: string;
  action: { ref: string; pack?: unknown; name?: unknown };
  context?: { user?: unknown };
}): { uid: string; pack: string; owner?: string; parent: { uid: string; pack: string } } {
  const dot = e.action.ref.indexOf('.');
  const pack = typeof e.action.pack === 'string' ? e.action.pack : e.action.ref.slice(0, dot);
  const name = typeof e.action.name === 'string' ? e.action.name : e.action.ref.slice(dot + 1);
  const owner = e.context?.user;
  return {
    uid: `execution:${e.id}`,
    pack,
    ...(typeof owner === 'string' && owner ? { owner } : {}),
    parent: { uid: `action:${pack}:${name}`, pack },
  };
}
