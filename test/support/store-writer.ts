// Child process for the crash tests: writes records one by one and prints "ACK <id>" after each
// write has been acknowledged by the store, until it is killed.
import { openStore } from '../../src/store/index.js';
import { newId } from '../../src/ids.js';

const [dataDir, mongoUrl] = process.argv.slice(2);
const store = await openStore({ dataDir, mongoUrl: mongoUrl || undefined });
process.stdout.write('READY\n');
for (let n = 0; ; n++) {
  const id = newId();
  await store.testRecords.insert({ id, n, blob: { payload: 'x'.repeat(200) } });
  if (n % 3 === 0) await store.testRecords.updateOne({ id }, { $set: { tag: `updated-${n}` } });
  process.stdout.write(`ACK ${id} ${n % 3 === 0 ? `updated-${n}` : '-'}\n`);
}
