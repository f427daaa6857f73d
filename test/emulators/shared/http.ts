import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket } from 'ws';

/** A file part of a multipart/form-data body. */
export interface FilePart {
  field: string;
  filename: string;
  contentType: string;
  data: Buffer;
}

export interface ParsedBody {
  raw: Buffer;
  contentType: string;
  /** Plain fields: form fields, multipart text fields, or the top-level keys of a JSON object. */
  fields: Record<string, unknown>;
  files: FilePart[];
  /** The parsed JSON value when the body was JSON. */
  json?: unknown;
}

export function readRaw(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Reads and parses a request body the way the real service would: JSON, urlencoded or multipart. */
export async function readBody(req: http.IncomingMessage): Promise<ParsedBody> {
  const raw = await readRaw(req);
  const contentType = String(req.headers['content-type'] ?? '');
  const parsed: ParsedBody = { raw, contentType, fields: {}, files: [] };
  if (raw.length === 0) return parsed;
  if (contentType.startsWith('application/json')) {
    parsed.json = JSON.parse(raw.toString('utf8'));
    if (parsed.json && typeof parsed.json === 'object' && !Array.isArray(parsed.json)) {
      parsed.fields = { ...(parsed.json as Record<string, unknown>) };
    }
  } else if (contentType.startsWith('application/x-www-form-urlencoded')) {
    for (const [k, v] of new URLSearchParams(raw.toString('utf8'))) parsed.fields[k] = v;
  } else if (contentType.startsWith('multipart/form-data')) {
    // undici's Response already implements a spec-compliant multipart parser.
    const form = await new Response(raw, { headers: { 'content-type': contentType } }).formData();
    for (const [field, value] of form) {
      if (typeof value === 'string') {
        parsed.fields[field] = value;
      } else {
        parsed.files.push({
          field,
          filename: value.name,
          contentType: value.type || 'application/octet-stream',
          data: Buffer.from(await value.arrayBuffer()),
        });
      }
    }
  }
  return parsed;
}

export function sendJson(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** Answers with no body and, on purpose, no content-type (discord.js parses JSON on any JSON type). */
export function sendEmpty(
  res: http.ServerResponse,
  status = 204,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, headers);
  res.end();
}

/** Listens on 127.0.0.1 with a free port; returns the port. */
export function listen(server: http.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/**
 * Stops accepting connections, lets requests in flight finish (a bot's start-up auth.test that
 * dies mid-request becomes an unhandled rejection in Bolt), and cuts what is left after `graceMs`.
 */
export function closeServer(server: http.Server, graceMs = 1_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    server.close((err) => {
      clearTimeout(timer);
      if (err) reject(err);
      else resolve();
    });
    server.closeIdleConnections();
  });
}

/** A scheduled rate limit: the next `remaining` matching calls are answered with a 429. */
export interface RateLimitRule {
  matches: (key: string) => boolean;
  retryAfterSeconds: number;
  remaining: number;
  /** Discord: a global (not per-route) limit. */
  global?: boolean;
}

export function takeRateLimit(rules: RateLimitRule[], key: string): RateLimitRule | undefined {
  const rule = rules.find((r) => r.remaining > 0 && r.matches(key));
  if (rule) rule.remaining -= 1;
  return rule;
}

/**
 * Closes WebSockets with a proper close handshake (a bot that is itself disconnecting gets the
 * close frame it waits for), terminating any that do not finish within `graceMs`.
 */
export async function closeSockets(sockets: Iterable<WebSocket>, graceMs = 1_000): Promise<void> {
  await Promise.all(
    [...sockets].map(
      (ws) =>
        new Promise<void>((resolve) => {
          if (ws.readyState === WebSocket.CLOSED) return resolve();
          const timer = setTimeout(() => {
            ws.terminate();
            resolve();
          }, graceMs);
          ws.once('close', () => {
            clearTimeout(timer);
            resolve();
          });
          if (ws.readyState === WebSocket.OPEN) ws.close(1001, 'emulator stopping');
        }),
    ),
  );
}
