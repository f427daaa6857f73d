// Runs the CLI from the TypeScript sources (used by tests through tsx; bin/squall.js uses dist/).
import { main } from './main.js';

await main(process.argv);
