// Child processes for the bench: start, wait until ready, sample RSS, stop.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** A TCP port that was free a moment ago (nothing listens on it once this resolves). */
export async function freePort() {
  const srv = net.createServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

/**
 * The children the bench has started (servers, child benches) and whether each leads a process
 * group of its own: a signal to the bench stops them all (stopAll), whichever part started them.
 */
const live = new Map();
/** The scratch directories the parts made (scratchDir): a stopped bench removes them. */
const scratch = new Set();
let stopping = false;

/** A fresh directory under the system's temp dir; its part removes it, or stopAll does. */
export function scratchDir(prefix) {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  scratch.add(dir);
  return dir;
}

const exited = (child) =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((r) => child.once('exit', r));

function signal(child, { group }, sig) {
  try {
    // A group: what its leader started (npx → vitest → its workers) goes with it.
    if (group) process.kill(-child.pid, sig);
    else child.kill(sig);
  } catch {
    // ESRCH: gone already.
  }
}

/** Registers a child for stopAll; `group` when it was spawned detached (its own process group). */
export function track(child, { group = false } = {}) {
  const how = { group };
  if (stopping) signal(child, how, 'SIGTERM');
  live.set(child, how);
  // A group outlives its leader (a worker still closing): it stays registered.
  if (!group) child.once('exit', () => live.delete(child));
  return child;
}

/**
 * Stops every registered child: SIGTERM (a server shuts down cleanly and ends what it started),
 * SIGKILL for what is left after `graceMs`. No child starts from then on (startProcess throws).
 */
export async function stopAll(graceMs = 5_000) {
  stopping = true;
  const all = [...live];
  for (const [child, how] of all) signal(child, how, 'SIGTERM');
  await Promise.race([Promise.all(all.map(([child]) => exited(child))), sleep(graceMs)]);
  for (const [child, how] of live) signal(child, how, 'SIGKILL');
  live.clear();
  // After the children: a server still shutting down writes into its data dir.
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
}

/** Last resort at exit (an uncaught error): SIGKILL whatever is still registered. */
export function killAll() {
  for (const [child, how] of live) signal(child, how, 'SIGKILL');
}

/** Starts a process; resolves when `ready(line)` returns a truthy value for an output line. */
export function startProcess(cmd, args, { env, cwd, ready, timeoutMs = 60_000, label = cmd } = {}) {
  if (stopping) return Promise.reject(new Error(`${label} not started: the bench is stopping`));
  const t0 = performance.now();
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  track(child);
  let log = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${label} not ready after ${timeoutMs} ms:\n${log.slice(-2000)}`));
    }, timeoutMs);
    let found = false;
    const onData = (chunk) => {
      log += chunk.toString();
      if (log.length > 200_000) log = log.slice(-100_000);
      if (found) return;
      for (const line of log.split('\n')) {
        const v = ready(line);
        if (v) {
          found = true;
          clearTimeout(timer);
          resolve({ child, value: v, readyMs: performance.now() - t0, log: () => log });
          return;
        }
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code, signal) => {
      if (!found) {
        clearTimeout(timer);
        reject(new Error(`${label} exited (${code ?? signal}) before it was ready:\n${log.slice(-3000)}`));
      }
    });
  });
}

export async function stopProcess(child, timeoutMs = 10_000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(t);
}

/** Resident set size of a process in MB, from /proc (Linux). */
export function rssMb(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? +(Number(m[1]) / 1024).toFixed(1) : NaN;
  } catch {
    return NaN;
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The stat fields after the command name of a process (state is [0], ppid [1]); undefined once it is gone. */
function statFields(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/**
 * CPU time (user + system) a process, its live descendants and the children each of them has
 * reaped have used so far, in ms, from /proc (Linux; 10 ms ticks). Children count: a spawned
 * `bash -c true` is part of the cost, whether the service reaps it or a helper process of the
 * service does (the spawner that starts core.local commands is a live child of the service: its
 * CPU and its reaped children's would otherwise be missing). A process is counted only while
 * alive or, once reaped, in its parent's cutime/cstime, so nothing is counted twice.
 */
export function cpuMs(pid) {
  const root = statFields(pid);
  if (!root) return NaN;
  const children = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(entry);
    if (!fields) continue;
    const ppid = Number(fields[1]);
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid).push({ pid: Number(entry), fields });
  }
  let ticks = 0;
  const add = (p, fields) => {
    ticks += fields.slice(11, 15).reduce((sum, f) => sum + Number(f), 0); // utime stime cutime cstime
    for (const child of children.get(p) ?? []) add(child.pid, child.fields);
  };
  add(pid, root);
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}
