import { expect } from 'vitest';
import { contentSubsystem } from '../../../src/content/subsystem.js';
import { executionsSubsystem } from '../../../src/executions/subsystem.js';
import { eventsSubsystem } from '../../../src/rules/index.js';
import { newId } from '../../../src/ids.js';
import { notifierSubsystem } from '../../../src/notifier/index.js';
import type { TriggerInstanceRecord } from '../../../src/store/index.js';
import { freshMongoUrl, type StoreTarget } from '../../support/servers.js';
import { startTestService, testSecretsSubsystem } from '../../support/test-service.js';
import { waitFor } from '../../support/wait.js';
import { isCompleted } from '../../../src/executions/index.js';

export type Json = Record<string, any>;

export interface EventsService {
  svc: Awaited<ReturnType<typeof startTestService>>;
  events: ReturnType<typeof eventsSubsystem>;
  api(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: any; text: string; headers: Headers }>;
  finished(id: string): Promise<Json>;
  processed(instanceId: string): Promise<Json>;
  createRule(rule: Json): Promise<Json>;
}

/** Squall with content, executions, the events subsystem and the notifier, auth off, on one store. */
export async function startEvents(
  target: StoreTarget,
  config: Record<string, unknown> = {},
): Promise<EventsService> {
  const executions = executionsSubsystem();
  const events = eventsSubsystem(() => executions.service());
  const svc = await startTestService({
    subsystems: [
      testSecretsSubsystem(),
      contentSubsystem(),
      executions,
      events,
      notifierSubsystem(
        () => executions.service(),
        () => undefined,
      ),
    ],
    mongoUrl: target.kind === 'mongo' ? freshMongoUrl() : undefined,
    config: { 'auth.enable': false, 'scheduler.process_every_ms': 200, ...config },
  });
  const api: EventsService['api'] = async (method, path, body, headers = {}) => {
    const res = await fetch(`${svc.url}${path}`, {
      method,
      headers: {
        ...(body !== undefined && typeof body !== 'string' ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = null;
    }
    return { status: res.status, body: parsed, text, headers: res.headers };
  };
  const finished = (id: string) =>
    waitFor(
      async () => {
        const { body } = await api('GET', `/api/v1/executions/${id}`);
        return isCompleted(body?.status) ? body : null;
      },
      `execution ${id} to finish`,
      20_000,
    );
  const processed = (instanceId: string) =>
    waitFor(
      async () => {
        const { body } = await api('GET', `/api/v1/triggerinstances/${instanceId}`);
        return ['processed', 'processing_failed'].includes(body?.status) ? body : null;
      },
      `trigger instance ${instanceId} to be processed`,
      20_000,
    );
  const createRule = async (rule: Json) => {
    const res = await api('POST', '/api/v1/rules', rule);
    expect(res.status, res.text).toBe(201);
    return res.body;
  };
  return { svc, events, api, finished, processed, createRule };
}

/**
 * A rule on core.st2.generic.actiontrigger that matches nothing here: action trigger instances
 * are stored (and matched) only while a rule listens to them.
 */
export function listenToActionTrigger(svc: EventsService, criteria: Json): Promise<Json> {
  return svc.createRule({
    name: 'on_actiontrigger',
    pack: 'hooks',
    enabled: true,
    trigger: { type: 'core.st2.generic.actiontrigger' },
    criteria,
    action: { ref: 'core.noop' },
  });
}

/** The newest trigger instance dispatched by a webhook url, once there is one. */
export async function instancesOf(svc: EventsService, hook: string): Promise<Json[]> {
  const { store } = svc.svc.services;
  return store.triggerInstances.find({ source: `webhook:${hook}` }, { sort: { occurrence_time: -1 } });
}

/** Stores a copy of `first` under a new id, with `body` as its webhook body: an instance to process. */
export async function copyInstance(
  svc: EventsService,
  first: Json,
  body: Json,
  status: 'pending' | 'processing' = 'pending',
): Promise<string> {
  const id = newId();
  await svc.svc.services.store.triggerInstances.insert({
    ...(first as TriggerInstanceRecord),
    id,
    status,
    payload: { ...(first.payload as object), body },
  });
  return id;
}
