import { errorMessage } from '../errors.js';
import { type ExecutionService, isCompleted } from '../executions/index.js';
import type { Services } from '../service/index.js';
import type { ChatAdapter } from './adapter.js';

/** How many output lines the ack shows while the execution runs. */
const TAIL_LINES = 5;

interface TaskState {
  name: string;
  status: string;
}

interface LiveState {
  id: string;
  adapter: ChatAdapter;
  channel: string;
  thread: string;
  /** The ack as first posted; every edit is this plus the live part. */
  base: string;
  ackId?: string;
  status: string;
  tail: string[];
  /** An output line still being written (no newline yet). */
  partial: string;
  tasks: Map<string, TaskState>;
  lastSent: number;
  sentText?: string;
  timer?: NodeJS.Timeout;
  inflight?: Promise<void>;
  dirty: boolean;
  finished: boolean;
  /** The message with the Cancel (then Re-run) button. */
  controls?: Promise<string | undefined>;
}

/**
 * Keeps the ack of a chat-started execution up to date (scheduled, running with the last lines of
 * output, the tasks of a workflow, then the final status). Edits are throttled per execution to
 * one per `interval` ms; the latest state is always the one sent and the final one always goes out.
 * State is in memory, in the process that posted the ack (the only one that can edit it anyway).
 */
export class LiveAcks {
  private readonly states = new Map<string, LiveState>();
  /** Children of tracked workflows (at any depth) → the tracked root. */
  private readonly roots = new Map<string, string>();
  /** Recently finished here: the pipeline leaves their ack alone. */
  private readonly done = new Set<string>();
  private unsubscribe: Array<() => void> = [];

  constructor(
    private readonly services: Services,
    private readonly executions: () => ExecutionService,
    private readonly interval = 1000,
  ) {}

  start(): void {
    const onExecution = (event: { payload: unknown }) => this.execution(event.payload as ExecutionEvent);
    this.unsubscribe.push(
      this.services.bus.subscribe('st2.execution__create', onExecution),
      this.services.bus.subscribe('st2.execution__update', onExecution),
      this.services.bus.subscribe('st2.execution.output__create', (event) =>
        this.output(event.payload as { execution_id: string; data?: unknown }),
      ),
    );
  }

  stop(): void {
    for (const u of this.unsubscribe.splice(0)) u();
    for (const s of this.states.values()) if (s.timer) clearTimeout(s.timer);
  }

  /** Whether this process edits (or just edited) the ack of `id` itself. */
  handles(id: string): boolean {
    return this.states.has(id) || this.done.has(id);
  }

  /** Follows a run started by a button (the reply announcing it is its ack). */
  async follow(
    id: string,
    status: string,
    target: { adapter: ChatAdapter; channel: string; thread: string },
    base: string,
    ackId: string | undefined,
  ): Promise<void> {
    if (!target.adapter.capabilities.updates) return;
    this.expect(id, status, target, base);
    await this.posted(id, ackId);
  }

  /** Starts following an execution before its ack is posted, so no early event is missed. */
  expect(
    id: string,
    status: string,
    target: { adapter: ChatAdapter; channel: string; thread: string },
    base: string,
  ): void {
    this.states.set(id, {
      id,
      ...target,
      base,
      status,
      tail: [],
      partial: '',
      tasks: new Map(),
      lastSent: 0,
      dirty: false,
      finished: false,
    });
  }

  /** The ack is posted: edits can start, and the Cancel button goes under it. */
  async posted(id: string, ackId: string | undefined): Promise<void> {
    const s = this.states.get(id);
    if (!s) return;
    if (!ackId || !s.adapter.capabilities.updates) {
      this.forget(s);
      return;
    }
    s.ackId = ackId;
    s.sentText = s.base;
    s.lastSent = Date.now();
    if (s.adapter.capabilities.buttons && !s.finished) s.controls = this.postCancel(s);
    // Events between the request and now were recorded; make sure the status is current.
    try {
      const record = await this.executions().get(id);
      if (!s.finished) this.apply(s, record.status);
    } catch (err) {
      this.log().warn({ err, execution: id }, 'could not read the execution of a live ack');
    }
    this.schedule(s);
  }

  /** Forgets an execution whose ack could not be posted. */
  drop(id: string): void {
    const s = this.states.get(id);
    if (s) this.forget(s);
  }

  private log() {
    return this.services.logger.child({ component: 'chatops.live' });
  }

  private async postCancel(s: LiveState): Promise<string | undefined> {
    try {
      const posted = await s.adapter.ask({
        channel: s.channel,
        thread: s.thread,
        question: `Execution ${s.id} is in progress.`,
        choices: [{ label: 'Cancel', value: 'cancel', style: 'danger' }],
        payload: `exec:cancel:${s.id}`,
      });
      return posted.messageId;
    } catch (err) {
      this.log().warn({ err, execution: s.id }, 'could not post the Cancel button');
      return undefined;
    }
  }

  private execution(e: ExecutionEvent): void {
    if (!e?.id) return;
    const own = this.states.get(e.id);
    if (own) {
      this.apply(own, e.status);
      this.schedule(own);
      return;
    }
    const parent = e.parent ?? e.context?.parent?.execution_id;
    if (!parent) return;
    const rootId = this.states.has(parent) ? parent : this.roots.get(parent);
    const root = rootId ? this.states.get(rootId) : undefined;
    if (!root || root.finished) return;
    this.roots.set(e.id, root.id);
    // Only direct tasks of the workflow are listed; deeper ones are part of their task.
    if (parent !== root.id) return;
    const name = e.context?.orquesta?.task_name ?? e.context?.chain?.name ?? e.action?.ref ?? e.id;
    root.tasks.set(e.id, { name, status: e.status });
    this.schedule(root);
  }

  private output(o: { execution_id: string; data?: unknown }): void {
    const s = this.states.get(o?.execution_id);
    if (!s || s.finished || typeof o.data !== 'string') return;
    const lines = (s.partial + o.data).split(/\r?\n/);
    s.partial = lines.pop() ?? '';
    s.tail.push(...lines);
    if (s.tail.length > TAIL_LINES) s.tail.splice(0, s.tail.length - TAIL_LINES);
    this.schedule(s);
  }

  private apply(s: LiveState, status: string): void {
    if (s.finished || !status) return;
    s.status = status;
    if (isCompleted(status)) s.finished = true;
  }

  /** The ack as it should read now. */
  render(s: LiveState): string {
    const parts = [s.base, `Status: ${s.status}`];
    if (s.tasks.size > 0) {
      parts.push('Tasks:\n' + [...s.tasks.values()].map((t) => `  ${t.name}: ${t.status}`).join('\n'));
    }
    const tail = [...s.tail, ...(s.partial ? [s.partial] : [])].slice(-TAIL_LINES);
    if (!s.finished && tail.length > 0) parts.push('```\n' + tail.join('\n') + '\n```');
    return parts.join('\n');
  }

  private schedule(s: LiveState): void {
    s.dirty = true;
    if (!s.ackId || s.timer || s.inflight) return;
    const wait = s.finished ? 0 : Math.max(0, s.lastSent + this.interval - Date.now());
    s.timer = setTimeout(() => void this.flush(s), wait);
    s.timer.unref();
  }

  private async flush(s: LiveState): Promise<void> {
    s.timer = undefined;
    if (!s.dirty || !s.ackId) return;
    s.dirty = false;
    const text = this.render(s);
    const final = s.finished;
    const send = async () => {
      if (text !== s.sentText) {
        await s.adapter.update({ channel: s.channel, messageId: s.ackId!, text });
        s.sentText = text;
      }
      if (final) await this.finish(s);
    };
    s.inflight = send()
      .catch((err: unknown) =>
        this.log().warn({ err: errorMessage(err), execution: s.id }, 'could not edit the ack'),
      )
      .finally(() => {
        s.inflight = undefined;
        s.lastSent = Date.now();
        if (final) {
          this.done.add(s.id);
          setTimeout(() => this.done.delete(s.id), 10 * 60_000).unref();
          this.forget(s);
        } else if (s.dirty) this.schedule(s);
      });
    await s.inflight;
  }

  /** The run is over: the Cancel button gives way to Re-run. */
  private async finish(s: LiveState): Promise<void> {
    if (!s.adapter.capabilities.buttons) return;
    const controls = await s.controls;
    if (controls)
      await s.adapter
        .update({ channel: s.channel, messageId: controls, text: `Execution ${s.id} ${s.status}.` })
        .catch((err: unknown) =>
          this.log().warn({ err: errorMessage(err), execution: s.id }, 'could not edit the Cancel button'),
        );
    await s.adapter.ask({
      channel: s.channel,
      thread: s.thread,
      question: `Execution ${s.id} ${s.status}.`,
      choices: [{ label: 'Re-run', value: 'rerun', style: 'primary' }],
      payload: `exec:rerun:${s.id}`,
    });
  }

  private forget(s: LiveState): void {
    if (s.timer) clearTimeout(s.timer);
    this.states.delete(s.id);
    for (const [child, root] of this.roots) if (root === s.id) this.roots.delete(child);
  }
}

interface ExecutionEvent {
  id: string;
  status: string;
  parent?: string;
  action?: { ref?: string };
  context?: {
    parent?: { execution_id?: string };
    orquesta?: { task_name?: string };
    chain?: { name?: string };
  };
}
