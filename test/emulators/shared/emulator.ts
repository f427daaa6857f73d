import http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { closeServer, closeSockets, listen } from './http.js';
import { ChatRecordings, type Recorder } from './recorder.js';

/**
 * The lifecycle every chat emulator shares: one HTTP server on 127.0.0.1 (a free port), the
 * WebSocket server its upgrades go to, the sockets the bot holds open, and the log of the bot's
 * requests. A subclass answers requests (`route`), decides which upgrades it accepts (`upgrade`,
 * then `accept`), and says how the real service answers a request that failed inside the emulator.
 */
export abstract class ChatEmulator<Call, Post, Update, Upload, Ephemeral> extends ChatRecordings<
  Post,
  Update,
  Upload,
  Ephemeral
> {
  /** Every request the bot made (also rejected and rate-limited ones). */
  abstract readonly calls: Recorder<Call>;
  /** The WebSockets the bot holds open now. */
  protected readonly sockets = new Set<WebSocket>();
  private server?: http.Server;
  private wss?: WebSocketServer;
  private port = 0;

  async start(): Promise<this> {
    const server = http.createServer((req, res) => {
      this.route(req, res).catch((err: unknown) =>
        this.failed(err instanceof Error ? err : new Error(String(err)), res),
      );
    });
    this.wss = new WebSocketServer({ noServer: true });
    server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) =>
      this.upgrade(new URL(req.url ?? '/', this.baseUrl), req, socket, head),
    );
    this.server = server;
    this.port = await listen(server);
    return this;
  }

  /** Ends what the emulator holds for the bot, closes the sockets, then the servers. */
  async stop(): Promise<void> {
    this.stopping();
    await closeSockets(this.sockets);
    this.wss?.close();
    if (this.server) await closeServer(this.server);
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The WebSocket URL for `path` on this emulator. */
  protected socketUrl(path: string): string {
    return `ws://127.0.0.1:${this.port}${path}`;
  }

  /** Completes an upgrade `upgrade` accepted; the socket counts as open until it closes. */
  protected accept(
    req: http.IncomingMessage,
    socket: Duplex,
    head: Buffer,
    connected: (ws: WebSocket) => void,
  ): void {
    this.wss?.handleUpgrade(req, socket, head, (ws) => {
      this.sockets.add(ws);
      ws.on('close', () => this.sockets.delete(ws));
      connected(ws);
    });
  }

  /** Answers one HTTP request as the real service would. */
  protected abstract route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void>;

  /** Accepts a WebSocket upgrade (`accept`) or refuses it by writing to `socket`. */
  protected abstract upgrade(url: URL, req: http.IncomingMessage, socket: Duplex, head: Buffer): void;

  /** Records an error thrown inside `route` and answers (if nothing was sent yet) as the service would. */
  protected abstract failed(error: Error, res: http.ServerResponse): void;

  /** Settles what waits on the bot (timers, pending deliveries) before the servers close. */
  protected abstract stopping(): void;
}
