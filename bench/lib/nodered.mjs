// Node-RED 4.1.x, headless from files (docs/peers.md §5.2), installed into a scratch dir
// outside the repo — it is not a dependency of Squall. Flow: http in (POST /spawn) → exec in
// spawn mode running `true` (no shell) → its return-code output → http response 200.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { startProcess } from './proc.mjs';

export function ensureNodeRed(scratch) {
  const red = path.join(scratch, 'node_modules', 'node-red', 'red.js');
  if (existsSync(red)) return red;
  mkdirSync(scratch, { recursive: true });
  if (!existsSync(path.join(scratch, 'package.json')))
    writeFileSync(path.join(scratch, 'package.json'), '{"name":"squall-bench-peers","private":true}\n');
  const res = spawnSync(
    'npm',
    ['install', '--prefix', scratch, '--no-audit', '--no-fund', '--loglevel=error', 'node-red@4.1'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      encoding: 'utf8',
    },
  );
  if (res.status !== 0 || !existsSync(red))
    throw new Error(`npm install node-red@4.1 failed: ${res.stderr?.slice(-500)}`);
  return red;
}

export async function startNodeRed(red, dataDir, port) {
  mkdirSync(dataDir, { recursive: true });
  const settings = path.join(dataDir, 'settings.js');
  writeFileSync(
    settings,
    `module.exports = {
  uiHost: "127.0.0.1", uiPort: ${port}, userDir: ${JSON.stringify(dataDir)}, flowFile: "flows.json",
  httpAdminRoot: false, disableEditor: true, httpNodeRoot: "/", credentialSecret: false,
  logging: { console: { level: "warn", metrics: false, audit: false } },
  diagnostics: { enabled: false }, telemetry: { enabled: false },
  externalModules: { autoInstall: false, palette: { allowInstall: false } },
  editorTheme: { tours: false, projects: { enabled: false } }
};\n`,
  );
  const flows = [
    { id: 'tab1', type: 'tab', label: 'bench' },
    {
      id: 'in1',
      type: 'http in',
      z: 'tab1',
      url: '/spawn',
      method: 'post',
      upload: false,
      wires: [['exec1']],
    },
    {
      id: 'exec1',
      type: 'exec',
      z: 'tab1',
      command: 'true',
      addpay: '',
      append: '',
      useSpawn: 'true',
      timer: '',
      winHide: false,
      oldrc: false,
      wires: [[], [], ['out1']],
    },
    { id: 'out1', type: 'http response', z: 'tab1', statusCode: '200', headers: {}, wires: [] },
    { id: 'in2', type: 'http in', z: 'tab1', url: '/noop', method: 'post', upload: false, wires: [['out1']] },
  ];
  writeFileSync(path.join(dataDir, 'flows.json'), JSON.stringify(flows));
  const t0 = performance.now();
  const started = await startProcess(process.execPath, [red, '--settings', settings, '--userDir', dataDir], {
    ready: () => true, // first output line; then poll the route
    label: 'node-red',
  });
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    try {
      const res = await fetch(`${url}/noop`, {
        method: 'POST',
        body: '{}',
        headers: { 'content-type': 'application/json' },
      });
      if (res.status === 200) break;
    } catch {
      /* not yet */
    }
    if (performance.now() - t0 > 60_000)
      throw new Error(`node-red not answering on ${url}:\n${started.log().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { child: started.child, url, readyMs: performance.now() - t0 };
}
