// chatops.match_and_execute (st2's match_and_execute.py): see lib/squall.mjs.
import { matchAndExecute } from './lib/squall.mjs';

export default async function run(params) {
  return matchAndExecute(params);
}
