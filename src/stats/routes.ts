import type { Request } from 'express';
import { authorize, requestUser, type ApiRouter, type JsonSchema } from '../api/index.js';
import type { Services } from '../service/index.js';
import { actionStats, executionStats, queueStats, ruleStats } from './service.js';
import { STATS_RANGES, statsWindow, type StatsRange, type StatsWindow } from './window.js';

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
    const visible = (req: Request) => services.rbac?.executionFilter?.(requestUser(req)) ?? {};

    /** A figure over a range: `?range=`, the window's fields, one permission, one computation. */
    const ranged = (
      path: string,
      summary: string,
      permission: string,
      properties: Record<string, unknown>,
      compute: (window: StatsWindow, req: Request) => Promise<unknown>,
    ) =>
      router.add({
        method: 'get',
        path: `/api/v1/stats/${path}`,
        summary,
        tag: 'stats',
        query: rangeQuery,
        response: {
          type: 'object',
          properties: { ...windowProps, ...properties },
          required: [...Object.keys(windowProps), ...Object.keys(properties)],
        },
        handler: ({ req, query }) => {
          authorize(services, req, permission);
          return compute(statsWindow((query.range ?? '24h') as StatsRange), req);
        },
      });

    ranged(
      'executions',
      'Top-level executions per hour (or day) and status over a range, and the failure rate',
      'execution_list',
      {
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
      (window, req) => executionStats(services.store, window, visible(req)),
    );
    ranged(
      'actions',
      'The most frequent and the slowest actions over a range',
      'execution_list',
      {
        most_frequent: { type: 'array', items: actionFigure },
        slowest: { type: 'array', items: actionFigure },
      },
      (window, req) => actionStats(services.store, window, visible(req)),
    );
    ranged(
      'rules',
      'The rules that fired most over a range (from rule enforcements)',
      'rule_enforcement_list',
      {
        total: { type: 'integer' },
        most_fired: {
          type: 'array',
          items: {
            type: 'object',
            properties: { rule: { type: 'string' }, count: { type: 'integer' }, failed: { type: 'integer' } },
            required: ['rule', 'count', 'failed'],
          },
        },
      },
      (window) => ruleStats(services.store, window),
    );

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
