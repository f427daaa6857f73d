// The `squallbench` pack: webhook rules for scenario 1 and a trigger type for scenario 4.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export function writeBenchPack(packsDir) {
  const pack = path.join(packsDir, 'squallbench');
  for (const d of ['rules', 'triggers']) mkdirSync(path.join(pack, d), { recursive: true });
  writeFileSync(
    path.join(pack, 'pack.yaml'),
    'ref: squallbench\nname: squallbench\ndescription: Benchmark content\nversion: 1.0.0\nauthor: Squall\nemail: squall@localhost.localdomain\n',
  );
  writeFileSync(
    path.join(pack, 'triggers', 'event.yaml'),
    'name: event\npack: squallbench\ndescription: bench event\nparameters_schema: {}\npayload_schema:\n  type: object\n',
  );
  const rule = (name, url, action, params = '') =>
    writeFileSync(
      path.join(pack, 'rules', `${name}.yaml`),
      `name: ${name}\npack: squallbench\nenabled: true\ntrigger:\n  type: core.st2.webhook\n  parameters:\n    url: ${url}\ncriteria: {}\naction:\n  ref: ${action}\n${params}`,
    );
  rule('hook_noop', 'bench_noop', 'core.noop');
  rule('hook_local', 'bench_local', 'core.local', '  parameters:\n    cmd: "true"\n');
  return pack;
}
