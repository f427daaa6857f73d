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
