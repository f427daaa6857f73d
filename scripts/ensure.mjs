#!/usr/bin/env node
// Makes a fresh clone runnable: installs dependencies when they are missing or stale (package.json
// or package-lock.json changed since the last install), and with --build compiles TypeScript
// (incrementally) and the web UI when its sources changed. Uses only Node built-ins, because it
// runs before anything is installed.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, statSync, readdirSync, utimesSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const stampFile = path.join(root, 'node_modules', '.squall-deps-stamp');

function run(cmd, cmdArgs, what) {
  process.stderr.write(`[squall] ${what}…\n`);
  const res = spawnSync(cmd, cmdArgs, { cwd: root, stdio: 'inherit', env: process.env });
  if (res.status !== 0) {
    process.stderr.write(`[squall] ${what} failed (exit ${res.status ?? res.signal}).\n`);
    process.exit(res.status ?? 1);
  }
}

function depsHash() {
  const h = createHash('sha256');
  for (const f of ['package.json', 'package-lock.json']) {
    const p = path.join(root, f);
    if (existsSync(p)) h.update(readFileSync(p));
  }
  return h.digest('hex');
}

const want = depsHash();
const have = existsSync(stampFile) ? readFileSync(stampFile, 'utf8').trim() : '';
if (want !== have) {
  // npm prints nothing until it is done (3 min on a fresh clone of the 2-core dev box): say so, or
  // the first `npm start` looks stuck.
  run(
    'npm',
    ['install', '--no-audit', '--no-fund', '--loglevel=error'],
    existsSync(path.join(root, 'node_modules'))
      ? 'installing dependencies (package.json or package-lock.json changed)'
      : 'installing dependencies with npm install (the first install takes a few minutes, quietly)',
  );
  writeFileSync(stampFile, want + '\n');
}

function newestMtime(dir) {
  let newest = 0;
  if (!existsSync(dir)) return 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    // Python writes __pycache__ next to the shim and sensor wrapper when pack code runs: counting it
    // made every start after a Python action recompile everything.
    if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name === '__pycache__') continue;
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

if (args.has('--build')) {
  const buildInfo = path.join(root, 'dist', '.tsbuildinfo');
  const sources = Math.max(
    ...['src', 'adapters', 'aliases'].map((d) => newestMtime(path.join(root, d))),
    statSync(path.join(root, 'tsconfig.json')).mtimeMs,
  );
  if (!existsSync(buildInfo) || statSync(buildInfo).mtimeMs < sources) {
    run(
      process.execPath,
      [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
      'compiling TypeScript',
    );
    run(process.execPath, [path.join(root, 'scripts', 'build-validators.mjs')], 'writing validators');
    // An incremental tsc that finds nothing to emit leaves .tsbuildinfo as it was, so a source
    // touched without a change would have recompiled at every start.
    const now = new Date();
    utimesSync(buildInfo, now, now);
  }
  const web = path.join(root, 'src', 'web');
  if (existsSync(path.join(web, 'package.json')) || existsSync(path.join(web, 'vite.config.ts'))) {
    const built = path.join(web, 'dist', 'index.html');
    if (!existsSync(built) || statSync(built).mtimeMs < newestMtime(path.join(web, 'src'))) {
      run('npm', ['run', 'build:web', '--silent'], 'building the web UI');
    }
  }
}
