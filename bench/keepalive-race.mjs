// The keep-alive race: a client sends on a pooled socket just as the server closes it for being
// idle past its keep-alive timeout, and the request ends in ECONNRESET without an answer.
// One real `squall start`; for each idle gap around the server's timeout, a fresh socket carries
// one webhook, lies idle for the gap, then carries another. Run alone: node bench/keepalive-race.mjs
// (SQUALL_RACE_TIMEOUT_MS sets api.keep_alive_timeout_ms; SQUALL_RACE_AGENT_TIMEOUT_MS the agent's
// free-socket timeout, 0 = none, as Node 20's default agent with the server's Keep-Alive hint).
import http from 'node:http';
import { pathToFileURL } from 'node:url';
import { emit, send, sendWebhooks } from './lib/loadgen.mjs';
import { sleep, stopProcess } from './lib/proc.mjs';
import { benchSquallDir, startSquall } from './lib/squall.mjs';

export async function runKeepAliveRace({
  serverTimeoutMs = process.env.SQUALL_RACE_TIMEOUT_MS
    ? Number(process.env.SQUALL_RACE_TIMEOUT_MS)
    : undefined,
  agentTimeoutMs = Number(process.env.SQUALL_RACE_AGENT_TIMEOUT_MS ?? 0),
  rounds = Number(process.env.SQUALL_RACE_ROUNDS ?? 3),
} = {}) {
  const { cfg, remove } = benchSquallDir(
    'squall-bench-race-',
    serverTimeoutMs ? { api: { host: '127.0.0.1', port: 0, keep_alive_timeout_ms: serverTimeoutMs } } : {},
  );
  const s = await startSquall(cfg);
  const timeout = serverTimeoutMs ?? 5000;
  const target = new URL(`${s.url}/api/v1/webhooks/bench_noop`);
  const body = JSON.stringify({ event: 'race' });
  // Gaps straddling the server's timeout, 1 ms apart (the window is about one turn of either
  // side's event loop), all in parallel: each on its own agent.
  const gaps = [];
  for (let d = timeout - 40; d <= timeout + 40; d += 1) gaps.push(d);
  let lost = 0;
  let answered = 0;
  const lostGaps = [];
  // The window is one turn of the server's event loop: timers run before the poll phase, so a
  // keep-alive timer that expired during a busy turn closes the socket even though the request
  // already waits in its buffer. Webhooks at 16 in flight keep the server as busy as the soak's.
  let loading = true;
  const load = (async () => {
    while (loading) await sendWebhooks(s.url, 'bench_noop', 200);
  })();
  try {
    for (let r = 0; r < rounds; r++) {
      await Promise.all(
        gaps.map(async (gap) => {
          const agent = new http.Agent({
            keepAlive: true,
            maxSockets: 1,
            timeout: agentTimeoutMs || undefined,
          });
          await send(agent, target, body);
          await sleep(gap);
          const second = await send(agent, target, body);
          if (second.error) {
            lost++;
            lostGaps.push({ gap, code: second.error.code, reused: second.reused });
          } else answered++;
          agent.destroy();
        }),
      );
    }
  } finally {
    loading = false;
    await load;
    await stopProcess(s.child);
    remove();
  }
  emit({
    name: 'keepalive_race.lost',
    unit: 'requests',
    value: lost,
    n: lost + answered,
    server_timeout_ms: serverTimeoutMs ?? 'default',
    gaps_around_ms: timeout,
    agent_timeout_ms: agentTimeoutMs,
    lost_gaps: lostGaps,
  });
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runKeepAliveRace();
  process.exit(0);
}
