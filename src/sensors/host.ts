/**
 * The sensor container (st2-reference.md §3.3, §12 "st2sensorcontainer"): every enabled sensor of
 * the store runs as a supervised child process. JavaScript sensors run in js-host.mjs; Python
 * sensors written for st2 run through the shim in python/ (the pack's virtualenv when it has one).
 * Both talk JSON lines over fd 3, bounded in message size and in requests served at once
 * (runners/json-channel.ts): a sensor that breaks the bounds is stopped and restarted.
 *
 * Supervision: a sensor that exits is restarted with exponential backoff (capped; reset once it
 * has stayed up for a while), its stdout/stderr lines go to the service log under its ref (and
 * into a short in-memory tail), and every spawn and exit emits core.st2.sensor.process_spawn /
 * process_exit. Nothing a sensor does can crash the service.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { SquallError, errorMessage } from '../errors.js';
import type { Services } from '../service/index.js';
import { beforeLeavingProcess, type RuleRecord, type SensorRecord } from '../store/index.js';
import { dispatchTrigger, triggerRefFor, hasParameters } from '../triggers/index.js';
import { getKeyValueService, secretReader } from '../kv/index.js';
import { renderPackConfig } from '../content/index.js';
import type { SensorPartitioner } from './partition.js';
import { sensorJsHostPath, sensorPythonShimDirs, sensorPythonWrapperPath } from './paths.js';
import {
  DATASTORE_METHODS,
  ensureSt2Runtime,
  missingVirtualenv,
  st2RuntimeSettled,
  packPythonPath,
  serveDatastoreCall,
  serveJsonChannel,
  type JsonChannel,
} from '../runners/index.js';
import { splitRef } from '../names.js';

export const SENSOR_SPAWN_TRIGGER = 'core.st2.sensor.process_spawn';
export const SENSOR_EXIT_TRIGGER = 'core.st2.sensor.process_exit';
/** How long a stopped sensor's pipes get to deliver what it wrote before it exited. */
const DRAIN_LIMIT_MS = 2000;

export interface SensorHostOptions {
  /** First restart delay; doubles on each crash in a row. */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /** A sensor up this long is healthy again: its next crash restarts after backoffInitialMs. */
  stableAfterMs?: number;
  /** How long cleanup() may take on stop before the process is killed. */
  stopTimeoutMs?: number;
  /** Lines of output kept per sensor for status(). */
  tailLines?: number;
  /**
   * Which sensors this process runs when several share the store (partition.ts: a lease per
   * sensor). Absent: every enabled sensor runs here.
   */
  partition?: SensorPartitioner;
}

/** A trigger as add_trigger/update_trigger/remove_trigger receive it (st2 TriggerDB shape). */
export interface SensorTrigger {
  id: string;
  ref: string;
  uid: string;
  name: string;
  pack: string;
  type: string;
  parameters: Record<string, unknown>;
}

/** The status of a sensor no process here has started. */
export function neverStarted(ref: string): SensorStatus {
  return {
    ref,
    state: 'stopped',
    pid: null,
    spawns: 0,
    restarts_in_a_row: 0,
    last_exit: null,
    next_restart_at: null,
    tail: [],
  };
}

export interface SensorStatus {
  ref: string;
  state: 'starting' | 'running' | 'backoff' | 'stopping' | 'stopped';
  pid: number | null;
  /** Spawns so far (1 = never restarted). */
  spawns: number;
  restarts_in_a_row: number;
  last_exit: { code: number | null; signal: string | null; at: string } | null;
  next_restart_at: string | null;
  /** The last lines the sensor printed and the supervisor's notes about it. */
  tail: string[];
}

const DEFAULTS = {
  backoffInitialMs: 1000,
  backoffMaxMs: 60_000,
  stableAfterMs: 60_000,
  stopTimeoutMs: 5000,
  tailLines: 200,
};

type Level = 'debug' | 'info' | 'warn' | 'error';

function levelOf(line: string, fallback: Level): Level {
  const m = /^(?:\S+\s+)?(DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL|AUDIT)\b/.exec(line);
  if (!m) return fallback;
  return (
    ({ DEBUG: 'debug', INFO: 'info', WARNING: 'warn', WARN: 'warn' } as Record<string, Level>)[m[1]] ??
    'error'
  );
}

/** One supervised sensor process. */
class SupervisedSensor {
  private child?: ChildProcess;
  private channel?: Writable;
  private served?: JsonChannel;
  private restartTimer?: NodeJS.Timeout;
  private startedAt = 0;
  private stopWaiters: Array<() => void> = [];
  /** Requests from the sensor still being answered; stop() waits for them so nothing lands after it. */
  private readonly serving = new Set<Promise<unknown>>();
  readonly status: SensorStatus;
  private triggers = new Map<string, SensorTrigger>();

  constructor(
    private readonly host: SensorHost,
    public sensor: SensorRecord,
  ) {
    this.status = neverStarted(sensor.ref);
  }

  private get log() {
    return this.host.services.logger.child({ component: 'sensors', sensor: this.sensor.ref });
  }

  note(level: Level, line: string, extra: Record<string, unknown> = {}): void {
    const tail = this.status.tail;
    tail.push(`${new Date().toISOString()} ${line}`);
    if (tail.length > this.host.options.tailLines) tail.splice(0, tail.length - this.host.options.tailLines);
    this.log[level](extra, line);
  }

  async start(): Promise<void> {
    if (this.status.state !== 'stopped') return;
    await this.spawnNow();
  }

  private async spawnNow(): Promise<void> {
    this.status.state = 'starting';
    this.status.next_restart_at = null;
    if (this.isPython() && !st2RuntimeSettled()) {
      // The st2 runtime site is installed once per machine (pip, ~10 s; minutes when offline):
      // the sensor waits for it on its own, so start-up, health and the other sensors do not.
      this.runtimeWait ??= this.spawnAfterRuntime().finally(() => (this.runtimeWait = undefined));
      return;
    }
    let child: ChildProcess;
    let cmd: string[];
    try {
      const prepared = await this.prepare();
      if (this.status.state !== 'starting') return; // stopped while preparing
      this.triggers = new Map(prepared.triggers.map((t) => [t.ref, t]));
      ({ child, cmd } = this.launch(prepared.config, prepared.triggers, prepared.runtimeSite));
    } catch (err) {
      // Could not even start (missing file, bad record): treated as a crash, so it is retried.
      this.note('error', `sensor ${this.sensor.ref} could not be started: ${errorMessage(err)}`, { err });
      this.afterExit(null, null, 'start-failed');
      return;
    }
    this.child = child;
    this.startedAt = Date.now();
    this.status.spawns++;
    this.status.pid = child.pid ?? null;
    this.status.state = 'running';
    this.note('info', `sensor ${this.sensor.ref} started (pid ${child.pid})`);
    child.once('exit', (code, signal) => {
      if (this.child === child) this.child = undefined;
      this.channel = undefined;
      this.served = undefined;
      this.afterExit(code, signal, 'exited');
    });
    child.on('error', (err) =>
      this.note('error', `sensor ${this.sensor.ref} process error: ${err.message}`, { err }),
    );
    void this.host.emitLifecycle(SENSOR_SPAWN_TRIGGER, {
      id: this.sensor.ref,
      ref: this.sensor.ref,
      class_name: this.sensor.class_name,
      pid: child.pid ?? null,
      cmd: cmd.join(' '),
      timestamp: Math.floor(Date.now() / 1000),
    });
  }

  private runtimeWait?: Promise<void>;

  private isPython(): boolean {
    const entry = String(this.sensor.entry_point_path ?? '');
    return String(this.sensor.language ?? (entry.endsWith('.py') ? 'python' : '')) === 'python';
  }

  private async spawnAfterRuntime(): Promise<void> {
    const waiting = setTimeout(
      () =>
        this.note(
          'info',
          `sensor ${this.sensor.ref} waits for the st2 runtime site (Python libraries st2 lends its packs; installed once per machine)`,
        ),
      1000,
    );
    try {
      await ensureSt2Runtime(this.host.services.logger);
    } finally {
      clearTimeout(waiting);
    }
    if (this.status.state !== 'starting') return; // stopped while waiting
    await this.spawnNow();
  }

  private async prepare(): Promise<{
    config: Record<string, unknown>;
    triggers: SensorTrigger[];
    runtimeSite?: string;
  }> {
    const entry = String(this.sensor.entry_point_path ?? '');
    if (!entry || !existsSync(entry)) {
      throw new SquallError(
        'SENSOR_ENTRY_POINT_NOT_FOUND',
        `sensor "${this.sensor.ref}": entry_point_path "${entry}" does not exist`,
        { sensor: this.sensor.ref, entry_point_path: entry },
      );
    }
    const python = this.isPython();
    const noVirtualenv = python
      ? missingVirtualenv(
          this.sensor.pack,
          path.dirname(path.dirname(entry)),
          this.host.services.config.packs.virtualenvs_dir,
        )
      : undefined;
    if (noVirtualenv) {
      throw new SquallError('PACK_VIRTUALENV_MISSING', noVirtualenv, {
        sensor: this.sensor.ref,
        pack: this.sensor.pack,
      });
    }
    return {
      config: await this.host.packConfig(this.sensor.pack),
      triggers: await this.host.triggersFor(this.sensor),
      runtimeSite: python ? await ensureSt2Runtime(this.host.services.logger) : undefined,
    };
  }

  private launch(
    config: Record<string, unknown>,
    triggers: SensorTrigger[],
    runtimeSite?: string,
  ): { child: ChildProcess; cmd: string[] } {
    const s = this.sensor;
    const entry = String(s.entry_point_path);
    const pollInterval = typeof s.poll_interval === 'number' ? s.poll_interval : undefined;
    if (this.isPython()) {
      const venvPython = path.join(
        this.host.services.config.packs.virtualenvs_dir ?? '',
        s.pack,
        'bin',
        'python',
      );
      const python = existsSync(venvPython) ? venvPython : 'python3';
      const cmd = [python, '-u', sensorPythonWrapperPath()];
      const env: NodeJS.ProcessEnv = { ...process.env, PYTHONUNBUFFERED: '1', PYTHONIOENCODING: 'utf-8' };
      const packDir = path.dirname(path.dirname(entry));
      env.PYTHONPATH = packPythonPath({
        venvDir: python === venvPython ? path.dirname(path.dirname(venvPython)) : undefined,
        packLibDirs: [path.dirname(entry), path.join(packDir, 'lib')],
        shimDirs: sensorPythonShimDirs(),
        inherited: process.env.PYTHONPATH,
        runtimeSite,
      });
      if (python === venvPython) env.VIRTUAL_ENV = path.dirname(path.dirname(venvPython));
      const child = spawn(cmd[0], cmd.slice(1), {
        cwd: path.dirname(entry),
        env,
        stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
      });
      this.capture(child);
      const channel = child.stdio[3] as (Readable & Writable) | null;
      if (channel) this.serveChannel(channel, child);
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(
        JSON.stringify({
          entry_point: entry,
          class_name: s.class_name,
          ref: s.ref,
          config,
          poll_interval: pollInterval,
          triggers,
          log_level: 'DEBUG',
        }),
      );
      return { child, cmd };
    }
    const isTs = /\.(c|m)?ts$/.test(entry);
    const execArgv = isTs ? ['--import', 'tsx'] : [];
    const cmd = [process.execPath, ...execArgv, sensorJsHostPath()];
    const child = spawn(cmd[0], cmd.slice(1), {
      cwd: path.dirname(entry),
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    });
    this.capture(child);
    const channel = child.stdio[3] as (Readable & Writable) | null;
    const served = channel ? this.serveChannel(channel, child) : undefined;
    served?.send({
      type: 'start',
      entry,
      className: s.class_name,
      ref: s.ref,
      pack: s.pack,
      config,
      pollInterval,
      triggers,
    });
    return { child, cmd };
  }

  private capture(child: ChildProcess): void {
    for (const [stream, fallback] of [
      [child.stdout, 'info'],
      [child.stderr, 'warn'],
    ] as const) {
      if (!stream) continue;
      // readline re-emits its input's errors (ECONNRESET when the child dies); unhandled they crash the service.
      createInterface({ input: stream })
        .on('line', (line) => {
          if (line.trim() !== '')
            this.note(levelOf(line, fallback), line, {
              stream: stream === child.stdout ? 'stdout' : 'stderr',
            });
        })
        .on('error', (err) => this.note('warn', `sensor output stream error: ${err.message}`));
    }
  }

  private serveChannel(channel: Readable & Writable, child: ChildProcess): JsonChannel {
    this.channel = channel;
    const served: JsonChannel = serveJsonChannel(channel, {
      who: `sensor "${this.sensor.ref}"`,
      onMessage: (msg) => this.onMessage(msg, (answer) => served.send(answer)),
      onViolation: (reason) => {
        // Stopped like a crash: the supervisor restarts it with backoff.
        this.note('error', `${reason}; stopping it`);
        child.kill('SIGKILL');
      },
      onError: (err) => this.note('warn', `sensor channel error: ${err.message}`),
    });
    this.served = served;
    return served;
  }

  /** One message from the sensor: a promise while a request is served, false for one it may not send. */
  private onMessage(
    msg: Record<string, unknown>,
    reply: (answer: Record<string, unknown>) => void,
  ): Promise<unknown> | boolean {
    if (msg.type === 'ready') {
      this.note('debug', `sensor ${this.sensor.ref} is set up and running`);
      return true;
    }
    if (msg.type !== 'rpc') return false;
    const answered = this.host
      .serve(this.sensor, String(msg.method), (msg.args ?? {}) as Record<string, unknown>)
      .then(
        (result) => reply({ type: 'rpc-result', id: msg.id, result: result ?? null }),
        (err) => {
          this.note(
            'error',
            `sensor ${this.sensor.ref}: ${String(msg.method)} failed: ${errorMessage(err)}`,
            {
              err,
            },
          );
          reply({ type: 'rpc-result', id: msg.id, error: errorMessage(err) });
        },
      );
    this.track(answered);
    return answered;
  }

  private track(work: Promise<unknown>): void {
    this.serving.add(work);
    void work.finally(() => this.serving.delete(work));
  }

  /**
   * Waits until every message the sensor sent before it exited has been read and answered, so that a
   * disabled sensor's last dispatches are stored before stop() returns rather than trickling in after.
   */
  private async drain(child: ChildProcess, channel: Writable | undefined): Promise<void> {
    const closed = (emitter: NodeJS.EventEmitter, event: string, done: boolean) =>
      done ? Promise.resolve() : new Promise<void>((resolve) => emitter.once(event, () => resolve()));
    const limit = new Promise<void>((resolve) => setTimeout(resolve, DRAIN_LIMIT_MS).unref());
    await Promise.race([
      Promise.all([
        closed(child, 'disconnect', !child.connected),
        channel ? closed(channel, 'close', channel.destroyed) : Promise.resolve(),
      ]),
      limit,
    ]);
    while (this.serving.size) await Promise.allSettled([...this.serving]);
  }

  private afterExit(code: number | null, signal: NodeJS.Signals | null, how: string): void {
    this.status.pid = null;
    this.status.last_exit = { code, signal, at: new Date().toISOString() };
    if (how === 'exited') {
      this.track(
        this.host.emitLifecycle(SENSOR_EXIT_TRIGGER, {
          id: this.sensor.ref,
          ref: this.sensor.ref,
          class_name: this.sensor.class_name,
          exit_code: code,
          signal,
          timestamp: Math.floor(Date.now() / 1000),
        }),
      );
    }
    if (this.status.state === 'stopping' || this.status.state === 'stopped') {
      this.status.state = 'stopped';
      this.note(
        'info',
        `sensor ${this.sensor.ref} stopped (exit code ${code}${signal ? `, ${signal}` : ''})`,
      );
      for (const w of this.stopWaiters.splice(0)) w();
      return;
    }
    const o = this.host.options;
    if (this.startedAt && Date.now() - this.startedAt >= o.stableAfterMs) this.status.restarts_in_a_row = 0;
    const delay = Math.min(o.backoffMaxMs, o.backoffInitialMs * 2 ** this.status.restarts_in_a_row);
    this.status.restarts_in_a_row++;
    this.status.state = 'backoff';
    this.status.next_restart_at = new Date(Date.now() + delay).toISOString();
    this.note(
      'error',
      `sensor ${this.sensor.ref} ${how === 'exited' ? `exited with code ${code}${signal ? ` (${signal})` : ''}` : 'failed to start'}; restarting in ${delay} ms (attempt ${this.status.restarts_in_a_row})`,
      { exit_code: code, signal, delay_ms: delay },
    );
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.status.state === 'backoff') void this.spawnNow();
    }, delay);
    this.restartTimer.unref();
  }

  /** Tells the sensor about a trigger of its types that appeared, changed or went away. */
  triggersChanged(next: SensorTrigger[]): void {
    const before = this.triggers;
    const after = new Map(next.map((t) => [t.ref, t]));
    this.triggers = after;
    if (this.status.state !== 'running') return;
    for (const [ref, t] of after) {
      const prev = before.get(ref);
      if (!prev) this.send({ type: 'add_trigger', trigger: t });
      else if (JSON.stringify(prev) !== JSON.stringify(t)) this.send({ type: 'update_trigger', trigger: t });
    }
    for (const [ref, t] of before) if (!after.has(ref)) this.send({ type: 'remove_trigger', trigger: t });
  }

  private send(msg: Record<string, unknown>): void {
    const child = this.child;
    if (!child) return;
    try {
      this.served?.send(msg);
    } catch (err) {
      this.note(
        'warn',
        `could not send ${String(msg.type)} to sensor ${this.sensor.ref}: ${errorMessage(err)}`,
      );
    }
  }

  /** Asks the sensor to clean up and exit; kills it when it takes longer than stopTimeoutMs. */
  async stop(): Promise<void> {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      this.status.state = 'stopped';
      this.status.next_restart_at = null;
      return;
    }
    this.status.state = 'stopping';
    const channel = this.channel;
    const exited = new Promise<void>((resolve) => this.stopWaiters.push(resolve));
    this.send({ type: 'stop' });
    const timer = setTimeout(() => {
      this.note(
        'warn',
        `sensor ${this.sensor.ref} did not stop within ${this.host.options.stopTimeoutMs} ms; killing it`,
      );
      child.kill('SIGKILL');
    }, this.host.options.stopTimeoutMs);
    await exited;
    clearTimeout(timer);
    await this.drain(child, channel);
  }
}

export class SensorHost {
  readonly options: Required<Omit<SensorHostOptions, 'partition'>> & Pick<SensorHostOptions, 'partition'>;
  private readonly running = new Map<string, SupervisedSensor>();
  private readonly known = new Map<string, SensorStatus>();
  private syncing?: Promise<void>;
  private again = false;
  private stopped = false;

  constructor(
    readonly services: Services,
    options: SensorHostOptions = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  /** Starts what should run and stops what should not: enabled sensors of the store. Coalesced. */
  sync(): Promise<void> {
    if (this.syncing) {
      this.again = true;
      return this.syncing;
    }
    this.syncing = (async () => {
      try {
        do {
          this.again = false;
          await this.syncOnce();
        } while (this.again);
      } finally {
        this.syncing = undefined;
      }
    })();
    return this.syncing;
  }

  private async syncOnce(): Promise<void> {
    if (this.stopped) return;
    const sensors = (await this.services.store.sensors.find(
      { enabled: true },
      { sort: { ref: 1 } },
    )) as SensorRecord[];
    const partition = this.options.partition;
    const mine = partition ? await partition.assign(sensors) : undefined;
    const wanted = new Map<string, SensorRecord>();
    for (const s of sensors) if (!mine || mine.has(s.ref)) wanted.set(s.ref, s);
    for (const [ref, sup] of this.running) {
      const next = wanted.get(ref);
      if (
        next &&
        next.entry_point_path === sup.sensor.entry_point_path &&
        next.class_name === sup.sensor.class_name
      ) {
        sup.sensor = next;
        continue;
      }
      await sup.stop();
      this.running.delete(ref);
    }
    // Leases of sensors that no longer run here are given back only now that they have stopped.
    await partition?.settled();
    for (const [ref, sensor] of wanted) {
      if (this.running.has(ref)) continue;
      const sup = new SupervisedSensor(this, sensor);
      this.running.set(ref, sup);
      this.known.set(ref, sup.status);
      await sup.start();
    }
  }

  /** Sends add/update/remove_trigger to the sensors whose trigger types' rules changed. */
  async rulesChanged(): Promise<void> {
    for (const sup of this.running.values()) sup.triggersChanged(await this.triggersFor(sup.sensor));
  }

  status(ref: string): SensorStatus | undefined {
    return this.known.get(ref);
  }

  statuses(): SensorStatus[] {
    return [...this.known.values()];
  }

  async stopAll(): Promise<void> {
    this.stopped = true;
    await this.syncing?.catch(() => undefined);
    await Promise.all([...this.running.values()].map((s) => s.stop()));
    this.running.clear();
    // Stopped here: other processes may take them over at once instead of after the lease ttl.
    await this.options.partition?.releaseAll();
  }

  /** Triggers (rule-bound, with parameters) of the sensor's trigger types, from enabled rules. */
  async triggersFor(sensor: SensorRecord): Promise<SensorTrigger[]> {
    const types = Array.isArray(sensor.trigger_types) ? (sensor.trigger_types as string[]) : [];
    if (!types.length) return [];
    const rules = (await this.services.store.rules.find({
      'trigger.type': { $in: types },
      enabled: true,
    })) as RuleRecord[];
    const out = new Map<string, SensorTrigger>();
    for (const rule of rules) {
      const t = rule.trigger as { type: string; parameters?: Record<string, unknown> };
      if (!hasParameters(t.parameters)) continue;
      const ref = triggerRefFor(t.type, t.parameters);
      const { pack, name } = splitRef(ref);
      out.set(ref, {
        id: name,
        ref,
        uid: `trigger:${pack}:${name}`,
        name,
        pack,
        type: t.type,
        parameters: t.parameters,
      });
    }
    return [...out.values()].sort((a, b) => (a.ref < b.ref ? -1 : 1));
  }

  async packConfig(pack: string): Promise<Record<string, unknown>> {
    return renderPackConfig(this.services, pack, async () => {
      try {
        return await getKeyValueService(this.services).snapshot(this.systemUser);
      } catch (err) {
        if (!(err instanceof SquallError && err.code === 'KV_NOT_INITIALISED')) throw err;
        return { system: {}, user: {} };
      }
    });
  }

  get systemUser(): string {
    return this.services.config.rules?.system_user ?? 'stanley';
  }

  /**
   * Answers a sensor's request: dispatch, datastore (st2 `local` = `<pack>.<ClassName>:` prefix),
   * user info. The answer leaves the process, so it waits for the store's fsync: a sensor told
   * its trigger was dispatched may acknowledge its source (delete a queue message), and a power
   * cut must not then take the trigger instance back.
   */
  async serve(sensor: SensorRecord, method: string, args: Record<string, unknown>): Promise<unknown> {
    const answer = await this.answer(sensor, method, args);
    await beforeLeavingProcess(this.services.store);
    return answer;
  }

  private async answer(
    sensor: SensorRecord,
    method: string,
    args: Record<string, unknown>,
  ): Promise<unknown> {
    if (method === 'dispatch') {
      const traceContext = args.trace_context as { trace_id?: string; trace_tag?: string } | undefined;
      const instance = await dispatchTrigger(this.services, {
        trigger: String(args.trigger ?? ''),
        payload: args.payload ?? {},
        traceTag: typeof args.trace_tag === 'string' ? args.trace_tag : undefined,
        traceContext: traceContext && typeof traceContext === 'object' ? traceContext : undefined,
        source: `sensor:${sensor.ref}`,
      });
      return { id: instance.id, trigger: instance.trigger };
    }
    if (method === 'get_user_info') return { username: this.systemUser, rbac: { is_admin: true } };
    if (!DATASTORE_METHODS.has(method)) {
      throw new SquallError(
        'SENSOR_METHOD_UNKNOWN',
        `sensor "${sensor.ref}" called an unknown method "${method}"`,
        { sensor: sensor.ref, method },
      );
    }
    // Sensors act as the system user: the same decrypt decision as everywhere else.
    const ds = getKeyValueService(this.services).actionDatastore(
      await secretReader(this.services, this.systemUser),
      `${sensor.pack}.${sensor.class_name}`,
    );
    return serveDatastoreCall(ds, method, args);
  }

  /** process_spawn / process_exit; a failure to record them is logged, never fatal. */
  async emitLifecycle(trigger: string, object: Record<string, unknown>): Promise<void> {
    try {
      await dispatchTrigger(this.services, { trigger, payload: { object }, source: 'sensor_container' });
    } catch (err) {
      this.services.logger.error(
        { err, component: 'sensors', sensor: object.ref, trigger },
        `could not dispatch ${trigger} for sensor ${String(object.ref)}: ${errorMessage(err)}`,
      );
    }
  }
}
