// chatops.match (st2's match.py): see lib/squall.mjs.
import { match } from './lib/squall.mjs';

export default async function run(params) {
  return match(params.text);
}
