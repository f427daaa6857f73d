#!/usr/bin/env node
// Entry point of the `squall` command: runs the compiled CLI from dist/.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';
import v8 from 'node:v8';

// `squall start` keeps V8's young generation from growing on start-up garbage until it is up
// (src/cli/commands/start.ts, youngGenerationForWork): set before anything loads.
if (process.argv.slice(2).find((a) => !a.startsWith('-')) === 'start') {
  v8.setFlagsFromString('--semi-space-growth-factor=1');
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const entry = path.join(root, 'dist', 'src', 'cli', 'main.js');
if (!existsSync(entry)) {
  process.stderr.write('squall: not built yet. Run `npm start` (installs and builds) or `npm run build`.\n');
  process.exit(1);
}
const { main, needsChatAdapters } = await import(pathToFileURL(entry).href);
// The entry point composes the chat transports with the domain (src/ never imports adapters/),
// only for the commands that run them: Slack's and Discord's SDKs take a while to load.
if (needsChatAdapters(process.argv)) {
  await import(pathToFileURL(path.join(root, 'dist', 'adapters', 'index.js')).href);
}
await main(process.argv);
