/**
 * Discord's limits on a message body (discord.com/developers/docs/resources/message#create-message,
 * …/resources/message#embed-object-embed-limits, …/interactions/message-components) and the shape
 * of its refusal: 400 `{code: 50035, message: 'Invalid Form Body', errors}` where `errors` nests
 * by field path down to `{_errors: [{code, message}]}`, as discord.js prints them.
 */

export const CONTENT_MAX = 2000;
const EMBEDS_MAX = 10;
const FIELDS_MAX = 25;
const ACTION_ROWS_MAX = 5;
const ROW_COMPONENTS_MAX = 5;
const EMBED_TOTAL_MAX = 6000;
const EMBED_TEXT_MAX: Record<string, number> = { title: 256, description: 4096 };

/** Discord's nested `errors` object of an Invalid Form Body refusal. */
export type FormErrors = Record<string, unknown>;

function put(errors: FormErrors, path: (string | number)[], code: string, message: string): void {
  let node = errors;
  for (const key of path) {
    const k = String(key);
    node[k] ??= {};
    node = node[k] as FormErrors;
  }
  const list = ((node._errors as unknown[] | undefined) ??= []);
  list.push({ code, message });
}

const tooLong = (max: number) => `Must be ${max} or fewer in length.`;

function textLength(v: unknown): number {
  return typeof v === 'string' ? v.length : 0;
}

/** The Invalid Form Body errors of a create/edit-message body, or undefined when it is within limits. */
export function messageErrors(body: Record<string, unknown>): FormErrors | undefined {
  const errors: FormErrors = {};
  if (textLength(body.content) > CONTENT_MAX)
    put(errors, ['content'], 'BASE_TYPE_MAX_LENGTH', tooLong(CONTENT_MAX));
  const embeds = Array.isArray(body.embeds) ? (body.embeds as Record<string, unknown>[]) : [];
  if (embeds.length > EMBEDS_MAX) put(errors, ['embeds'], 'BASE_TYPE_MAX_LENGTH', tooLong(EMBEDS_MAX));
  let total = 0;
  embeds.forEach((embed, i) => {
    for (const [key, max] of Object.entries(EMBED_TEXT_MAX)) {
      total += textLength(embed[key]);
      if (textLength(embed[key]) > max) put(errors, ['embeds', i, key], 'BASE_TYPE_MAX_LENGTH', tooLong(max));
    }
    const footer = embed.footer as { text?: unknown } | undefined;
    const author = embed.author as { name?: unknown } | undefined;
    total += textLength(footer?.text) + textLength(author?.name);
    if (textLength(footer?.text) > 2048)
      put(errors, ['embeds', i, 'footer', 'text'], 'BASE_TYPE_MAX_LENGTH', tooLong(2048));
    const fields = Array.isArray(embed.fields) ? (embed.fields as Record<string, unknown>[]) : [];
    if (fields.length > FIELDS_MAX)
      put(errors, ['embeds', i, 'fields'], 'BASE_TYPE_MAX_LENGTH', tooLong(FIELDS_MAX));
    fields.forEach((field, j) => {
      total += textLength(field.name) + textLength(field.value);
      if (textLength(field.name) > 256)
        put(errors, ['embeds', i, 'fields', j, 'name'], 'BASE_TYPE_MAX_LENGTH', tooLong(256));
      if (textLength(field.value) > 1024)
        put(errors, ['embeds', i, 'fields', j, 'value'], 'BASE_TYPE_MAX_LENGTH', tooLong(1024));
    });
  });
  // The 6000 characters are summed over every embed of the message.
  if (total > EMBED_TOTAL_MAX)
    put(
      errors,
      ['embeds'],
      'MAX_EMBED_SIZE_EXCEEDED',
      `Embed size exceeds maximum size of ${EMBED_TOTAL_MAX}`,
    );
  const rows = Array.isArray(body.components) ? (body.components as Record<string, unknown>[]) : [];
  if (rows.length > ACTION_ROWS_MAX)
    put(errors, ['components'], 'BASE_TYPE_MAX_LENGTH', tooLong(ACTION_ROWS_MAX));
  rows.forEach((row, i) => {
    const inner = Array.isArray(row.components) ? row.components : [];
    if (row.type === 1 && inner.length > ROW_COMPONENTS_MAX)
      put(errors, ['components', i, 'components'], 'BASE_TYPE_MAX_LENGTH', tooLong(ROW_COMPONENTS_MAX));
  });
  return Object.keys(errors).length > 0 ? errors : undefined;
}
