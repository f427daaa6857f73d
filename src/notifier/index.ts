import type { ExecutionService } from '../executions/index.js';
import { registerClaimedWork } from '../scale/index.js';
import type { Subsystem } from '../service/index.js';
import { emitActionTrigger } from './actiontrigger.js';
import { Notifier, type NotifyDelivery } from './notify.js';

export {
  Notifier,
  applicableNotify,
  type NotifyDelivery,
  type NotifyEntry,
  type RouteNotification,
} from './notify.js';

/**
 * The notifier in a running process: every process runs it, so `notify` routes,
 * `core.st2.generic.notifytrigger` and `core.st2.generic.actiontrigger` fire wherever executions
 * complete, with or without the chat role. The action trigger is posted by the process that
 * completed the execution (its completion listener), as st2's notifier posts it. `delivery` is
 * chat's route delivery (chatops), absent from a process without chatops.
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
      // A claim a dead process left open is taken over by the sweep in whichever process lives.
      registerClaimedWork(services, notifier.notifyWork);
    },
    start(services) {
      executions().onCompleted((execution) => emitActionTrigger(services, execution));
      notifier!.start();
    },
    stop() {
      notifier?.stop();
    },
  };
}
