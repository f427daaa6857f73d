// `node --import ./test/support/record-imports.mjs …`: appends every module URL the process
// resolves to the file named by SQUALL_RECORD_IMPORTS, one a line (used to check what a CLI
// entry point loads without timing it).
import { register } from 'node:module';

register(
  'data:text/javascript,' +
    encodeURIComponent(`
import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(process.env.SQUALL_RECORD_IMPORTS, r.url + '\\n');
  return r;
}`),
);
