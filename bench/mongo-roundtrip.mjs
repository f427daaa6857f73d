// What one database round trip costs the client's CPU on this machine, apart from Squall: the
// MongoDB driver's findOne / updateOne / insertOne by _id, and a Redis PING on a plain socket (the
// floor of a round trip over loopback), one at a time. Prints CPU ms per round trip (process.cpuUsage) and the wall time
// spent inside socket.write(). Issue 19: Squall's CPU per webhook on the MongoDB path is mostly
// its round trips times this. Needs SQUALL_BENCH_MONGO_URL or SQUALL_TEST_MONGO_URL (a database
// `<name>_roundtrip` is made and dropped), and SQUALL_BENCH_REDIS_URL or SQUALL_TEST_REDIS_URL.
// Also the same round trips without the driver: a hand-built OP_MSG `{ping}` and `{find}` by _id on a
// plain socket to the same server (the reply's BSON decoded), so driver vs kernel/server can be told
// apart (2026-12-07, w/mongo7: the plain socket costs ~0.06–0.17 ms, the driver ~0.3–0.9 ms, nearly
// all of it user time). Every figure is printed in each of [rounds] rounds: the first is JIT warm-up.
// Run: node bench/mongo-roundtrip.mjs [n] [rounds]
import net from 'node:net';
import { BSON } from 'bson';
import { MongoClient } from 'mongodb';

const n = Number(process.argv[2] ?? 2000);
const rounds = Number(process.argv[3] ?? 2);
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
        sock.write(typeof msg === 'function' ? msg() : msg);
      }),
    close: () => sock.destroy(),
  };
}

/** One OP_MSG (opcode 2013) carrying `doc` as its body section. */
function opMsg(doc) {
  const body = BSON.serialize(doc);
  const msg = Buffer.alloc(21 + body.length);
  msg.writeInt32LE(msg.length, 0);
  msg.writeInt32LE(1, 4); // requestID: one request in flight at a time
  msg.writeInt32LE(2013, 12);
  Buffer.from(body).copy(msg, 21); // flagBits 0, section kind 0
  return msg;
}

/**
 * A plain socket to the MongoDB server sending `doc` as OP_MSG, serialised anew for each request
 * (as a client would); each whole reply's body is decoded.
 */
async function rawMongo(host, port, doc) {
  const sock = await rawSocket(
    host,
    port,
    () => opMsg(doc),
    (b) => {
      if (b.length < 4 || b.length < b.readInt32LE(0)) return false;
      BSON.deserialize(b.subarray(21));
      return true;
    },
  );
  return sock;
}

const url = new URL(mongoUrl);
url.pathname = `${url.pathname.replace(/^\//, '') || 'squall'}_roundtrip`;
const client = new MongoClient(url.toString());
await client.connect();
try {
  const coll = client.db().collection('t');
  await coll.deleteMany({});
  await coll.insertOne({ _id: 'a', x: 0, s: 'x'.repeat(200) });
  // As the store calls it on FerretDB: one session for the process (src/store/mongo/index.ts).
  const s = { session: client.startSession({ causalConsistency: false }) };
  const dbName = client.db().databaseName;
  const host = url.hostname;
  const port = Number(url.port || 27017);
  const rawPing = await rawMongo(host, port, { ping: 1, $db: dbName });
  const rawFind = await rawMongo(host, port, {
    find: 't',
    filter: { _id: 'a' },
    limit: 1,
    singleBatch: true,
    $db: dbName,
  });
  const r = redisUrl ? new URL(redisUrl) : undefined;
  const redisRaw = r
    ? await rawSocket(r.hostname, Number(r.port || 6379), '*1\r\n$4\r\nPING\r\n', (b) => b.includes('\r\n'))
    : undefined;
  let inserted = 0;
  for (let round = 0; round < rounds; round++) {
    console.log(JSON.stringify({ round }));
    await measure('driver.findOne_by_id', () => coll.findOne({ _id: 'a' }, s));
    await measure('driver.command_find_by_id', () =>
      client.db().command({ find: 't', filter: { _id: 'a' }, limit: 1, singleBatch: true }, s),
    );
    await measure('driver.command_ping', () => client.db().command({ ping: 1 }, s));
    await measure('driver.updateOne_by_id', (i) => coll.updateOne({ _id: 'a' }, { $set: { x: i } }, s));
    await measure('driver.insertOne', (i) => coll.insertOne({ _id: `i${inserted++}`, x: i }, s));
    await measure('raw_socket.mongo_ping', rawPing.op);
    await measure('raw_socket.mongo_find_by_id', rawFind.op);
    if (redisRaw) await measure('raw_socket.redis_ping', redisRaw.op);
  }
  rawPing.close();
  rawFind.close();
  redisRaw?.close();
} finally {
  await client.db().dropDatabase();
  await client.close();
}
