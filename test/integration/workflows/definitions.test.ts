import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { writeTestPack } from '../../support/packs.js';
import { apiClient } from '../../support/api-client.js';
import { STORE_TARGETS, describeWithServer, tempDir } from '../../support/servers.js';
import { startWorkflowService, type startTestService } from '../../support/test-service.js';

type Json = Record<string, any>;

const FLOW =
  'version: 1.0\ntasks:\n  first:\n    action: defs.step\n    next:\n      - do: second\n  second:\n    action: defs.step\n';
const STEP = 'name: step\npack: defs\nrunner_type: noop\nenabled: true\nparameters: {}\n';

/**
 * The engine keeps the Orquesta definitions it inspected, by their text: a workflow started again
 * from the same file is neither parsed nor inspected again. What it starts must still follow the
 * file and the registered actions as they are at each start.
 */
for (const target of STORE_TARGETS) {
  describeWithServer(
    `workflow definitions across starts (${target.kind})`,
    'MongoDB (SQUALL_TEST_MONGO_URL)',
    target.available,
    () => {
      let svc: Awaited<ReturnType<typeof startTestService>>;
      const packs = tempDir('squall-wf-defs-');
      let dir: string;
      const client = apiClient(() => svc.url);
      const { api } = client;
      const run = async (parameters: Json = {}) => client.finished(await client.run('defs.flow', parameters));
      const tasksRun = async (id: string) =>
        (await svc.services.store.executions.find({ parent: id }, { sort: { start_timestamp: 1 } })).map(
          (c) => (c.context.orquesta as { task_id?: string } | undefined)?.task_id,
        );
      const register = async () => {
        const res = await api('POST', '/api/v1/packs/register', { packs: ['defs'] });
        expect(res.status, res.text).toBe(200);
      };

      beforeAll(async () => {
        dir = writeTestPack(packs.dir, 'defs', {
          'actions/flow.yaml':
            'name: flow\npack: defs\nrunner_type: orquesta\nentry_point: workflows/flow.yaml\nenabled: true\nparameters: {}\n',
          'actions/workflows/flow.yaml': FLOW,
          'actions/step.yaml': STEP,
        });
        ({ svc } = await startWorkflowService(target.kind, { packs: packs.dir }));
      });
      afterAll(async () => {
        await svc?.cleanup();
        packs.cleanup();
      });

      it('runs the definition as the file says at each start, whatever it said at the last one', async () => {
        const ok = await run();
        expect(ok.status, JSON.stringify(ok.result)).toBe('succeeded');
        expect(await tasksRun(ok.id)).toEqual(['first', 'second']);

        // The file edited: a task leads to one that does not exist.
        writeFileSync(
          path.join(dir, 'actions', 'workflows', 'flow.yaml'),
          FLOW.replace('- do: second', '- do: nowhere'),
        );
        const bad = await run();
        expect(bad.status).toBe('failed');
        expect(bad.result.errors.map((e: Json) => e.type)).toContain('semantic');
        expect(JSON.stringify(bad.result.errors)).toContain('nowhere');
        expect(await tasksRun(bad.id)).toEqual([]);

        // Back as it was, then only the second task changed: the new text runs, not the first one's.
        writeFileSync(path.join(dir, 'actions', 'workflows', 'flow.yaml'), FLOW);
        expect((await run()).status).toBe('succeeded');
        writeFileSync(
          path.join(dir, 'actions', 'workflows', 'flow.yaml'),
          FLOW.replaceAll('second', 'third'),
        );
        const changed = await run();
        expect(changed.status, JSON.stringify(changed.result)).toBe('succeeded');
        expect(await tasksRun(changed.id)).toEqual(['first', 'third']);
        writeFileSync(path.join(dir, 'actions', 'workflows', 'flow.yaml'), FLOW);
      });

      it('checks the same definition against the actions as they are registered at each start', async () => {
        expect((await run()).status).toBe('succeeded');
        // The task's action now requires an input the definition does not give.
        writeFileSync(
          path.join(dir, 'actions', 'step.yaml'),
          STEP.replace('parameters: {}', 'parameters:\n  who:\n    type: string\n    required: true'),
        );
        await register();
        const refused = await run();
        expect(refused.status).toBe('failed');
        expect(refused.result.errors).toContainEqual(
          expect.objectContaining({
            type: 'content',
            message: 'Action "defs.step" is missing required input "who".',
          }),
        );
        expect(await tasksRun(refused.id)).toEqual([]);

        writeFileSync(path.join(dir, 'actions', 'step.yaml'), STEP);
        await register();
        expect((await run()).status).toBe('succeeded');
      });
    },
  );
}
