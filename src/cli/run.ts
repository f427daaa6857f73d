// Runs the CLI from the TypeScript sources (used by tests through tsx; bin/squall.js uses dist/).
// Entry point: composes the chat transports (adapters/) with the domain, as bin/squall.js does.
import { main, needsChatAdapters } from './main.js';

if (needsChatAdapters(process.argv)) await import('../../adapters/index.js');

await main(process.argv);
