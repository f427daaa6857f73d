import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { SquallError } from '../../errors.js';
import type { InquirySchema, PropertySchema } from '../../inquiries/index.js';
import { clientFrom, withClientOptions } from '../client.js';
import { print, withOutputOptions, type OutputFlags } from '../output.js';

const COLUMNS = ['id', 'parent', 'roles', 'users', 'route', 'ttl'];
const ATTRIBUTES = [
  'id',
  'parent',
  'status',
  'schema',
  'roles',
  'users',
  'route',
  'ttl',
  'expires_at',
  'approval',
  'approvals',
];
type Common = OutputFlags & { url?: string };
type Json = Record<string, unknown>;
const HEADERS = { 'X-Squall-Client': 'cli' };

/** Reads answers line by line from stdin (a terminal or a script). */
class LineReader {
  private readonly lines: string[] = [];
  private waiting?: (line: string | null) => void;
  private closed = false;

  constructor(input: NodeJS.ReadableStream) {
    const rl = createInterface({ input, terminal: false });
    rl.on('line', (line) => {
      if (this.waiting) {
        const w = this.waiting;
        this.waiting = undefined;
        w(line);
      } else this.lines.push(line);
    });
    rl.on('close', () => {
      this.closed = true;
      this.waiting?.(null);
    });
  }

  next(): Promise<string | null> {
    if (this.lines.length) return Promise.resolve(this.lines.shift()!);
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve) => (this.waiting = resolve));
  }
}

/**
 * Asks for each property of the schema (st2 `inquiry respond` without -r): its description is
 * the prompt, the answer is coerced to the property's type (yes/no for booleans), and an answer
 * that does not fit is asked again. An empty answer skips an optional property.
 */
export async function promptResponse(
  schema: InquirySchema,
  input: NodeJS.ReadableStream,
  output: NodeJS.WritableStream,
): Promise<Json> {
  // The inquiries module brings the datastore and auth with it; only this prompt needs it.
  const { coerceAnswer, standardSchema } = await import('../../inquiries/index.js');
  const std = standardSchema(schema) as { properties?: Record<string, PropertySchema>; required?: string[] };
  const required = new Set(std.required ?? []);
  const reader = new LineReader(input);
  const response: Json = {};
  for (const [name, prop] of Object.entries(std.properties ?? {})) {
    const hint =
      prop.type === 'boolean' ? ' (yes/no)' : prop.enum ? ` (${prop.enum.map(String).join('/')})` : '';
    for (;;) {
      output.write(`${prop.description ?? name}${hint}${required.has(name) ? '' : ' [optional]'}: `);
      const line = await reader.next();
      if (line === null)
        throw new SquallError('INQUIRY_INPUT_CLOSED', `input ended before "${name}" was answered`, {
          field: name,
        });
      if (line.trim() === '' && !required.has(name)) break;
      try {
        response[name] = coerceAnswer(name, prop, line);
        break;
      } catch (err) {
        output.write(`${(err as Error).message}; try again.\n`);
      }
    }
  }
  return response;
}

/** `squall inquiry` (st2 inquiry): list, get, respond. */
export function registerInquiry(program: Command): void {
  const inquiry = program
    .command('inquiry')
    .description('Inquiries: questions a workflow asks a human (core.ask) (st2 inquiry)');

  withOutputOptions(
    withClientOptions(
      inquiry
        .command('list')
        .description('List inquiries waiting for a response')
        .option('-n, --last <n>', 'how many', '50'),
    ),
  ).action(async (opts: Common & { last: string }) => {
    const items = await clientFrom(opts).get<Json[]>('/api/v1/inquiries', { limit: Number(opts.last) });
    print(items, opts, { columns: COLUMNS });
  });

  withOutputOptions(withClientOptions(inquiry.command('get <id>').description('Show one inquiry'))).action(
    async (id: string, opts: Common) => {
      const item = await clientFrom(opts).get<Json>(`/api/v1/inquiries/${encodeURIComponent(id)}`);
      print(item, opts, { attributes: ATTRIBUTES });
    },
  );

  withOutputOptions(
    withClientOptions(
      inquiry
        .command('respond <id>')
        .description('Respond to an inquiry: prompts for each field, or takes the whole response as JSON')
        .option('-r, --response <json>', 'the response as a JSON object, e.g. \'{"continue": true}\''),
    ),
  ).action(async (id: string, opts: Common & { response?: string }) => {
    const client = clientFrom(opts);
    let response: Json;
    if (opts.response !== undefined) {
      try {
        response = JSON.parse(opts.response) as Json;
      } catch (err) {
        throw new SquallError('CLI_BAD_JSON', `--response is not valid JSON: ${(err as Error).message}`, {
          response: opts.response.slice(0, 200),
        });
      }
      if (!response || typeof response !== 'object' || Array.isArray(response))
        throw new SquallError(
          'CLI_BAD_JSON',
          '--response must be a JSON object, e.g. \'{"continue": true}\'',
          {},
        );
    } else {
      const shown = await client.get<Json>(`/api/v1/inquiries/${encodeURIComponent(id)}`);
      response = await promptResponse((shown.schema ?? {}) as InquirySchema, process.stdin, process.stdout);
    }
    const res = await client.request<Json>('PUT', `/api/v1/inquiries/${encodeURIComponent(id)}`, {
      body: { id, response },
      headers: HEADERS,
    });
    print(res.body, opts, { attributes: ['id', 'response', 'status', 'approvals', 'quorum'] });
  });
}
