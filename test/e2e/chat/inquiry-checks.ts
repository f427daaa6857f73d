import { expect } from 'vitest';
import type { Services } from '../../../src/service/types.js';

/** An inquiry as the REST API shows it (what `squall inquiry get` and the UI see). */
export async function inquiryOf(apiUrl: string, id: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${apiUrl}/api/v1/inquiries/${encodeURIComponent(id)}`);
  const body = (await res.json()) as Record<string, unknown>;
  if (res.status !== 200) throw new Error(`GET inquiry ${id}: HTTP ${res.status} ${JSON.stringify(body)}`);
  return body;
}

/**
 * Checks the audit trail of inquiry `id`: the refused chat users in order (by chat user id), then
 * bob's approval, accepted, via chat, with the adapter, channel and thread it was clicked in.
 */
export async function expectApprovedByBob(
  store: Services['store'],
  id: string,
  where: { adapter: string; channel: string; thread: string; bobId: string; refused: string[] },
): Promise<void> {
  const trail = await store.audit.find(
    { kind: 'inquiry.decision', inquiry_id: id },
    { sort: { timestamp: 1 } },
  );
  expect(trail.map((d) => [d.outcome, d.chat_user_id])).toEqual([
    ...where.refused.map((u) => ['denied', u]),
    ['accepted', where.bobId],
  ]);
  expect(trail.at(-1)).toMatchObject({
    decision: 'approve',
    actor: 'bob',
    via: 'chat',
    adapter: where.adapter,
    channel: where.channel,
    thread: where.thread,
    chat_user: 'bob',
    chat_user_id: where.bobId,
  });
}

/** Inquiry `id` was denied by bob: failed, with the deny answer, as the API shows it. */
export async function expectDeniedByBob(apiUrl: string, id: string): Promise<void> {
  expect(await inquiryOf(apiUrl, id)).toMatchObject({
    status: 'failed',
    response: { approved: false },
    responded_by: 'bob',
  });
}
