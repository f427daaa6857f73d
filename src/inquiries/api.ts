import type { RouteModule } from '../api/index.js';
import { authorize, requestUser } from '../api/index.js';
import type { InquiryService, ResponseChannel } from './service.js';

const inquiryShape = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    schema: { type: 'object' },
    roles: { type: 'array', items: { type: 'string' } },
    users: { type: 'array', items: { type: 'string' } },
    route: { type: 'string' },
    ttl: { type: 'number' },
    parent: { type: ['string', 'null'] },
    status: { type: 'string' },
  },
};

/** Which client answered, for the audit trail: the CLI and the UI say so in `X-Squall-Client`. */
function clientOf(header: unknown): ResponseChannel {
  const v = String(header ?? '').toLowerCase();
  return v === 'cli' || v === 'ui' ? v : 'api';
}

/** /api/v1/inquiries (st2-reference.md §7, §11.1). */
export function inquiryRoutes(inquiries: () => InquiryService): RouteModule {
  return (router, services) => {
    router.add({
      method: 'get',
      path: '/api/v1/inquiries',
      summary: 'List pending inquiries, newest first',
      tag: 'inquiries',
      query: {
        type: 'object',
        properties: {
          limit: { type: 'integer', minimum: -1, description: 'Page size (-1 for all).' },
          offset: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER, default: 0 },
        },
      },
      response: { type: 'array', items: inquiryShape },
      handler: async ({ req, query }) => {
        authorize(services, req, 'inquiry_list');
        const max = services.config.api.max_page_size;
        const limit =
          query.limit === undefined || Number(query.limit) < 0 ? max : Math.min(Number(query.limit), max);
        const rows = await inquiries().listPending(limit, Number(query.offset ?? 0));
        return rows.map((r) => inquiries().present(r));
      },
    });

    router.add({
      method: 'get',
      path: '/api/v1/inquiries/:id',
      summary: 'Show one inquiry (its schema, who may answer, its state)',
      tag: 'inquiries',
      response: inquiryShape,
      handler: async ({ req, params }) => {
        authorize(services, req, 'inquiry_view', { uid: `inquiry:${params.id}` });
        return inquiries().present(await inquiries().get(params.id));
      },
    });

    router.add({
      method: 'put',
      path: '/api/v1/inquiries/:id',
      summary: 'Respond to an inquiry; the workflow resumes once the response is accepted',
      tag: 'inquiries',
      body: {
        type: 'object',
        required: ['response'],
        properties: {
          id: { type: 'string' },
          response: { type: 'object', description: 'Must satisfy the inquiry schema.' },
        },
      },
      response: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          response: { type: 'object' },
          status: { type: 'string' },
          approvals: { type: 'integer' },
          quorum: { type: 'integer' },
        },
      },
      handler: async ({ req, params, body }) => {
        const b = body as { id?: string; response: Record<string, unknown> };
        const outcome = await inquiries().respond(params.id, b.response, {
          user: requestUser(req),
          via: clientOf(req.headers['x-squall-client']),
        });
        return outcome;
      },
    });
  };
}
