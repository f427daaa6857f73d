import { fork, type ChildProcess } from 'node:child_process';
import { spawnerHostPath } from './paths.js';
import { RUN_TOKEN_VAR } from './run-token.js';

/** What the spawner starts: one local action process, in its own process group. */
export interface SpawnRequest {
  command: string;
  args: string[];
  cwd?: string;
  env: Record<string, string>;
  /** Written to the child's stdin, which is then closed; without it stdin is /dev/null. */
  stdin?: string;
  /** `cwd` is the run's scratch directory: the spawner makes it, and removes it after if empty. */
  scratch?: boolean;
}

/** What the spawner reports of one child, in order: started, output..., then closed (or failed/lost). */
export interface SpawnEvents {
  started(pid: number): void;
  output(type: 'stdout' | 'stderr', text: string): void;
  /** `final`: the child never started and nothing else follows. */
  failed(err: Error, final: boolean): void;
  closed(code: number | null, signal: NodeJS.Signals | null): void;
  /**
   * The spawner died while the child ran: its output and exit status are lost, and the caller kills
   * what is left of it (`message` says what happened, the caller adds what it killed). Nothing follows.
   */
  lost(message: string): void;
}

type HostMessage =
  | { id: number; t: 'pid'; pid: number }
  | { id: number; t: 'out'; s: 'stdout' | 'stderr'; d: string }
  | { id: number; t: 'error'; message: string; code?: string; started: boolean }
  | { id: number; t: 'close'; code: number | null; sig: NodeJS.Signals | null };

/**
 * The service's side of the spawner process (spawner/host.mjs), which starts local action
 * processes so that the fork libuv does for each costs that small process, not the service's event
 * loop. Started on first use and again after it dies; the runs it had are reported lost, so the
 * caller kills their process groups and ends them. It holds no state of its own beyond the runs in
 * flight and the groups it watches (watch): timeouts, kills and statuses stay with the caller.
 */
class Spawner {
  private host?: ChildProcess;
  /** The runs in flight, each with the host that started it (a new host may start before an old one is drained). */
  private readonly runs = new Map<number, { events: SpawnEvents; host: ChildProcess }>();
  /**
   * The process groups this process started itself (Python and Node.js actions, which need its
   * fd 3), watched by the host so that it kills them if this process dies: id → group. Sent again
   * to a new host when the one watching them dies.
   */
  private readonly watched = new Map<number, { pid: number; host: ChildProcess }>();
  private nextId = 1;
  private stopWhenIdle = false;
  /** Test hook (dieAfterNextFork): the next run's host kills itself between its fork and its `pid`. */
  dieAfterNextFork = false;

  start(request: SpawnRequest, events: SpawnEvents): void {
    const host = this.host ?? this.launch();
    const id = this.nextId++;
    this.runs.set(id, { events, host });
    // Like a child's own pipes, a run in flight keeps the service's event loop alive.
    if (this.busy() === 1) this.keepAlive(host, true);
    // A send on a channel that just closed fails with an 'error' event: the host is dying, and its
    // 'exit' reports this run lost.
    const hook = this.dieAfterNextFork ? { dieAfterFork: true } : {};
    this.dieAfterNextFork = false;
    host.send({ t: 'run', id, ...request, ...hook });
  }

  /**
   * Has the host kill the process group led by `pid` should this process die while the group runs
   * (its disconnect handler kills the groups of its own runs likewise). Returns the call that ends
   * the watch, once the group's leader has closed.
   */
  watch(pid: number): () => void {
    const id = this.nextId++;
    let host = this.host;
    if (host) host.send({ t: 'watch', id, pid });
    else host = this.launch([[id, pid]]);
    this.watched.set(id, { pid, host });
    if (this.busy() === 1) this.keepAlive(host, true);
    return () => {
      const watcher = this.watched.get(id)?.host;
      if (!this.watched.delete(id)) return;
      if (watcher?.connected) watcher.send({ t: 'unwatch', id });
      this.idleIfDone();
    };
  }

  /** Stops the spawner once no run is in flight (the children of runs still going would lose their pipes). */
  stop(): void {
    this.stopWhenIdle = true;
    this.stopIfIdle();
  }

  get pid(): number | undefined {
    return this.host?.pid;
  }

  /**
   * Forks a host. `watches` ([id, pid]) are the groups it watches from its first instruction, given
   * on its command line rather than in a message: should this process die while the host loads
   * (seen: a spawner replaced, then the service SIGKILLed), the host needs nothing from a channel
   * that is already closed.
   */
  private launch(watches: Array<[number, number]> = []): ChildProcess {
    const env = { ...process.env };
    // Not the service's flags or preloads (--cpu-prof, --inspect, loaders): the host needs none.
    delete env.NODE_OPTIONS;
    // A service started by another's action: the host is no run of that service's (run-token.ts).
    delete env[RUN_TOKEN_VAR];
    const host = fork(
      spawnerHostPath(),
      watches.map(([id, pid]) => `${id}:${pid}`),
      {
        execArgv: [],
        env,
        // Its own process group: a Ctrl-C or a signal to the service's group must not take the
        // spawner (and every running action's output) away before the service's graceful shutdown.
        detached: true,
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        serialization: 'json',
      },
    );
    this.host = host;
    this.stopWhenIdle = false;
    host.on('message', (m: HostMessage) => this.receive(m));
    host.on('error', (err) => {
      // With a pid, the host did start: this is a send on its closing channel, and 'exit' follows.
      if (host.pid !== undefined) return;
      // A host that could not be started at all: nothing it was asked to run started either.
      if (this.host === host) this.host = undefined;
      for (const id of this.runsOf(host)) this.end(id)?.failed(err, true);
    });
    // The runs are lost only once the host has exited and its channel is drained: 'exit' can come
    // before the messages the host sent just before dying (a child's pid) have been read, and a run
    // whose pid is read late could not have its process group killed.
    let exited: string | undefined;
    let drained = false;
    const lostIfGone = (): void => {
      if (exited === undefined || !drained) return;
      if (this.host === host) this.host = undefined;
      const message =
        `the process that starts Squall's local actions (pid ${host.pid}) ${exited} while this action ` +
        `ran: its output and exit status are lost`;
      for (const id of this.runsOf(host)) this.end(id)?.lost(message);
      this.rewatch(host);
    };
    host.on('exit', (code, signal) => {
      if (this.host === host) this.host = undefined;
      exited = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      lostIfGone();
    });
    host.on('disconnect', () => {
      drained = true;
      lostIfGone();
    });
    if (this.busy() === 0) this.keepAlive(host, false);
    return host;
  }

  /** The groups `dead` watched run on (their pipes are this process's): another host watches them. */
  private rewatch(dead: ChildProcess): void {
    const moved = [...this.watched].filter(([, w]) => w.host === dead);
    if (moved.length === 0) return;
    const running = this.host;
    const host = running ?? this.launch(moved.map(([id, w]) => [id, w.pid]));
    this.keepAlive(host, true);
    for (const [id, watch] of moved) {
      watch.host = host;
      if (running) host.send({ t: 'watch', id, pid: watch.pid });
    }
  }

  /** Runs in flight and groups watched: while there are any, the host is needed. */
  private busy(): number {
    return this.runs.size + this.watched.size;
  }

  private idleIfDone(): void {
    if (this.busy() > 0) return;
    if (this.host) this.keepAlive(this.host, false);
    this.stopIfIdle();
  }

  private receive(m: HostMessage): void {
    const events = this.runs.get(m.id)?.events;
    if (!events) return;
    switch (m.t) {
      case 'pid':
        events.started(m.pid);
        break;
      case 'out':
        events.output(m.s, m.d);
        break;
      case 'error': {
        const err = Object.assign(new Error(m.message), m.code ? { code: m.code } : {});
        if (!m.started) this.end(m.id);
        events.failed(err, !m.started);
        break;
      }
      case 'close':
        this.end(m.id);
        events.closed(m.code, m.sig);
        break;
    }
  }

  private end(id: number): SpawnEvents | undefined {
    const events = this.runs.get(id)?.events;
    if (!this.runs.delete(id)) return undefined;
    this.idleIfDone();
    return events;
  }

  private runsOf(host: ChildProcess): number[] {
    return [...this.runs].filter(([, run]) => run.host === host).map(([id]) => id);
  }

  private stopIfIdle(): void {
    if (!this.stopWhenIdle || this.busy() > 0 || !this.host) return;
    const host = this.host;
    this.host = undefined;
    // The host exits when its channel closes.
    if (host.connected) host.disconnect();
  }

  private keepAlive(host: ChildProcess, on: boolean): void {
    const channel = (host as { channel?: { ref(): void; unref(): void } }).channel;
    if (on) {
      host.ref();
      channel?.ref();
    } else {
      host.unref();
      channel?.unref();
    }
  }
}

const spawner = new Spawner();

/** Starts `request` through the spawner process and reports what the child does to `events`. */
export function spawnViaSpawner(request: SpawnRequest, events: SpawnEvents): void {
  spawner.start(request, events);
}

/**
 * Has the spawner kill the process group led by `pid` (a child this process started) if this
 * process dies while it runs; call the returned function once the group's leader has closed.
 */
export function watchGroupViaSpawner(pid: number): () => void {
  return spawner.watch(pid);
}

/** Shutdown: the spawner process exits once the runs it started have ended (a later run starts it again). */
export function stopSpawner(): void {
  spawner.stop();
}

/** The spawner process's pid while it runs (tests kill it to see what its death does to runs). */
export function spawnerPid(): number | undefined {
  return spawner.pid;
}

/**
 * Test hook, only tests call it: the spawner handling the next run SIGKILLs itself right after it has
 * started the command and before it reports the command's pid, the window in which a spawner that
 * dies (OOM killer, a stray kill) leaves the service without the pid of a command that runs.
 */
export function dieAfterNextFork(): void {
  spawner.dieAfterNextFork = true;
}
