import {
  aliasRef,
  applyImmutableParameters,
  buildHelp,
  castAliasParameters,
  extractParameters,
  matchAlias,
  normaliseFormats,
  type AliasLike,
  type AliasParameters,
} from '../../aliases/index.js';
import type { Request } from 'express';
import { uids } from '../auth/index.js';
import { authorize, listQuerySchema, listRecords, requestUser, type ApiRouter } from '../api/index.js';
import { NotFoundError, SquallError, ValidationError } from '../errors.js';
import { actionSpecs, type ExecutionService } from '../executions/index.js';
import type { Services } from '../service/index.js';
import type { AliasRecord, AuditRecord, ExecutionRecord, Store } from '../store/index.js';
import { renderTemplate } from '../workflows/expressions/jinja/index.js';
import {
  ANNOUNCEMENT_ROUTE,
  announceMessage,
  chatRouteTarget,
  postChatMessage,
  type ChatMessage,
} from './messages.js';
import type { ChatPipeline } from './pipeline.js';

/** The actions behind sdk.chat: calling their routes needs the right to run them. */
const POST_MESSAGE = { ...uids.action('chatops.post_message') };
const POST_RESULT = { ...uids.action('chatops.post_result') };

async function aliasByRefOrId(store: Store, refOrId: string): Promise<AliasRecord> {
  const found =
    (await store.aliases.findOne({ ref: refOrId })) ??
    (/^[0-9a-f]{24}$/.test(refOrId) ? await store.aliases.get(refOrId) : null) ??
    (await store.aliases.findOne({ name: refOrId }));
  if (!found)
    throw new NotFoundError('Action alias', refOrId, { hint: 'list aliases with `squall alias list`' });
  return found;
}

/**
 * st2's alias endpoints (§5.3–5.6, §11.1) and Squall's chat endpoints: the chat log, posting a
 * message to a route, and each adapter's own routes (the terminal's session API).
 */
export function chatopsRoutes(pipeline: () => ChatPipeline, executions: () => ExecutionService) {
  return (router: ApiRouter, services: Services): void => {
    const store = services.store;
    const allAliases = async () =>
      (await store.aliases.find({}, { sort: { ref: 1 } })) as unknown as AliasLike[];

    router.add({
      method: 'get',
      path: '/api/v1/actionalias',
      summary: 'List action aliases',
      tag: 'actionalias',
      query: {
        type: 'object',
        properties: { ...listQuerySchema, pack: { type: 'string' }, name: { type: 'string' } },
      },
      handler: async ({ req, res, query }) => {
        authorize(services, req, 'action_alias_list');
        const filter: Record<string, unknown> = {};
        for (const k of ['pack', 'name']) if (query[k]) filter[k] = query[k];
        return listRecords<AliasRecord>(req, res, {
          collection: store.aliases,
          filter,
          sort: { ref: 1 },
          maxPageSize: services.config.api.max_page_size,
        });
      },
    });

    router.add({
      method: 'get',
      path: '/api/v1/actionalias/help',
      summary: 'Help strings of the enabled aliases (st2 §5.6)',
      tag: 'actionalias',
      query: {
        type: 'object',
        properties: {
          filter: {
            type: 'string',
            description: 'Case-insensitive regular expression over display strings.',
          },
          pack: { type: 'string' },
          limit: { type: 'integer', minimum: 0, default: 0 },
          offset: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER, default: 0 },
        },
      },
      handler: async ({ req, query }) => {
        authorize(services, req, 'action_alias_help');
        return buildHelp(await allAliases(), {
          filter: query.filter as string | undefined,
          pack: query.pack as string | undefined,
          limit: Number(query.limit ?? 0),
          offset: Number(query.offset ?? 0),
        });
      },
    });

    router.add({
      method: 'get',
      path: '/api/v1/actionalias/:ref_or_id',
      summary: 'One action alias',
      tag: 'actionalias',
      handler: async ({ req, params }) => {
        const alias = await aliasByRefOrId(store, params.ref_or_id);
        authorize(services, req, 'action_alias_view', { uid: alias.uid, pack: alias.pack });
        return alias;
      },
    });

    router.add({
      method: 'post',
      path: '/api/v1/actionalias/match',
      summary: 'The alias a command means (400 when none or more than one matches)',
      tag: 'actionalias',
      body: {
        type: 'object',
        properties: { command: { type: 'string', maxLength: 20000 } },
        required: ['command'],
      },
      handler: async ({ req, body }) => {
        authorize(services, req, 'action_alias_match');
        const command = (body as { command: string }).command;
        const match = matchAlias(await allAliases(), command);
        if (match.kind === 'none')
          throw new SquallError('ALIAS_NO_MATCH', match.message, {
            command,
            suggestions: match.suggestions.map((s) => ({ ref: aliasRef(s.alias), display: s.display })),
          });
        if (match.kind === 'ambiguous')
          throw new SquallError('ALIAS_AMBIGUOUS', match.message, {
            command,
            candidates: match.candidates.map((c) => ({ ref: aliasRef(c.alias), display: c.display })),
          });
        return {
          actionalias: match.alias,
          display: match.display,
          representation: match.representation,
          parameters: match.parameters,
        };
      },
    });

    type AliasExecutionInput = {
      name: string;
      format?: string;
      command: string;
      user?: string;
      source_channel?: string;
      source_context?: Record<string, unknown>;
      notification_route?: string;
    };
    /** Runs the alias `b.name` on `b.command`: st2's {execution, actionalias, message, extra}. */
    const executeAlias = async (req: Request, b: AliasExecutionInput) => {
      const record = await aliasByRefOrId(store, b.name);
      const alias = record as unknown as AliasLike;
      if (alias.enabled === false)
        throw new SquallError('ALIAS_DISABLED', `Action alias "${aliasRef(alias)}" is disabled`, {
          alias: aliasRef(alias),
        });
      const representations = normaliseFormats(alias).flatMap((f) => f.representation);
      const format = b.format ?? representations[0];
      if (b.format !== undefined && !representations.includes(b.format))
        throw new ValidationError(
          `Format "${b.format}" is not one of the formats of alias "${aliasRef(alias)}"`,
          {
            alias: aliasRef(alias),
            formats: representations,
          },
        );
      const action = await store.actions.findOne({ ref: alias.action_ref });
      if (!action) throw new NotFoundError('Action', alias.action_ref, { alias: aliasRef(alias) });
      authorize(services, req, 'action_execute', { uid: action.uid, pack: action.pack });
      const caller = requestUser(req).name;
      const context = {
        action_alias_ref: aliasRef(alias),
        api_user: b.user || caller,
        user: caller,
        source_channel: b.source_channel ?? null,
        ...(b.source_context ? { source_context: b.source_context } : {}),
      };
      const extracted = extractParameters(format, b.command);
      const withImmutable = applyImmutableParameters(extracted, alias, (t) =>
        renderTemplate(
          t,
          { ...context, action_context: context },
          { source: `${aliasRef(alias)} immutable_parameters` },
        ),
      );
      const specs = actionSpecs(action);
      const builtin = await pipeline().builtinThroughApi(
        alias,
        withImmutable as AliasParameters,
        requestUser(req),
        b.user || caller,
      );
      const execution = await executions().request({
        action: action.ref,
        parameters: castAliasParameters(withImmutable, specs),
        context,
        user: caller,
        // A built-in answers in `message` below: no notification of its no-op execution. An empty
        // route is st2's none (chatops.match_and_execute, whose caller posts the result itself).
        ...(builtin || b.notification_route === ''
          ? {}
          : {
              notify: {
                'on-complete': {
                  routes: [b.notification_route ?? 'chat'],
                  data: {
                    user: b.user || caller,
                    source_channel: b.source_channel ?? null,
                    source_context: b.source_context ?? {},
                  },
                },
              },
            }),
      });
      if (builtin)
        return {
          execution: executions().present(execution),
          // The answer is the message; a link to the no-op execution would only mislead.
          actionalias: { ...alias, ack: { ...(alias.ack ?? {}), append_url: false } },
          message: builtin.text,
        };
      // As st2: the link is not in `message`; clients (hubot-stackstorm) append execution.web_url.
      const ack = pipeline().ackText(alias, action, execution, false);
      let extra: unknown;
      if (alias.ack?.extra) {
        extra = JSON.parse(
          renderTemplate(JSON.stringify(alias.ack.extra), {
            execution: executions().present(execution),
            actionalias: alias,
          }),
        ) as unknown;
      }
      return {
        execution: executions().present(execution),
        actionalias: alias,
        ...(ack !== null ? { message: ack } : {}),
        ...(extra !== undefined ? { extra } : {}),
      };
    };

    router.add({
      method: 'post',
      path: '/api/v1/aliasexecution',
      responses: { 404: 'No action alias has this name, or its action does not exist.' },
      summary: 'Execute an alias with a command (st2 §5.4); 201 {execution, actionalias, message, extra}',
      tag: 'actionalias',
      status: 201,
      body: {
        type: 'object',
        properties: {
          name: { type: 'string', description: 'Alias ref (or name).' },
          format: { type: 'string', description: 'The representation the command was matched with.' },
          command: { type: 'string', maxLength: 20000 },
          user: { type: 'string', description: 'Chat user (api_user).' },
          source_channel: { type: 'string' },
          source_context: { type: 'object' },
          notification_route: {
            type: 'string',
            description: 'Notify route of the execution (default chat); empty: no notification.',
          },
        },
        required: ['name', 'command'],
      },
      handler: async ({ req, body }) => executeAlias(req, body as AliasExecutionInput),
    });

    router.add({
      method: 'post',
      path: '/api/v1/aliasexecution/match_and_execute',
      responses: {
        400: 'No alias or more than one matches the command.',
        404: 'The action of the matched alias does not exist.',
      },
      summary:
        'Find the alias a command means and execute it (st2 `action-alias execute`); 201 {results: [...]}',
      tag: 'actionalias',
      status: 201,
      body: {
        type: 'object',
        properties: {
          command: { type: 'string', maxLength: 20000 },
          user: { type: 'string', description: 'Chat user (api_user); the caller when empty.' },
          source_channel: { type: 'string' },
          notification_channel: { type: 'string' },
          notification_route: { type: 'string' },
        },
        required: ['command'],
      },
      handler: async ({ req, body }) => {
        authorize(services, req, 'action_alias_match');
        const b = body as {
          command: string;
          user?: string;
          source_channel?: string;
          notification_channel?: string;
          notification_route?: string;
        };
        const match = matchAlias(await allAliases(), b.command);
        if (match.kind !== 'match') throw new ValidationError(match.message, { command: b.command });
        const result = await executeAlias(req, {
          name: aliasRef(match.alias),
          format: match.representation,
          command: b.command,
          user: b.user,
          source_channel: b.source_channel,
          notification_route: b.notification_route || b.notification_channel,
        });
        return { results: [result] };
      },
    });

    router.add({
      method: 'get',
      path: '/api/v1/chatops/commands',
      summary: 'Recent chat commands, newest first (the chat log)',
      tag: 'chatops',
      query: {
        type: 'object',
        properties: {
          ...listQuerySchema,
          adapter: { type: 'string' },
          channel: { type: 'string' },
          actor: { type: 'string', description: 'Squall user the chat user acted as.' },
          outcome: { type: 'string' },
        },
      },
      handler: async ({ req, res, query }) => {
        authorize(services, req, 'execution_list');
        const filter: Record<string, unknown> = { kind: 'chat.command' };
        for (const k of ['adapter', 'channel', 'actor', 'outcome']) if (query[k]) filter[k] = query[k];
        return listRecords<AuditRecord>(req, res, {
          collection: store.audit,
          filter,
          sort: { timestamp: -1 },
          maxPageSize: services.config.api.max_page_size,
        });
      },
    });

    router.add({
      method: 'post',
      path: '/api/v1/chatops/message',
      responses: { 404: 'The chat route, adapter or connection named does not exist.' },
      summary: 'Post a message to a notification route or an adapter channel (sdk.chat.postMessage)',
      tag: 'chatops',
      status: 201,
      body: {
        type: 'object',
        properties: {
          route: {
            type: 'string',
            description:
              "A chatops.routes name; with a channel no route names, the stream route of st2's announcement (default chatops).",
          },
          adapter: { type: 'string' },
          channel: {
            type: 'string',
            description:
              'With adapter: the channel; alone: a chatops.routes name, else the channel of an st2.announcement__chatops event (st2 style).',
          },
          thread: { type: 'string' },
          thread_id: { type: 'string' },
          message: { type: 'string', maxLength: 200000 },
          user: { type: 'string' },
          whisper: { type: 'boolean' },
          context: {
            type: 'object',
            description: "The chat client's context of the channel (st2's post_message), announced as is.",
          },
          extra: { type: 'object' },
        },
        required: ['message'],
      },
      handler: async ({ req, body }) => {
        // Posting as the bot is what the chatops.post_message action does: the same permission.
        authorize(services, req, 'action_execute', POST_MESSAGE);
        const b = body as ChatMessage;
        return postChatMessage(services, pipeline(), b);
      },
    });

    router.add({
      method: 'post',
      path: '/api/v1/chatops/result',
      responses: { 404: 'The execution or the chat route named does not exist.' },
      summary: "Post an execution's formatted result to a route or channel (sdk.chat.postResult)",
      tag: 'chatops',
      status: 201,
      body: {
        type: 'object',
        properties: {
          execution_id: { type: 'string' },
          route: { type: 'string' },
          adapter: { type: 'string' },
          channel: { type: 'string' },
          thread: { type: 'string' },
          thread_id: { type: 'string' },
          user: { type: 'string' },
          whisper: { type: 'boolean' },
          context: {
            type: 'object',
            description: "The chat client's context of the channel (st2's post_result), announced as is.",
          },
        },
        required: ['execution_id'],
      },
      handler: async ({ req, body }) => {
        const b = body as {
          execution_id: string;
          route?: string;
          adapter?: string;
          channel?: string;
          thread?: string;
          thread_id?: string;
          user?: string;
          whisper?: boolean;
          context?: Record<string, unknown>;
        };
        const record: ExecutionRecord = await executions().get(b.execution_id);
        authorize(services, req, 'action_execute', POST_RESULT);
        authorize(services, req, 'execution_view', {
          ...uids.execution(record.id, record.action.ref, record.context?.user as string | undefined),
        });
        let target: { adapter: string; channel: string; thread?: string } | undefined;
        if (b.adapter && b.channel)
          target = { adapter: b.adapter, channel: b.channel, thread: b.thread ?? b.thread_id };
        else if (b.route ?? b.channel) {
          const named = [b.route, b.channel].find((r) => r !== undefined && chatRouteTarget(services, r));
          const t = named === undefined ? null : chatRouteTarget(services, named);
          if (t) target = { ...t, thread: b.thread ?? b.thread_id ?? t.thread };
          else if (b.channel && ANNOUNCEMENT_ROUTE.test(b.route ?? 'chatops')) {
            // As st2's post_result (its workflow ends in post_message): on the stream for a bot.
            const formatted = await pipeline().formatResult(record);
            if (!formatted.enabled) return { posted: false, execution_id: record.id };
            const announced = announceMessage(services, b, formatted.message, formatted.extra);
            return { posted: true, announced, execution_id: record.id };
          } else
            throw new NotFoundError('Chat route', (b.route ?? b.channel)!, {
              hint: 'results go to chat routes ({adapter, channel})',
            });
        }
        if (!target && !record.context?.chat)
          throw new ValidationError(
            `execution ${record.id} did not come from chat: give "route" or "adapter" and "channel"`,
            {
              execution_id: record.id,
            },
          );
        await pipeline().postResult(record, target);
        return { posted: true, execution_id: record.id };
      },
    });

    router.add({
      method: 'get',
      path: '/api/v1/chatops/result/:execution_id',
      responses: { 404: 'The execution does not exist.' },
      summary:
        "An execution's result as chat would post it (st2's chatops.format_execution_result): {enabled, message, extra}",
      tag: 'chatops',
      handler: async ({ req, params }) => {
        const record: ExecutionRecord = await executions().get(params.execution_id);
        authorize(services, req, 'execution_view', {
          ...uids.execution(record.id, record.action.ref, record.context?.user as string | undefined),
        });
        return pipeline().formatResult(record);
      },
    });

    for (const adapter of pipeline().adapters.values()) adapter.routes?.(router, services);
  };
}
