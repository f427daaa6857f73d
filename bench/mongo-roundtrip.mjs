// What one database round trip costs the client's CPU on this machine, apart from Squall: the
// MongoDB driver's findOne / updateOne / insertOne by _id, and a Redis PING on a plain socket (the
// floor of a round trip over loopback), one at a time. Prints CPU ms per round trip (process.cpuUsage) and the wall time
// spent inside socket.write(). Issue 19: Squall's CPU per webhook on the MongoDB path is mostly
// its round trips times this. Needs SQUALL_BENCH_MONGO_URL or SQUALL_TEST_MONGO_URL (a database
// `<name>_roundtrip` is made and dropped), and SQUALL_BENCH_REDIS_URL or SQUALL_TEST_REDIS_URL.
// Run: node bench/mongo-roundtrip.mjs [n]
import net from 'node:net';
import { MongoClient } from 'mongodb';

const n = Number(process.argv[2] ?? 2000);
const mongoUrl = process.env.SQUALL_BENCH_MONGO_URL || process.env.SQUALL_TEST_MONGO_URL;
const redisUrl = process.env.SQUALL_BENCH_REDIS_URL || process.env.SQUALL_TEST_REDIS_URL;
if (!mongoUrl) throw new Error('needs SQUALL_BENCH_MONGO_URL or SQUALL_TEST_MONGO_URL');

// socket.write() timed for every socket of this process.
const write = net.Socket.prototype.write;
let writeNs = 0n;
let writes = 0;
net.Socket.prototype.write = function (...args) {
  const t = process.hrtime.bigint();
  try {
    return write.apply(this, args);
  } finally {
    writeNs += process.hrtime.bigint() - t;
    writes++;
  }
};

async function measure(label, op) {
  for (let i = 0; i < Math.min(200, n); i++) await op(i);
  writeNs = 0n;
  writes = 0;
  const u0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await op(i);
  const u = process.cpuUsage(u0);
  const line = {
    name: `roundtrip.${label}`,
    cpu_ms: +((u.user + u.system) / 1000 / n).toFixed(3),
    user_ms: +(u.user / 1000 / n).toFixed(3),
    system_ms: +(u.system / 1000 / n).toFixed(3),
    wall_ms: +((performance.now() - t0) / n).toFixed(3),
    write_wall_ms: writes ? +(Number(writeNs) / 1e6 / writes).toFixed(3) : null,
    writes_per_op: +(writes / n).toFixed(2),
    n,
  };
  console.log(JSON.stringify(line));
}

/** A plain socket sending `msg` and waiting for `done(buffered)` to say the answer is whole. */
async function rawSocket(host, port, msg, done) {
  const sock = net.connect({ host, port });
  await new Promise((r, j) => sock.once('connect', r).once('error', j));
  sock.setNoDelay(true);
  let buf = Buffer.alloc(0);
  let waiting;
  sock.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    if (waiting && done(buf)) {
      buf = Buffer.alloc(0);
      const w = waiting;
      waiting = undefined;
      w();
    }
  });
  return {
    op: () =>
      new Promise((r) => {
        waiting = r;
        sock.write(msg);
      }),
    close: () => sock.destroy(),
  };
}

const url = new URL(mongoUrl);
url.pathname = `${url.pathname.replace(/^\//, '') || 'squall'}_roundtrip`;
const client = new MongoClient(url.toString());
await client.connect();
try {
  const coll = client.db().collection('t');
  await coll.deleteMany({});
  await coll.insertOne({ _id: 'a', x: 0, s: 'x'.repeat(200) });
  await measure('driver.findOne_by_id', () => coll.findOne({ _id: 'a' }));
  await measure('driver.updateOne_by_id', (i) => coll.updateOne({ _id: 'a' }, { $set: { x: i } }));
  await measure('driver.insertOne', (i) => coll.insertOne({ _id: `i${i}-${Math.random()}`, x: i }));

  if (redisUrl) {
    const r = new URL(redisUrl);
    const redisRaw = await rawSocket(r.hostname, Number(r.port || 6379), '*1\r\n$4\r\nPING\r\n', (b) =>
      b.includes('\r\n'),
    );
    await measure('raw_socket.redis_ping', redisRaw.op);
    redisRaw.close();
  }
} finally {
  await client.db().dropDatabase();
  await client.close();
}
