/**
 * Inquiries (st2-reference.md §7): the `inquirer` runner's other half, responses from the API,
 * CLI, UI and chat buttons, approval policies, expiry, and the audit trail. See README.md.
 */
import type { ChatAdapter } from '../chatops/index.js';
import { SquallError } from '../errors.js';
import { registerClaimedWork } from '../scale/index.js';
import type { ExecutionService } from '../executions/index.js';
import { kvSettings } from '../auth/index.js';
import { loadOrCreateKey } from '../kv/index.js';
import type { Subsystem, Services } from '../service/index.js';
import type { ExecutionRecord } from '../store/index.js';
import { inquiryRoutes } from './api.js';
import { InquiryChat } from './chat.js';
import { registerInquiryDriver } from './driver.js';
import { EXPIRE_JOB, InquiryService } from './service.js';
import { deriveButtonKey } from './signing.js';

export { inquiryRoutes } from './api.js';
export { InquiryChat, answeredLine, buildPrompt, respondHint, type Prompt, type ChatTarget } from './chat.js';
export { inquiryDriverAt, inquiryDriverFor, registerInquiryDriver, type InquiryDriver } from './driver.js';
export {
  approvalField,
  autoApproval,
  decisionOf,
  expiryMinutes,
  resolvePolicy,
  type ApprovalPolicy,
} from './policy.js';
export {
  DEFAULT_SCHEMA,
  coerceAnswer,
  coerceAnswers,
  standardSchema,
  validateResponse,
  type InquirySchema,
  type PropertySchema,
} from './schema.js';
export {
  EXPIRE_JOB,
  INQUIRY_TRIGGER,
  InquiryService,
  type Inquiry,
  type Responder,
  type RespondOutcome,
} from './service.js';
export {
  deriveButtonKey,
  isInquiryPayload,
  signButtonPayload,
  verifyButtonPayload,
  PAYLOAD_PREFIX,
} from './signing.js';

export interface InquiriesOptions {
  /**
   * The chat adapters of this process, by name: pass the chatops subsystem's
   * `() => chatops.pipeline().adapters`. Without it inquiries are answered through API/CLI/UI only.
   */
  chatAdapters?: () => Map<string, ChatAdapter>;
  /**
   * Resumes a paused workflow (the workflow engine's `resume`): st2 resumes the root workflow once
   * its inquiry is answered. Pass `(id) => workflows.engine().resume(id)`.
   */
  resumeWorkflow?: (id: string) => Promise<unknown>;
}

export interface InquiriesSubsystem extends Subsystem {
  service(): InquiryService;
  chat(): InquiryChat | undefined;
}

/**
 * Inquiries in a running process. Start it after executions and workflows, and after chatops
 * (its adapters must be attached before this subsystem's init wires their buttons).
 */
export function inquiriesSubsystem(
  executions: () => ExecutionService,
  options: InquiriesOptions = {},
): InquiriesSubsystem {
  let service: InquiryService | undefined;
  let chat: InquiryChat | undefined;
  let unregister: (() => void) | undefined;
  const unsubscribe: Array<() => void> = [];
  const get = () => {
    if (!service)
      throw new SquallError('NOT_READY', 'the inquiries subsystem is not initialised yet', {}, 503);
    return service;
  };
  return {
    name: 'inquiries',
    service: get,
    chat: () => chat,
    routes: inquiryRoutes(get),
    init(services: Services) {
      const svc = new InquiryService(services, executions, options.resumeWorkflow);
      service = svc;
      const log = services.logger.child({ component: 'inquiries' });
      unregister = registerInquiryDriver({
        apiUrl: () => services.apiUrl,
        ask: (ctx) => svc.ask(ctx),
        respond: (id, response, who) => svc.respond(id, response, who),
        respondWithAnswers: (id, answers, who) => svc.respondWithAnswers(id, answers, who),
      });
      services.scheduler.define<{ id: string }>(EXPIRE_JOB, (data) => svc.expire(data.id));
      if (options.chatAdapters) {
        const { key } = loadOrCreateKey(kvSettings(services.config).encryption_key_path);
        const adapters = options.chatAdapters;
        chat = new InquiryChat(
          services,
          svc,
          () => {
            try {
              return adapters();
            } catch (err) {
              // chatops not initialised in this process: no chat, nothing to post.
              if (err instanceof SquallError && err.code === 'NOT_READY') return new Map();
              throw err;
            }
          },
          deriveButtonKey(key),
        );
        chat.init();
        registerClaimedWork(services, chat.promptWork);
        svc.setPresenter(chat);
        for (const adapter of adapters().values()) chat.attach(adapter);
      }
      executions().onCompleted((e: ExecutionRecord) => svc.executionCompleted(e));
      unsubscribe.push(
        services.bus.subscribe('st2.execution__update', (event) => {
          const e = event.payload as { id: string; status: string; runner?: { name?: unknown } };
          if (e.status === 'pending' && String(e.runner?.name) === 'inquirer')
            void svc
              .announce(e.id)
              .catch((err: unknown) =>
                log.error({ err, inquiry: e.id }, 'could not post the inquiry to chat'),
              );
        }),
      );
    },
    async stop() {
      for (const u of unsubscribe.splice(0)) u();
      unregister?.();
    },
  };
}
