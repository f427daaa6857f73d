import type { Request, Response } from 'express';
import type { SquallEvent } from '../events/index.js';
import type { Services } from '../service/index.js';
import {
  executionResource,
  requestUser,
  slotCounter,
  type ApiRouter,
  type RouteModule,
  type RouteSpec,
} from '../api/index.js';
import { splitRef } from '../names.js';
import { globSource } from '../regex.js';
import { outputPages, presentExecution, withChildren, withChildrenOf } from '../executions/index.js';
import { beforeLeavingProcess } from '../store/index.js';

/** st2's default whitelist when the client names no events (st2-reference.md §11.2). */
export const DEFAULT_STREAM_EVENTS = ['st2.announcement__*', 'st2.execution__*', 'st2.liveaction__*'];

const COMPLETED = new Set(['succeeded', 'failed', 'timeout', 'canceled', 'abandoned']);
const OUTPUT_EVENT = 'st2.execution.output__create';

export interface StreamOptions {
  /** Milliseconds between heartbeat comments; proxies drop idle connections otherwise. */
  heartbeatMs?: number;
}

function patternsToRegex(patterns: string[]): RegExp {
  const alt = patterns
    .map((p) => p.trim())
    .filter(Boolean)
    .map(globSource);
  return new RegExp(`^(?:${alt.join('|') || '(?!)'})$`);
}

function csv(value: unknown): string[] {
  if (value === undefined || value === null || value === '') return [];
  return (Array.isArray(value) ? value : [value])
    .flatMap((v) => String(v).split(','))
    .map((s) => s.trim())
    .filter(Boolean);
}

type Payload = Record<string, unknown>;

/** The action ref and execution id an event is about, when it is about an execution. */
function executionFacts(event: SquallEvent): { actionRef?: string; executionId?: string } {
  const p = (event.payload ?? {}) as Payload;
  if (event.name.startsWith('st2.execution.output__')) {
    return {
      actionRef: p.action_ref as string | undefined,
      executionId: p.execution_id as string | undefined,
    };
  }
  if (event.name.startsWith('st2.execution__')) {
    return {
      actionRef: (p.action as Payload | undefined)?.ref as string | undefined,
      executionId: p.id as string | undefined,
    };
  }
  if (event.name.startsWith('st2.liveaction__')) {
    return { actionRef: p.action as string | undefined, executionId: p.execution_id as string | undefined };
  }
  return {};
}

function lookup(obj: unknown, dotted: string): unknown {
  let cur: unknown = obj;
  for (const part of dotted.split('.')) {
    if (!cur || typeof cur !== 'object') return undefined;
    cur = (cur as Payload)[part];
  }
  return cur;
}

/** Applies the simple equality filters rbac.executionFilter returns (permission isolation). */
function matchesFilter(payload: unknown, filter: Record<string, unknown>): boolean {
  return Object.entries(filter).every(([k, v]) => {
    if (v && typeof v === 'object') return true; // operators: leave them to the per-resource check
    return lookup(payload, k) === v;
  });
}

function actionUid(ref: string): { uid: string; pack: string } {
  const { pack, name } = splitRef(ref);
  return { uid: `action:${pack}:${name}`, pack };
}

/** Whether this user may see this event; a failing RBAC check hides the event, never the stream. */
function visible(services: Services, req: Request, event: SquallEvent): boolean {
  // Internal bus traffic (trigger.dispatch, squall.*) never leaves the process.
  if (!event.name.startsWith('st2.')) return false;
  const rbac = services.rbac;
  if (!rbac) return true;
  const user = requestUser(req);
  const p = (event.payload ?? {}) as Payload;
  const { actionRef, executionId } = executionFacts(event);
  try {
    if (actionRef) {
      const isolation = rbac.executionFilter?.(user);
      if (isolation && event.name.startsWith('st2.execution__') && !matchesFilter(p, isolation)) return false;
      const owner = event.name.startsWith('st2.execution__')
        ? (lookup(p, 'context.user') as string | undefined)
        : undefined;
      const action = actionUid(actionRef);
      rbac.assertCan(user, 'execution_view', {
        uid: `execution:${executionId ?? ''}`,
        pack: action.pack,
        ...(owner ? { owner } : {}),
        parent: action,
      });
      return true;
    }
    if (event.name.startsWith('st2.key_value_pair__')) {
      const scope = String(p.scope ?? 'st2kv.system');
      const userScope = scope.endsWith('user');
      rbac.assertCan(
        user,
        'key_value_pair_view',
        userScope
          ? { uid: `key_value_pair:st2kv.user:${p.user ?? ''}:${p.name}`, owner: String(p.user ?? '') }
          : { uid: `key_value_pair:st2kv.system:${p.name}` },
      );
      return true;
    }
    return true;
  } catch {
    return false;
  }
}

/**
 * Open event streams per user, in this process. Each one holds a socket and receives every event
 * on the bus: a user (or a leaked token) opening thousands made every event cost thousands of
 * writes. Past `api.max_streams_per_user` a new one is a 429; closing one frees its place.
 */
function streamSlots(limit: number): (req: Request) => () => void {
  const claim = slotCounter(limit, {
    code: 'TOO_MANY_STREAMS',
    message: (user, n) =>
      `user "${user}" already has ${n} event streams open in this process, the most allowed (api.max_streams_per_user); close one first`,
  });
  return (req) => claim(requestUser(req).name);
}

interface EventStream {
  send: (name: string, data: unknown) => void;
  onClose: (fn: () => void) => void;
  end: () => void;
  /**
   * Resolves at once while less than a slice of what was sent waits for the client, else once it
   * has taken it (or the stream ended): a replay that waits on it after each event holds a slice.
   */
  room: () => Promise<void>;
  /** Cuts the stream as one whose client stopped reading (events waiting for it passed the limit). */
  cut: (pendingBytes: number) => void;
  readonly maxBufferedBytes: number;
}

/** What a replay leaves unsent before it waits for the client: a replay holds about this much. */
const REPLAY_SLICE_BYTES = 64 * 1024;

/**
 * An event goes out once what it tells of is on disk (`durable`, the store's sync(): every write
 * issued before the call): a client shown a record a power cut then took would disagree with the
 * restarted server. So a batch is the events queued before its sync began; those sent while it is
 * in flight wait for the next one. Batches go out in order; if the disk failed the stream ends.
 */
function openStream(
  req: Request,
  res: Response,
  heartbeatMs: number,
  durable: () => Promise<void>,
  maxBufferedBytes: number,
  onOverflow: (bufferedBytes: number) => void,
): EventStream {
  res.status(200);
  res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
  res.setHeader('Cache-Control', 'no-cache, no-transform');
  res.setHeader('Connection', 'keep-alive');
  res.setHeader('X-Accel-Buffering', 'no');
  res.flushHeaders();
  res.write('retry: 3000\n\n');
  const closers: (() => void)[] = [];
  let ended = false;
  const waiters: (() => void)[] = [];
  /** Events sent since the last sync began: the next sync covers them. */
  let queued = '';
  let syncing = false;
  /** The length of the batch waiting for its sync. */
  let inFlight = 0;
  const idle = () => ended || queued.length + inFlight + res.writableLength < REPLAY_SLICE_BYTES;
  const wake = () => {
    if (idle()) for (const fn of waiters.splice(0)) fn();
  };
  res.on('drain', wake);
  res.on('close', wake);
  const close = () => {
    if (ended) return;
    ended = true;
    clearInterval(timer);
    for (const fn of closers) fn();
    res.end();
    wake();
  };
  /**
   * A client that stops reading (or reads slower than events come) left every event in this
   * process's memory: 30 such streams following a command printing 30 MB took 1.6 GB. When what
   * the client has not taken passes api.max_stream_buffer_bytes, its stream is cut (the socket
   * destroyed, so the buffer goes with it); an EventSource reconnects. One batch may be larger on
   * its own (a large event): a client reading it is given that much more room, so only one that
   * stopped reading is cut. A replay of stored output is sent a slice at a time (`room`).
   */
  let largestBatch = 0;
  const cut = (pending: number): void => {
    if (ended) return;
    ended = true;
    clearInterval(timer);
    for (const fn of closers) fn();
    res.destroy();
    onOverflow(pending);
    wake();
  };
  const overflowed = (): boolean => {
    const pending = res.writableLength;
    if (ended || maxBufferedBytes <= 0 || pending <= maxBufferedBytes + largestBatch) return false;
    cut(pending);
    return true;
  };
  const timer = setInterval(() => {
    if (!overflowed()) res.write(': heartbeat\n\n');
  }, heartbeatMs);
  timer.unref?.();
  req.on('close', close);
  /** Set by end(): the events already sent go out (once on disk), then the stream closes. */
  let ending = false;
  const flush = (): void => {
    if (ended || syncing) return;
    if (queued === '') {
      if (ending) close();
      return;
    }
    const batch = queued;
    queued = '';
    syncing = true;
    inFlight = batch.length;
    durable().then(
      () => {
        syncing = false;
        inFlight = 0;
        if (ended || overflowed()) return;
        largestBatch = Math.max(largestBatch, batch.length);
        res.write(batch);
        flush();
        wake();
      },
      () => {
        syncing = false;
        inFlight = 0;
        queued = '';
        close();
      },
    );
  };
  return {
    send(name, data) {
      if (ended || ending) return;
      queued += `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
      flush();
    },
    onClose(fn) {
      closers.push(fn);
    },
    // The last events are often sent just before (an execution's completion): they wait for
    // their fsync, so the stream closes after them, not at once.
    end() {
      ending = true;
      flush();
    },
    room() {
      return idle() ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve));
    },
    cut,
    maxBufferedBytes,
  };
}

/**
 * Live events that arrive while a stream replays stored output wait for the replay, which waits
 * for the client: a client that stopped reading would have them pile up. Past
 * api.max_stream_buffer_bytes of them the stream is cut, as a live stream whose client stops
 * reading is, and the check answers false (drop them).
 */
function heldDuringReplay(stream: EventStream): (event: SquallEvent) => boolean {
  let bytes = 0;
  return (event) => {
    bytes += JSON.stringify(event.payload ?? null).length;
    if (stream.maxBufferedBytes <= 0 || bytes <= stream.maxBufferedBytes) return true;
    stream.cut(bytes);
    return false;
  };
}

/**
 * `/stream/v1/stream` (SSE) with st2's event names and filters, and
 * `/stream/v1/executions/:id/output` which replays an execution's output then follows it live.
 */
export function streamRoutes(options: StreamOptions = {}): RouteModule {
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  return (router: ApiRouter, services: Services) => {
    const claimSlot = streamSlots(services.config.api.max_streams_per_user);
    const open = (req: Request, res: Response) => {
      const release = claimSlot(req);
      const maxBuffered = services.config.api.max_stream_buffer_bytes;
      const stream = openStream(
        req,
        res,
        heartbeatMs,
        () => beforeLeavingProcess(services.store),
        maxBuffered,
        (pending) =>
          services.logger.warn(
            { user: requestUser(req).name, path: req.path, pending_bytes: pending, limit: maxBuffered },
            'event stream closed: its client read too slowly (api.max_stream_buffer_bytes)',
          ),
      );
      stream.onClose(release);
      return stream;
    };
    const events: Omit<RouteSpec, 'path'> = {
      method: 'get',
      summary: 'Server-sent events: executions, output lines, announcements (st2 event names)',
      tag: 'stream',
      responses: { 429: 'The user has api.max_streams_per_user streams open in this process.' },
      query: {
        type: 'object',
        properties: {
          events: { type: 'string', description: 'Comma list of event names; `*` is a wildcard.' },
          action_refs: { type: 'string', description: 'Comma list: only events about these actions.' },
          execution_ids: { type: 'string', description: 'Comma list: only events about these executions.' },
          end_event: { type: 'string', description: 'Close the stream after sending this event…' },
          end_execution_id: { type: 'string', description: '…for this execution.' },
          exclude_attributes: {
            type: 'string',
            description: 'Comma list of top-level fields to leave out of execution events (e.g. result).',
          },
        },
      },
      handler: ({ req, res, query }) => {
        const names = csv(query.events);
        const wanted = patternsToRegex(names.length ? names : DEFAULT_STREAM_EVENTS);
        const actions = new Set(csv(query.action_refs));
        const ids = new Set(csv(query.execution_ids));
        const endEvent = query.end_event ? String(query.end_event) : undefined;
        const endId = query.end_execution_id ? String(query.end_execution_id) : undefined;
        const excluded = csv(query.exclude_attributes);
        services.rbac?.assertCan(requestUser(req), 'stream_view');
        const stream = open(req, res);
        // Following one execution (st2 run --tail): what it did before the client connected is
        // replayed first (its stored output; a workflow's tasks so far, each started, its output,
        // finished), so a fast action's or first task's lines are not lost to the race between
        // POST and connect. st2 replays nothing; it is slower to start the first task.
        const replay = endId !== undefined && wanted.test(OUTPUT_EVENT);
        const sentOutput = new Set<string>();
        /** `id status` of the task states replayed: the same live update is not sent twice. */
        const replayedStates = new Set<string>();
        let buffered: SquallEvent[] | undefined = replay ? [] : undefined;
        const held = heldDuringReplay(stream);
        const concerns = (facts: ReturnType<typeof executionFacts>): boolean =>
          (!actions.size || (!!facts.actionRef && actions.has(facts.actionRef))) &&
          (!ids.size || (!!facts.executionId && ids.has(facts.executionId)));
        const unsubscribe = services.bus.subscribe('*', (event) => {
          if (!wanted.test(event.name)) return;
          if (buffered) {
            // Only what this stream would send counts against its limit while it replays.
            if (!concerns(executionFacts(event))) return;
            if (held(event)) buffered.push(event);
            else buffered = [];
          } else deliver(event);
        });
        const deliver = (event: SquallEvent, replayed = false): void => {
          if (event.name === OUTPUT_EVENT) {
            const outputId = String((event.payload as Payload)?.id ?? '');
            if (outputId && sentOutput.has(outputId)) return;
            if (outputId) sentOutput.add(outputId);
          }
          const facts = executionFacts(event);
          if (event.name === 'st2.execution__update') {
            const state = `${facts.executionId} ${String((event.payload as Payload).status)}`;
            if (replayed) replayedStates.add(state);
            else if (replayedStates.has(state)) return;
          }
          if (!concerns(facts)) return;
          if (!visible(services, req, event)) return;
          let payload = event.payload;
          if (
            excluded.length &&
            event.name.startsWith('st2.execution__') &&
            payload &&
            typeof payload === 'object'
          ) {
            const copy = { ...(payload as Payload) };
            for (const k of excluded) delete copy[k];
            payload = copy;
          }
          stream.send(event.name, payload);
          // st2 ends the stream when that execution completes, not at its first update.
          if (
            endEvent &&
            event.name === endEvent &&
            (!endId || facts.executionId === endId) &&
            (!endId || COMPLETED.has(String((event.payload as Payload).status)))
          )
            stream.end();
        };
        const replayOutput = async (executionId: string) => {
          for await (const rows of outputPages(services.store.executionOutput, { execution_id: executionId }))
            for (const row of rows) {
              if (res.destroyed) return;
              deliver({ name: OUTPUT_EVENT, payload: row, timestamp: row.timestamp }, true);
              await stream.room();
            }
        };
        const taskEvent = (payload: Payload, timestamp: string): SquallEvent => ({
          name: 'st2.execution__update',
          payload,
          timestamp,
        });
        /** Each task so far in start order: its start, its output, its tasks, its end when ended. */
        const replayTasks = async (parent: string): Promise<void> => {
          if (!wanted.test('st2.execution__update')) return;
          const tasks = await withChildren(
            services.store,
            await services.store.executions.find({ parent }, { sort: { start_timestamp: 1 } }),
          );
          for (const task of tasks) {
            const now = presentExecution(task);
            const ended = COMPLETED.has(task.status);
            if (ended) {
              // The update it sent when it started, as it was then: no end, no result yet.
              const { end_timestamp: _end, result: _result, ...started } = now;
              deliver(taskEvent({ ...started, status: 'running' }, task.start_timestamp), true);
            } else deliver(taskEvent(now, task.start_timestamp), true);
            await replayOutput(task.id);
            await replayTasks(task.id);
            if (ended) deliver(taskEvent(now, task.end_timestamp ?? task.start_timestamp), true);
          }
        };
        const replayed = replay
          ? replayOutput(endId)
              .then(() => replayTasks(endId))
              .catch((err) =>
                services.logger.warn({ err, execution: endId }, 'could not replay stored output'),
              )
              .finally(() => {
                const pending = buffered ?? [];
                buffered = undefined;
                for (const event of pending) deliver(event);
              })
          : Promise.resolve();
        // An execution that ended before the client connected (a quick `st2 pack install`)
        // would leave it waiting for an update that already went by: send its last one now.
        if (endId && endEvent === 'st2.execution__update') {
          void replayed
            .then(async () => {
              const record = await services.store.executions.get(endId);
              return record && withChildrenOf(services.store, record);
            })
            .then((record) => {
              if (record && COMPLETED.has(record.status))
                deliver({
                  name: 'st2.execution__update',
                  payload: presentExecution(record),
                  timestamp: record.end_timestamp ?? new Date().toISOString(),
                });
            })
            .catch((err) =>
              services.logger.warn({ err, execution: endId }, 'could not read the followed execution'),
            );
        }
        stream.onClose(unsubscribe);
        return undefined;
      },
    };
    // st2's nginx rewrites /api/v1/stream and /api/stream to the stream service, and st2client
    // (hubot-stackstorm, st2chatops) connects there when ST2_STREAM_URL is not set.
    for (const path of ['/stream/v1/stream', '/api/v1/stream', '/api/stream'])
      router.add({ ...events, path });

    router.add({
      method: 'get',
      path: '/stream/v1/executions/:id/output',
      summary: "Server-sent events: one execution's output, stored lines first, until it completes",
      tag: 'stream',
      responses: { 429: 'The user has api.max_streams_per_user streams open in this process.' },
      query: {
        type: 'object',
        properties: { output_type: { type: 'string', enum: ['stdout', 'stderr', 'output'] } },
      },
      handler: async ({ req, res, params, query }) => {
        const execution = await services.store.executions.get(params.id);
        if (!execution) {
          res
            .status(404)
            .json({ faultstring: `Execution with id "${params.id}" not found`, code: 'NOT_FOUND' });
          return undefined;
        }
        services.rbac?.assertCan(requestUser(req), 'execution_view', executionResource(execution));
        const type = query.output_type ? String(query.output_type) : undefined;
        const stream = open(req, res);
        let buffered: SquallEvent[] = [];
        const held = heldDuringReplay(stream);
        let replaying = true;
        const seen = new Set<string>();
        const deliver = (event: SquallEvent) => {
          if (event.name === 'st2.execution.output__create') {
            const line = event.payload as Payload;
            if (seen.has(String(line.id))) return;
            seen.add(String(line.id));
            if (!type || line.output_type === type) stream.send(event.name, line);
          } else if (COMPLETED.has(String((event.payload as Payload).status))) {
            stream.send('EOF', { id: params.id, status: (event.payload as Payload).status });
            stream.end();
          }
        };
        const unsubscribe = services.bus.subscribe(
          /^st2\.execution(\.output)?__(create|update)$/,
          (event) => {
            if (executionFacts(event).executionId !== params.id) return;
            if (!replaying) deliver(event);
            else if (held(event)) buffered.push(event);
            else buffered = [];
          },
        );
        stream.onClose(unsubscribe);
        for await (const stored of outputPages(services.store.executionOutput, { execution_id: params.id }))
          for (const line of stored) {
            if (res.destroyed) return undefined;
            deliver({ name: 'st2.execution.output__create', payload: line, timestamp: '' });
            await stream.room();
          }
        replaying = false;
        for (const e of buffered.splice(0)) deliver(e);
        if (COMPLETED.has(execution.status)) {
          const latest = await services.store.executions.get(params.id);
          deliver({
            name: 'st2.execution__update',
            payload: { id: params.id, status: latest?.status },
            timestamp: '',
          });
        }
        return undefined;
      },
    });
  };
}
