import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Deliverer } from '../../../src/chatops/index.js';
import { newId } from '../../../src/ids.js';
import { startTestService } from '../../support/test-service.js';

const SECRET = `Bearer ${newId()}`;

describe('chat delivery audit records', () => {
  let svc: Awaited<ReturnType<typeof startTestService>>;
  beforeAll(async () => {
    svc = await startTestService({ subsystems: [], config: { 'chatops.delivery_attempts': 1 } });
  });
  afterAll(async () => svc?.cleanup());

  it('names where a failed webhook delivery went, never its headers (they may carry credentials)', async () => {
    const deliverer = new Deliverer(svc.services, new Map());
    // Port 9 (discard) on localhost: refused, so the only attempt fails and is audited.
    const url = 'http://127.0.0.1:9/notify';
    const posted = await deliverer.send({
      target: { kind: 'webhook', url, headers: { authorization: SECRET } },
      text: 'done',
      what: `notify for ${newId()}`,
    });
    expect(posted).toBeUndefined();
    const audits = await svc.services.store.audit.find({ kind: 'chat.delivery' });
    const failed = audits.find((a) => (a as { outcome?: string }).outcome === 'failed');
    expect(failed).toMatchObject({ target: { kind: 'webhook', url } });
    expect(JSON.stringify(audits)).not.toContain(SECRET);
  });
});
