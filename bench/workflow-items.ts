// Benchmark: an orquesta task with 50 items (with-items) at concurrency 10, each item core.noop,
// in one process on the embedded store (or MongoDB with SQUALL_BENCH_MONGO_URL). Prints the total
// (request → workflow succeeded) and ms per item, i.e. per child execution and the transition
// that follows it, with at most `concurrency` children in flight.
// Run: node --import tsx bench/workflow-items.ts [items] [concurrency]
import { figure, startWorkflowService } from './lib/inproc.js';

const items = Number(process.argv[2] ?? 50);
const concurrency = Number(process.argv[3] ?? 10);
const workflow = `version: 1.0
input:
  - items
  - concurrency
tasks:
  each:
    with:
      items: <% ctx(items) %>
      concurrency: <% ctx(concurrency) %>
    action: core.noop
`;
const metadata = `parameters:
  items:
    type: array
    required: true
  concurrency:
    type: integer
    required: true
`;
const squall = await startWorkflowService({ items: { metadata, workflow } });
try {
  const t0 = performance.now();
  const wf = await squall.executions.request({
    action: 'benchwf.items',
    user: 'bench',
    parameters: { items: Array.from({ length: items }, (_, i) => i), concurrency },
  });
  const e = await squall.finished(wf.id);
  const total = performance.now() - t0;
  if (e.status !== 'succeeded')
    throw new Error(`bench workflow ended ${e.status}: ${JSON.stringify(e.result)}`);
  // A workflow's record does not hold its children: they are the executions whose parent it is.
  const children = await squall.storeHandle.executions.count({ parent: wf.id });
  if (children !== items) throw new Error(`expected ${items} child executions, found ${children}`);
  const name = `workflow.with_items_noop.${items}x_c${concurrency}`;
  figure(`${name}.per_item.${squall.store}`, 'ms', total / items, items);
  figure(`${name}.total.${squall.store}`, 'ms', total, items);
} finally {
  await squall.stop();
}
process.exit(0);
