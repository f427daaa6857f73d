import { NotFoundError } from '../errors.js';
import { authorize, type ApiRouter } from '../api/index.js';
import { hasRole, type Services } from '../service/index.js';
import type { SensorRecord } from '../store/index.js';
import type { SensorHost } from './host.js';

const isId = (s: string) => /^[0-9a-f]{24}$/.test(s);

async function findSensor(services: Services, refOrId: string): Promise<SensorRecord> {
  const { sensors } = services.store;
  const rec = isId(refOrId) ? await sensors.get(refOrId) : await sensors.findOne({ ref: refOrId });
  if (!rec) throw new NotFoundError('SensorType', refOrId, { hint: 'see GET /api/v1/sensortypes' });
  return rec;
}

/**
 * PUT /api/v1/sensortypes/{ref} (enable/disable, st2-reference.md §11.1) and the process status of
 * a sensor. GET /api/v1/sensortypes[/{ref}] are served by src/content.
 */
export function sensorRoutes(hostOf: (services: Services) => SensorHost) {
  return (router: ApiRouter, services: Services): void => {
    router.add({
      method: 'put',
      path: '/api/v1/sensortypes/:ref_or_id',
      summary: 'Enable or disable a sensor (starts or stops its process)',
      tag: 'sensortypes',
      body: {
        type: 'object',
        required: ['enabled'],
        properties: {
          enabled: { type: 'boolean', description: 'Run the sensor (true) or stop it (false).' },
        },
      },
      handler: async ({ req, params, body }) => {
        const sensor = await findSensor(services, params.ref_or_id);
        authorize(services, req, 'sensor_type_modify', { uid: String(sensor.uid ?? ''), pack: sensor.pack });
        const enabled = (body as { enabled: boolean }).enabled;
        const updated =
          (await services.store.sensors.updateOne({ id: sensor.id }, { $set: { enabled } })) ?? sensor;
        services.bus.publish('st2.sensor_type__update', updated);
        // In a process that runs sensors the answer waits for the process to start or stop.
        if (hasRole(services.config, 'sensors')) await hostOf(services).sync();
        return updated;
      },
    });
    router.add({
      method: 'get',
      path: '/api/v1/sensortypes/:ref_or_id/status',
      summary:
        "A sensor's process in this Squall process: state, pid, restarts, last exit, recent output; held_by: the Squall process running it",
      tag: 'sensortypes',
      handler: async ({ req, params }) => {
        const sensor = await findSensor(services, params.ref_or_id);
        authorize(services, req, 'sensor_type_view', { uid: String(sensor.uid ?? ''), pack: sensor.pack });
        const host = hostOf(services);
        // Which process runs it, when sensors are spread over several (the sensor's lease).
        const lease = (await host.options.partition?.holder(sensor.ref)) ?? {};
        const here = host.status(sensor.ref);
        return {
          ...(here ?? {
            ref: sensor.ref,
            state: 'stopped',
            pid: null,
            spawns: 0,
            restarts_in_a_row: 0,
            last_exit: null,
            next_restart_at: null,
            tail: [],
            note: hasRole(services.config, 'sensors')
              ? undefined
              : 'this process does not have the sensors role; ask a process that runs sensors',
          }),
          ...lease,
        };
      },
    });
  };
}
