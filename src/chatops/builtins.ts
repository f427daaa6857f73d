import {
  buildHelp,
  formatExecutionResult,
  renderHelpText,
  type AliasLike,
  type ExecutionLike,
} from '../../aliases/index.js';
import { getAuthService, uids } from '../auth/index.js';
import { SquallError, errorMessage } from '../errors.js';
import type { ExecutionService } from '../executions/index.js';
import { inquiryDriverAt, type RespondOutcome } from '../inquiries/index.js';
import type { Services } from '../service/index.js';
import type { ChatUser } from './adapter.js';
import { refusalText, type SquallIdentity } from './identity.js';
import { ChatLinks } from './links.js';

/**
 * The built-in chat commands (aliases in packs/chatops/aliases with `extra.squall.builtin`).
 * They run in the pipeline, not as actions: each checks the asker's RBAC permission, then calls
 * Squall's own REST API as the asker's Squall user (a short-lived token), so the API's checks
 * (RBAC, permission isolation, user-scoped keys) apply exactly as for the CLI.
 */
export interface BuiltinContext {
  services: Services;
  executions: () => ExecutionService;
  identity: SquallIdentity;
  chatUser: ChatUser;
  prefix: string;
  aliases: AliasLike[];
  /** Where the command was said (answers to inquiries are audited with it). */
  chat?: { adapter: string; channel: string; thread?: string; workspace?: string };
}

export interface BuiltinAnswer {
  text: string;
  outcome: 'builtin' | 'forbidden' | 'bad_parameters' | 'error';
  /**
   * The text holds a secret (the `!link` token): only the asker sees it, it is posted once (no
   * retry job keeps it) and the audit records `audit` instead.
   */
  secret?: { audit: string };
}

const HELP_PAGE_SIZE = 20;

/** `help`, `help page 2`, `help deploy`, `help deploy page 2` (filter = case-insensitive regex). */
export function helpReply(ctx: BuiltinContext, args: string): string {
  let filter = args.trim();
  let page = 1;
  const paged = /(?:^|\s)page\s+(\d+)\s*$/i.exec(filter);
  if (paged) {
    page = Number(paged[1]);
    filter = filter.slice(0, paged.index).trim();
  }
  try {
    const help = buildHelp(ctx.aliases, filter ? { filter } : {});
    const text = renderHelpText(help, { prefix: ctx.prefix, page, pageSize: HELP_PAGE_SIZE });
    return text === 'No commands match.' && filter ? `No commands match "${filter}".` : text;
  } catch (err) {
    if (!(err instanceof SquallError)) throw err;
    return `Sorry ${ctx.chatUser.name}, I can't search for "${filter}": ${err.message}`;
  }
}

/** A short token for the asker's Squall user, when this process runs auth (else the API is open). */
async function tokenFor(services: Services, user: string): Promise<string | undefined> {
  let auth;
  try {
    auth = getAuthService(services);
  } catch (err) {
    if (err instanceof SquallError && err.code === 'AUTH_NOT_INITIALISED') return undefined;
    throw err;
  }
  if (!auth.settings.enable) return undefined;
  return (await auth.issueToken(user, 120, { source: 'chatops', service: true })).token;
}

class ApiAnswerError extends SquallError {}

async function api<T = unknown>(
  ctx: BuiltinContext,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const token = await tokenFor(ctx.services, ctx.identity.name);
  try {
    const res = await fetch(`${ctx.services.apiUrl}${path}`, {
      method,
      headers: {
        accept: 'application/json',
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(token ? { 'x-auth-token': token } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: the text itself is the answer
    }
    if (res.status >= 400) {
      const fault =
        parsed && typeof parsed === 'object' && 'faultstring' in parsed
          ? String((parsed as { faultstring: unknown }).faultstring)
          : `HTTP ${res.status}`;
      throw new ApiAnswerError('CHAT_API_ERROR', fault, { method, path, status: res.status }, res.status);
    }
    return parsed as T;
  } finally {
    if (token) await revoke(ctx.services, token);
  }
}

async function revoke(services: Services, token: string): Promise<void> {
  await getAuthService(services)
    .revokeToken(token)
    .catch((err: unknown) => services.logger.warn({ err }, 'could not revoke a chatops token'));
}

function permit(
  ctx: BuiltinContext,
  permission: string,
  resource?: { uid: string; [k: string]: unknown },
): void {
  ctx.services.rbac?.assertCan({ name: ctx.identity.name, roles: ctx.identity.roles }, permission, resource);
}

/** The RBAC resource of an execution (it inherits from its action); unknown ids are left to the API's 404. */
async function executionResource(
  ctx: BuiltinContext,
  id: string,
): Promise<{ uid: string; [k: string]: unknown }> {
  const record = await ctx.services.store.executions.get(id);
  if (!record) return { uid: `execution:${id}` };
  return uids.execution(id, record.action.ref, String(record.context?.user ?? '')) as never;
}

type Json = Record<string, unknown>;

function line(e: Json): string {
  const action = (e.action as Json | undefined)?.ref ?? '?';
  const ctxUser = (e.context as Json | undefined)?.user ?? '?';
  return `  ${e.id}  ${action}  ${e.status}  by ${ctxUser}  ${String(e.start_timestamp ?? '')
    .replace('T', ' ')
    .slice(0, 19)}`;
}

function parseResponse(raw: string): Record<string, unknown> {
  const text = raw.trim();
  if (/^(yes|y|true|ok|approve|approved)$/i.test(text)) return { continue: true };
  if (/^(no|n|false|deny|denied|reject)$/i.test(text)) return { continue: false };
  try {
    const value = JSON.parse(text) as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through to the error below
  }
  throw new SquallError(
    'CHAT_BAD_RESPONSE',
    `the response "${text.slice(0, 80)}" is neither yes/no nor a JSON object like {"continue": true}`,
    { response: text.slice(0, 200) },
  );
}

/**
 * Answers an inquiry in this process's InquiryService as the asker, via 'chat' with where it was
 * said (so the audit shows the chat user). Without an inquiries service here, the REST API.
 */
async function answerInquiry(
  ctx: BuiltinContext,
  id: string,
  answer: { response: Record<string, unknown> } | { answers: Record<string, string> },
): Promise<RespondOutcome> {
  const driver = inquiryDriverAt(ctx.services.apiUrl);
  if (!driver) {
    permit(ctx, 'inquiry_respond', uids.inquiry(id) as never);
    if (!('response' in answer))
      throw new SquallError(
        'INQUIRIES_MISSING',
        `this Squall does not run inquiries, so it cannot read "key=value" answers; use ${ctx.prefix}inquiry respond ${id} {json}`,
        { inquiry: id },
      );
    return api(ctx, 'PUT', `/api/v1/inquiries/${encodeURIComponent(id)}`, { id, ...answer });
  }
  const who = {
    user: { name: ctx.identity.name, roles: ctx.identity.roles },
    via: 'chat' as const,
    ...(ctx.chat
      ? {
          chat: {
            ...ctx.chat,
            user: { id: ctx.chatUser.id, name: ctx.chatUser.name },
            mapped: ctx.identity.mapped,
          },
        }
      : {}),
  };
  return 'response' in answer
    ? driver.respond(id, answer.response, who)
    : driver.respondWithAnswers(id, answer.answers, who);
}

function answered(ctx: BuiltinContext, outcome: RespondOutcome): string {
  if (outcome.status === 'pending' && outcome.quorum)
    return `Thanks ${ctx.chatUser.name}, your approval of inquiry ${outcome.id} is recorded (${outcome.approvals ?? '?'} of ${outcome.quorum}).`;
  return `Thanks ${ctx.chatUser.name}, inquiry ${outcome.id} answered with ${JSON.stringify(outcome.response)}.`;
}

const HANDLERS: Record<string, (ctx: BuiltinContext, p: Record<string, string>) => Promise<string>> = {
  async executions(ctx, p) {
    permit(ctx, 'execution_list');
    const all = /^all$/i.test(p.scope ?? '');
    const limit = Math.min(Math.max(Number(p.limit ?? 10) || 10, 1), 50);
    const q = new URLSearchParams({ limit: String(limit), parent: 'null' });
    if (!all) q.set('user', ctx.identity.name);
    const rows = await api<Json[]>(ctx, 'GET', `/api/v1/executions?${q}`);
    if (rows.length === 0) return all ? 'No executions yet.' : `No executions by ${ctx.identity.name} yet.`;
    return `${all ? 'Latest executions' : `Latest executions by ${ctx.identity.name}`}:\n${rows.map(line).join('\n')}`;
  },
  async execution_get(ctx, p) {
    permit(ctx, 'execution_view', await executionResource(ctx, p.id));
    const e = await api<Json>(ctx, 'GET', `/api/v1/executions/${encodeURIComponent(p.id)}`);
    return formatExecutionResult(e as unknown as ExecutionLike, { maxLength: 3500 }).text.replace(
      /^Action (\S+) completed\./,
      (_m, ref: string) => `Execution of ${ref}:`,
    );
  },
  async execution_cancel(ctx, p) {
    permit(ctx, 'execution_stop', await executionResource(ctx, p.id));
    const e = await api<Json>(ctx, 'DELETE', `/api/v1/executions/${encodeURIComponent(p.id)}`);
    return `Execution ${p.id} is ${String(e.status ?? 'canceling')}.`;
  },
  async execution_rerun(ctx, p) {
    permit(ctx, 'execution_rerun', await executionResource(ctx, p.id));
    const e = await api<Json>(ctx, 'POST', `/api/v1/executions/${encodeURIComponent(p.id)}/re_run`, {
      parameters: {},
    });
    return `Re-running ${String((e.action as Json | undefined)?.ref ?? 'the action')} as execution ${String(e.id)}.`;
  },
  async inquiry_list(ctx) {
    permit(ctx, 'inquiry_list');
    const rows = await api<Json[]>(ctx, 'GET', '/api/v1/inquiries?limit=20');
    if (rows.length === 0) return 'No inquiries are waiting for an answer.';
    return `Inquiries waiting for an answer:\n${rows
      .map(
        (r) =>
          `  ${r.id}  ${String(((r.schema as Json | undefined)?.description as string | undefined) ?? r.route ?? '')}`,
      )
      .join('\n')}\nAnswer with ${ctx.prefix}inquiry respond <id> yes|no|{json}`;
  },
  async inquiry_respond(ctx, p) {
    const response = parseResponse(p.response ?? '');
    return answered(ctx, await answerInquiry(ctx, p.id, { response }));
  },
  /** `respond <id> key=value …`: the alias parser hands the trailing pairs over as parameters. */
  async respond(ctx, p) {
    const { id: said, ...answers } = p;
    // Words that are not key=value pairs end up after the id: say how to answer instead of "not found".
    const [id, ...stray] = said.trim().split(/\s+/);
    if (stray.length)
      throw new SquallError(
        'CHAT_BAD_RESPONSE',
        `"${stray.join(' ').slice(0, 80)}" is not a field=value answer; answer like ${ctx.prefix}respond ${id} field=value other="two words"`,
        { inquiry: id },
      );
    return answered(ctx, await answerInquiry(ctx, id, { answers }));
  },
  async key_get(ctx, p) {
    const scope = /^user$/i.test(p.scope ?? '') ? 'user' : 'system';
    permit(ctx, 'key_value_pair_view', uids.keyValuePair(scope, p.name, ctx.identity.name) as never);
    const kv = await api<Json>(ctx, 'GET', `/api/v1/keys/${encodeURIComponent(p.name)}?scope=${scope}`);
    return kv.secret ? `${p.name} is a secret; I won't show it in chat.` : `${p.name} = ${String(kv.value)}`;
  },
  async key_set(ctx, p) {
    const scope = /^user$/i.test(p.scope ?? '') ? 'user' : 'system';
    permit(ctx, 'key_value_pair_set', uids.keyValuePair(scope, p.name, ctx.identity.name) as never);
    await api(ctx, 'PUT', `/api/v1/keys/${encodeURIComponent(p.name)}`, {
      name: p.name,
      value: p.value,
      scope,
    });
    return `Set ${scope} key ${p.name}.`;
  },
  async pack_list(ctx) {
    permit(ctx, 'pack_list');
    const rows = await api<Json[]>(ctx, 'GET', '/api/v1/packs?limit=100');
    return `Installed packs (${rows.length}):\n${rows.map((r) => `  ${r.ref} ${r.version ?? ''} - ${r.description ?? ''}`).join('\n')}`;
  },
};

export const BUILTIN_NAMES = ['help', 'link', ...Object.keys(HANDLERS)];

/** `link`: a one-time web UI link that binds this chat identity to the Squall user who opens it. */
async function linkReply(ctx: BuiltinContext): Promise<BuiltinAnswer> {
  if (!ctx.chat)
    return {
      text: `Sorry ${ctx.chatUser.name}, linking works only from a chat conversation.`,
      outcome: 'error',
    };
  if (ctx.chatUser.squallUser)
    return {
      text: `You are already signed in as ${ctx.chatUser.squallUser} here; there is nothing to link.`,
      outcome: 'builtin',
    };
  const { token, expires_at } = await new ChatLinks(ctx.services).request({
    platform: ctx.chat.adapter,
    workspace: ctx.chat.workspace ?? '',
    chat_user: { id: ctx.chatUser.id, name: ctx.chatUser.name },
  });
  const url = `${ctx.services.apiUrl.replace(/\/+$/, '')}/#/chat-link/${token}`;
  const minutes = Math.round((Date.parse(expires_at) - Date.now()) / 60_000);
  const now = ctx.identity.linked
    ? ` You are linked to ${ctx.identity.name} now; confirming replaces that.`
    : '';
  return {
    text:
      `Open this link to connect your ${ctx.chat.adapter} account to your Squall account: ${url}\n` +
      `Log in there (as yourself) and confirm. It works once, for ${minutes} min; don't share it.${now}`,
    outcome: 'builtin',
    secret: { audit: 'a one-time link to the web UI (not recorded)' },
  };
}

/** Runs one built-in command; errors become the answer (refusals are outcome `forbidden`). */
export async function runBuiltin(
  ctx: BuiltinContext,
  name: string,
  params: Record<string, string>,
): Promise<BuiltinAnswer> {
  const who = ctx.chatUser.name;
  if (name === 'help') return { text: helpReply(ctx, params.filter ?? ''), outcome: 'builtin' };
  if (name === 'link') return linkReply(ctx);
  const handler = HANDLERS[name];
  if (!handler) {
    return {
      text: `Sorry ${who}, the built-in command "${name}" is not known to this Squall (known: ${BUILTIN_NAMES.join(', ')}).`,
      outcome: 'error',
    };
  }
  try {
    return { text: await handler(ctx, params), outcome: 'builtin' };
  } catch (err) {
    if (err instanceof SquallError && (err.status === 403 || err.status === 401)) {
      // The API's refusal names the permission in st2's words: `… required permission "pack_list" …`.
      const permission = /permission "([a-z_]+)"/.exec(err.message)?.[1];
      // Not an RBAC permission (an inquiry's own list of who may answer): its message says why.
      if (!permission && err.status === 403)
        return { text: `Sorry ${who}, you can't do that: ${err.message}`, outcome: 'forbidden' };
      return {
        text: refusalText(ctx.identity, 'do that', permission, undefined, ctx.prefix),
        outcome: 'forbidden',
      };
    }
    if (err instanceof SquallError) {
      const hint =
        err.status === 404 && err instanceof ApiAnswerError
          ? ' (not found, or not available on this Squall)'
          : '';
      return { text: `Sorry ${who}, that didn't work: ${err.message}${hint}`, outcome: 'bad_parameters' };
    }
    return { text: `Sorry ${who}, that failed: ${errorMessage(err)}`, outcome: 'error' };
  }
}
