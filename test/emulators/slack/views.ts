/**
 * Slack modals as the real API treats them (api.slack.com/surfaces/modals, views.open,
 * views.update, view_submission): a trigger_id opens one view within 3 s and only once; the view
 * is checked against Block Kit's limits; a submission carries `view.state.values` keyed by
 * block_id and action_id; the ack decides what happens (errors keep it open with messages under
 * the inputs, update replaces it, clear/none closes it).
 */

export class SlackViewError extends Error {
  constructor(readonly error: string) {
    super(error);
  }
}

export interface SlackView {
  id: string;
  team_id: string;
  type: 'modal';
  callback_id?: string;
  private_metadata: string;
  title: { type: string; text: string };
  submit?: { type: string; text: string };
  close?: { type: string; text: string };
  blocks: SlackInputBlock[];
  state: { values: Record<string, Record<string, unknown>> };
  hash: string;
  root_view_id: string;
  app_id: string;
  bot_id: string;
  /** Emulator only: who it is open for, whether it is still open, the errors shown under inputs. */
  user: string;
  open: boolean;
  errors: Record<string, string>;
}

export interface SlackInputBlock {
  type: string;
  block_id?: string;
  label?: { text: string };
  optional?: boolean;
  element?: {
    type: string;
    action_id?: string;
    initial_value?: string;
    options?: Array<{ text: { text: string }; value: string }>;
    initial_option?: { value: string };
  };
}

const TRIGGER_TTL_MS = 3_000;
const ELEMENTS = new Set(['plain_text_input', 'static_select', 'number_input', 'checkboxes', 'datepicker']);

function plainText(v: unknown, max: number): boolean {
  const t = v as { type?: string; text?: string } | undefined;
  return t?.type === 'plain_text' && typeof t.text === 'string' && t.text.length > 0 && t.text.length <= max;
}

/** Checks a view as Slack does; throws `invalid_arguments` (Slack also says why in response_metadata). */
export function checkView(view: Record<string, unknown>): void {
  const bad = (why: string): never => {
    throw new SlackViewError(`invalid_arguments: ${why}`);
  };
  if (view.type !== 'modal') bad('view.type must be modal');
  if (!plainText(view.title, 24)) bad('title must be plain_text of 1-24 characters');
  const blocks = (view.blocks ?? []) as SlackInputBlock[];
  if (!Array.isArray(blocks) || blocks.length > 100) bad('blocks must be an array of at most 100');
  const inputs = blocks.filter((b) => b.type === 'input');
  if (inputs.length && !plainText(view.submit, 24))
    bad('a modal with inputs needs submit (plain_text, 1-24)');
  if (view.close !== undefined && !plainText(view.close, 24)) bad('close must be plain_text of 1-24');
  if (String(view.private_metadata ?? '').length > 3000) bad('private_metadata is over 3000 characters');
  const ids = new Set<string>();
  for (const b of inputs) {
    if (!b.block_id || b.block_id.length > 255) bad('input block_id missing or over 255');
    if (ids.has(b.block_id!)) bad(`duplicate block_id ${b.block_id}`);
    ids.add(b.block_id!);
    if (!plainText(b.label, 2000)) bad(`block ${b.block_id}: label must be plain_text of 1-2000`);
    const e = b.element;
    if (!e || !ELEMENTS.has(e.type) || !e.action_id) bad(`block ${b.block_id}: unsupported element`);
    if (e!.type === 'static_select') {
      const options = e!.options ?? [];
      if (!options.length || options.length > 100) bad(`block ${b.block_id}: 1-100 options`);
      if (e!.initial_option && !options.some((o) => o.value === e!.initial_option!.value))
        bad(`block ${b.block_id}: initial_option is not one of the options`);
    }
    if (e!.type === 'plain_text_input' && (e!.initial_value ?? '').length > 3000)
      bad(`block ${b.block_id}: initial_value over 3000`);
  }
}

export class SlackViews {
  readonly all = new Map<string, SlackView>();
  private readonly triggers = new Map<string, { user: string; at: number; used: boolean }>();
  private counter = 0;

  constructor(private readonly ids: { team: string; app: string; bot: string }) {}

  /** Records a trigger_id handed to the bot with an interaction. */
  issued(triggerId: string, user: string): string {
    this.triggers.set(triggerId, { user, at: Date.now(), used: false });
    return triggerId;
  }

  private take(triggerId: unknown): { user: string } {
    const t = this.triggers.get(String(triggerId ?? ''));
    if (!t) throw new SlackViewError('invalid_trigger_id');
    if (t.used) throw new SlackViewError('exchanged_trigger_id');
    if (Date.now() - t.at > TRIGGER_TTL_MS) throw new SlackViewError('expired_trigger_id');
    t.used = true;
    return t;
  }

  private build(view: Record<string, unknown>, user: string, id: string, root?: string): SlackView {
    checkView(view);
    return {
      ...(view as object),
      id,
      team_id: this.ids.team,
      type: 'modal',
      private_metadata: String(view.private_metadata ?? ''),
      blocks: (view.blocks ?? []) as SlackInputBlock[],
      state: { values: {} },
      hash: `${Date.now()}.${(++this.counter).toString(36)}`,
      root_view_id: root ?? id,
      app_id: this.ids.app,
      bot_id: this.ids.bot,
      user,
      open: true,
      errors: {},
    } as SlackView;
  }

  open(params: Record<string, unknown>): SlackView {
    if (!params.view || typeof params.view !== 'object') throw new SlackViewError('invalid_arguments');
    const { user } = this.take(params.trigger_id);
    const id = `V${Date.now().toString(36).toUpperCase()}${(++this.counter).toString(36).toUpperCase()}`;
    const view = this.build(params.view as Record<string, unknown>, user, id);
    this.all.set(id, view);
    return view;
  }

  update(params: Record<string, unknown>): SlackView {
    const old = this.all.get(String(params.view_id ?? ''));
    if (!old || !old.open) throw new SlackViewError('not_found');
    if (params.hash !== undefined && params.hash !== old.hash) throw new SlackViewError('hash_conflict');
    const view = this.build(params.view as Record<string, unknown>, old.user, old.id, old.root_view_id);
    this.all.set(old.id, view);
    return view;
  }

  /** The view as the bot receives it in payloads (the emulator-only fields removed). */
  static shown(view: SlackView): Record<string, unknown> {
    const { user: _u, open: _o, errors: _e, ...rest } = view;
    return structuredClone(rest);
  }

  /**
   * The state a person's entries make: text inputs as `{type, value}` (null when empty), selects
   * as `{type, selected_option}`. An entry for an input the view does not have, or an option a
   * select does not offer, is a test mistake.
   */
  stateOf(view: SlackView, entries: Record<string, string>): SlackView['state'] {
    const values: SlackView['state']['values'] = {};
    const inputs = view.blocks.filter((b) => b.type === 'input');
    for (const key of Object.keys(entries))
      if (!inputs.some((b) => b.block_id === key))
        throw new Error(`view ${view.id} has no input block ${key}`);
    for (const b of inputs) {
      const e = b.element!;
      const typed = b.block_id! in entries ? entries[b.block_id!] : undefined;
      if (e.type === 'static_select') {
        const chosen = typed ?? e.initial_option?.value;
        const option =
          chosen === undefined || chosen === '' ? null : e.options!.find((o) => o.value === chosen);
        if (option === undefined) throw new Error(`select ${b.block_id} has no option ${chosen}`);
        values[b.block_id!] = { [e.action_id!]: { type: 'static_select', selected_option: option } };
      } else {
        const value = typed ?? e.initial_value ?? '';
        values[b.block_id!] = { [e.action_id!]: { type: e.type, value: value === '' ? null : value } };
      }
    }
    return { values };
  }

  /** Slack's client refuses to submit with a required input empty: no payload is ever sent. */
  missingRequired(view: SlackView, state: SlackView['state']): string[] {
    return view.blocks
      .filter((b) => b.type === 'input' && !b.optional)
      .filter((b) => {
        const v = Object.values(state.values[b.block_id!] ?? {})[0] as
          { value?: string | null; selected_option?: unknown } | undefined;
        return !v || (v.value == null && v.selected_option == null);
      })
      .map((b) => b.block_id!);
  }

  /** What the ack of a view_submission does to the view. */
  applyAck(view: SlackView, ack: unknown): void {
    const a = (ack ?? {}) as { response_action?: string; errors?: Record<string, string>; view?: unknown };
    if (a.response_action === 'errors') {
      const inputs = new Set(view.blocks.filter((b) => b.type === 'input').map((b) => b.block_id));
      for (const key of Object.keys(a.errors ?? {}))
        if (!inputs.has(key))
          throw new Error(`response_action errors names ${key}, not an input block_id of the view`);
      view.errors = { ...(a.errors ?? {}) };
      return;
    }
    if (a.response_action === 'update' || a.response_action === 'push') {
      const next = this.build(a.view as Record<string, unknown>, view.user, view.id, view.root_view_id);
      this.all.set(view.id, next);
      return;
    }
    view.open = false;
  }
}
