// Runs the CLI from the TypeScript sources (used by tests through tsx; bin/squall.js uses dist/).
// Entry point: composes the chat transports (adapters/) with the domain, as bin/squall.js does.
import '../../adapters/index.js';
import { main } from './main.js';

await main(process.argv);
