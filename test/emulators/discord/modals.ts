/**
 * Discord modals as the API treats them (discord.com/developers/docs/interactions/receiving-and-responding,
 * "Modal"; components "Text Input"): response type 9 to a command or component interaction
 * (never to a modal submit), a title of 1-45 characters, 1-5 action rows of one text input each;
 * the submit (interaction type 5, MODAL_SUBMIT) carries each input's custom_id and value.
 */

export interface DiscordTextInput {
  type: 4;
  custom_id: string;
  style: 1 | 2;
  label: string;
  required?: boolean;
  value?: string;
  placeholder?: string;
  min_length?: number;
  max_length?: number;
}

export interface DiscordModal {
  /** The interaction it answered, who sees it, where, and the message a button on it was pressed on. */
  interaction_id: string;
  user: string;
  channel_id: string;
  message_id?: string;
  custom_id: string;
  title: string;
  inputs: DiscordTextInput[];
  open: boolean;
}

/** Why `data` is not a valid modal (Discord answers 400 Invalid Form Body), or null. */
export function modalProblem(data: Record<string, unknown> | undefined): string | null {
  if (!data) return 'data is required';
  const id = data.custom_id;
  if (typeof id !== 'string' || id.length < 1 || id.length > 100) return 'custom_id must be 1-100 characters';
  const title = data.title;
  if (typeof title !== 'string' || title.length < 1 || title.length > 45)
    return 'title must be 1-45 characters';
  const rows = data.components as Array<{ type?: number; components?: DiscordTextInput[] }> | undefined;
  if (!Array.isArray(rows) || rows.length < 1 || rows.length > 5) return 'components must hold 1-5 rows';
  const ids = new Set<string>();
  for (const [n, row] of rows.entries()) {
    if (row.type !== 1 || row.components?.length !== 1)
      return `components[${n}] must be an action row of one input`;
    const t = row.components[0];
    if (t.type !== 4) return `components[${n}]: only text inputs (type 4) are supported`;
    if (!t.custom_id || t.custom_id.length > 100 || ids.has(t.custom_id))
      return `components[${n}]: custom_id missing, over 100 or repeated`;
    ids.add(t.custom_id);
    if (t.style !== 1 && t.style !== 2) return `components[${n}]: style must be 1 or 2`;
    if (!t.label || t.label.length > 45) return `components[${n}]: label must be 1-45 characters`;
    if (t.placeholder !== undefined && t.placeholder.length > 100)
      return `components[${n}]: placeholder over 100 characters`;
    const max = t.max_length ?? 4000;
    if (max < 1 || max > 4000) return `components[${n}]: max_length must be 1-4000`;
    if (t.value !== undefined && t.value.length > max) return `components[${n}]: value over max_length`;
  }
  return null;
}

export function modalOf(
  data: Record<string, unknown>,
  at: { interaction_id: string; user: string; channel_id: string; message_id?: string },
): DiscordModal {
  return {
    ...at,
    custom_id: String(data.custom_id),
    title: String(data.title),
    inputs: (data.components as Array<{ components: DiscordTextInput[] }>).map((r) =>
      structuredClone(r.components[0]),
    ),
    open: true,
  };
}

/**
 * The submit's data as the client sends it: what the person typed, else what the input showed.
 * Discord's client does not submit an empty required input or a value outside min/max length.
 */
export function submitData(modal: DiscordModal, values: Record<string, string>): Record<string, unknown> {
  for (const key of Object.keys(values))
    if (!modal.inputs.some((t) => t.custom_id === key))
      throw new Error(`modal ${modal.custom_id} has no input ${key}`);
  const rows = modal.inputs.map((t) => {
    const value = values[t.custom_id] ?? t.value ?? '';
    if ((t.required ?? true) && value === '')
      throw new Error(`submitModal: required input ${t.custom_id} is empty`);
    if (value !== '' && (value.length < (t.min_length ?? 0) || value.length > (t.max_length ?? 4000)))
      throw new Error(`submitModal: ${t.custom_id} is outside its length limits`);
    return { type: 1, components: [{ type: 4, custom_id: t.custom_id, value }] };
  });
  return { custom_id: modal.custom_id, components: rows };
}
