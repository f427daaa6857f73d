import { executionOutput, type ExecutionLike } from '../../aliases/index.js';
import { errorMessage } from '../errors.js';
import { type ExecutionService, isCompleted } from '../executions/index.js';
import type { Services } from '../service/index.js';
import type { ExecutionRecord } from '../store/index.js';
import type { ButtonChoice, CardReaction, ChatAdapter, ChatCard, ChatUser } from './adapter.js';
import { postLong } from './delivery.js';
import {
  DENY_BUTTON,
  approvalVerdict,
  type AnsweredAsk,
  cardText,
  deniedLine,
  formatElapsed,
  isWorking,
  outputTail,
  reactionOf,
  statusEmoji,
  statusLabel,
  withoutRepeatedOutput,
} from './card.js';

interface TaskState {
  name: string;
  status: string;
}

/** Where a card goes and what it is about. */
export interface CardTarget {
  adapter: ChatAdapter;
  channel: string;
  thread: string;
  action: string;
  requester: Pick<ChatUser, 'id' | 'name'>;
  /** The person's command: its reaction shows the status (⏳ → ✅/❌). */
  command?: { channel: string; messageId: string };
  /** Shown under the output while it runs (the alias's ack.format). */
  note?: string;
}

/** The card whose button was pressed: where it is (ButtonPress). */
export interface PressedCard {
  adapter: ChatAdapter;
  channel: string;
  thread: string;
  messageId: string;
}

interface CardState extends CardTarget {
  id: string;
  cardId?: string;
  status: string;
  startedAt: number;
  endedAt?: number;
  tail: string[];
  /** An output line still being written (no newline yet). */
  partial: string;
  tasks: Map<string, TaskState>;
  /** Descendants (any depth) waiting for a person's answer: core.ask runs still pending. */
  asking: Set<string>;
  /** Someone was asked during the run (its inquiries are read when it ends). */
  asked: boolean;
  /** When the card was last written (posted or edited), and last edited (0: never). */
  lastWrite: number;
  lastEdit: number;
  sentText?: string;
  timer?: NodeJS.Timeout;
  /** When the pending edit is due. */
  due?: number;
  inflight?: Promise<void>;
  dirty: boolean;
  finished: boolean;
  /** The final state: the output and the note of the finished run. */
  final?: { code?: string; note?: string; denials?: string[] };
  /** Who pressed Re-run (the button is then disabled) or Cancel. */
  rerunBy?: string;
  canceledBy?: string;
  reaction?: CardReaction;
  /** Called when the run ends while the card waits to be posted. */
  onFinish?: () => void;
}

/** The value of a card's Deny button (payload `exec:cancel:<id>`): answered by src/inquiries. */
export const CARD_DENY = 'deny';

/** How long a card waits for its run to end before it is posted (then it goes up final, unedited). */
const QUICK_MS = 300;

/** The final note of a card: the alias's result.format and a failure's reason (pipeline.ts). */
export type ResultNote = (record: ExecutionRecord) => Promise<string | undefined>;

/**
 * One live card per chat-started execution: posted once, then edited as the run goes (status,
 * the tail of its output, a workflow's tasks, the elapsed time) and finally showing the result,
 * with Cancel while it runs and Re-run and Open after. Edits of a card are coalesced: at most one
 * per `interval` ms (counting the post for intermediate states; the final state only waits for the
 * previous edit), so a quick command costs one post and one edit. A reaction on the person's
 * command shows the status to the channel. State is in memory, in the process that posted the card.
 */
export class LiveAcks {
  private readonly states = new Map<string, CardState>();
  /** Children of tracked workflows (at any depth) → the tracked root. */
  private readonly roots = new Map<string, string>();
  /** Finished here recently (their card holds the result), with the card's final state. */
  private readonly done = new Map<string, CardState>();
  /** Executions whose card could not be posted: the result goes out as a reply instead. */
  private readonly failed = new Set<string>();
  private unsubscribe: Array<() => void> = [];

  constructor(
    private readonly services: Services,
    private readonly executions: () => ExecutionService,
    private readonly interval = 2000,
    private readonly resultNote: ResultNote = async () => undefined,
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

  /** Whether this process keeps (or kept) the card of `id`: its result is shown there. */
  handles(id: string): boolean {
    return this.states.has(id) || this.done.has(id);
  }

  /** Whether the card of `id` could not be posted (its result needs a reply of its own). */
  cardFailed(id: string): boolean {
    return this.failed.has(id);
  }

  /**
   * Posts the card of execution `id` and keeps it up to date. Resolves with the card's message id,
   * or undefined when it could not be posted (logged; the caller replies instead).
   */
  async open(id: string, status: string, target: CardTarget): Promise<string | undefined> {
    const s: CardState = {
      id,
      ...target,
      status,
      startedAt: Date.now(),
      tail: [],
      partial: '',
      tasks: new Map(),
      asking: new Set(),
      asked: false,
      lastWrite: 0,
      lastEdit: 0,
      dirty: false,
      finished: false,
    };
    // Follow before posting, so no early event is missed.
    this.states.set(id, s);
    // A run that ends at once gets its card in the final state: one post, no edit.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, Math.min(QUICK_MS, this.interval));
      s.onFinish = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    s.onFinish = undefined;
    if (s.finished) await this.settle(s);
    else void this.react(s, 'working');
    try {
      const card = this.card(s);
      const text = cardText(card);
      const posted = await s.adapter.post({ channel: s.channel, thread: s.thread, text, card });
      s.cardId = posted.messageId;
      s.sentText = text + JSON.stringify(card.buttons ?? null);
      s.lastWrite = Date.now();
    } catch (err) {
      this.log().warn({ err: errorMessage(err), execution: id }, 'could not post the card of an execution');
      this.forget(s);
      this.failed.add(id);
      setTimeout(() => this.failed.delete(id), 10 * 60_000).unref();
      return undefined;
    }
    if (s.final) {
      await this.react(s, this.reactionOf(s));
      this.finished(s);
      return s.cardId;
    }
    // Events between the request and now were recorded; make sure the status is current.
    try {
      const record = await this.executions().get(id);
      this.apply(s, record.status);
    } catch (err) {
      this.log().warn({ err, execution: id }, 'could not read the execution of a card');
    }
    this.schedule(s);
    return s.cardId;
  }

  /**
   * A Re-run of `id` was pressed by `who`: true the first time (the card's button is disabled),
   * false when it was already pressed (the press is ignored, so two clicks start one run).
   */
  async claimRerun(id: string, who: string, pressed?: PressedCard): Promise<boolean> {
    if (!(await this.services.store.claim(`chatops:rerun:${id}`, who))) return false;
    const s =
      this.states.get(id) ?? this.done.get(id) ?? (pressed ? await this.restore(id, pressed) : undefined);
    if (s) {
      s.rerunBy = who;
      await this.redraw(s);
    }
    return true;
  }

  /**
   * The finished card of `id` that this process does not keep (posted before a restart, by another
   * process, or long ago), rebuilt from its execution so it can be redrawn; undefined when it cannot be.
   */
  private async restore(id: string, pressed: PressedCard): Promise<CardState | undefined> {
    try {
      const record = await this.executions().get(id);
      if (!isCompleted(record.status)) return undefined;
      const chat = record.context?.chat as { user?: { id?: unknown; name?: unknown } } | undefined;
      const s: CardState = {
        id,
        adapter: pressed.adapter,
        channel: pressed.channel,
        thread: pressed.thread,
        action: record.action.ref,
        requester: {
          id: String(chat?.user?.id ?? ''),
          name: String(chat?.user?.name ?? record.context?.user ?? ''),
        },
        cardId: pressed.messageId,
        status: record.status,
        startedAt: Date.parse(record.start_timestamp ?? '') || Date.now(),
        tail: [],
        partial: '',
        tasks: new Map(),
        asking: new Set(),
        asked: true,
        lastWrite: 0,
        lastEdit: 0,
        dirty: false,
        finished: true,
      };
      // Its long output was uploaded when it ended: only read the result again.
      await this.settle(s, false);
      return s;
    } catch (err) {
      this.log().warn(
        { err: errorMessage(err), execution: id },
        'could not rebuild the card of an execution',
      );
      return undefined;
    }
  }

  /** `who` canceled `id`: the card says so. */
  noteCanceled(id: string, who: string): void {
    const s = this.states.get(id);
    if (!s) return;
    s.canceledBy = who;
    this.schedule(s);
  }

  private log() {
    return this.services.logger.child({ component: 'chatops.live' });
  }

  private async react(s: CardState, status: CardReaction): Promise<void> {
    if (!s.command || !s.adapter.react || s.reaction === status) return;
    const previous = s.reaction;
    s.reaction = status;
    await s.adapter
      .react(s.command, status, previous)
      .catch((err: unknown) =>
        this.log().warn({ err: errorMessage(err), execution: s.id }, 'could not react to the command'),
      );
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
    // An inquiry's execution stays pending until someone answers it (st2: the workflow pauses).
    const wasAsking = root.asking.size > 0;
    if (e.status === 'pending') {
      root.asking.add(e.id);
      root.asked = true;
    } else root.asking.delete(e.id);
    if (wasAsking !== root.asking.size > 0) this.schedule(root);
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
    if (s.tail.length > 50) s.tail.splice(0, s.tail.length - 50);
    this.schedule(s);
  }

  private apply(s: CardState, status: string): void {
    if (s.finished || !status) return;
    s.status = status;
    if (isCompleted(status)) {
      s.finished = true;
      s.endedAt = Date.now();
      s.onFinish?.();
    }
  }

  /** The card as it should read now. */
  card(s: CardState): ChatCard {
    const base = this.services.apiUrl.replace(/\/+$/, '');
    const url = `${base}/#/history/${s.id}/general`;
    const elapsed = formatElapsed((s.endedAt ?? Date.now()) - s.startedAt);
    let code: string | undefined;
    let note: string | undefined;
    if (s.final) {
      ({ code, note } = s.final);
      if (code && note) note = withoutRepeatedOutput(note, code) || undefined;
      // A denied approval is what people need to read, whatever branch the workflow then took
      // (Orquesta: a handled failure ends the workflow succeeded, and that status stays as it is).
      const denials = s.final.denials ?? [];
      if (denials.length)
        note = [...denials.map((d) => `${d} (the workflow then ended ${s.status})`), note]
          .filter(Boolean)
          .join('\n');
    } else {
      const lines = [...s.tail, ...(s.partial ? [s.partial] : [])];
      const tasks = [...s.tasks.values()].map((t) => `${statusEmoji(t.status)} ${t.name}: ${t.status}`);
      code = lines.length ? outputTail(lines.join('\n')).tail : undefined;
      note = [s.note, ...tasks].filter(Boolean).join('\n') || undefined;
    }
    if (s.canceledBy) note = [note, `Canceled by ${s.canceledBy}.`].filter(Boolean).join('\n');
    const open: ButtonChoice = { label: 'Open', value: 'open', url };
    let choices: ButtonChoice[];
    let payload: string;
    if (s.finished) {
      payload = `exec:rerun:${s.id}`;
      choices = [
        s.rerunBy
          ? { label: `Re-run by ${s.rerunBy}`, value: 'rerun', disabled: true }
          : {
              label: 'Re-run',
              value: 'rerun',
              style: 'primary',
              confirm: {
                title: 'Re-run?',
                text: `Run ${s.action} again with the same parameters?`,
                confirm: 'Re-run',
                deny: 'Not now',
              },
            },
        open,
      ];
    } else {
      payload = `exec:cancel:${s.id}`;
      const cancel: ButtonChoice = {
        label: 'Cancel',
        value: 'cancel',
        style: 'danger',
        confirm: {
          title: 'Cancel this run?',
          text: `Cancel execution ${s.id} of ${s.action}?`,
          confirm: 'Cancel run',
          deny: 'Keep running',
        },
      };
      choices = isWorking(s.status) ? [cancel, open] : [open];
      // Deny answers the pending inquiry as the presser (src/inquiries handles the press).
      if (this.waiting(s)) choices.unshift({ ...DENY_BUTTON, value: CARD_DENY });
    }
    return {
      status: statusLabel(s.status, this.waiting(s)),
      emoji: this.waiting(s) ? statusEmoji('paused') : this.denied(s) ? '❌' : statusEmoji(s.status),
      action: s.action,
      requester: { id: s.requester.id, name: s.requester.name },
      executionId: s.id,
      url,
      elapsed,
      ...(code ? { code } : {}),
      ...(note ? { note } : {}),
      ...(s.adapter.capabilities.buttons ? { buttons: { payload, choices } } : {}),
    };
  }

  /** Someone denied an approval of the finished run. */
  private denied(s: CardState): boolean {
    return Boolean(s.final?.denials?.length);
  }

  /** The reaction on the command: a denied run reads as not done, whatever its status. */
  private reactionOf(s: CardState): CardReaction {
    return this.denied(s) ? 'failed' : reactionOf(s.status);
  }

  /** The run waits for an approval: the card says so and offers Deny. */
  private waiting(s: CardState): boolean {
    return !s.finished && s.asking.size > 0;
  }

  private schedule(s: CardState): void {
    s.dirty = true;
    if (!s.cardId || s.inflight) return;
    // Intermediate states wait `interval` after the last write (the post included); the final
    // state only waits for the last edit, so a quick run costs one post and one edit.
    const due = s.finished
      ? s.lastEdit === 0
        ? Date.now()
        : s.lastEdit + this.interval
      : s.lastWrite + this.interval;
    if (s.timer) {
      if ((s.due ?? 0) <= due) return;
      clearTimeout(s.timer);
    }
    s.due = due;
    s.timer = setTimeout(() => void this.flush(s), Math.max(0, due - Date.now()));
    s.timer.unref();
  }

  /** Edits the card now (a button state changed); the coalescing of run updates is unaffected. */
  private async redraw(s: CardState): Promise<void> {
    await s.inflight;
    if (!s.cardId) return;
    await this.edit(s).catch((err: unknown) =>
      this.log().warn({ err: errorMessage(err), execution: s.id }, 'could not edit the card'),
    );
  }

  private async edit(s: CardState): Promise<void> {
    const card = this.card(s);
    const text = cardText(card);
    const buttons = JSON.stringify(card.buttons ?? null);
    if (text + buttons === s.sentText) return;
    s.lastEdit = s.lastWrite = Date.now();
    await s.adapter.update({ channel: s.channel, messageId: s.cardId!, text, card });
    s.sentText = text + buttons;
  }

  private async flush(s: CardState): Promise<void> {
    s.timer = undefined;
    if (!s.dirty || !s.cardId) return;
    s.dirty = false;
    const final = s.finished;
    const send = async () => {
      if (final) await this.settle(s);
      await this.edit(s);
      if (final) await this.react(s, this.reactionOf(s));
    };
    s.inflight = send()
      .catch((err: unknown) =>
        this.log().warn({ err: errorMessage(err), execution: s.id }, 'could not edit the card'),
      )
      .finally(() => {
        s.inflight = undefined;
        if (final) this.finished(s);
        else if (s.dirty) this.schedule(s);
      });
    await s.inflight;
  }

  /** The card shows the end of the run: keep it a while for Re-run, stop following the run. */
  private finished(s: CardState): void {
    this.done.set(s.id, s);
    setTimeout(() => this.done.delete(s.id), 10 * 60_000).unref();
    this.forget(s);
  }

  /** The run is over: read its result for the card, and put long output in the thread as a file. */
  private async settle(s: CardState, upload = true): Promise<void> {
    let record: ExecutionRecord;
    try {
      record = await this.executions().get(s.id);
    } catch (err) {
      this.log().warn({ err, execution: s.id }, 'could not read the result of a card');
      s.final = { note: `The result could not be read: ${errorMessage(err)}` };
      return;
    }
    if (record.start_timestamp && record.end_timestamp) {
      const ms = Date.parse(record.end_timestamp) - Date.parse(record.start_timestamp);
      if (Number.isFinite(ms) && ms >= 0) s.endedAt = s.startedAt + ms;
    }
    const shown = this.executions().present(record) as unknown as ExecutionLike;
    const output = executionOutput(shown);
    const { tail, cut } = outputTail(output);
    const note = await this.resultNote(record).catch(
      (err: unknown) => `(the result could not be rendered: ${errorMessage(err)})`,
    );
    const denials = s.asked ? await this.denials(s.id) : [];
    s.final = {
      ...(tail ? { code: tail } : {}),
      ...(note ? { note } : {}),
      ...(denials.length ? { denials } : {}),
    };
    if (!cut || !upload) return;
    const lines = output.split('\n').length;
    const filename = `${s.action}-${s.id}.txt`;
    try {
      if (s.adapter.capabilities.uploads)
        await s.adapter.uploadText({
          channel: s.channel,
          thread: s.thread,
          filename,
          content: output,
          title: `Full output of ${s.action} (${lines} lines)`,
        });
      else
        await postLong(
          s.adapter,
          { channel: s.channel, thread: s.thread },
          `Full output of ${s.action} (${lines} lines):\n${output}`,
        );
    } catch (err) {
      this.log().warn({ err: errorMessage(err), execution: s.id }, 'could not upload the full output');
      // Said on the card, with the platform's reason (e.g. Slack's missing files:write and its fix),
      // rather than only logged: the people in the thread are the ones missing the output.
      const why = `The full output (${lines} lines) could not be attached: ${errorMessage(err)}`;
      s.final = { ...s.final, note: s.final.note ? `${s.final.note}\n${why}` : why };
    }
  }

  /** "❌ Denied by @bob · 16:40 UTC" for each approval of run `root` that was denied. */
  private async denials(root: string): Promise<string[]> {
    try {
      const asked = await this.services.store.inquiries.find({ root }, { sort: { responded_at: 1 } });
      return asked
        .filter((i) => approvalVerdict(i as AnsweredAsk) === 'deny' && typeof i.responded_by === 'string')
        .map((i) => deniedLine(String(i.responded_by), i.responded_at as string | undefined));
    } catch (err) {
      this.log().warn({ err: errorMessage(err), execution: root }, 'could not read the inquiries of a card');
      return [];
    }
  }

  private forget(s: CardState): void {
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
