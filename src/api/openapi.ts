import { VERSION } from '../version.js';
import type { RouteSpec } from './router.js';

/** Express `/a/:id` → OpenAPI `/a/{id}`. */
export function openapiPath(path: string): string {
  return path.replace(/[:*](\w+)/g, '{$1}');
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
      responses: {
        [String(r.status ?? 200)]: {
          description: 'OK',
          ...(r.response ? { content: { 'application/json': { schema: r.response } } } : {}),
        },
        default: {
          description: 'Error',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
      },
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
          properties: { faultstring: { type: 'string' }, code: { type: 'string' } },
          required: ['faultstring'],
        },
      },
    },
    paths,
  };
}
