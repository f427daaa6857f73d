import type { ExecutionService } from '../executions/index.js';
import type { Subsystem } from '../service/index.js';
import { Notifier, type NotifyDelivery } from './notify.js';

export {
  Notifier,
  applicableNotify,
  type NotifyDelivery,
  type NotifyEntry,
  type RouteNotification,
} from './notify.js';

/**
 * The notifier in a running process: every process runs it, so `notify` routes and
 * `core.st2.generic.notifytrigger` fire wherever executions complete, with or without the chat
 * role. `delivery` is chat's route delivery (chatops), absent from a process without chatops.
 */
export function notifierSubsystem(
  executions: () => ExecutionService,
  delivery: () => NotifyDelivery | undefined,
): Subsystem {
  let notifier: Notifier | undefined;
  return {
    name: 'notifier',
    init(services) {
      notifier = new Notifier(services, executions, delivery);
    },
    start() {
      notifier!.start();
    },
    stop() {
      notifier?.stop();
    },
  };
}
