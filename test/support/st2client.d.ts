// The parts of npm `st2client` 1.2.6 (StackStorm's JS client, used by hubot-stackstorm) that the
// st2chatops test calls; the package ships no types.
declare module 'st2client' {
  export interface Endpoint {
    protocol?: string;
    host?: string;
    port?: number;
    prefix?: string;
  }
  export interface St2EventSource {
    addEventListener(name: string, listener: (event: { data: string }) => void): void;
    onopen: (() => void) | null;
    onerror: ((err: unknown) => void) | null;
    readyState: number;
    close(): void;
  }
  export interface St2Client {
    setToken(token: { token: string }): St2Client;
    setKey(key: { key: string }): St2Client;
    authenticate(user: string, password: string): Promise<{ token: string; expiry: string }>;
    actionAlias: { list(query?: Record<string, unknown>): Promise<unknown[]> };
    aliasExecution: { create(payload: Record<string, unknown>): Promise<Record<string, unknown>> };
    stream: { listen(): Promise<St2EventSource> };
    close(): void;
  }
  function st2client(
    opts: Endpoint & { auth?: Endpoint; stream?: Endpoint; rejectUnauthorized?: boolean },
  ): St2Client;
  export default st2client;
}
