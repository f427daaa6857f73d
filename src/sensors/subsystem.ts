import { SquallError } from '../errors.js';
import { hasRole, type Subsystem, type Services } from '../service/index.js';
import { Leases } from '../scale/index.js';
import { stopSt2RuntimeInstall } from '../runners/index.js';
import { SensorHost, type SensorHostOptions } from './host.js';
import { SensorPartition } from './partition.js';
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
   * events do not reach this one (no Redis). 0 = only on events and at start. With `workerId`
   * (partitioned) it is config leases.check_every_ms instead.
   */
  resyncIntervalMs?: number;
  /**
   * This process's worker id (the executions service heartbeats it). Given, sensors are
   * partitioned over the processes with the sensors role (partition.ts); absent, every enabled
   * sensor runs in this process.
   */
  workerId?: () => string;
}

/**
 * Sensors: processes with the `sensors` role run the enabled sensors as supervised child
 * processes — each sensor in exactly one of them when `workerId` is given — and follow enable/disable (`st2.sensor_type__update`) and rule changes
 * (`st2.rule__*`, for add/update/remove_trigger). Every process serves the enable/disable API.
 */
export function sensorsSubsystem(options: SensorsSubsystemOptions = {}): Subsystem {
  const unsubscribe: Array<() => void> = [];
  let resync: NodeJS.Timeout | undefined;
  return {
    name: 'sensors',
    routes: sensorRoutes(getSensorHost),
    init(services) {
      const { workerId, ...hostOptions } = options;
      const partition =
        workerId && hasRole(services.config, 'sensors')
          ? new SensorPartition(
              new Leases({
                store: services.store,
                workerId,
                ttlMs: services.config.leases.ttl_ms,
                heartbeatMs: services.config.executions.heartbeat_ms,
                logger: services.logger.child({ component: 'sensors' }),
              }),
              services.logger.child({ component: 'sensors' }),
            )
          : undefined;
      hosts.set(services, new SensorHost(services, { partition, ...hostOptions }));
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
      // Partitioned: this is also how a sensor left by a dead process is found and taken over.
      const every = options.workerId
        ? services.config.leases.check_every_ms
        : (options.resyncIntervalMs ?? 30_000);
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
      // A Python sensor's first start may have begun installing the st2 runtime site.
      await stopSt2RuntimeInstall();
    },
  };
}
