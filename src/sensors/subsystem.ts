import { SquallError } from '../errors.js';
import { hasRole, type Subsystem } from '../service/index.js';
import type { Services } from '../service/types.js';
import { SensorHost, type SensorHostOptions } from './host.js';
import { sensorRoutes } from './routes.js';

const hosts = new WeakMap<Services, SensorHost>();

/** Published when packs are (re-)registered (see src/rules CONTENT_CHANGED_EVENTS). */
const CONTENT_CHANGED_EVENTS = ['squall.content__registered', 'st2.pack__*'];

export function getSensorHost(services: Services): SensorHost {
  const host = hosts.get(services);
  if (!host) {
    throw new SquallError(
      'SENSORS_NOT_INITIALISED',
      'the sensors subsystem is not part of this process: add sensorsSubsystem() to the subsystems',
      {},
      500,
    );
  }
  return host;
}

export interface SensorsSubsystemOptions extends SensorHostOptions {
  /**
   * Fallback: how often the enabled set is re-read, for enable/disable done in a process whose
   * events do not reach this one (no Redis). 0 = only on events and at start.
   */
  resyncIntervalMs?: number;
}

/**
 * Sensors: processes with the `sensors` role run every enabled sensor as a supervised child
 * process and follow enable/disable (`st2.sensor_type__update`) and rule changes
 * (`st2.rule__*`, for add/update/remove_trigger). Every process serves the enable/disable API.
 */
export function sensorsSubsystem(options: SensorsSubsystemOptions = {}): Subsystem {
  const unsubscribe: Array<() => void> = [];
  let resync: NodeJS.Timeout | undefined;
  return {
    name: 'sensors',
    routes: sensorRoutes(getSensorHost),
    init(services) {
      hosts.set(services, new SensorHost(services, options));
    },
    async start(services) {
      if (!hasRole(services.config, 'sensors')) return;
      const host = getSensorHost(services);
      const log = services.logger.child({ component: 'sensors' });
      const sync = (why: string) =>
        host.sync().catch((err) => log.error({ err, why }, `sensors could not be synchronised (${why})`));
      unsubscribe.push(services.bus.subscribe('st2.sensor_type__*', () => void sync('sensor changed')));
      // Content (re-)registration replaces sensors and rules without per-record events.
      for (const name of CONTENT_CHANGED_EVENTS) {
        unsubscribe.push(
          services.bus.subscribe(name, () => {
            void sync('content registered')
              .then(() => host.rulesChanged())
              .catch((err) => log.error({ err }, 'sensors could not be told about changed triggers'));
          }),
        );
      }
      unsubscribe.push(
        services.bus.subscribe(
          'st2.rule__*',
          () =>
            void host
              .rulesChanged()
              .catch((err) => log.error({ err }, 'sensors could not be told about changed triggers')),
        ),
      );
      await host.sync();
      const every = options.resyncIntervalMs ?? 30_000;
      if (every > 0) {
        resync = setInterval(() => void sync('periodic resync'), every);
        resync.unref();
      }
    },
    async stop(services) {
      for (const u of unsubscribe.splice(0)) u();
      if (resync) clearInterval(resync);
      resync = undefined;
      await hosts.get(services)?.stopAll();
    },
  };
}
