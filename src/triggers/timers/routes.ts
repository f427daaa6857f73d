import { NotFoundError } from '../../errors.js';
import { authorize, type ApiRouter } from '../../api/index.js';
import type { Services } from '../../service/index.js';
import type { TimerEngine } from './engine.js';
import { TIMER_TYPES } from './schedule.js';

/** GET /api/v1/timers[/{ref}] (st2-reference.md §11.1): the timers enabled rules use. */
export function timerRoutes(engineOf: (services: Services) => TimerEngine) {
  return (router: ApiRouter, services: Services): void => {
    router.add({
      method: 'get',
      path: '/api/v1/timers',
      summary: 'List timers (IntervalTimer, DateTimer, CronTimer triggers used by enabled rules)',
      tag: 'timers',
      query: {
        type: 'object',
        properties: {
          timer_type: { type: 'string', enum: [...TIMER_TYPES], description: 'Only timers of this type.' },
        },
      },
      handler: async ({ req, query }) => {
        authorize(services, req, 'timer_list');
        return engineOf(services).list({ type: query.timer_type as string | undefined });
      },
    });
    router.add({
      method: 'get',
      path: '/api/v1/timers/:ref',
      summary: 'One timer, by ref (core.<uuid>) or id',
      tag: 'timers',
      handler: async ({ req, params }) => {
        const timers = await engineOf(services).list();
        const timer = timers.find((t) => t.ref === params.ref || t.id === params.ref);
        if (!timer) {
          throw new NotFoundError('Timer', params.ref, {
            hint: 'timers exist while an enabled rule uses them; see GET /api/v1/timers',
          });
        }
        authorize(services, req, 'timer_view', { uid: timer.uid, pack: timer.pack });
        return timer;
      },
    });
  };
}
