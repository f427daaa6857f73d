import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { promptResponse } from '../../../src/cli/commands/inquiry.js';
import {
  DEFAULT_SCHEMA,
  answeredLine,
  buildPrompt,
  coerceAnswer,
  coerceAnswers,
  decisionOf,
  deriveButtonKey,
  expiryMinutes,
  resolvePolicy,
  respondHint,
  signButtonPayload,
  validateResponse,
  verifyButtonPayload,
} from '../../../src/inquiries/index.js';

const key = deriveButtonKey(Buffer.alloc(32, 7));

describe('inquiry button payloads', () => {
  it('verifies its own signature and returns the inquiry id', () => {
    const p = signButtonPayload(key, 'abc123', new Date(Date.now() + 60_000));
    expect(verifyButtonPayload(key, p)).toBe('abc123');
  });
  it('refuses a payload with another id, another key, or past its expiry', () => {
    const p = signButtonPayload(key, 'abc123', new Date(Date.now() + 60_000));
    expect(() => verifyButtonPayload(key, p.replace('abc123', 'abc124'))).toThrow(/signature/);
    expect(() => verifyButtonPayload(deriveButtonKey(Buffer.alloc(32, 8)), p)).toThrow(/signature/);
    const old = signButtonPayload(key, 'abc123', new Date(Date.now() - 1));
    expect(() => verifyButtonPayload(key, old)).toThrow(/expired/);
    expect(() => verifyButtonPayload(key, 'not-ours')).toThrow(/not an inquiry button/);
  });
});

describe('responses against the schema', () => {
  it("accepts st2's required: true and explains what is wrong", () => {
    expect(() => validateResponse(DEFAULT_SCHEMA, { continue: true }, 'x')).not.toThrow();
    expect(() => validateResponse(DEFAULT_SCHEMA, {}, 'x')).toThrow(
      'Response did not pass schema validation: "continue" is a required property',
    );
    expect(() => validateResponse(DEFAULT_SCHEMA, { continue: 'yes' }, 'x')).toThrow(
      /continue must be boolean/,
    );
  });
  it('coerces typed answers like st2 inquiry respond', () => {
    expect(coerceAnswer('a', { type: 'boolean' }, 'Yes')).toBe(true);
    expect(coerceAnswer('a', { type: 'boolean' }, 'n')).toBe(false);
    expect(coerceAnswer('a', { type: 'integer' }, '42')).toBe(42);
    expect(coerceAnswer('a', { type: 'array' }, 'a, b')).toEqual(['a', 'b']);
    expect(coerceAnswer('a', { type: 'string', enum: ['x', 'y'] }, 'y')).toBe('y');
    expect(() => coerceAnswer('a', { type: 'integer' }, '4.5')).toThrow(
      '"4.5" is not an integer (field "a")',
    );
    expect(() => coerceAnswer('a', { type: 'boolean' }, 'perhaps')).toThrow(/yes or no/);
  });
  it('prompts field by field and asks again after a wrong answer', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    let shown = '';
    output.on('data', (c: Buffer) => (shown += c.toString()));
    input.end('maybe\nno\n\n');
    const response = await promptResponse(
      {
        type: 'object',
        properties: {
          go: { type: 'boolean', description: 'Go?', required: true },
          note: { type: 'string', description: 'Note' },
        },
      },
      input,
      output,
    );
    expect(response).toEqual({ go: false });
    expect(shown).toContain('Go? (yes/no): "maybe" is not yes or no (field "go"); try again.');
    expect(shown).toContain('Note [optional]: ');
  });
});

describe('approval policies', () => {
  it('merges sources (later wins) and rejects unknown fields', () => {
    expect(resolvePolicy(undefined, null)).toBeUndefined();
    expect(resolvePolicy({ quorum: 2 }, { different_from_requester: true, quorum: 3 })).toEqual({
      quorum: 3,
      different_from_requester: true,
    });
    expect(() => resolvePolicy({ quorom: 2 })).toThrow(/approval policy is invalid/);
  });
  it('a false approval field denies; the deadline shortens the ttl only', () => {
    const schema = { type: 'object', properties: { note: { type: 'string' }, ok: { type: 'boolean' } } };
    expect(decisionOf(schema, { ok: false })).toBe('deny');
    expect(decisionOf(schema, { ok: true })).toBe('approve');
    expect(decisionOf({ properties: { note: { type: 'string' } } }, { note: 'x' })).toBe('approve');
    expect(expiryMinutes(60, { deadline_minutes: 5 })).toBe(5);
    expect(expiryMinutes(1, { deadline_minutes: 5 })).toBe(1);
  });
});

describe('chat prompts', () => {
  it('Approve/Deny for a boolean, one button per enum value, instructions otherwise', () => {
    const bool = buildPrompt({ id: 'i1', schema: DEFAULT_SCHEMA }, '!');
    expect(bool.choices.map((c) => [c.label, c.value])).toEqual([
      ['Approve', '{"continue":true}'],
      ['Deny', '{"continue":false}'],
    ]);
    const en = buildPrompt(
      { id: 'i2', schema: { properties: { env: { type: 'string', enum: ['dev', 'prod'] } } } },
      '!',
    );
    expect(en.choices.map((c) => c.label)).toEqual(['dev', 'prod']);
    const form = buildPrompt(
      { id: 'i3', schema: { properties: { a: { type: 'string' }, b: { type: 'integer' } } } },
      '!',
    );
    expect(form.choices).toEqual([]);
    expect(form.question).toContain('Answer with: !respond i3 a="…" b=1');
    expect(form.question).toContain('(or !inquiry respond i3 {json})');
  });
  it('an answered approval reads as approved or denied by whom, with or without a policy', () => {
    const at = '2026-12-07T16:40:00.000Z';
    const approval = { schema: { properties: { approved: { type: 'boolean' as const } } }, responded_at: at };
    // Without a policy the service records decision "respond": the buttons' answer still reads as one.
    expect(
      answeredLine({
        ...approval,
        decision: 'respond',
        responded_by: 'st2admin',
        response: { approved: true },
      }),
    ).toBe('✅ Approved by @st2admin · 16:40 UTC');
    expect(
      answeredLine({ ...approval, decision: 'respond', responded_by: 'bob', response: { approved: false } }),
    ).toBe('❌ Denied by @bob · 16:40 UTC');
    expect(
      answeredLine({ ...approval, decision: 'deny', responded_by: 'bob', response: { approved: false } }),
    ).toBe('❌ Denied by @bob · 16:40 UTC');
    // Other schemas show their fields.
    expect(
      answeredLine({
        schema: { properties: { reason: { type: 'string' }, ok: { type: 'boolean' } } },
        decision: 'respond',
        responded_by: 'alice',
        responded_at: at,
        response: { reason: 'disk full', ok: true },
      }),
    ).toBe('✅ Answered by @alice · 16:40 UTC: reason=disk full, ok=true');
  });
  it('shows how to type an answer with respond, for adapters without buttons too', () => {
    expect(respondHint({ id: 'i1', schema: DEFAULT_SCHEMA }, '!')).toBe(
      'Answer with: !respond i1 continue=yes (or continue=no)',
    );
    const env = { properties: { env: { type: 'string', enum: ['dev', 'prod', 'us east'] } } };
    expect(respondHint({ id: 'i2', schema: env }, '/')).toBe(
      'Answer with: /respond i2 env=dev (or env=prod, env="us east")',
    );
    const form = {
      properties: {
        n: { type: 'number' },
        tags: { type: 'array' },
        meta: { type: 'object' },
        ok: { type: ['boolean', 'null'] },
      },
    };
    expect(respondHint({ id: 'i3', schema: form }, '!')).toBe(
      'Answer with: !respond i3 n=1 tags=a,b meta={"key":"value"} ok=yes',
    );
  });
});

describe('typed key=value answers (the respond chat command)', () => {
  const schema = {
    properties: {
      reason: { type: 'string' },
      hosts: { type: 'integer' },
      urgent: { type: 'boolean' },
      regions: { type: 'array' },
      meta: { type: 'object' },
    },
  };
  it('reads each value by its property type', () => {
    expect(
      coerceAnswers(
        schema,
        { reason: 'disk full', hosts: '3', urgent: 'no', regions: 'eu, us', meta: '{"a":1}' },
        'i',
      ),
    ).toEqual({ reason: 'disk full', hosts: 3, urgent: false, regions: ['eu', 'us'], meta: { a: 1 } });
  });
  it('names the field a value does not fit, and refuses a field the schema does not have', () => {
    expect(() => coerceAnswers(schema, { hosts: 'many' }, 'i')).toThrow(
      '"many" is not an integer (field "hosts")',
    );
    expect(() => coerceAnswers(schema, { meta: '[1]' }, 'i')).toThrow('"[1]" is not a JSON object');
    expect(() => coerceAnswers(schema, { host: '3' }, 'i')).toThrow(
      'inquiry i has no field "host" (its fields: reason, hosts, urgent, regions, meta)',
    );
  });
  it('keeps unknown names as text when the schema lists no fields or allows more', () => {
    expect(coerceAnswers({}, { note: 'hi' }, 'i')).toEqual({ note: 'hi' });
    expect(
      coerceAnswers({ properties: { a: { type: 'integer' } }, additionalProperties: true }, { b: '2' }, 'i'),
    ).toEqual({ b: '2' });
  });
});
