import type { NextFunction, Request, Response } from 'express';
import { SquallError } from '../errors.js';

/**
 * How deeply a request body may nest. A 1 MB body can nest 250,000 deep, and every layer below
 * (the store's codec, ajv, Jinja, criteria) walks records recursively: such a body overflowed the
 * stack (a 500) on a dozen routes. No StackStorm payload, parameter or metadata comes near this.
 */
export const MAX_BODY_DEPTH = 64;

/** Depth of the deepest array/object in `value` (0 for a scalar), counted without recursion. */
export function nestingDepth(value: unknown, stopAfter = Infinity): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    const here = depth + 1;
    if (here > deepest) {
      deepest = here;
      if (deepest > stopAfter) return deepest;
    }
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (child !== null && typeof child === 'object') stack.push([child, here]);
    }
  }
  return deepest;
}

/** Throws a 400 BODY_TOO_DEEP when a parsed body nests deeper than MAX_BODY_DEPTH. */
export function assertBodyDepth(body: unknown): void {
  if (body !== null && typeof body === 'object' && nestingDepth(body, MAX_BODY_DEPTH) > MAX_BODY_DEPTH) {
    throw new SquallError(
      'BODY_TOO_DEEP',
      `request body nests objects and arrays more than ${MAX_BODY_DEPTH} levels deep, the limit`,
      { max_depth: MAX_BODY_DEPTH },
      400,
    );
  }
}

/**
 * Refuses a parsed body nested deeper than MAX_BODY_DEPTH before any route sees it. Webhooks
 * parse their own raw body (for HMAC) and call assertBodyDepth themselves.
 */
export function bodyDepthLimit(req: Request, _res: Response, next: NextFunction): void {
  try {
    assertBodyDepth(req.body);
  } catch (err) {
    next(err);
    return;
  }
  next();
}
