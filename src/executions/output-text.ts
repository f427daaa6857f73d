import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';
import { SquallError } from '../errors.js';
import type { ExecutionOutputRecord } from '../store/index.js';

type Pages = () => AsyncIterable<ExecutionOutputRecord[]>;

/** The length and SHA-1 the `etag` package (Express's default, weak) derives from a whole body. */
async function measure(pages: Pages): Promise<{ rows: number; bytes: number; etag: string }> {
  const sha1 = createHash('sha1');
  let rows = 0;
  let bytes = 0;
  for await (const page of pages()) {
    for (const row of page) {
      sha1.update(row.data, 'utf8');
      bytes += Buffer.byteLength(row.data, 'utf8');
      rows++;
    }
  }
  const tag =
    bytes === 0
      ? '0-2jmj7l5rSw0yVb/vlWAYkK/YBwk'
      : `${bytes.toString(16)}-${sha1.digest('base64').slice(0, 27)}`;
  return { rows, bytes, etag: `W/"${tag}"` };
}

/** Resolves once the socket takes more (or is gone): what waits for a slow client is one page. */
function drained(res: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/**
 * Sends stored output as the text/plain body `res.send` gave it whole (the same bytes, length,
 * weak ETag, 304 and HEAD answers), reading and writing it a page at a time and waiting for the
 * client to take each page: 20 clients that did not read a 30 MB output held 600 MB. The pages
 * are read twice, first for the length and ETag the headers need, then to send; rows stored
 * meanwhile (a running execution) are left for the next request, as a single read left them.
 */
export async function sendOutputText(
  req: Request,
  res: Response,
  pages: Pages,
  durable: () => Promise<void>,
  onError: (err: unknown) => void,
): Promise<void> {
  const { rows, bytes, etag } = await measure(pages);
  // What is sent must be on disk first, as for any answer (the router holds only res.end).
  await durable();
  res.type('text/plain');
  res.setHeader('Content-Length', bytes);
  if (typeof req.app.get('etag fn') === 'function') res.setHeader('ETag', etag);
  if (req.fresh) {
    res.status(304);
    res.removeHeader('Content-Type');
    res.removeHeader('Content-Length');
    res.end();
    return;
  }
  if (req.method === 'HEAD' || bytes === 0) {
    res.end();
    return;
  }
  let left = rows;
  let sent = 0;
  try {
    pages: for await (const page of pages()) {
      for (const row of page) {
        if (left === 0) break pages;
        if (res.destroyed) return;
        left--;
        sent += Buffer.byteLength(row.data, 'utf8');
        if (!res.write(row.data, 'utf8')) await drained(res);
      }
    }
  } catch (err) {
    onError(err);
    res.destroy();
    return;
  }
  // A row gone between the two reads (retention) would make the body shorter than announced:
  // the client is told by a cut connection, not handed a short body as whole.
  if (sent !== bytes) {
    onError(
      new SquallError('OUTPUT_CHANGED', `the output changed while it was sent (${sent} of ${bytes} bytes)`, {
        sent,
        bytes,
      }),
    );
    res.destroy();
    return;
  }
  res.end();
}

/**
 * Sends a JSON array whose items come a page at a time, writing each page once the client took the
 * last and letting the event loop run between pages: the array whole (a workflow's 10,000 children
 * with their results, 26 MB and more) was built, stringified and held at once. There is no ETag or
 * Content-Length (the body is not known before it is sent). A failure after the first byte cuts the
 * connection: a short array must not read as whole.
 */
export async function sendJsonArray(
  res: Response,
  pages: AsyncIterable<unknown[]>,
  durable: () => Promise<void>,
  onError: (err: unknown) => void,
): Promise<void> {
  let items = 0;
  try {
    for await (const page of pages) {
      if (!res.headersSent) {
        // What is sent must be on disk first, as for any answer (the router holds only res.end).
        await durable();
        res.status(200).type('application/json');
        res.write('[');
      }
      let text = '';
      for (const item of page) text += (items++ === 0 ? '' : ',') + JSON.stringify(item);
      if (res.destroyed) return;
      if (text && !res.write(text, 'utf8')) await drained(res);
      // Other requests are served between pages (the embedded store answers without waiting).
      await new Promise((resolve) => setImmediate(resolve));
    }
  } catch (err) {
    if (!res.headersSent) throw err;
    onError(err);
    res.destroy();
    return;
  }
  if (!res.headersSent) {
    await durable();
    res.status(200).json([]);
    return;
  }
  res.end(']');
}
