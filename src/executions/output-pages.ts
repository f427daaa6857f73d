import type { Collection, ExecutionOutputRecord, Filter } from '../store/index.js';

/** About what one page of rows holds: rows are read this much at a time, whatever their size. */
const PAGE_BYTES = 512 * 1024;
const MIN_ROWS = 8;
const MAX_ROWS = 1024;
/** Rows a MongoDB cursor fetches at a time: 2 MiB of 64 KiB chunks. */
const CURSOR_BATCH_ROWS = 32;

/**
 * An execution's stored output rows in timestamp order (ties in the store's order, as one
 * `find` sorted by timestamp gives them), read a page at a time so that a long output is never
 * held whole: reading it whole for each request or stream let clients that do not read hold one
 * copy each. A page starts at the last timestamp seen, skipping the rows of that timestamp
 * already given (an index range on both stores, not an offset into the whole output). The rows
 * of a page follow the size of the last ones (64 KiB chunks of a noisy command, or short lines),
 * so a page is about PAGE_BYTES and short lines do not cost a read each few. On MongoDB one
 * cursor gives the pages.
 */
export async function* outputPages(
  outputs: Collection<ExecutionOutputRecord>,
  filter: Filter,
): AsyncGenerator<ExecutionOutputRecord[]> {
  if (outputs.batches) {
    yield* outputs.batches(filter, { sort: { timestamp: 1 }, batchSize: CURSOR_BATCH_ROWS });
    return;
  }
  let last: string | undefined;
  /** Rows already given whose timestamp is `last`. */
  let atLast = 0;
  let limit = MIN_ROWS;
  for (;;) {
    const page = await outputs.find(last === undefined ? filter : { ...filter, timestamp: { $gte: last } }, {
      sort: { timestamp: 1 },
      skip: atLast,
      limit,
    });
    if (page.length === 0) return;
    let bytes = 0;
    for (const row of page) {
      bytes += row.data.length;
      if (row.timestamp === last) atLast++;
      else {
        last = row.timestamp;
        atLast = 1;
      }
    }
    const full = page.length === limit;
    yield page;
    if (!full) return;
    limit = Math.max(
      MIN_ROWS,
      Math.min(MAX_ROWS, Math.floor((PAGE_BYTES * page.length) / Math.max(1, bytes))),
    );
  }
}
