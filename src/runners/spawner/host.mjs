// The spawner: a small Node process, forked once by the service (src/runners/spawner.ts), that
// starts local action processes for it. libuv starts a child by fork()ing the process that asks,
// and fork() copies the page tables of the whole process while the caller's thread waits: in the
// service (~100 MB) that blocked the event loop for about 1.3 ms of CPU per action; here it costs
// this small process instead, off the service's event loop.
//
// It only starts children and reports what they do; the service keeps everything else (timeouts,
// cancel and the process-group kills, output limits, the execution's status), except the kill of
// the groups still running when the service goes away. Over the IPC channel
// it gets {t: 'run', id, command, args, cwd, env, stdin, scratch} and sends back, in this order,
// {id, t: 'pid', pid}, {id, t: 'out', s: 'stdout' | 'stderr', d: text}..., then {id, t: 'close',
// code, sig}; or {id, t: 'error', message, code, started} when the child could not start
// (started: false, the run's last message) or failed after starting. With `scratch`, cwd is the
// run's own directory: made before the start, removed once the child has closed if it is empty.
// {t: 'watch', id, pid} and {t: 'unwatch', id} name a process group the service started itself (a
// Python or Node.js action, which needs the service's fd 3): nothing is sent back, but should the
// service die, the group is killed with those of the runs still open.
import { spawn } from 'node:child_process';
import { mkdirSync, rmdirSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';

/** How long we wait for stdout/stderr to close once the main process has exited (orphans may hold them). */
const DRAIN_AFTER_EXIT_MS = 1000;
/** How long the process groups left at disconnect get between SIGTERM and SIGKILL. */
const GROUP_KILL_GRACE_MS = 2000;

/**
 * Run or watch id → the pid (and process group) of each child that has not closed yet. A host
 * started to take over the watches of one that died gets them as `<id>:<pid>` arguments: a message
 * would be lost if the service died before this process had read it.
 */
const live = new Map(
  process.argv.slice(2).map((arg) => {
    const [id, pid] = arg.split(':').map(Number);
    return [id, pid];
  }),
);

function killGroups(signal) {
  for (const pid of live.values()) {
    try {
      process.kill(-pid, signal);
    } catch {
      // ESRCH: the group has already gone.
    }
  }
}

function send(message) {
  // Once the service is gone there is nobody to tell; the disconnect handler ends this process.
  if (process.connected) process.send(message);
}

// A run's scratch directory (makeScratchDir, removeScratchDir in ../process.ts do the same for the
// children the service starts itself). The parent (the data directory's `work`) exists after the
// first run: a plain mkdir costs a third of a recursive one.
function makeScratchDir(dir) {
  try {
    mkdirSync(dir);
  } catch (err) {
    if (err.code === 'ENOENT') mkdirSync(dir, { recursive: true });
    else if (err.code !== 'EEXIST') throw err;
  }
}

// Only an empty directory goes: what the command left there stays for whoever wants to look.
function removeScratchDir(dir) {
  try {
    rmdirSync(dir);
  } catch (err) {
    if (err.code === 'ENOTEMPTY' || err.code === 'EEXIST' || err.code === 'ENOENT') return;
    // It stays, as every run's directory did before; the service's log gets why.
    process.stderr.write(
      `squall spawner: could not remove the empty working directory ${dir}: ${err.message}\n`,
    );
  }
}

// What run does with a child (decoding, stdin's EPIPE, the drain after exit) is what attachChild in
// ../process.ts does with the children the service starts itself: keep the two in step.
function run(m) {
  const id = m.id;
  if (m.scratch) {
    try {
      makeScratchDir(m.cwd);
    } catch (err) {
      const message = `could not create the working directory ${m.cwd}: ${err.message}`;
      send({ id, t: 'error', message, code: err.code, started: false });
      return;
    }
  }
  // stdin is /dev/null unless we write to it: a socket there makes bash act as if run by sshd.
  const stdio = [m.stdin !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'];
  let child;
  try {
    // Detached: its own process group, which the service kills on timeout or cancel.
    child = spawn(m.command, m.args, { cwd: m.cwd, env: m.env, detached: true, stdio });
  } catch (err) {
    if (m.scratch) removeScratchDir(m.cwd);
    send({ id, t: 'error', message: err.message, code: err.code, started: false });
    return;
  }
  // Test hook (dieAfterNextFork in ../spawner.ts; only tests set it): die between the start and its
  // report, as a spawner killed at that moment would.
  if (m.dieAfterFork) process.kill(process.pid, 'SIGKILL');
  let done = false;
  if (child.pid !== undefined) {
    live.set(id, child.pid);
    send({ id, t: 'pid', pid: child.pid });
  }

  for (const s of ['stdout', 'stderr']) {
    const decoder = new StringDecoder('utf8');
    child[s].on('data', (buf) => {
      const d = decoder.write(buf);
      if (d) send({ id, t: 'out', s, d });
    });
    child[s].on('end', () => {
      const d = decoder.end();
      if (d) send({ id, t: 'out', s, d });
    });
  }
  if (child.stdin) {
    // A child that exits without reading its stdin makes our write fail with EPIPE; that is its choice.
    child.stdin.on('error', () => undefined);
    child.stdin.end(m.stdin);
  }
  child.on('error', (err) => {
    if (done) return;
    const started = child.pid !== undefined;
    // 'close' does not always follow a failed spawn.
    if (!started) {
      done = true;
      if (m.scratch) removeScratchDir(m.cwd);
    }
    send({ id, t: 'error', message: err.message, code: err.code, started });
  });
  child.on('exit', () => {
    const timer = setTimeout(() => {
      for (const stream of child.stdio.slice(1)) stream?.destroy();
    }, DRAIN_AFTER_EXIT_MS);
    timer.unref();
  });
  child.on('close', (code, sig) => {
    live.delete(id);
    // Before 'close' is sent: once the run has ended, its empty directory is gone.
    if (m.scratch) removeScratchDir(m.cwd);
    if (done) return;
    done = true;
    send({ id, t: 'close', code, sig });
  });
}

process.on('message', (m) => {
  if (m?.t === 'run') run(m);
  else if (m?.t === 'watch') live.set(m.id, m.pid);
  else if (m?.t === 'unwatch') live.delete(m.id);
});
// The service closed the channel or died. A graceful shutdown has already killed the process groups
// of the runs it stopped; after a SIGKILL nobody would, and a command left running would go on for
// an execution the next start records as abandoned (or runs again, when idempotent). So the groups
// still open get SIGTERM, then SIGKILL, as the service's own kill does, and then we exit.
let gone = false;
function serviceGone() {
  if (gone) return;
  gone = true;
  if (live.size === 0) process.exit(0);
  killGroups('SIGTERM');
  setTimeout(() => {
    killGroups('SIGKILL');
    process.exit(0);
  }, GROUP_KILL_GRACE_MS);
}
process.on('disconnect', serviceGone);
// A service that died while this module loaded: its 'disconnect' came before the handler, and
// this process would just exit (seen: a spawner started to replace a dead one, then the service
// SIGKILLed, left the groups it had been given running).
if (!process.connected) serviceGone();
