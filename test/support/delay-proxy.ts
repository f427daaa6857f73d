import net from 'node:net';

export interface DelayProxy {
  /** `target` with the proxy's host and port. */
  url: string;
  /** How long what the server sends is held before the client gets it; changeable at any time. */
  delayMs: number;
  close(): Promise<void>;
}

/**
 * A TCP proxy to the server of `target` (a URL such as redis://127.0.0.1:6379/0) that hands what
 * the server sends to the client `delayMs` later, in order: a process on a far or busy link, which
 * hears a message after others have acted on it. What the client sends goes through at once.
 */
export async function startDelayProxy(target: string, delayMs = 0): Promise<DelayProxy> {
  const upstream = new URL(target);
  const sockets = new Set<net.Socket>();
  const proxy: DelayProxy = { url: '', delayMs, close: async () => undefined };
  const server = net.createServer((client) => {
    const server = net.connect(Number(upstream.port), upstream.hostname);
    sockets.add(client).add(server);
    client.pipe(server);
    // Chunks leave in arrival order, each no earlier than delayMs after it arrived.
    const held: Array<{ at: number; chunk: Buffer }> = [];
    let timer: NodeJS.Timeout | undefined;
    let serverGone = false;
    const release = () => {
      timer = undefined;
      while (held.length > 0 && held[0]!.at <= Date.now()) client.write(held.shift()!.chunk);
      if (held.length > 0) timer = setTimeout(release, held[0]!.at - Date.now());
      // What the server sent before it closed still reaches the client, then the close.
      else if (serverGone) client.end();
    };
    server.on('data', (chunk: Buffer) => {
      const last = held[held.length - 1]?.at ?? 0;
      held.push({ at: Math.max(Date.now() + proxy.delayMs, last), chunk });
      timer ??= setTimeout(release, Math.max(0, held[0]!.at - Date.now()));
    });
    const drop = () => {
      if (timer) clearTimeout(timer);
      client.destroy();
      server.destroy();
      sockets.delete(client);
      sockets.delete(server);
    };
    server.on('close', () => {
      serverGone = true;
      sockets.delete(server);
      if (!timer) client.end();
    });
    server.on('error', () => undefined); // followed by 'close'
    client.on('error', drop);
    client.on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  const url = new URL(target);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  proxy.url = url.toString();
  proxy.close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return proxy;
}
