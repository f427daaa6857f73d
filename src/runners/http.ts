import { readFile } from 'node:fs/promises';
import { setLongTimeout } from '../long-timeout.js';
import path from 'node:path';
import type { Dispatcher, FormData } from 'undici';
import { StringDecoder } from 'node:string_decoder';
import { DEFAULT_MAX_OUTPUT_CHARS } from './output-capture.js';
import { SquallError, errorMessage } from '../errors.js';
import { CANCELED_MESSAGE, timeoutMessage } from './common.js';
import {
  deniedBy,
  EgressPolicy,
  HostList,
  notAllowedBy,
  pinnedLookup,
  resolveHost,
  type Address,
} from './egress.js';
import type { Runner, RunnerContext, RunnerResult } from './types.js';

const METHODS = ['HEAD', 'GET', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'TRACE', 'PATCH', 'PURGE'];
const MAX_REDIRECTS = 20;

/**
 * Reads a response body up to `limit` bytes (0: all of it). An endless or huge response (a stream,
 * a disk image) would otherwise be held whole in the service's memory and stored as the result;
 * past the limit the connection is closed and the result keeps the beginning, saying so.
 */
async function readBounded(
  body: AsyncIterable<Buffer> & { destroy(): unknown },
  limit: number,
): Promise<{ text: string; cut: string }> {
  const decoder = new StringDecoder('utf8');
  let text = '';
  let read = 0;
  for await (const chunk of body) {
    if (limit > 0 && read + chunk.length > limit) {
      text += decoder.write(chunk.subarray(0, limit - read));
      body.destroy();
      return {
        text,
        cut: `\n[squall: the response body was cut after ${limit.toLocaleString('en-US')} bytes (executions.max_output_chars); the rest was not read]`,
      };
    }
    read += chunk.length;
    text += decoder.write(chunk);
  }
  return { text: text + decoder.end(), cut: '' };
}
const DEFAULT_TIMEOUT = 60;

function asStringList(ctx: RunnerContext, name: string): string[] {
  const raw = ctx.runnerParameters[name];
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    throw new SquallError(
      'RUNNER_PARAMETER_INVALID',
      `runner parameter "${name}" of action "${ctx.action.ref}" must be an array of host names`,
      {
        action: ctx.action.ref,
        parameter: name,
      },
    );
  }
  return raw.map((h) => String(h));
}

interface HostRules {
  deny: HostList;
  allow: HostList;
  egress: EgressPolicy;
}

function denied(ctx: RunnerContext, url: URL, why: string, parameter: string): SquallError {
  return new SquallError(
    'HTTP_HOST_DENIED',
    `action "${ctx.action.ref}" may not call ${url.origin}: ${why}`,
    {
      action: ctx.action.ref,
      url: url.toString(),
      parameter,
    },
  );
}

/**
 * st2's url_hosts_blacklist / url_hosts_whitelist, then the config's egress policy, which no
 * action parameter can widen. Addresses are compared, not spellings: the host is resolved and
 * every address it reaches must pass (IPv4-mapped IPv6 is its IPv4 address). Returns the checked
 * addresses, which the connection is then pinned to, so a second DNS answer cannot swap them.
 * Checked before every request, redirects included.
 */
async function checkTarget(ctx: RunnerContext, url: URL, rules: HostRules): Promise<Address[]> {
  const target = {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    addresses: await resolveHost(url.hostname),
  };
  const black = await deniedBy(rules.deny, target);
  if (black) throw denied(ctx, url, `${black} is in url_hosts_blacklist`, 'url_hosts_blacklist');
  const white = notAllowedBy(rules.allow, target);
  if (white) throw denied(ctx, url, `${white} is not in url_hosts_whitelist`, 'url_hosts_whitelist');
  const egress = await rules.egress.refusal(target);
  if (egress) throw denied(ctx, url, egress, 'egress');
  return target.addresses;
}

/** Action parameters win over runner parameters of the same name (core.http defines both kinds). */
function param(ctx: RunnerContext, name: string): unknown {
  const a = ctx.actionParameters[name];
  return a !== undefined && a !== null ? a : ctx.runnerParameters[name];
}

function stringRecord(value: unknown, ctx: RunnerContext, name: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new SquallError(
      'RUNNER_PARAMETER_INVALID',
      `parameter "${name}" of action "${ctx.action.ref}" must be an object`,
      { action: ctx.action.ref, parameter: name },
    );
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (v === undefined || v === null) continue;
    out[k] = typeof v === 'object' ? JSON.stringify(v) : String(v);
  }
  return out;
}

function hasHeader(headers: Record<string, string>, name: string): boolean {
  return Object.keys(headers).some((k) => k.toLowerCase() === name);
}

/** undici (~18 MB loaded), only once a process runs an http-request action. */
const undici = () => import('undici');

async function buildBody(
  ctx: RunnerContext,
  headers: Record<string, string>,
): Promise<string | FormData | undefined> {
  const filePath = param(ctx, 'file_path');
  const fileContent = param(ctx, 'file_content');
  if (typeof filePath === 'string' || typeof fileContent === 'string') {
    const form = new (await undici()).FormData();
    const content =
      typeof filePath === 'string' ? await readFile(filePath) : Buffer.from(String(fileContent));
    const fileName = String(
      param(ctx, 'file_name') ?? (typeof filePath === 'string' ? path.basename(filePath) : 'file'),
    );
    const type = String(param(ctx, 'file_content_type') ?? 'application/octet-stream');
    form.append('file', new Blob([content], { type }), fileName);
    return form;
  }
  const body = param(ctx, 'body');
  if (body === undefined || body === null || body === '') return undefined;
  if (typeof body === 'string') return body;
  if (!hasHeader(headers, 'content-type')) headers['Content-Type'] = 'application/json';
  return JSON.stringify(body);
}

async function makeDispatcher(ctx: RunnerContext, url: URL, addresses: Address[]): Promise<Dispatcher> {
  const { Agent, ProxyAgent } = await undici();
  const verify = ctx.runnerParameters.verify_ssl_cert !== false;
  const proxy =
    url.protocol === 'https:' ? ctx.runnerParameters.https_proxy : ctx.runnerParameters.http_proxy;
  if (typeof proxy === 'string' && proxy !== '') {
    return new ProxyAgent({
      uri: proxy,
      requestTls: { rejectUnauthorized: verify },
      proxyTls: { rejectUnauthorized: verify },
    });
  }
  return new Agent({ connect: { rejectUnauthorized: verify, lookup: pinnedLookup(addresses) } });
}

/** `http-request` (core.http): result `{status_code, body, parsed, headers}`, success iff 200–206 (§1.3). */
export const httpRequestRunner: Runner = {
  name: 'http-request',
  async run(ctx): Promise<RunnerResult> {
    const rawUrl = ctx.runnerParameters.url ?? ctx.actionParameters.url;
    if (typeof rawUrl !== 'string' || rawUrl === '') {
      throw new SquallError(
        'RUNNER_PARAMETER_MISSING',
        `runner parameter "url" of action "${ctx.action.ref}" is required`,
        { action: ctx.action.ref, parameter: 'url' },
      );
    }
    let url: URL;
    try {
      url = new URL(rawUrl);
    } catch (err) {
      throw new SquallError(
        'RUNNER_PARAMETER_INVALID',
        `parameter "url" of action "${ctx.action.ref}" is not a valid URL: ${rawUrl}`,
        {
          action: ctx.action.ref,
          parameter: 'url',
          cause: errorMessage(err),
        },
      );
    }
    const deny = asStringList(ctx, 'url_hosts_blacklist');
    const allow = asStringList(ctx, 'url_hosts_whitelist');
    if (deny.length > 0 && allow.length > 0) {
      throw new SquallError(
        'RUNNER_PARAMETER_INVALID',
        `action "${ctx.action.ref}" sets both url_hosts_blacklist and url_hosts_whitelist; use one of them`,
        {
          action: ctx.action.ref,
        },
      );
    }
    const rules: HostRules = {
      deny: new HostList(deny, 'url_hosts_blacklist'),
      allow: new HostList(allow, 'url_hosts_whitelist'),
      egress: new EgressPolicy(ctx.egress),
    };

    const query = stringRecord(param(ctx, 'params'), ctx, 'params');
    for (const [k, v] of Object.entries(query)) url.searchParams.append(k, v);
    const headers = stringRecord(param(ctx, 'headers'), ctx, 'headers');
    const cookies = stringRecord(param(ctx, 'cookies'), ctx, 'cookies');
    if (Object.keys(cookies).length > 0) {
      headers.Cookie = Object.entries(cookies)
        .map(([k, v]) => `${k}=${v}`)
        .join('; ');
    }
    const username = param(ctx, 'username');
    if (typeof username === 'string' && username !== '' && !hasHeader(headers, 'authorization')) {
      const password = param(ctx, 'password');
      headers.Authorization = `Basic ${Buffer.from(`${username}:${typeof password === 'string' ? password : ''}`).toString('base64')}`;
    }
    let body = await buildBody(ctx, headers);
    const methodParam = param(ctx, 'method');
    let method =
      typeof methodParam === 'string' && methodParam !== ''
        ? methodParam.toUpperCase()
        : body !== undefined
          ? 'POST'
          : 'GET';
    if (!METHODS.includes(method)) {
      throw new SquallError(
        'RUNNER_PARAMETER_INVALID',
        `parameter "method" of action "${ctx.action.ref}" must be one of ${METHODS.join(', ')}, got ${method}`,
        {
          action: ctx.action.ref,
          parameter: 'method',
          value: method,
        },
      );
    }

    const timeoutRaw = param(ctx, 'timeout');
    const timeout = timeoutRaw === undefined || timeoutRaw === null ? DEFAULT_TIMEOUT : Number(timeoutRaw);
    const timeoutController = new AbortController();
    const timer = timeout > 0 ? setLongTimeout(() => timeoutController.abort(), timeout * 1000) : undefined;
    const signal = AbortSignal.any([ctx.signal, timeoutController.signal]);
    const followRedirects = ctx.runnerParameters.allow_redirects === true;

    const dispatchers: Dispatcher[] = [];
    try {
      for (let hop = 0; ; hop++) {
        const dispatcher = await makeDispatcher(ctx, url, await checkTarget(ctx, url, rules));
        dispatchers.push(dispatcher);
        // undici.request rather than fetch: fetch refuses "bad ports" (6000, 6667, 10080, ...)
        // that ops endpoints legitimately use.
        const response = await (
          await undici()
        ).request(url, {
          method: method as Dispatcher.HttpMethod,
          headers,
          body,
          signal,
          dispatcher,
        });
        const header = (name: string): string | undefined => {
          const v = response.headers[name];
          return Array.isArray(v) ? v.join(', ') : v;
        };
        const location = header('location');
        const statusCode = response.statusCode;
        if (followRedirects && location && statusCode >= 300 && statusCode < 400) {
          await response.body.dump();
          if (hop >= MAX_REDIRECTS) {
            return {
              status: 'failed',
              result: { error: `too many redirects (more than ${MAX_REDIRECTS}) starting at ${rawUrl}` },
            };
          }
          url = new URL(location, url);
          // The rule of browsers and requests: 303 (and 301/302 after POST) continue as a body-less GET.
          if (statusCode === 303 || ((statusCode === 301 || statusCode === 302) && method === 'POST')) {
            method = method === 'HEAD' ? 'HEAD' : 'GET';
            body = undefined;
          }
          continue;
        }
        const { text, cut } = await readBounded(
          response.body,
          ctx.maxOutputChars ?? DEFAULT_MAX_OUTPUT_CHARS,
        );
        const respHeaders: Record<string, string> = {};
        for (const key of Object.keys(response.headers)) respHeaders[key] = header(key) ?? '';
        let parsedBody: unknown = text;
        let parsed = false;
        if (cut) parsedBody = text + cut;
        else if (/json/i.test(header('content-type') ?? '') && text !== '') {
          try {
            parsedBody = JSON.parse(text) as unknown;
            parsed = true;
          } catch {
            parsed = false;
          }
        }
        const ok = statusCode >= 200 && statusCode <= 206;
        return {
          status: ok ? 'succeeded' : 'failed',
          result: { status_code: statusCode, body: parsedBody, parsed, headers: respHeaders },
        };
      }
    } catch (err) {
      if (err instanceof SquallError) throw err;
      if (ctx.signal.aborted) return { status: 'canceled', result: { error: CANCELED_MESSAGE } };
      if (timeoutController.signal.aborted)
        return { status: 'timeout', result: { error: timeoutMessage(timeout) } };
      const cause = (err as { cause?: unknown }).cause;
      return {
        status: 'failed',
        result: {
          error: `${method} ${url.toString()} failed: ${cause ? errorMessage(cause) : errorMessage(err)}`,
        },
      };
    } finally {
      timer?.clear();
      await Promise.all(dispatchers.map((d) => d.close().catch(() => undefined)));
    }
  },
};
