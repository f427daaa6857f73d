import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { registerPacks } from '../../../src/content/register.js';
import { silentLogger } from '../../../src/log/index.js';
import type { Store } from '../../../src/store/index.js';
import { STORE_TARGETS, describeWithServer, tempDir } from '../../support/servers.js';

/** Counts the records each registration writes, by wrapping every collection's replace. */
function countWrites(store: Store): { writes: string[] } {
  const seen = { writes: [] as string[] };
  for (const [name, coll] of Object.entries(store) as Array<[string, { replace?: unknown }]>) {
    if (!coll || typeof coll !== 'object' || typeof coll.replace !== 'function') continue;
    const original = (coll.replace as (...a: unknown[]) => Promise<unknown>).bind(coll);
    coll.replace = (rec: { ref?: string; name?: string }, ...rest: unknown[]) => {
      seen.writes.push(`${name}:${rec.ref ?? rec.name}`);
      return original(rec, ...rest);
    };
  }
  return seen;
}

for (const target of STORE_TARGETS) {
  describeWithServer(
    `registering packs again (${target.kind})`,
    'MongoDB (SQUALL_TEST_MONGO_URL)',
    target.available,
    () => {
      const packs = tempDir('squall-register-');
      const config = tempDir('squall-register-config-');
      let store: Store | undefined;
      afterAll(async () => {
        await store?.close();
        packs.cleanup();
        config.cleanup();
      });

      it('writes only what changed on disk: a restart rewrites nothing', async () => {
        const dir = path.join(packs.dir, 'regpack');
        mkdirSync(path.join(dir, 'actions'), { recursive: true });
        writeFileSync(
          path.join(dir, 'pack.yaml'),
          'name: regpack\ndescription: d\nversion: 1.0.0\nauthor: t\n',
        );
        const action = (cmd: string) =>
          `name: hello\nrunner_type: local-shell-cmd\nparameters:\n  cmd:\n    default: ${cmd}\n`;
        writeFileSync(path.join(dir, 'actions', 'hello.yaml'), action('echo one'));
        writeFileSync(path.join(dir, 'actions', 'bye.yaml'), action('echo bye').replace('hello', 'bye'));
        store = (await target.open()).store;
        const options = { store, logger: silentLogger(), packPaths: [packs.dir], configDir: config.dir };
        const writes = countWrites(store);

        await registerPacks(options);
        const first = writes.writes.splice(0);
        expect(first).toContain('actions:regpack.hello');
        expect(first.length).toBeGreaterThan(50); // the bundled packs too

        await registerPacks(options);
        expect(writes.writes.splice(0)).toEqual([]);

        writeFileSync(path.join(dir, 'actions', 'hello.yaml'), action('echo two'));
        await registerPacks(options);
        expect(writes.writes.splice(0)).toEqual(['actions:regpack.hello']);
        const hello = await store.actions.findOne({ ref: 'regpack.hello' });
        expect(
          (hello as unknown as { parameters: { cmd: { default: string } } }).parameters.cmd.default,
        ).toBe('echo two');
      });
    },
  );
}
