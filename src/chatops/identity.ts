import { getAuthService } from '../auth/index.js';
import { SquallError } from '../errors.js';
import type { Services } from '../service/index.js';
import { chatIdentity, type ChatUser } from './adapter.js';
import { chatLinkId } from './links.js';

/** The Squall user a chat user acts as, and whether that came from an explicit mapping. */
export interface SquallIdentity {
  name: string;
  roles: string[];
  /** False when the chat user is unknown and acts as `chatops.default_user`. */
  mapped: boolean;
  /** Bound to this Squall user by the person themselves (`!link`). */
  linked?: boolean;
}

/** Resolves roles of a Squall user; the auth subsystem provides a better one (file assignments). */
export type RolesLookup = (user: string) => Promise<string[] | null>;

/** Roles from the auth subsystem (stored roles plus rbac/ assignments), when auth runs here. */
export function authRoles(services: Services): RolesLookup | undefined {
  try {
    const auth = getAuthService(services);
    return async (user) => {
      const stored = await services.store.users.findOne({ name: user });
      return stored ? auth.effectiveRoles(user, stored.roles) : null;
    };
  } catch (err) {
    if (err instanceof SquallError && err.code === 'AUTH_NOT_INITIALISED') return undefined;
    throw err;
  }
}

/**
 * Maps a chat identity to a Squall user (st2-reference.md §5.4: the execution's `user` is a Squall
 * user, `api_user` the chat name). `chatops.users` is keyed by "<adapter>:<user id>" or
 * "<adapter>:<user name>"; anyone else acts as `chatops.default_user` with `default_roles` when
 * that user has no account. A person the adapter authenticated (`squallUser`) acts as that user;
 * one who linked their chat identity (`!link`, links.ts) acts as the linked user, before any mapping.
 */
export async function resolveIdentity(
  services: Services,
  adapter: string,
  user: ChatUser,
  rolesOf?: RolesLookup,
  workspace?: string,
): Promise<SquallIdentity> {
  const { users, default_user, default_roles } = services.config.chatops;
  if (user.squallUser) {
    // An authenticated session: its own roles only, never the default user's.
    const name = user.squallUser;
    const roles = (await rolesOf?.(name)) ?? (await services.store.users.findOne({ name }))?.roles ?? [];
    return { name, roles, mapped: true };
  }
  const linked = await linkedUser(services, adapter, user.id, workspace);
  if (linked) {
    const roles =
      (await rolesOf?.(linked)) ?? (await services.store.users.findOne({ name: linked }))?.roles ?? [];
    return { name: linked, roles, mapped: true, linked: true };
  }
  const mappedName = users[chatIdentity(adapter, user.id)] ?? users[chatIdentity(adapter, user.name)];
  const name = mappedName ?? default_user;
  const roles = (await rolesOf?.(name)) ?? (await services.store.users.findOne({ name }))?.roles ?? null;
  return {
    name,
    roles: roles && roles.length > 0 ? roles : mappedName ? (roles ?? []) : default_roles,
    mapped: mappedName !== undefined,
  };
}

/**
 * The Squall user a chat user linked. Messages name their workspace; button presses do not, so
 * they take the link of that user id on the platform (ids are unique there in Slack and Discord).
 */
async function linkedUser(
  services: Services,
  platform: string,
  userId: string,
  workspace: string | undefined,
): Promise<string | null> {
  if (workspace !== undefined)
    return (await services.store.chatLinks.get(chatLinkId(platform, workspace, userId)))?.user ?? null;
  return (await services.store.chatLinks.findOne({ platform, 'chat_user.id': userId }))?.user ?? null;
}

/**
 * A refusal that says what to do instead of RBAC's wording: who the person acts as, what is
 * missing, and whom to ask.
 */
export function refusalText(
  identity: SquallIdentity,
  doing: string,
  permission?: string,
  on?: string,
  prefix = '!',
): string {
  const missing = permission ? `"${permission}"${on ? ` on ${on}` : ''}` : 'the permission';
  if (identity.mapped)
    return `You're not allowed to ${doing}: your Squall account "${identity.name}" lacks ${missing}. Ask an admin to grant it to one of your roles.`;
  return `You're not linked to a Squall account — say \`${prefix}link\`. Until then you act as "${identity.name}", which may not ${doing} (it lacks ${missing}).`;
}
