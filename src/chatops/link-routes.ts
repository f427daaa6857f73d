import { isAdmin } from '../auth/index.js';
import type { Request } from 'express';
import type { ApiRouter } from '../api/index.js';
import { PermissionError } from '../errors.js';
import type { Services } from '../service/index.js';
import { ChatLinks } from './links.js';

const identity = {
  platform: { type: 'string', description: 'The chat adapter: slack, discord.' },
  workspace: { type: 'string', description: "Slack team id, Discord guild id ('' when none)." },
  chat_user: {
    type: 'object',
    properties: { id: { type: 'string' }, name: { type: 'string' } },
    required: ['id', 'name'],
  },
};

const linkSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', description: '<platform>:<workspace>:<chat user id>' },
    ...identity,
    user: { type: 'string', description: 'The Squall user commands from this chat identity run as.' },
    created_at: { type: 'string', format: 'date-time' },
  },
  required: ['id', 'platform', 'workspace', 'chat_user', 'user', 'created_at'],
};

const tokenBody = {
  type: 'object',
  properties: {
    token: { type: 'string', minLength: 1, maxLength: 200, description: 'From the `!link` reply.' },
  },
  required: ['token'],
  additionalProperties: false,
};

/**
 * Linked chat identities (links.ts). The web UI previews and confirms a `!link` token as the
 * logged-in user; a user lists and revokes their own links, an admin anyone's. Account routes:
 * an action's token cannot link or unlink its user.
 */
export function chatLinkRoutes(
  router: ApiRouter,
  services: Services,
  // The API's requestUser, handed in: importing it here would close an import cycle through src/api.
  requestUser: (req: Request) => { name: string; roles: string[] },
): void {
  const links = new ChatLinks(services);
  const mayManage = (req: Request, owner: string) => {
    const me = requestUser(req);
    if (me.name !== owner && !isAdmin(me))
      throw new PermissionError(`User "${me.name}" may only manage their own chat links`, { owner });
  };

  router.add({
    method: 'post',
    path: '/api/v1/chatops/links/preview',
    summary: 'The chat identity a `!link` token would link (before confirming it)',
    tag: 'chatops',
    auth: 'account',
    body: tokenBody,
    responses: { 404: 'The token is unknown, already used or expired.' },
    response: {
      type: 'object',
      properties: { ...identity, expires_at: { type: 'string', format: 'date-time' } },
    },
    handler: async ({ body }) => links.preview((body as { token: string }).token),
  });

  router.add({
    method: 'post',
    path: '/api/v1/chatops/links',
    summary: 'Confirm a `!link` token: its chat identity then acts as the calling user',
    tag: 'chatops',
    auth: 'account',
    status: 201,
    body: tokenBody,
    responses: { 404: 'The token is unknown, already used or expired.' },
    response: linkSchema,
    handler: async ({ req, body }) => links.confirm((body as { token: string }).token, requestUser(req).name),
  });

  router.add({
    method: 'get',
    path: '/api/v1/chatops/links',
    summary: "List linked chat identities: the caller's own (an admin: everyone's, or `user`'s)",
    tag: 'chatops',
    auth: 'account',
    query: { type: 'object', properties: { user: { type: 'string' } } },
    response: { type: 'array', items: linkSchema },
    handler: async ({ req, query }) => {
      const me = requestUser(req);
      const user = typeof query.user === 'string' && query.user ? query.user : undefined;
      if (!isAdmin(me)) {
        if (user && user !== me.name) mayManage(req, user);
        return links.list(me.name);
      }
      return links.list(user);
    },
  });

  router.add({
    method: 'delete',
    path: '/api/v1/chatops/links/:id',
    summary: 'Revoke a linked chat identity (your own; an admin: any)',
    tag: 'chatops',
    auth: 'account',
    status: 204,
    handler: async ({ req, res, params }) => {
      const link = await links.get(params.id);
      mayManage(req, link.user);
      await links.revoke(link.id);
      res.status(204).end();
      return undefined;
    },
  });
}
