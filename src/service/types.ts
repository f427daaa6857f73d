import type { SquallConfig } from '../config/index.js';
import type { EventBus } from '../events/index.js';
import type { Logger } from '../log/index.js';
import type { Scheduler } from '../scheduler/index.js';
import type { Store } from '../store/index.js';

/** What every subsystem of a running Squall process can reach. */
export interface Services {
  config: SquallConfig;
  logger: Logger;
  store: Store;
  bus: EventBus;
  scheduler: Scheduler;
  startedAt: Date;
  /** Base URL of this API, for links and for actions' ST2_ACTION_API_URL. */
  apiUrl: string;
  /**
   * The RBAC decision point, installed by the auth subsystem. Absent (auth disabled) means
   * everything is allowed.
   */
  rbac?: {
    assertCan(
      user: { name: string; roles: string[] },
      permission: string,
      resource?: { uid: string; pack?: string; [k: string]: unknown },
    ): void;
    /** Store filter limiting which executions a user sees (permission_isolation). */
    executionFilter?(user: { name: string; roles: string[] }): Record<string, unknown>;
    /** May the user act as another user (st2's `user` attribute): admins, or all with RBAC off. */
    actsForOthers?(user: { name: string; roles: string[] }): boolean;
  };
  /** Seals and opens secrets (execution parameters, pack config); installed by the datastore subsystem. */
  secrets?: import('../executions/secrets.js').SecretBox;
  /**
   * True when no enabled rule listens to the trigger `ref`, as this process's rules engine sees
   * it (installed by the events subsystem where the process has the rules role). An instance of
   * such a trigger is stored `processed` at once: its `trigger.process` job would find nothing to
   * match (every completed execution's action trigger, mostly). Answered from the in-memory rule
   * index, which rule writes, pack reloads and other processes' rule writes (Redis) keep current:
   * a map lookup once a reload under way is applied, so every caller may ask.
   */
  noRulesFor?(ref: string): Promise<boolean>;
  /**
   * st2's core.st2.generic.actiontrigger payload for a completed execution (installed by the
   * executions subsystem): what a stored action trigger's instance shows as its payload.
   */
  actionTriggerPayload?(execution: import('../store/index.js').ExecutionRecord, shown?: boolean): unknown;
  /**
   * Parts of the public GET /api/v1/health by name, added by subsystems (chatops: its bots). The
   * endpoint is unauthenticated and load balancers call it often: names and states only, answered
   * from memory. `degraded` turns its status to "degraded", still with HTTP 200; undefined leaves
   * the part out.
   */
  health?: Map<string, () => { value: unknown; degraded: boolean } | undefined>;
  /** Lines printed after start-up, e.g. how to log in. */
  startupNotes?: string[];
}
