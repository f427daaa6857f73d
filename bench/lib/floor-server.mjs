// The floors of scenario 1, as their own process like Squall and Node-RED:
//   202   — answer 202 and do nothing (the cost of HTTP on this box)
//   spawn — spawn `true` (no shell) per request, answer 200 when it exits (the cost of a process)
//   bash  — spawn `bash -c true` per request (what core.local does for `cmd: true`)
import http from 'node:http';
import { spawn } from 'node:child_process';

const mode = process.argv[2] ?? '202';
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    if (mode === '202') {
      res.writeHead(202, { 'content-type': 'application/json' }).end('{}');
      return;
    }
    const [cmd, args] = mode === 'bash' ? ['bash', ['-c', 'true']] : ['true', []];
    const child = spawn(cmd, args, { stdio: 'ignore' });
    child.on('exit', (code) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ code })),
    );
    child.on('error', (err) => res.writeHead(500).end(String(err)));
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`));
process.on('SIGTERM', () => process.exit(0));
