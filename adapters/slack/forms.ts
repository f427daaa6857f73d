import type { ChatForm, FormField } from '../../src/chatops/index.js';

/** callback_id of Squall's modals; their private_metadata is the form's context. */
export const FORM_CALLBACK = 'squall_form';
/** callback_id of the message shortcut that opens the form of the message's command. */
export const FORM_SHORTCUT = 'squall_run_form';

const plain = (text: string, max: number) => ({ type: 'plain_text', text: text.slice(0, max) || ' ' });

function element(field: FormField): Record<string, unknown> {
  if (field.kind === 'select' && field.options && field.options.length <= 100) {
    const option = (v: string) => ({ text: plain(v, 75), value: v.slice(0, 150) });
    return {
      type: 'static_select',
      action_id: 'value',
      placeholder: plain(`Choose ${field.label}`, 150),
      options: field.options.map(option),
      ...(field.initial !== undefined && field.options.includes(field.initial)
        ? { initial_option: option(field.initial) }
        : {}),
    };
  }
  return {
    type: 'plain_text_input',
    action_id: 'value',
    ...(field.kind === 'multiline' ? { multiline: true } : {}),
    // A secret is never sent back to Slack: no initial value.
    ...(field.initial !== undefined && !field.secret ? { initial_value: field.initial.slice(0, 3000) } : {}),
  };
}

/**
 * The Block Kit modal of a form: one input block per field (block_id = the parameter name).
 * `errors` (by field) head it when they cannot be shown under the inputs (only an ack can).
 */
export function formView(form: ChatForm, errors?: Record<string, string>): Record<string, unknown> {
  const inputs = form.fields.map((f) => ({
    type: 'input',
    block_id: f.name.slice(0, 255),
    label: plain(f.label, 2000),
    optional: !f.required,
    element: element(f),
    ...(f.hint ? { hint: plain(f.hint, 2000) } : {}),
  }));
  const problems = Object.entries(errors ?? {}).map(([field, why]) => `• *${field}*: ${why}`);
  return {
    type: 'modal',
    callback_id: FORM_CALLBACK,
    private_metadata: form.context,
    title: plain(form.title, 24),
    submit: plain(form.submit, 24),
    close: plain('Cancel', 24),
    blocks: problems.length
      ? [
          {
            type: 'section',
            text: { type: 'mrkdwn', text: `:warning: Please fix:\n${problems.join('\n')}`.slice(0, 3000) },
          },
          ...inputs.slice(0, 99),
        ]
      : inputs,
  };
}

/** A modal with only a line of text and a Close button. */
function noticeView(title: string, text: string): Record<string, unknown> {
  return {
    type: 'modal',
    title: plain(title, 24),
    close: plain('Close', 24),
    blocks: [{ type: 'section', text: { type: 'plain_text', text: text.slice(0, 3000) || ' ' } }],
  };
}

/** What a submitted modal shows while Squall still checks it (past Slack's 3 s for the ack). */
export function checkingView(title: string): Record<string, unknown> {
  return noticeView(title, 'Checking…');
}

/** What a modal shows once a submission checked after the ack was taken (or could not be). */
export function doneView(title: string, text: string): Record<string, unknown> {
  return noticeView(title, text);
}

type StateValue = { type?: string; value?: string | null; selected_option?: { value?: string } | null };

/** What was entered, per parameter, from a view_submission's state. */
export function submittedValues(state: {
  values?: Record<string, Record<string, StateValue>>;
}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [block, actions] of Object.entries(state.values ?? {})) {
    const v = actions.value;
    if (!v) continue;
    out[block] = v.selected_option?.value ?? v.value ?? '';
  }
  return out;
}
