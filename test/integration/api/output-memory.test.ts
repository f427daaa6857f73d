import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { createInterface, type Interface } from 'node:readline';
import { createHash } from 'node:crypto';
import { afterEach, expect, it } from 'vitest';
import { ROOT } from '../../support/service-process.js';
import { describeOnEachStore, freshMongoUrl, tempDir } from '../../support/servers.js';

// Clients that ask for a long stored output and then never read it. The output route built the
// whole text and sent it in one piece, and a stream replaying the output (st2 execution tail)
// queued all of it: each such client held a copy in the server until it closed (20 of them, 600 MB
// for a 30 MB output). The server runs in a child process so that its heap can be measured
// after a collection.

const ROWS = 480; // 480 rows of 64 KiB: 30 MiB
const CLIENTS = 20;

function expectedOutput(type?: string): string {
  let out = '';
  for (let i = 0; i < ROWS; i++) {
    if (type && (i % 5 === 4 ? 'stderr' : 'stdout') !== type) continue;
    const head = `${String(i).padStart(8, '0')}:`;
    out += head + String.fromCharCode(97 + (i % 26)).repeat(64 * 1024 - head.length - 1) + '\n';
  }
  return out;
}

interface Worker {
  child: ChildProcess;
  url: string;
  id: string;
  lines: Interface;
  exited: Promise<unknown>;
}

const workers: Worker[] = [];
const sockets: net.Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const w of workers.splice(0)) {
    if (w.child.exitCode === null && w.child.signalCode === null) {
      w.child.kill('SIGKILL');
      await w.exited;
    }
  }
});

async function startWorker(dataDir: string, mongoUrl: string): Promise<Worker> {
  const child = spawn(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', 'test/support/output-worker.ts', dataDir, mongoUrl, String(ROWS)],
    { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const errors: string[] = [];
  child.stderr!.on('data', (d: Buffer) => errors.push(d.toString()));
  const lines = createInterface({ input: child.stdout! });
  const ready = await new Promise<string[]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not start:\n${errors.join('')}`)), 120_000);
    lines.on('line', (line) => {
      const m = /^READY (\S+) (\S+)/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve([m[1], m[2]]);
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`worker exited before it was ready:\n${errors.join('')}`));
    });
  });
  const worker = { child, url: ready[0], id: ready[1], lines, exited };
  workers.push(worker);
  return worker;
}

/** The worker's heap and external memory after a full collection. */
function heap(w: Worker): Promise<number> {
  return new Promise((resolve) => {
    const onLine = (line: string) => {
      const m = /^HEAP (\d+)/.exec(line);
      if (!m) return;
      w.lines.off('line', onLine);
      resolve(Number(m[1]));
    };
    w.lines.on('line', onLine);
    w.child.stdin!.write('heap\n');
  });
}

/** A client that sends its request and never reads a byte of the answer. */
function stalled(w: Worker, path: string): void {
  const url = new URL(w.url);
  const socket = net.connect({ port: Number(url.port), host: url.hostname });
  socket.on('error', () => undefined);
  socket.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
  socket.pause();
  sockets.push(socket);
}

/** The most the worker holds over a few collections, once the stalled clients have been served. */
async function peak(w: Worker): Promise<number> {
  let most = 0;
  for (let i = 0; i < 8; i++) {
    // Each health answer comes after the requests sent before it were taken up.
    await fetch(`${w.url}/api/v1/health`).then((r) => r.text());
    await new Promise((r) => setTimeout(r, 250));
    most = Math.max(most, await heap(w));
  }
  return most;
}

const MB = 1024 * 1024;

describeOnEachStore('output to clients that do not read', (target) => {
  const start = () => {
    const dir = tempDir('squall-output-mem-');
    return startWorker(dir.dir, target.kind === 'mongo' ? freshMongoUrl() : '');
  };

  it('GET /executions/:id/output: a reading client gets every byte, with length and ETag; stalled ones hold little', async () => {
    const w = await start();
    const path = `/api/v1/executions/${w.id}/output`;
    const res = await fetch(w.url + path);
    const body = Buffer.from(await res.arrayBuffer());
    expect(res.status).toBe(200);
    expect(body.equals(Buffer.from(expectedOutput()))).toBe(true);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(res.headers.get('content-length')).toBe(String(body.length));
    // What Express's default (the etag package, weak) gives a body sent whole.
    const sha1 = createHash('sha1').update(body).digest('base64').slice(0, 27);
    expect(res.headers.get('etag')).toBe(`W/"${body.length.toString(16)}-${sha1}"`);
    // fetch() makes a conditional request uncacheable (no-cache): ask as a browser's cache does.
    const again = await new Promise<number>((resolve, reject) =>
      http
        .get(w.url + path, { headers: { 'If-None-Match': res.headers.get('etag')! } }, (r) => {
          r.resume();
          resolve(r.statusCode!);
        })
        .on('error', reject),
    );
    expect(again).toBe(304);
    const stderr = await fetch(`${w.url}${path}?output_type=stderr`);
    expect(await stderr.text()).toBe(expectedOutput('stderr'));

    const before = await heap(w);
    for (let i = 0; i < CLIENTS; i++) stalled(w, path);
    const held = (await peak(w)) - before;
    // One 30 MiB copy each before: 600 MiB.
    expect(held).toBeLessThan(120 * MB);
  }, 240_000);

  it('streams replaying the output to clients that stop reading hold little; a reading one gets it all', async () => {
    const w = await start();
    const res = await fetch(`${w.url}/stream/v1/executions/${w.id}/output`);
    const text = await res.text();
    const data = [...text.matchAll(/^data: (.*)$/gm)].map((m) => JSON.parse(m[1]) as Record<string, unknown>);
    const lines = data.filter((d) => typeof d.data === 'string').map((d) => d.data as string);
    expect(lines.join('')).toBe(expectedOutput());
    expect(text).toMatch(/event: EOF\ndata: \{"id":"[0-9a-f]+","status":"succeeded"\}/);

    const before = await heap(w);
    for (let i = 0; i < CLIENTS / 2; i++) {
      stalled(w, `/stream/v1/executions/${w.id}/output`);
      stalled(
        w,
        `/stream/v1/stream?events=st2.execution.output__create,st2.execution__update&end_event=st2.execution__update&end_execution_id=${w.id}`,
      );
    }
    const held = (await peak(w)) - before;
    expect(held).toBeLessThan(120 * MB);
  }, 240_000);
});
