// One "process" in the cross-process lease test: waits for the start time, then tries to take
// over every lease in turn and prints the ones it got, as `TOOK <name>` lines.
import os from 'node:os';
import { Leases } from '../../src/scale/index.js';
import { openStore } from '../../src/store/index.js';

const [mongoUrl, worker, startAt, count] = process.argv.slice(2);
const store = await openStore({ dataDir: os.tmpdir(), mongoUrl });
// A live worker heartbeats, as the service does: one that beat once and then spent longer than
// the ttl taking over leases (a loaded FerretDB) was rightly taken for dead by the other taker,
// which then broke leases this one had taken.
const beat = () =>
  store.workers.updateOne(
    { id: worker },
    { $set: { heartbeat_at: new Date().toISOString() } },
    { upsert: true },
  );
await beat();
const beating = setInterval(
  () => void beat().catch((err) => process.stderr.write(`heartbeat failed: ${String(err)}\n`)),
  1_000,
);
// The dead worker fell silent 60 s before the start.
const leases = new Leases({ store, workerId: () => worker, ttlMs: 30_000 });
await new Promise((r) => setTimeout(r, Math.max(0, Number(startAt) - Date.now())));
for (let i = 0; i < Number(count); i++) {
  if (await leases.acquire(`takeover-${i}`)) process.stdout.write(`TOOK takeover-${i}\n`);
}
clearInterval(beating);
await store.close();
