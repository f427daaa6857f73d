import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { chatopsSubsystem } from '../../../src/chatops/index.js';
import { contentSubsystem } from '../../../src/content/subsystem.js';
import { executionsSubsystem } from '../../../src/executions/subsystem.js';
import { STORE_TARGETS, describeWithServer, freshMongoUrl } from '../../support/servers.js';
import { startTestService, testSecretsSubsystem } from '../../support/test-service.js';
import { writePack } from '../../unit/content/helpers.js';

/**
 * A router pack whose alias, like vyatta's cfg_ip_route, has one format naming a parameter its
 * action lacks (a typo) next to a correct one. st2 registers such an alias; the action's
 * parameter schema refuses the misspelt parameter when a command gives it.
 */
const PACK: Record<string, string> = {
  'actions/add_route.yaml': `---
name: add_route
runner_type: local-shell-cmd
parameters:
  subnet:
    type: string
    required: true
  next_hop:
    type: string
    default: none
  cmd:
    default: "echo route {{ subnet }} via {{ next_hop }}"
`,
  'aliases/add_route.yaml': `---
name: add_route
action_ref: router.add_route
formats:
  - "route add {{subnet}}"
  - "route add {{subnet}} via {{nexthop_typo}}"
`,
};

for (const target of STORE_TARGETS) {
  describeWithServer(
    `an alias naming a parameter its action lacks (${target.kind})`,
    'MongoDB (SQUALL_TEST_MONGO_URL)',
    target.available,
    () => {
      let root: string;
      let svc: Awaited<ReturnType<typeof startTestService>>;
      const execute = async (format: string, command: string) => {
        const res = await fetch(`${svc.url}/api/v1/aliasexecution`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            name: 'router.add_route',
            format,
            command,
            user: 'carol',
            source_channel: 'x',
          }),
        });
        return { status: res.status, body: (await res.json()) as Record<string, any> };
      };

      beforeAll(async () => {
        root = dirname(await writePack(PACK, 'router'));
        const executions = executionsSubsystem();
        const chatops = chatopsSubsystem(() => executions.service());
        const subsystems = [testSecretsSubsystem(), contentSubsystem(), executions, chatops];
        const mongoUrl = target.kind === 'mongo' ? freshMongoUrl() : undefined;
        svc = await startTestService({
          subsystems,
          mongoUrl,
          config: { 'auth.enable': false, 'packs.paths': [root] },
        });
      }, 60_000);
      afterAll(async () => {
        await svc?.cleanup();
        if (root) await rm(root, { recursive: true, force: true });
      });

      it('registers the alias, runs its correct format, and refuses the misspelt parameter naming it', async () => {
        const alias = await fetch(`${svc.url}/api/v1/actionalias/router.add_route`);
        expect(alias.status).toBe(200);

        const ok = await execute('route add {{subnet}}', 'route add 10.0.0.0/8');
        expect(ok.status, JSON.stringify(ok.body)).toBe(201);
        expect(ok.body.execution.parameters).toMatchObject({ subnet: '10.0.0.0/8' });

        const typo = await execute(
          'route add {{subnet}} via {{nexthop_typo}}',
          'route add 10.0.0.0/8 via 10.1.1.1',
        );
        expect(typo.status).toBe(400);
        expect(typo.body.faultstring).toMatch(/"nexthop_typo" is not a parameter of this action/);
      });
    },
  );
}
