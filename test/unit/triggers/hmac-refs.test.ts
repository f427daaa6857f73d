import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { normalizeWebhookUrl, triggerRefFor, verifyHmac } from '../../../src/triggers/index.js';

const hex = (secret: string, data: string) => createHmac('sha256', secret).update(data).digest('hex');
const body = Buffer.from('{"a":1}');

describe('verifyHmac', () => {
  it('github: accepts sha256=<hmac of the raw body>, refuses other bodies and missing headers', () => {
    const good = { 'x-hub-signature-256': `sha256=${hex('k', '{"a":1}')}` };
    expect(verifyHmac({ secret: 'k', preset: 'github' }, good, body)).toEqual({ ok: true });
    expect(verifyHmac({ secret: 'k', preset: 'github' }, good, Buffer.from('{"a": 1}')).ok).toBe(false);
    expect(verifyHmac({ secret: 'k', preset: 'github' }, {}, body)).toEqual({
      ok: false,
      reason: 'missing X-Hub-Signature-256 header',
    });
  });

  it('slack: signs v0:<ts>:<body> and refuses timestamps outside the 5-minute window', () => {
    const now = new Date('2024-05-01T12:00:00Z');
    const ts = String(now.getTime() / 1000 - 60);
    const headers = {
      'x-slack-request-timestamp': ts,
      'x-slack-signature': `v0=${hex('k', `v0:${ts}:{"a":1}`)}`,
    };
    expect(verifyHmac({ secret: 'k', preset: 'slack' }, headers, body, now)).toEqual({
      ok: true,
      replayKey: headers['x-slack-signature'],
    });
    const late = new Date(now.getTime() + 10 * 60_000);
    const verdict = verifyHmac({ secret: 'k', preset: 'slack' }, headers, body, late);
    expect(verdict.ok).toBe(false);
    expect(verdict.ok ? '' : verdict.reason).toContain('window 300 s');
  });

  it('generic: configurable header, bare hex or sha256=, optional signed timestamp', () => {
    expect(verifyHmac({ secret: 'k', header: 'X-Sig' }, { 'x-sig': hex('k', '{"a":1}') }, body)).toEqual({
      ok: true,
    });
    const now = new Date('2024-05-01T12:00:00Z');
    const ts = now.toISOString();
    const settings = { secret: 'k', header: 'X-Sig', timestamp_header: 'X-Ts', window_seconds: 30 };
    const signed = { 'x-ts': ts, 'x-sig': `sha256=${hex('k', `${ts}.{"a":1}`)}` };
    expect(verifyHmac(settings, signed, body, now)).toEqual({
      ok: true,
      replayKey: hex('k', `${ts}.{"a":1}`),
    });
    expect(verifyHmac(settings, { ...signed, 'x-sig': `sha256=${hex('k', '{"a":1}')}` }, body, now).ok).toBe(
      false,
    );
    expect(verifyHmac(settings, signed, body, new Date(now.getTime() + 60_000)).ok).toBe(false);
  });
});

describe('trigger refs', () => {
  it('a type without parameters is its own ref; parameters give a stable <pack>.<uuid>', () => {
    expect(triggerRefFor('core.st2.generic.actiontrigger', {})).toBe('core.st2.generic.actiontrigger');
    const a = triggerRefFor('core.st2.IntervalTimer', { unit: 'seconds', delta: 5 });
    expect(a).toMatch(/^core\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(triggerRefFor('core.st2.IntervalTimer', { delta: 5, unit: 'seconds' })).toBe(a);
    expect(triggerRefFor('core.st2.IntervalTimer', { delta: 6, unit: 'seconds' })).not.toBe(a);
  });

  it('webhook urls ignore leading and trailing slashes', () => {
    expect(normalizeWebhookUrl('/ineat/')).toBe('ineat');
    expect(triggerRefFor('core.st2.webhook', { url: '/ineat/' })).toBe(
      triggerRefFor('core.st2.webhook', { url: 'ineat' }),
    );
  });
});
