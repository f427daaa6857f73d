import { expect } from 'vitest';
import { isCompleted } from '../../src/executions/index.js';
import { waitFor } from './wait.js';

/** An API answer: the body parsed when it is JSON (null otherwise), and its text as sent. */
export interface ApiAnswer {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

/**
 * A JSON client of a test service's API, as the integration suites each wrote it: `url` is read at
 * each call (the service starts in beforeAll, after the client is made).
 */
export function apiClient(url: () => string) {
  const api = async (
    method: string,
    p: string,
    body?: unknown,
    contentType = 'application/json',
  ): Promise<ApiAnswer> => {
    const res = await fetch(`${url()}${p}`, {
      method,
      headers: body !== undefined ? { 'content-type': contentType } : {},
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    const json = res.headers.get('content-type')?.includes('json');
    return { status: res.status, headers: res.headers, body: json && text ? JSON.parse(text) : null, text };
  };
  /** Requests an execution of `action`; its id. */
  const run = async (action: string, parameters: Record<string, unknown> = {}): Promise<string> => {
    const res = await api('POST', '/api/v1/executions', { action, parameters });
    expect(res.status, res.text).toBe(201);
    return String(res.body.id);
  };
  /** The execution as the API shows it once it has completed. */
  const finished = (id: string, timeoutMs = 20_000) =>
    waitFor(
      async () => {
        const { body } = await api('GET', `/api/v1/executions/${id}`);
        return isCompleted(body.status) ? (body as Record<string, any>) : null;
      },
      `execution ${id} to finish`,
      timeoutMs,
    );
  return { api, run, finished };
}
