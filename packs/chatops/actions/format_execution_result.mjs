// chatops.format_execution_result (st2's format_execution_result.py): see lib/squall.mjs.
import { formatExecutionResult } from './lib/squall.mjs';

export default async function run(params) {
  return formatExecutionResult(params.execution_id);
}
