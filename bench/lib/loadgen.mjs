// A small closed-loop HTTP load generator: `concurrency` workers each send a request, wait for
// the whole response, and send the next one, over keep-alive sockets. Closed loop means a slow
// response delays the next request, so queueing delay that an open-loop client would observe is
// NOT counted (it is not coordinated-omission-aware). Same client for Squall, the floors and
// Node-RED, so the comparison is fair even if the absolute tail is optimistic.
import http from 'node:http';

/**
 * Sends one request (a POST of JSON by default) through `agent` and reads the whole answer. Resolves,
 * never rejects: {status, reused, text?} (text with keepText), or {error, reused, socket} when the
 * request or its answer failed on the socket (a keep-alive race ends here, in ECONNRESET).
 * `reused`: the request went out on a socket the agent kept from an earlier one. `onSocket` sees the
 * socket as the request is given it.
 * @param {http.Agent} agent
 * @param {URL | string} url
 * @param {string} body
 * @param {{method?: string, headers?: Record<string,string>, keepText?: boolean,
 *   onSocket?: (socket: import('node:net').Socket) => void}} [opts]
 * @returns {Promise<{status?: number, text?: string, reused: boolean, error?: NodeJS.ErrnoException,
 *   socket?: import('node:net').Socket}>}
 */
export function send(agent, url, body, { method = 'POST', headers, keepText = false, onSocket } = {}) {
  const target = typeof url === 'string' ? new URL(url) : url;
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname + target.search,
        method,
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          ...headers,
        },
      },
      (res) => {
        const chunks = [];
        if (keepText) res.on('data', (c) => chunks.push(c));
        else res.resume();
        res.on('end', () =>
          resolve({
            status: res.statusCode,
            reused: req.reusedSocket,
            ...(keepText ? { text: Buffer.concat(chunks).toString('utf8') } : {}),
          }),
        );
        res.on('error', (error) => resolve({ error, reused: req.reusedSocket, socket: req.socket }));
      },
    );
    if (onSocket) req.on('socket', onSocket);
    req.on('error', (error) => resolve({ error, reused: req.reusedSocket, socket: req.socket }));
    req.end(body);
  });
}

/**
 * @param {{url: string, method?: string, body?: string, headers?: Record<string,string>,
 *   concurrency: number, requests: number, warmup?: number, maxMs?: number, onMeasureStart?: () => void,
 *   check?: (status: number, body: string) => string|undefined}} opts
 * @returns {Promise<{latencies: number[], elapsedMs: number, errors: number, firstError?: string}>}
 */
export async function load(opts) {
  const url = new URL(opts.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.concurrency });
  const body = opts.body ?? '';
  const one = async () => {
    const t0 = performance.now();
    const r = await send(agent, url, body, { method: opts.method, headers: opts.headers, keepText: true });
    const ms = performance.now() - t0;
    if (r.error) return { ms, problem: String(r.error) };
    const problem = opts.check
      ? opts.check(r.status ?? 0, r.text)
      : r.status >= 400
        ? `HTTP ${r.status}: ${r.text.slice(0, 200)}`
        : undefined;
    return { ms, problem };
  };

  // maxMs bounds a phase: workers stop issuing after it (the run reports how many completed).
  const runPhase = async (total, record, maxMs = Infinity) => {
    let issued = 0;
    const until = performance.now() + maxMs;
    const worker = async () => {
      while (issued < total && performance.now() < until) {
        issued++;
        const r = await one();
        record?.(r);
      }
    };
    await Promise.all(Array.from({ length: Math.min(opts.concurrency, total) }, worker));
  };

  await runPhase(opts.warmup ?? 0, undefined, opts.maxMs ?? 60_000);
  const latencies = [];
  let errors = 0;
  let firstError;
  opts.onMeasureStart?.();
  const t0 = performance.now();
  await runPhase(
    opts.requests,
    (r) => {
      if (r.problem) {
        errors++;
        firstError ??= r.problem;
      } else latencies.push(r.ms);
    },
    opts.maxMs ?? 60_000,
  );
  const elapsedMs = performance.now() - t0;
  agent.destroy();
  return { latencies, elapsedMs, errors, firstError };
}

/** Sends `requests` webhooks to `hook`, 16 in flight, each waiting for its executions; how many were answered. */
export async function sendWebhooks(url, hook, requests) {
  const run = await load({
    url: `${url}/api/v1/webhooks/${hook}?wait=10`,
    body: JSON.stringify({ event: 'bench', value: 42 }),
    concurrency: 16,
    requests,
    warmup: 0,
    maxMs: 300_000,
  });
  return run.latencies.length;
}

export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

const round = (v, d = 2) => (Number.isFinite(v) ? +v.toFixed(d) : v);

/** Prints (and returns) the latency line and the throughput line of one load run. */
export function report(name, run, extra = {}) {
  const sorted = [...run.latencies].sort((a, b) => a - b);
  const n = sorted.length;
  const lines = [
    {
      name: `${name}.latency`,
      unit: 'ms',
      p50: round(percentile(sorted, 50)),
      p99: round(percentile(sorted, 99)),
      n,
      ...(run.errors ? { errors: run.errors, first_error: run.firstError } : {}),
      ...extra,
    },
    { name: `${name}.throughput`, unit: 'req/s', value: round((n / run.elapsedMs) * 1000, 1), n, ...extra },
  ];
  for (const l of lines) emit(l);
  return lines;
}

export const results = [];
export function emit(line) {
  results.push(line);
  process.stdout.write(JSON.stringify(line) + '\n');
}
export function skip(name, reason) {
  emit({ name, skipped: true, reason });
}
