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
  /** Lines printed after start-up, e.g. how to log in. */
  startupNotes?: string[];
}
