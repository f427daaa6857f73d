import { authorize, requestUser, type ApiRouter, type JsonSchema } from '../api/index.js';
import type { Services } from '../service/types.js';
import { actionStats, executionStats, queueStats, ruleStats } from './service.js';
import { STATS_RANGES, statsWindow, type StatsRange } from './window.js';

const rangeQuery: JsonSchema = {
  type: 'object',
  properties: {
    range: {
      type: 'string',
      enum: Object.keys(STATS_RANGES),
      default: '24h',
      description: '24h and 7d are drawn per hour, 30d per day; the last bucket holds now.',
    },
  },
  additionalProperties: false,
};

const windowProps = {
  range: { type: 'string' },
  since: { type: 'string', format: 'date-time', description: 'Start of the first bucket (inclusive).' },
  until: { type: 'string', format: 'date-time', description: 'End of the last bucket (exclusive).' },
};
const counts = { type: 'object', additionalProperties: { type: 'integer' } };
const actionFigure = {
  type: 'object',
  properties: {
    action: { type: 'string' },
    count: { type: 'integer' },
    failed: { type: 'integer' },
    avg_seconds: { type: ['number', 'null'], description: 'Mean duration of its completed runs.' },
  },
  required: ['action', 'count', 'failed', 'avg_seconds'],
};

/**
 * The dashboard's figures, each one grouped query in the store. Executions are the top-level ones
 * (as History lists them by default) started in the range, and only those the caller may see.
 */
export function statsRoutes() {
  return (router: ApiRouter, services: Services): void => {
    const visible = (req: Parameters<typeof requestUser>[0]) =>
      services.rbac?.executionFilter?.(requestUser(req)) ?? {};
    const range = (query: Record<string, unknown>) => statsWindow((query.range ?? '24h') as StatsRange);

    router.add({
      method: 'get',
      path: '/api/v1/stats/executions',
      summary: 'Top-level executions per hour (or day) and status over a range, and the failure rate',
      tag: 'stats',
      query: rangeQuery,
      response: {
        type: 'object',
        properties: {
          ...windowProps,
          bucket: { type: 'string', enum: ['hour', 'day'] },
          total: { type: 'integer' },
          by_status: counts,
          completed: { type: 'integer' },
          failed: { type: 'integer', description: 'failed, timeout and abandoned.' },
          failure_rate: { type: ['number', 'null'], description: 'failed / completed.' },
          buckets: {
            type: 'array',
            items: {
              type: 'object',
              properties: { start: { type: 'string', format: 'date-time' }, counts },
              required: ['start', 'counts'],
            },
          },
        },
        required: ['range', 'since', 'until', 'bucket', 'total', 'by_status', 'failure_rate', 'buckets'],
      },
      handler: ({ req, query }) => {
        authorize(services, req, 'execution_list');
        return executionStats(services.store, range(query), visible(req));
      },
    });

    router.add({
      method: 'get',
      path: '/api/v1/stats/actions',
      summary: 'The most frequent and the slowest actions over a range',
      tag: 'stats',
      query: rangeQuery,
      response: {
        type: 'object',
        properties: {
          ...windowProps,
          most_frequent: { type: 'array', items: actionFigure },
          slowest: { type: 'array', items: actionFigure },
        },
        required: ['range', 'since', 'until', 'most_frequent', 'slowest'],
      },
      handler: ({ req, query }) => {
        authorize(services, req, 'execution_list');
        return actionStats(services.store, range(query), visible(req));
      },
    });

    router.add({
      method: 'get',
      path: '/api/v1/stats/rules',
      summary: 'The rules that fired most over a range (from rule enforcements)',
      tag: 'stats',
      query: rangeQuery,
      response: {
        type: 'object',
        properties: {
          ...windowProps,
          total: { type: 'integer' },
          most_fired: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                rule: { type: 'string' },
                count: { type: 'integer' },
                failed: { type: 'integer' },
              },
              required: ['rule', 'count', 'failed'],
            },
          },
        },
        required: ['range', 'since', 'until', 'total', 'most_fired'],
      },
      handler: ({ req, query }) => {
        authorize(services, req, 'rule_enforcement_list');
        return ruleStats(services.store, range(query));
      },
    });

    router.add({
      method: 'get',
      path: '/api/v1/stats/queue',
      summary:
        'Queue depth (executions waiting for a runner), unfinished executions by status, pending inquiries',
      tag: 'stats',
      response: {
        type: 'object',
        properties: {
          depth: { type: 'integer', description: 'requested + scheduled + delayed.' },
          by_status: counts,
          pending_inquiries: { type: 'integer' },
        },
        required: ['depth', 'by_status', 'pending_inquiries'],
      },
      handler: ({ req }) => {
        authorize(services, req, 'execution_list');
        authorize(services, req, 'inquiry_list');
        return queueStats(services.store);
      },
    });
  };
}
