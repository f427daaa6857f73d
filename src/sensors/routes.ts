import { NotFoundError } from '../errors.js';
import { authorize, type ApiRouter } from '../api/index.js';
import { hasRole, type Services } from '../service/index.js';
import type { SensorRecord } from '../store/index.js';
import { neverStarted, type SensorHost } from './host.js';

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
      path: '/api/v1/stats/sensors',
      summary:
        'Sensor health: enabled and disabled sensors (store), and the state of the sensor processes this Squall process runs',
      tag: 'stats',
      response: {
        type: 'object',
        properties: {
          total: { type: 'integer' },
          enabled: { type: 'integer' },
          runs_sensors: { type: 'boolean', description: 'This process has the sensors role.' },
          states: {
            type: 'object',
            additionalProperties: { type: 'integer' },
            description: 'Sensor processes here per state (running, backoff, …).',
          },
          failing: {
            type: 'array',
            description: 'Sensors here that crashed and wait to restart, or restarted in a row.',
            items: {
              type: 'object',
              properties: {
                ref: { type: 'string' },
                state: { type: 'string' },
                restarts_in_a_row: { type: 'integer' },
              },
              required: ['ref', 'state', 'restarts_in_a_row'],
            },
          },
        },
        required: ['total', 'enabled', 'runs_sensors', 'states', 'failing'],
      },
      handler: async ({ req }) => {
        authorize(services, req, 'sensor_type_list');
        const rows = await services.store.sensors.group({}, { by: { enabled: { field: 'enabled' } } });
        const here = hasRole(services.config, 'sensors') ? hostOf(services).statuses() : [];
        const states: Record<string, number> = {};
        for (const s of here) states[s.state] = (states[s.state] ?? 0) + 1;
        return {
          total: rows.reduce((n, r) => n + r.count, 0),
          enabled: rows.filter((r) => r.key.enabled === true).reduce((n, r) => n + r.count, 0),
          runs_sensors: hasRole(services.config, 'sensors'),
          states,
          failing: here
            .filter((s) => s.state === 'backoff' || s.restarts_in_a_row > 0)
            .map((s) => ({ ref: s.ref, state: s.state, restarts_in_a_row: s.restarts_in_a_row })),
        };
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
            ...neverStarted(sensor.ref),
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
