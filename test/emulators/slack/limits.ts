/**
 * Slack's limits on a message (api.slack.com/methods/chat.postMessage, api.slack.com/reference/block-kit):
 * - `text`: Slack says it truncates past 40,000 characters and lists `msg_too_long`; the emulator
 *   refuses it (`msg_too_long`), so a bot that leans on the truncation is caught;
 * - `blocks`: at most 50 in a message; a section's text and each of its fields at most 3,000
 *   characters (10 fields of 2,000); a header's 150; a markdown block's 12,000; an actions block
 *   25 elements; a context block 10; a button's text 75, its value 2,000; block_id/action_id 255.
 *   Over any of them Slack answers `{ok:false, error:'invalid_blocks', errors:['<why> [json-pointer:/blocks/…]']}`.
 */

export const TEXT_MAX = 40_000;
const BLOCKS_MAX = 50;

/** Why each block breaks a limit, in Slack's words and json-pointer form; empty when all are within. */
export function blockErrors(blocks: unknown[]): string[] {
  const errors: string[] = [];
  const at = (path: string, why: string) => errors.push(`${why} [json-pointer:/blocks${path}]`);
  const text = (v: unknown): string | undefined =>
    v && typeof v === 'object' && typeof (v as { text?: unknown }).text === 'string'
      ? (v as { text: string }).text
      : undefined;
  const longer = (path: string, value: string | undefined, max: number) => {
    if (value !== undefined && value.length > max) at(path, `must be less than ${max + 1} characters`);
  };
  if (blocks.length > BLOCKS_MAX) at('', `must be no more than ${BLOCKS_MAX} items`);
  blocks.forEach((raw, i) => {
    if (!raw || typeof raw !== 'object') return at(`/${i}`, 'must be an object');
    const b = raw as Record<string, unknown>;
    if (typeof b.block_id === 'string') longer(`/${i}/block_id`, b.block_id, 255);
    if (b.type === 'section') {
      longer(`/${i}/text/text`, text(b.text), 3000);
      const fields = Array.isArray(b.fields) ? b.fields : [];
      if (fields.length > 10) at(`/${i}/fields`, 'must be no more than 10 items');
      fields.forEach((f, j) => longer(`/${i}/fields/${j}/text`, text(f), 2000));
      if (text(b.text) === undefined && fields.length === 0)
        at(`/${i}`, 'must provide either text or fields');
    } else if (b.type === 'header') {
      longer(`/${i}/text/text`, text(b.text), 150);
    } else if (b.type === 'markdown') {
      longer(`/${i}/text`, typeof b.text === 'string' ? b.text : undefined, 12_000);
    } else if (b.type === 'actions' || b.type === 'context') {
      const max = b.type === 'actions' ? 25 : 10;
      const elements = Array.isArray(b.elements) ? (b.elements as Record<string, unknown>[]) : [];
      if (elements.length > max) at(`/${i}/elements`, `must be no more than ${max} items`);
      elements.forEach((e, j) => {
        if (e?.type !== 'button') return;
        longer(`/${i}/elements/${j}/text/text`, text(e.text), 75);
        if (typeof e.value === 'string') longer(`/${i}/elements/${j}/value`, e.value, 2000);
        if (typeof e.action_id === 'string') longer(`/${i}/elements/${j}/action_id`, e.action_id, 255);
      });
    }
  });
  return errors;
}
