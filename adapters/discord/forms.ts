import type { ChatForm, FormField } from '../../src/chatops/index.js';

/** custom_id prefix of Squall's modals. */
export const MODAL_PREFIX = 'sqform|';

/**
 * A form as a Discord modal (interaction response type 9): one text input per field, each in its
 * own action row (a modal holds five). Discord modals hold only text inputs here, so a choice
 * is typed and its options are named in the placeholder; a secret is never filled in.
 */
export function formModal(form: ChatForm, customId: string): Record<string, unknown> {
  return {
    custom_id: customId,
    title: form.title.slice(0, 45),
    components: form.fields.slice(0, 5).map((f) => ({
      type: 1,
      components: [textInput(f)],
    })),
  };
}

function textInput(f: FormField): Record<string, unknown> {
  const placeholder = f.options ? `one of: ${f.options.join(', ')}` : f.hint;
  return {
    type: 4,
    custom_id: f.name.slice(0, 100),
    label: f.label.slice(0, 45),
    style: f.kind === 'multiline' ? 2 : 1,
    required: f.required,
    max_length: 4000,
    ...(placeholder ? { placeholder: placeholder.slice(0, 100) } : {}),
    ...(f.initial !== undefined && !f.secret ? { value: f.initial.slice(0, 4000) } : {}),
  };
}

/** The errors of a refused submission, as the reply under which "Fill in…" reopens the form. */
export function errorsText(errors: Record<string, string>): string {
  const lines = Object.entries(errors).map(([field, why]) => `• ${field}: ${why}`);
  return `That did not run; fix ${lines.length > 1 ? 'these' : 'this'} and submit again:\n${lines.join('\n')}`;
}
