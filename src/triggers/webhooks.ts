/**
 * POST /api/v1/webhooks/<url> (st2-reference.md §11.1, §10.3), plus Squall's extensions: HMAC
 * signatures instead of API credentials, a body size limit, idempotent redelivery by delivery
 * id and a synchronous mode that waits for the executions the webhook caused.
 *
 * The route is declared `auth: 'public'` so that signed webhooks need no API credentials; it
 * enforces authentication itself for every webhook without HMAC.
 */
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { type ApiRouter, type RouteModule, assertBodyDepth, authorize, slotCounter } from '../api/index.js';
import { NotFoundError, SquallError, ValidationError, errorMessage } from '../errors.js';
import { isCompleted } from '../executions/index.js';
import type { Services } from '../service/index.js';
import { idAt } from '../ids.js';
import { storedIds, type StoredId, type TriggerInstanceRecord } from '../store/index.js';
import { renderTemplate } from '../workflows/expressions/jinja/index.js';
import { dispatchTrigger } from './dispatch.js';
import { verifyHmac, type HmacSettings } from './hmac.js';
import { kvContext } from './kv-context.js';
import { normalizeWebhookUrl, WEBHOOK_TRIGGER_TYPE } from './refs.js';
import { maskTriggerParameters } from './triggers.js';

/** How often a hook's "the HMAC secret is a ciphertext" warning may repeat. */
const CIPHERTEXT_WARN_MS = 10 * 60_000;

/** One parameterised webhook trigger and the enabled rules bound to it. */
export interface WebhookBinding {
  triggerRef: string;
  url: string;
  parameters: Record<string, unknown>;
  rules: Array<{ ref: string }>;
}

/** Where webhooks come from (the rules engine's in-memory index). */
export interface WebhookRegistry {
  /** Resolves once a change of the rules, heard of but still being read, is applied. */
  settled?(): Promise<void>;
  webhook(url: string): WebhookBinding[];
  webhookUrls(): string[];
}

/** Headers never copied into the trigger payload: they are credentials. */
const CREDENTIAL_HEADERS = new Set(['x-auth-token', 'st2-api-key', 'authorization', 'cookie']);
const WEBHOOK_PREFIX = '/api/v1/webhooks/';

type RawRequest = Request & { auth?: { user: string; roles?: string[] }; squallRawBody?: Buffer };

function authEnabled(services: Services): boolean {
  return services.config.auth?.enable !== false;
}

/**
 * Makes the raw bytes of webhook requests available (HMAC needs them) and enforces
 * `webhooks.max_body_bytes`. It runs ahead of the app's body parsers (ApiRouter.beforeBody).
 */
function rawBody(services: Services): RequestHandler {
  const limit = services.config.webhooks?.max_body_bytes ?? 1048576;
  const parse = express.raw({ type: () => true, limit });
  const middleware = (req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'POST' || !req.path.startsWith(WEBHOOK_PREFIX)) return next();
    parse(req, res, (err?: unknown) => {
      if (err && (err as { type?: string }).type === 'entity.too.large') {
        // A compressed body has no length to quote: it is cut while it inflates (a gzip bomb).
        const length = (err as { length?: number }).length;
        return next(
          new SquallError(
            'WEBHOOK_BODY_TOO_LARGE',
            length === undefined
              ? `webhook body, once decompressed, exceeds webhooks.max_body_bytes (${limit})`
              : `webhook body of ${length} bytes exceeds webhooks.max_body_bytes (${limit})`,
            { limit, length, path: req.path },
            413,
          ),
        );
      }
      if (err) return next(err);
      (req as RawRequest).squallRawBody = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      next();
    });
  };
  return middleware;
}

function parseBody(req: RawRequest): unknown {
  const raw = req.squallRawBody;
  if (!raw) return req.body ?? {};
  if (raw.length === 0) return {};
  const type = String(req.headers['content-type'] ?? '')
    .split(';')[0]
    .trim()
    .toLowerCase();
  const text = raw.toString('utf8');
  if (type === 'application/x-www-form-urlencoded') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of new URLSearchParams(text)) {
      const prev = out[k];
      out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
    return out;
  }
  if (type === '' || type === 'application/json' || type.endsWith('+json')) {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (err) {
      throw new ValidationError(`webhook body is not valid JSON: ${errorMessage(err)}`, {
        content_type: type || undefined,
      });
    }
    assertBodyDepth(body);
    return body;
  }
  throw new SquallError(
    'WEBHOOK_UNSUPPORTED_CONTENT_TYPE',
    `Unsupported Content-Type "${type}": webhooks take application/json or application/x-www-form-urlencoded`,
    { content_type: type },
    415,
  );
}

function payloadHeaders(req: Request): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined || CREDENTIAL_HEADERS.has(k)) continue;
    out[k] = v;
  }
  return out;
}

function hookOf(params: Record<string, unknown>): string {
  const raw = params.hook;
  return normalizeWebhookUrl(Array.isArray(raw) ? raw.join('/') : String(raw ?? ''));
}

function hmacOf(binding: WebhookBinding): HmacSettings | undefined {
  const h = binding.parameters.hmac;
  return h && typeof h === 'object' ? (h as HmacSettings) : undefined;
}

interface ExecutionSummary {
  id: string;
  status: string;
  result?: unknown;
}

/**
 * Waits on the event bus (no polling) for the executions caused by some trigger instances: each
 * instance must reach processed/processing_failed and each of its executions a completed
 * status. It listens from before the dispatch and remembers what it saw for every instance, so
 * events that arrive before an instance is tracked are not lost. Once wait() starts, every
 * instance is tracked: from then on it keeps only its own instances' events, and an event of
 * another request's instance costs one lookup (at c16, each event reaches 16 waiters).
 */
class ExecutionWaiter {
  private readonly finishedInstances = new Set<string>();
  private readonly byInstance = new Map<string, Map<string, ExecutionSummary>>();
  private readonly tracked = new Set<string>();
  private readonly unsubscribe: Array<() => void> = [];
  private sealed = false;
  private wake?: () => void;

  constructor(services: Services) {
    const onExecution = (payload: unknown) => {
      const e = payload as {
        id: string;
        status: string;
        result?: unknown;
        context?: Record<string, unknown>;
      };
      const ti = (e.context?.trigger_instance as { id?: string } | undefined)?.id;
      if (!ti || (this.sealed && !this.tracked.has(ti))) return;
      let list = this.byInstance.get(ti);
      if (!list) this.byInstance.set(ti, (list = new Map<string, ExecutionSummary>()));
      list.set(e.id, { id: e.id, status: e.status, result: e.result });
      this.check();
    };
    this.unsubscribe.push(
      services.bus.subscribe('st2.execution__create', (ev) => onExecution(ev.payload)),
      services.bus.subscribe('st2.execution__update', (ev) => onExecution(ev.payload)),
      services.bus.subscribe('st2.trigger_instance__update', (ev) => {
        const ti = ev.payload as TriggerInstanceRecord;
        if (this.sealed && !this.tracked.has(ti.id)) return;
        if (ti.status === 'processed' || ti.status === 'processing_failed') this.finishedInstances.add(ti.id);
        this.check();
      }),
    );
  }

  track(id: string): void {
    this.tracked.add(id);
  }

  private executions(): ExecutionSummary[] {
    const out: ExecutionSummary[] = [];
    for (const id of this.tracked) for (const e of this.byInstance.get(id)?.values() ?? []) out.push(e);
    return out;
  }

  private done(): boolean {
    for (const id of this.tracked) {
      if (!this.finishedInstances.has(id)) return false;
      for (const e of this.byInstance.get(id)?.values() ?? []) if (!isCompleted(e.status)) return false;
    }
    return true;
  }

  private check(): void {
    if (this.wake && this.done()) this.wake();
  }

  /** Waits until every tracked instance and its executions are done; track() them all first. */
  async wait(ms: number): Promise<{ finished: boolean; executions: ExecutionSummary[] }> {
    this.sealed = true;
    for (const id of this.byInstance.keys()) if (!this.tracked.has(id)) this.byInstance.delete(id);
    for (const id of this.finishedInstances) if (!this.tracked.has(id)) this.finishedInstances.delete(id);
    if (!this.done()) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        this.wake = () => {
          this.wake = undefined;
          clearTimeout(timer);
          resolve();
        };
      });
    }
    this.close();
    return { finished: this.done(), executions: this.executions() };
  }

  close(): void {
    for (const u of this.unsubscribe.splice(0)) u();
  }
}

interface StoredAnswer {
  status: number;
  body: unknown;
}

export function webhookRoutes(registry: () => WebhookRegistry): RouteModule {
  return (router: ApiRouter, services: Services) => {
    router.beforeBody(rawBody(services));

    // Each waiting webhook holds a socket and hears every execution event until it answers: one
    // client opening thousands made every event cost thousands of callbacks.
    const perUser = services.config.api?.max_waiting_webhooks_per_user ?? 64;
    const overall = services.config.api?.max_waiting_webhooks ?? 1024;
    const claimSlot = slotCounter(
      perUser,
      {
        code: 'TOO_MANY_WAITING_WEBHOOKS',
        message: (key, n) =>
          `${key} already has ${n} synchronous webhooks waiting in this process, the most allowed (api.max_waiting_webhooks_per_user); send it without ?wait= or retry once one answers`,
      },
      {
        limit: overall,
        refusal: {
          code: 'TOO_MANY_WAITING_WEBHOOKS',
          message: (_key, n) =>
            `${n} synchronous webhooks are waiting in this process, the most allowed (api.max_waiting_webhooks); send it without ?wait= or retry once one answers`,
        },
      },
    );
    /** An HMAC-signed webhook sent without credentials counts against its url, not a user. */
    const claimWait = (req: RawRequest, hook: string): (() => void) => {
      const key = req.auth
        ? `user "${req.auth.user}"`
        : authEnabled(services)
          ? `webhook "${hook}"`
          : 'user "stanley"';
      try {
        return claimSlot(key);
      } catch (err) {
        services.logger.warn(
          { key, hook, per_user: perUser, overall, error: errorMessage(err) },
          'synchronous webhook refused: too many waiting',
        );
        throw err;
      }
    };

    /**
     * A secret read from the datastore without `| decrypt_kv` is its ciphertext, so every correctly
     * signed delivery is refused. The caller is unauthenticated and hears only "does not match";
     * the operator reads why in the log, once per hook per CIPHERTEXT_WARN_MS (the secret never).
     */
    const ciphertextWarned = new Map<string, number>();
    const warnIfCiphertext = (
      hook: string,
      trigger: string,
      secret: string,
      decrypt: ((ciphertext: string) => string) | undefined,
    ): void => {
      const last = ciphertextWarned.get(hook);
      if (!decrypt || (last !== undefined && Date.now() - last < CIPHERTEXT_WARN_MS)) return;
      try {
        decrypt(secret);
      } catch (err) {
        // Not a ciphertext of this datastore: a plain wrong signature, nothing to tell the operator.
        if (err instanceof SquallError && err.code === 'KV_DECRYPT_FAILED') return;
        throw err;
      }
      ciphertextWarned.set(hook, Date.now());
      services.logger.warn(
        { code: 'WEBHOOK_HMAC_SECRET_ENCRYPTED', hook, trigger },
        `webhook "${hook}": the HMAC secret (trigger parameter hmac.secret) is a datastore ciphertext, so no signature can match; ` +
          'read the secret with "{{ st2kv.system.NAME | decrypt_kv }}" (| decrypt_kv is probably missing)',
      );
    };

    const present = (b: WebhookBinding) => ({
      ref: b.triggerRef,
      type: WEBHOOK_TRIGGER_TYPE,
      url: b.url,
      parameters: maskTriggerParameters(b.parameters),
      rules: b.rules.map((r) => r.ref),
    });

    router.add({
      method: 'get',
      path: '/api/v1/webhooks',
      summary: 'Registered webhooks (from enabled rules on core.st2.webhook)',
      tag: 'webhooks',
      handler: ({ req }) => {
        authorize(services, req, 'webhook_list');
        return registry()
          .webhookUrls()
          .flatMap((url) => registry().webhook(url).map(present));
      },
    });

    router.add({
      method: 'get',
      path: '/api/v1/webhooks/*hook',
      summary: 'The webhook trigger registered under one url (the first, when rules give it several)',
      tag: 'webhooks',
      handler: ({ req, params }) => {
        const hook = hookOf(params);
        authorize(services, req, 'webhook_view', { uid: `webhook:${hook}` });
        const bindings = registry().webhook(hook);
        if (bindings.length === 0) throw new NotFoundError('Webhook', hook);
        // st2 answers one trigger object here (`st2 webhook get` reads it as one resource).
        return present(bindings[0]);
      },
    });

    router.add({
      method: 'post',
      path: '/api/v1/webhooks/*hook',
      responses: {
        401: 'The webhook needs credentials (a token, an API key or its HMAC signature).',
        403: 'The caller may not send this webhook, or its HMAC signature does not match.',
        415: 'The body is neither JSON nor form data.',
        429: 'Too much work is queued (scale.backpressure); retry after Retry-After seconds.',
      },
      summary:
        'Send a webhook: dispatches core.st2.webhook {headers, body} for the rules on this url (202 with the body); "st2" takes {trigger, payload}',
      tag: 'webhooks',
      auth: 'public',
      status: 202,
      query: {
        type: 'object',
        properties: {
          wait: {
            type: 'integer',
            minimum: 0,
            description: 'Seconds to wait for the executions the webhook caused (synchronous mode).',
          },
        },
      },
      handler: async ({ req: plainReq, res, params, query }) => {
        const req = plainReq as RawRequest;
        const hook = hookOf(params);
        const authenticated = Boolean(req.auth) || !authEnabled(services);
        const requireCredentials = () => {
          if (!authenticated) {
            throw new SquallError(
              'UNAUTHORIZED',
              'One of Token or API key required.',
              {
                path: req.path,
                hint: 'send X-Auth-Token or St2-Api-Key, or configure an HMAC secret on the webhook',
              },
              401,
            );
          }
          if (req.auth) authorize(services, req, 'webhook_send', { uid: `webhook:${hook}` });
        };
        const headers = req.headers as Record<string, string | string[] | undefined>;
        const traceTag = (headers['st2-trace-tag'] as string | undefined) || undefined;

        let targets: Array<{ trigger: string; payload: unknown; traceTag?: string; wait?: number }>;
        let replayKey: string | undefined;
        const body = parseBody(req);
        if (hook === 'st2') {
          requireCredentials();
          const b = (body ?? {}) as { trigger?: unknown; payload?: unknown; trace_tag?: unknown };
          if (typeof b.trigger !== 'string' || !b.trigger) {
            throw new ValidationError(
              'body.trigger: the st2 webhook needs {"trigger": "<trigger ref>", "payload": {...}}',
              {
                field: 'trigger',
              },
            );
          }
          targets = [
            {
              trigger: b.trigger,
              payload: b.payload ?? {},
              traceTag: typeof b.trace_tag === 'string' ? b.trace_tag : traceTag,
            },
          ];
        } else {
          await registry().settled?.();
          const bindings = registry().webhook(hook);
          if (bindings.length === 0) {
            requireCredentials();
            throw new NotFoundError('Webhook', hook, {
              hint: 'GET /api/v1/webhooks lists the registered webhooks',
            });
          }
          const signed = bindings.filter((b) => hmacOf(b));
          const plain = bindings.filter((b) => !hmacOf(b));
          const chosen: WebhookBinding[] = [];
          const failures: string[] = [];
          if (signed.length) {
            const raw = req.squallRawBody;
            if (!raw) {
              throw new SquallError(
                'WEBHOOK_RAW_BODY_UNAVAILABLE',
                'the raw request body is not available, so the HMAC signature cannot be checked',
                { hook },
                500,
              );
            }
            const kv = await kvContext(services);
            for (const b of signed) {
              const settings = hmacOf(b)!;
              const secret = renderTemplate(
                String(settings.secret ?? ''),
                { st2kv: kv.st2kv },
                {
                  decrypt: kv.decrypt,
                  source: `webhook ${hook}: trigger parameter hmac.secret`,
                },
              );
              const verdict = verifyHmac({ ...settings, secret }, headers, raw);
              if (verdict.ok) {
                chosen.push(b);
                replayKey ??= verdict.replayKey;
              } else {
                failures.push(verdict.reason);
                if (verdict.mismatch) warnIfCiphertext(hook, b.triggerRef, secret, kv.decrypt);
              }
            }
          }
          // Unsigned bindings of the url need API credentials; signed ones need their signature.
          if (plain.length && authenticated) {
            requireCredentials();
            chosen.push(...plain);
          }
          if (chosen.length === 0) {
            if (signed.length) {
              throw new SquallError(
                'WEBHOOK_SIGNATURE_INVALID',
                `webhook "${hook}": signature check failed: ${[...new Set(failures)].join('; ')}`,
                { hook },
                401,
              );
            }
            requireCredentials();
          }
          targets = chosen.map((b) => ({
            trigger: b.triggerRef,
            payload: { headers: payloadHeaders(req), body },
            traceTag,
            wait: typeof b.parameters.wait === 'number' ? b.parameters.wait : undefined,
          }));
        }

        const maxWait = services.config.webhooks?.max_wait_seconds ?? 300;
        const waitSeconds = Math.min(
          maxWait,
          (query.wait as number | undefined) ?? Math.max(0, ...targets.map((t) => t.wait ?? 0)),
        );
        // Taken before anything is claimed or dispatched, so a refused wait leaves nothing behind.
        const releaseWait = waitSeconds > 0 ? claimWait(req, hook) : undefined;
        try {
          // Redelivery: the first answer is given again and nothing is dispatched.
          let claimKey: string | undefined;
          for (const name of services.config.webhooks?.delivery_id_headers ?? []) {
            const v = headers[name.toLowerCase()];
            const id = Array.isArray(v) ? v[0] : v;
            if (id) {
              claimKey = `webhook:${hook}:${name.toLowerCase()}:${id}`;
              break;
            }
          }
          // A signed request replayed within its timestamp window (Slack sends no delivery id).
          if (!claimKey && replayKey) claimKey = `webhook:${hook}:signature:${replayKey}`;
          // A delivery's instances have ids derived from its delivery id and the time of its claim
          // (idAt: they sort by that time), so a redelivery, which reads the claim, finds them.
          let claimedAt = new Date().toISOString();
          // A redelivery looks its instances up (storedIds); dispatch is handed what it found.
          let found: Array<StoredId<TriggerInstanceRecord>> = [];
          const dispatchTarget = (t: (typeof targets)[number], i: number) =>
            dispatchTrigger(services, {
              trigger: t.trigger,
              payload: t.payload,
              traceTag: t.traceTag,
              source: `webhook:${hook}`,
              ...(claimKey ? { instanceId: found[i]?.id ?? idAt(`${claimKey}:${i}`, claimedAt) } : {}),
              ...(found[i] ? { storedInstance: found[i].record ?? null } : {}),
            });
          if (claimKey && !(await services.store.claim(claimKey, `webhook:${process.pid}`, claimedAt))) {
            const first = await services.store.claims.get(claimKey);
            const stored = (first as { answer?: string } | null)?.answer;
            res.setHeader('X-Squall-Redelivery', 'true');
            if (stored) {
              const answer = JSON.parse(stored) as StoredAnswer;
              res.status(answer.status).json(answer.body);
              return undefined;
            }
            // No answer yet: the first attempt is still at work, or died before it stored what it
            // dispatched. Dispatching again under the same instance ids stores only what is missing.
            if (first) claimedAt = first.claimed_at;
            // A first attempt of an older version named its instances with idFor alone.
            const keyed = targets.map((_, i) => ({
              key: `${claimKey}:${i}`,
              id: idAt(`${claimKey}:${i}`, claimedAt),
            }));
            found = await storedIds(services.store.triggerInstances, keyed);
            for (const [i, t] of targets.entries()) await dispatchTarget(t, i);
            res.status(202).json(body);
            return undefined;
          }

          const waiter = waitSeconds > 0 ? new ExecutionWaiter(services) : undefined;
          let answer: StoredAnswer;
          try {
            const instances: TriggerInstanceRecord[] = [];
            for (const [i, t] of targets.entries()) {
              const instance = await dispatchTarget(t, i);
              instances.push(instance);
              waiter?.track(instance.id);
            }
            if (waiter) {
              const outcome = await waiter.wait(waitSeconds * 1000);
              answer = outcome.finished
                ? { status: 200, body: { executions: outcome.executions } }
                : {
                    status: 202,
                    body: {
                      executions: outcome.executions.map((e) => ({ id: e.id, status: e.status })),
                      trigger_instances: instances.map((i) => i.id),
                    },
                  };
            } else {
              answer = { status: 202, body };
            }
          } finally {
            waiter?.close();
          }
          if (claimKey) {
            await services.store.claims.updateOne(
              { id: claimKey },
              { $set: { answer: JSON.stringify(answer) } },
            );
          }
          res.status(answer.status).json(answer.body);
          return undefined;
        } finally {
          releaseWait?.();
        }
      },
    });
  };
}
