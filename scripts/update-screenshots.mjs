#!/usr/bin/env node
// Copies the README's screenshots from the browser tests' output (test-results/screenshots/, not
// committed) to docs/screenshots/ (committed). Run the browser tests first:
//   npx vitest run test/browser && node scripts/update-screenshots.mjs
// A missing screenshot, or one over 200 KB, stops the copy before anything is written, so the
// README never points at a stale mix.
import { copyFileSync, existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const from = path.join(root, 'test-results', 'screenshots');
const to = path.join(root, 'docs', 'screenshots');
const MAX_BYTES = 200 * 1024;

/** docs/screenshots name ← test-results/screenshots name (which test takes it). */
const CHOSEN = {
  'dashboard.png': 'dashboard.png', // dashboard.test.ts, a seeded history over 24 h
  'login.png': 'login.png', // web-ui.test.ts, after a wrong password
  'history.png': 'history-seeded.png', // dashboard.test.ts, a seeded history of 14 executions
  'execution-detail.png': 'execution-detail.png', // web-ui.test.ts
  'rule-editor.png': 'rule-editor-tested.png', // flows.test.ts, tested before saving
  'inquiries.png': 'inquiry-form.png', // flows.test.ts, the form from the inquiry's schema
  'pack-config.png': 'pack-config-error.png', // flows.test.ts, a field the server refused
  'workflow-graph.png': 'workflow-graph.png', // workflow-views.test.ts, examples.orquesta-sequential run
  'workflow-inspect.png': 'workflow-inspect.png', // workflow-views.test.ts, inspect errors on their tasks
  'run-timeline.png': 'run-timeline.png', // workflow-views.test.ts, with-items lanes and a sub-workflow
  'trace.png': 'trace.png', // workflow-views.test.ts, a webhook's trace down to the chat post
};

const problems = [];
for (const source of Object.values(CHOSEN)) {
  const file = path.join(from, source);
  if (!existsSync(file)) problems.push(`${file} is missing (run: npx vitest run test/browser)`);
  else if (statSync(file).size > MAX_BYTES)
    problems.push(`${file} is ${Math.round(statSync(file).size / 1024)} KB, over the 200 KB limit`);
}
if (problems.length) {
  process.stderr.write(`update-screenshots: nothing copied:\n  ${problems.join('\n  ')}\n`);
  process.exit(1);
}
mkdirSync(to, { recursive: true });
for (const [target, source] of Object.entries(CHOSEN)) {
  copyFileSync(path.join(from, source), path.join(to, target));
  process.stdout.write(`docs/screenshots/${target} ← test-results/screenshots/${source}\n`);
}
