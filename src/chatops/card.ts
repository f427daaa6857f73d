import type { ButtonChoice, CardReaction, ChatCard } from './adapter.js';

/** How many output lines a card shows. */
export const CARD_TAIL_LINES = 10;
/** Longest output (characters) a card shows; longer output also goes up as a file in the thread. */
export const CARD_OUTPUT_CHARS = 1500;

const WORKING = ['requested', 'scheduled', 'delayed', 'running', 'pausing', 'canceling', 'resuming'];
const WAITING = ['pending', 'paused'];
const FAILED = ['failed', 'timeout', 'abandoned'];

/** Deny (an approval): asks first, as Cancel and Re-run do. */
export const DENY_BUTTON: ButtonChoice = {
  label: 'Deny',
  value: 'deny',
  style: 'danger',
  confirm: {
    title: 'Deny?',
    text: 'Deny this approval? The workflow goes on as denied.',
    confirm: 'Deny',
    deny: 'Back',
  },
};

/** The emoji of a card in `status`. */
export function statusEmoji(status: string): string {
  if (status === 'succeeded') return '✅';
  if (FAILED.includes(status)) return '❌';
  if (status === 'canceled') return '🚫';
  if (WAITING.includes(status)) return '✋';
  return '⏳';
}

/** The reaction on the command for a card in `status`. */
export function reactionOf(status: string): CardReaction {
  if (status === 'succeeded') return 'succeeded';
  if (FAILED.includes(status) || status === 'canceled') return 'failed';
  return 'working';
}

/** Whether the run can still change (Cancel makes sense). */
export function isWorking(status: string): boolean {
  return WORKING.includes(status) || WAITING.includes(status);
}

/** What the card says about `status` (a workflow with a pending inquiry waits for someone's answer). */
export function statusLabel(status: string, waitingForApproval = false): string {
  if (waitingForApproval && isWorking(status)) return 'waiting for approval';
  return status;
}

/** "16:40 UTC" for an ISO timestamp (the day is in the chat client's own timestamp); '' if unreadable. */
export function utcClock(iso: string | undefined): string {
  const d = iso ? new Date(iso) : undefined;
  return d && !Number.isNaN(d.getTime()) ? `${d.toISOString().slice(11, 16)} UTC` : '';
}

/** "❌ Denied by @bob · 16:40 UTC": how a denied approval reads on its prompt and on the run's card. */
export function deniedLine(by: string, at: string | undefined): string {
  const when = utcClock(at);
  return `❌ Denied by @${by}${when ? ` · ${when}` : ''}`;
}

/** What an answered inquiry says of itself, as far as reading it as Approve or Deny needs. */
export interface AnsweredAsk {
  decision?: string;
  response?: unknown;
  schema?: { properties?: Record<string, { type?: unknown } | undefined> };
}

/**
 * Approve or deny: the policy's decision when there is a policy; without one (decision "respond")
 * the answer to an approval schema (one boolean, the prompt with Approve/Deny buttons) reads as
 * its button did, since the person pressed Approve or Deny, not "approved=true".
 */
export function approvalVerdict(inquiry: AnsweredAsk): 'approve' | 'deny' | undefined {
  if (inquiry.decision === 'approve' || inquiry.decision === 'deny') return inquiry.decision;
  const field = approvalSchemaField(inquiry.schema ?? {});
  const value =
    field === undefined ? undefined : (inquiry.response as Record<string, unknown> | undefined)?.[field];
  if (value === true) return 'approve';
  if (value === false) return 'deny';
  return undefined;
}

/** The field of an approval schema (exactly one property, a boolean): the one Approve/Deny answer. */
export function approvalSchemaField(schema: NonNullable<AnsweredAsk['schema']>): string | undefined {
  const props = Object.entries(schema.properties ?? {});
  return props.length === 1 && props[0][1]?.type === 'boolean' ? props[0][0] : undefined;
}

/** "0.4 s" under ten seconds, "12 s" under a minute, "2 min 5 s" after. */
export function formatElapsed(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  if (s < 10) return `${(Math.round(s * 10) / 10).toFixed(1)} s`;
  if (s < 60) return `${Math.round(s)} s`;
  const whole = Math.round(s);
  return `${Math.floor(whole / 60)} min ${whole % 60} s`;
}

/** The last lines of `output` that fit a card, and whether anything was left out. */
export function outputTail(output: string): { tail: string; cut: boolean } {
  const lines = output.replace(/\s+$/, '').split('\n');
  let tail = lines.slice(-CARD_TAIL_LINES).join('\n');
  let cut = lines.length > CARD_TAIL_LINES;
  if (tail.length > CARD_OUTPUT_CHARS) {
    tail = '…' + tail.slice(tail.length - CARD_OUTPUT_CHARS + 1);
    cut = true;
  }
  return { tail, cut };
}

/** The card as plain text: the notification fallback, and what adapters without cards show. */
export function cardText(card: ChatCard): string {
  const lines = [
    `${card.emoji} ${card.action} · ${card.requester.name}`,
    `Execution ${card.executionId} · ${card.status} · ${card.elapsed}`,
  ];
  if (card.code) lines.push('```', card.code, '```');
  if (card.note) lines.push(card.note);
  return lines.join('\n');
}

/**
 * The note without its fenced blocks that only repeat the output the card already shows (result
 * templates written for st2 often fence `stdout`): the card says the output once.
 */
export function withoutRepeatedOutput(note: string, code: string): string {
  const shown = code.trim().replace(/^…/, '');
  if (!shown) return note;
  return note
    .replace(/```[^\n`]*\n([\s\S]*?)\n?```\n?/g, (block, inner: string) => {
      const said = inner.trim();
      return said && (shown.includes(said) || said.endsWith(shown)) ? '' : block;
    })
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
