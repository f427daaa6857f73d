import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Services } from '../service/index.js';
import { queueDepth } from './queue.js';

const GUARDED: Array<{ method: string; test: (path: string) => boolean }> = [
  { method: 'POST', test: (p) => p === '/api/v1/executions' || p === '/api/v1/executions/' },
  { method: 'POST', test: (p) => p.startsWith('/api/v1/webhooks/') },
];

/**
 * Admission control: while more executions wait than `backpressure.max_queue_depth`, new work
 * (POST /api/v1/executions, webhooks) is answered 429 with Retry-After, before its body is read
 * — a flood costs a counter read per request, and memory stays flat. Everything else (reads,
 * cancels, the stream) is served as usual so operators can see and drain the queue.
 */
export function backpressureGuard(services: Services): RequestHandler {
  const { max_queue_depth: limit, retry_after_seconds: retryAfter } = services.config.backpressure;
  const depth = queueDepth(services);
  let refused = 0;
  const guard = (req: Request, res: Response, next: NextFunction) => {
    if (limit <= 0 || !GUARDED.some((g) => g.method === req.method && g.test(req.path))) return next();
    const current = depth.value;
    if (current < limit) return next();
    refused++;
    if (refused === 1 || refused % 1000 === 0)
      services.logger.warn({ depth: current, limit, refused }, 'queue full: refusing new work with 429');
    // The body is not wanted; let the connection be reused without buffering it.
    req.resume();
    res
      .status(429)
      .set('Retry-After', String(retryAfter))
      .json({
        faultstring: `Squall is busy: ${current} executions are waiting for a runner (backpressure.max_queue_depth is ${limit}); retry in ${retryAfter} s`,
        code: 'QUEUE_FULL',
        depth: current,
        limit,
        retry_after: retryAfter,
      });
  };
  Object.defineProperty(guard, 'refusedCount', { get: () => refused });
  return guard;
}
