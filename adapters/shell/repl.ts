import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { SquallError } from '../../src/chatops/index.js';
import type { ShellEvent } from './adapter.js';
import { ChatScreen } from './screen.js';

export interface ReplOptions {
  /** Squall API base URL. */
  url: string;
  /** Credentials headers (X-Auth-Token / St2-Api-Key), when the server needs them. */
  headers?: Record<string, string>;
  user?: string;
  channel?: string;
  input: Readable;
  output: Writable;
  /** After the input ends, exit once the bot has been quiet this long (default 1,500 ms). */
  quietMs?: number;
}

/** Renders one event for a terminal: threads indented, edits and files marked, buttons numbered. */
export function renderEvent(event: ShellEvent, threadNames: Map<string, number>): string {
  const tag = (thread?: string) => {
    if (!thread) return '';
    if (!threadNames.has(thread)) threadNames.set(thread, threadNames.size + 1);
    return `[thread ${threadNames.get(thread)}] `;
  };
  const indent = (text: string, pad: string) => text.split('\n').join(`\n${pad}`);
  switch (event.type) {
    case 'message': {
      const pad = event.thread ? '    ' : '';
      const who = event.whisperTo ? `${event.from} (to you only)` : event.from;
      return `${pad}${tag(event.thread)}${who}: ${indent(event.text, pad + '  ')}`;
    }
    case 'update':
      return `    (edited) ${indent(event.text, '      ')}`;
    case 'reaction':
      return `    (${event.emoji} on your message)`;
    case 'upload':
      return `    ${tag(event.thread)}[file ${event.filename}${event.title ? ` - ${event.title}` : ''}]\n      ${indent(event.content, '      ')}`;
    case 'ask': {
      const buttons = event.choices.map((c, i) => `[${i + 1}] ${c.label}`).join('  ');
      return `    ${tag(event.thread)}? ${indent(event.question, '      ')}\n      ${buttons}   (type /${event.choices.length > 1 ? '1../' + event.choices.length : '1'} to answer)`;
    }
  }
}

/** A newcomer's first `squall chat` comes before any `squall login`. */
const NOT_LOGGED_IN =
  'log in first: `squall login st2admin` (the first start printed the generated password; it stays in ' +
  '<data_dir>/keys/initial-admin-password until you change it), or set SQUALL_API_KEY / SQUALL_AUTH_TOKEN';

/**
 * `squall chat`: a line-based chat with the bot over the shell adapter's HTTP/SSE API. Lines are
 * sent as messages (start with the prefix, e.g. "!help"); "/N.k" presses button k of message N
 * ("/k" when only one message has buttons, or to answer the question just asked of you); cards are redrawn in place (screen.ts); "/quit" or Ctrl-C leaves at once. When the input ends (a script), it waits for the bot
 * to go quiet.
 */
export async function runRepl(options: ReplOptions): Promise<void> {
  const base = options.url.replace(/\/+$/, '') + '/api/v1/chatops/shell/sessions';
  const headers = { 'content-type': 'application/json', ...(options.headers ?? {}) };
  const out = (line: string) => options.output.write(line + '\n');
  const call = async (method: string, url: string, body?: unknown) => {
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new SquallError(
        'API_UNREACHABLE',
        `cannot reach Squall at ${options.url}: is it running? (${(err as Error).message})`,
        {
          url: options.url,
        },
      );
    }
    const text = await res.text();
    const parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    if (res.status >= 400)
      throw new SquallError(
        String(parsed.code ?? 'CHAT_API_ERROR'),
        `${method} ${new URL(url).pathname}: ${String(parsed.faultstring ?? `HTTP ${res.status}`)}`,
        { status: res.status, ...(res.status === 401 ? { hint: NOT_LOGGED_IN } : {}) },
      );
    return parsed;
  };

  const opened = await call('POST', base, {
    ...(options.user ? { user: options.user } : {}),
    ...(options.channel ? { channel: options.channel } : {}),
  });
  const session = String(opened.session);
  const me = (opened.user as { name: string }).name;
  out(
    `Connected to ${options.url} as ${me} in #${String(opened.channel)}. Type !help for commands, /quit to leave.`,
  );

  const screen = new ChatScreen(options.output as Writable & { isTTY?: boolean });
  let lastEventAt = Date.now();
  const abort = new AbortController();
  const stream = (async () => {
    const res = await fetch(`${base}/${session}/events`, { headers, signal: abort.signal });
    if (!res.body)
      throw new SquallError('CHAT_STREAM_FAILED', `no event stream from ${base}/${session}/events`, {});
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = frame
          .split('\n')
          .filter((l) => l.startsWith('data: '))
          .map((l) => l.slice(6))
          .join('\n');
        const type = /^event: (\w+)/m.exec(frame)?.[1];
        if (!data || type === 'hello') continue;
        const event = JSON.parse(data) as ShellEvent;
        lastEventAt = Date.now();
        screen.event(event);
      }
    }
  })().catch((err: unknown) => {
    if (!abort.signal.aborted) out(`(event stream ended: ${(err as Error).message})`);
  });

  const rl = createInterface({ input: options.input, terminal: false });
  // /quit or Ctrl-C: leave now; the end of a script's input: let the bot finish answering first.
  let leaving = false;
  const leave = () => {
    leaving = true;
    process.exitCode = 130;
    rl.close();
  };
  process.once('SIGINT', leave);
  try {
    for await (const raw of rl) {
      const line = raw.trim();
      if (!line) continue;
      if (line === '/quit' || line === '/exit') {
        leaving = true;
        break;
      }
      screen.typed(raw);
      try {
        if (/^\/\d+(\.\d+)?$/.test(line)) {
          const press = screen.resolvePress(line);
          if ('error' in press) {
            screen.note(press.error);
            continue;
          }
          await call('POST', `${base}/${session}/buttons`, press);
        } else {
          await call('POST', `${base}/${session}/messages`, { text: line });
        }
      } catch (err) {
        screen.note(`(error: ${(err as Error).message})`);
      }
    }
  } finally {
    process.removeListener('SIGINT', leave);
    // An open stdin would keep the process alive after /quit.
    options.input.destroy();
  }
  const quiet = options.quietMs ?? 1500;
  while (!leaving && Date.now() - lastEventAt < quiet) await new Promise((r) => setTimeout(r, 100));
  abort.abort();
  await stream;
  await call('DELETE', `${base}/${session}`).catch(() => undefined);
}
