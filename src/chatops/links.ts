import { randomSecret, sha256 } from '../auth/index.js';
import { NotFoundError, SquallError } from '../errors.js';
import type { Services } from '../service/index.js';
import type { ChatLinkRecord, ChatLinkRequestRecord, ChatIdentityFields } from '../store/index.js';

/** The id of a linked chat identity: `<platform>:<workspace>:<chat user id>`. */
export function chatLinkId(platform: string, workspace: string, userId: string): string {
  return `${platform}:${workspace}:${userId}`;
}

/** What a link request shows before it is confirmed (never the token). */
export type ChatLinkPreview = ChatIdentityFields & { expires_at: string };

/**
 * Linked identities (`!link`): a chat user asks for a one-time link, opens it in the web UI
 * logged in as their Squall user, confirms, and from then on their chat commands run as that
 * user. The token travels only in the private chat reply; the store keeps its sha256, and the
 * request is deleted by the confirmation that uses it (a unique delete, so it works once).
 */
export class ChatLinks {
  constructor(private readonly services: Services) {}

  private get store() {
    return this.services.store;
  }

  /** A new one-time token for this chat identity, valid `chatops.link_ttl_ms`. */
  async request(identity: ChatIdentityFields): Promise<{ token: string; expires_at: string }> {
    const token = randomSecret(24);
    const now = Date.now();
    const expires_at = new Date(now + this.services.config.chatops.link_ttl_ms).toISOString();
    // Earlier requests expire on their own; sweep those that did so the collection stays small.
    await this.store.chatLinkRequests.deleteMany({ expires_at: { $lt: new Date(now).toISOString() } });
    await this.store.chatLinkRequests.insert({
      id: sha256(token),
      platform: identity.platform,
      workspace: identity.workspace,
      chat_user: { id: identity.chat_user.id, name: identity.chat_user.name },
      created_at: new Date(now).toISOString(),
      expires_at,
    });
    return { token, expires_at };
  }

  private async pending(token: string): Promise<ChatLinkRequestRecord> {
    const found =
      typeof token === 'string' && token ? await this.store.chatLinkRequests.get(sha256(token)) : null;
    if (!found || found.expires_at < new Date().toISOString())
      throw new SquallError(
        'CHAT_LINK_INVALID',
        'this link is unknown, already used or expired; say `!link` in chat for a new one',
        {},
        404,
      );
    return found;
  }

  /** The chat identity a token would link, for the confirmation page. */
  async preview(token: string): Promise<ChatLinkPreview> {
    const r = await this.pending(token);
    return { platform: r.platform, workspace: r.workspace, chat_user: r.chat_user, expires_at: r.expires_at };
  }

  /** Uses the token: binds its chat identity to `user` (replacing an earlier link of that identity). */
  async confirm(token: string, user: string): Promise<ChatLinkRecord> {
    const r = await this.pending(token);
    // One use, across processes: the claim is a unique insert (a delete is not atomic on FerretDB 1.x).
    if (!(await this.store.claim(`chat-link:${r.id}`, user)))
      throw new SquallError(
        'CHAT_LINK_INVALID',
        'this link was already used; say `!link` in chat for a new one',
        {},
        404,
      );
    const id = chatLinkId(r.platform, r.workspace, r.chat_user.id);
    const link: ChatLinkRecord = {
      id,
      platform: r.platform,
      workspace: r.workspace,
      chat_user: r.chat_user,
      user,
      created_at: new Date().toISOString(),
    };
    await this.store.chatLinks.replace(link);
    await this.store.chatLinkRequests.deleteOne({ id: r.id });
    this.services.logger.info({ link: id, user }, 'chat identity linked');
    return link;
  }

  /** The Squall user a chat identity is linked to, or null. */
  async userOf(platform: string, workspace: string, userId: string): Promise<string | null> {
    return (await this.store.chatLinks.get(chatLinkId(platform, workspace, userId)))?.user ?? null;
  }

  async list(user?: string): Promise<ChatLinkRecord[]> {
    return this.store.chatLinks.find(user ? { user } : {}, { sort: { created_at: 1 } });
  }

  async get(id: string): Promise<ChatLinkRecord> {
    const link = await this.store.chatLinks.get(id);
    if (!link) throw new NotFoundError('chat link', id);
    return link;
  }

  async revoke(id: string): Promise<void> {
    if (!(await this.store.chatLinks.deleteOne({ id }))) throw new NotFoundError('chat link', id);
    this.services.logger.info({ link: id }, 'chat link revoked');
  }
}
