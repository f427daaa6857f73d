import type { ExecutionService } from '../executions/index.js';
import type { Subsystem } from '../service/index.js';
import { PolicyEngine } from './engine.js';
import { registerClaimedWork } from '../scale/index.js';

/** Policies need the executions service; `engine` is handed to executionsSubsystem as its `admit`. */
export function policiesSubsystem(
  executions: () => ExecutionService,
): Subsystem & { engine(): PolicyEngine } {
  let engine: PolicyEngine | undefined;
  let unsubscribe: (() => void) | undefined;
  return {
    name: 'policies',
    engine: () => engine!,
    init(services) {
      engine = new PolicyEngine(services, executions);
      registerClaimedWork(services, engine.retryWork);
    },
    async start(services) {
      await engine!.reload();
      executions().onCompleted((e) => engine!.onCompleted(e));
      unsubscribe = services.bus.subscribe(/^st2\.(policy__|pack__register)/, () => void engine!.reload());
    },
    stop() {
      unsubscribe?.();
    },
  };
}
