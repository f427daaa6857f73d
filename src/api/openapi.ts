import { VERSION } from '../version.js';
import type { RouteSpec } from './router.js';

/** Express `/a/:id` → OpenAPI `/a/{id}`. */
export function openapiPath(path: string): string {
  return path.replace(/[:*](\w+)/g, '{$1}');
}

const ERROR_CONTENT = { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } };

/**
 * The answers a route gives, declared one by one (no blanket `default`): its success status; the
 * errors every route of its shape gives — 400 for a route that takes input, 401/403 for one that
 * needs credentials, 404 for one that names a resource in its path, 413 for one that takes a body
 * —; and the route's own `responses`.
 */
function responsesOf(r: RouteSpec, hasPathParams: boolean): Record<string, unknown> {
  const success = {
    description: 'OK',
    ...(r.response ? { content: { 'application/json': { schema: r.response } } } : {}),
  };
  const takesBody = r.method === 'post' || r.method === 'put' || r.method === 'patch';
  const out: Record<string, unknown> = { [String(r.status ?? 200)]: success };
  const error = (description: string) => ({ description, content: ERROR_CONTENT });
  if (hasPathParams || r.query || r.body || takesBody)
    out['400'] = error('The request is invalid; the message says which part and why.');
  if (r.auth !== 'public') {
    out['401'] = error('No valid credentials.');
    out['403'] = error('The caller lacks the permission this operation needs.');
  }
  if (hasPathParams) out['404'] = error('The resource named in the path does not exist.');
  if (takesBody) out['413'] = error('The request body is larger than api.body_limit.');
  for (const [status, description] of Object.entries(r.responses ?? {})) {
    out[status] = Number(status) < 300 ? { ...success, description } : error(description);
  }
  return out;
}

/** The OpenAPI 3 document, generated from the route table and its schemas. */
export function buildOpenApi(routes: readonly RouteSpec[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const p = openapiPath(r.path);
    const params = [...r.path.matchAll(/[:*](\w+)/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }));
    const queryProps = (r.query?.properties ?? {}) as Record<string, Record<string, unknown>>;
    for (const [name, schema] of Object.entries(queryProps)) {
      params.push({ name, in: 'query', required: false, schema: schema as never });
    }
    paths[p] ??= {};
    paths[p][r.method] = {
      summary: r.summary,
      tags: [r.tag],
      operationId: `${r.method}_${p.replace(/[^\w]+/g, '_')}`,
      parameters: params,
      ...(r.body
        ? { requestBody: { required: true, content: { 'application/json': { schema: r.body } } } }
        : {}),
      ...(r.auth === 'public' ? { security: [] } : {}),
      responses: responsesOf(
        r,
        params.some((p) => p.in === 'path'),
      ),
    };
  }
  return {
    openapi: '3.0.3',
    info: {
      title: 'Squall API',
      version: VERSION,
      description: "StackStorm-compatible REST API (st2's resource model).",
    },
    servers: [{ url: '/' }],
    security: [{ AuthToken: [] }, { ApiKey: [] }, { Bearer: [] }],
    components: {
      securitySchemes: {
        AuthToken: { type: 'apiKey', in: 'header', name: 'X-Auth-Token' },
        ApiKey: { type: 'apiKey', in: 'header', name: 'St2-Api-Key' },
        Bearer: { type: 'http', scheme: 'bearer' },
      },
      schemas: {
        Error: {
          type: 'object',
          properties: {
            faultstring: { type: 'string' },
            code: { type: 'string' },
            hint: {
              type: 'string',
              description: 'What to do next (which key to set, which command lists the choices)',
            },
            request_id: { type: 'string' },
          },
          required: ['faultstring'],
        },
      },
    },
    paths,
  };
}
