// core.sendmail: a minimal SMTP client on Node built-ins (net/tls), configured by the core pack
// config (config.schema.yaml: smtp_host, smtp_port, smtp_tls, smtp_starttls, smtp_username,
// smtp_password, from, timeout). Supports plain SMTP, implicit TLS, STARTTLS and AUTH PLAIN.
import net from 'node:net';
import tls from 'node:tls';
import os from 'node:os';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { randomBytes } from 'node:crypto';

class SmtpConnection {
  constructor(socket, timeoutMs) {
    this.socket = socket;
    this.timeoutMs = timeoutMs;
    this.buffer = '';
    this.waiters = [];
    this.lines = [];
    this.attach(socket);
  }

  attach(socket) {
    this.socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => {
      this.buffer += chunk;
      let i;
      while ((i = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, i).replace(/\r$/, '');
        this.buffer = this.buffer.slice(i + 1);
        this.lines.push(line);
        // "250-..." continues a multi-line reply, "250 ..." ends it.
        if (/^\d{3}(?: |$)/.test(line)) {
          const reply = { code: Number(line.slice(0, 3)), lines: this.lines.map((l) => l.slice(4)) };
          this.lines = [];
          const waiter = this.waiters.shift();
          if (waiter) waiter.resolve(reply);
        }
      }
    });
    socket.on('error', (err) => this.failAll(err));
  }

  failAll(err) {
    for (const w of this.waiters.splice(0)) w.reject(err);
  }

  read() {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`SMTP server did not answer within ${this.timeoutMs / 1000}s`)),
        this.timeoutMs,
      );
      this.waiters.push({
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
  }

  async command(line, expected) {
    const reply = this.read();
    this.socket.write(`${line}\r\n`);
    const r = await reply;
    if (!expected.includes(r.code)) {
      const shown = line.startsWith('AUTH') ? 'AUTH PLAIN ***' : line;
      throw new Error(`SMTP server rejected "${shown}": ${r.code} ${r.lines.join(' ')}`);
    }
    return r;
  }
}

function connect(options) {
  return new Promise((resolve, reject) => {
    const onError = (err) =>
      reject(new Error(`cannot connect to SMTP server ${options.host}:${options.port}: ${err.message}`));
    const socket = options.tls
      ? tls.connect(
          {
            host: options.host,
            port: options.port,
            servername: options.host,
            rejectUnauthorized: options.verify,
          },
          () => resolve(socket),
        )
      : net.connect({ host: options.host, port: options.port }, () => resolve(socket));
    socket.once('error', onError);
  });
}

function encodeHeader(value) {
  // RFC 2047 for non-ASCII header values.
  return /^[\x20-\x7e]*$/.test(value)
    ? value
    : `=?UTF-8?B?${Buffer.from(value, 'utf8').toString('base64')}?=`;
}

function wrap64(buf) {
  return buf.toString('base64').replace(/.{1,76}/g, '$&\r\n');
}

async function buildMessage({ from, to, subject, body, contentType, attachments }) {
  const headers = [
    `From: ${from}`,
    `To: ${to.join(', ')}`,
    `Subject: ${encodeHeader(subject)}`,
    `Date: ${new Date().toUTCString()}`,
    `Message-ID: <${randomBytes(12).toString('hex')}@${os.hostname()}>`,
    'MIME-Version: 1.0',
  ];
  const text = `Content-Type: ${contentType}; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n${wrap64(Buffer.from(body, 'utf8'))}`;
  if (!attachments.length) return `${headers.join('\r\n')}\r\n${text}`;
  const boundary = `squall-${randomBytes(8).toString('hex')}`;
  let out = `${headers.join('\r\n')}\r\nContent-Type: multipart/mixed; boundary="${boundary}"\r\n\r\n--${boundary}\r\n${text}`;
  for (const path of attachments) {
    const data = await readFile(path);
    const name = basename(path);
    out += `\r\n--${boundary}\r\nContent-Type: application/octet-stream; name="${name}"\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename="${name}"\r\n\r\n${wrap64(data)}`;
  }
  return `${out}\r\n--${boundary}--\r\n`;
}

function addressOf(s) {
  const m = /<([^>]+)>/.exec(s);
  return (m ? m[1] : s).trim();
}

export async function sendMail(params, config = {}) {
  const to = String(params.to || '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!to.length) throw new Error('core.sendmail: parameter "to" has no address');
  const body = params.body == null ? '' : String(params.body);
  if (!body && params.send_empty_body === false)
    return { sent: false, reason: 'empty body and send_empty_body is false' };
  const from = params.from || config.from || 'stanley@localhost';
  const host = config.smtp_host || 'localhost';
  const port = Number(config.smtp_port || (config.smtp_tls ? 465 : 25));
  const timeoutMs = Number(config.timeout || 30) * 1000;
  const verify = config.smtp_verify_cert !== false;
  const message = await buildMessage({
    from,
    to,
    subject: String(params.subject || ''),
    body,
    contentType: params.content_type || 'text/html',
    attachments: params.attachments || [],
  });

  const socket = await connect({ host, port, tls: Boolean(config.smtp_tls), verify });
  const conn = new SmtpConnection(socket, timeoutMs);
  try {
    const greeting = await conn.read();
    if (greeting.code !== 220)
      throw new Error(`SMTP server greeting was ${greeting.code} ${greeting.lines.join(' ')}`);
    let ehlo = await conn.command(`EHLO ${os.hostname()}`, [250]);
    const offersStartTls = ehlo.lines.some((l) => /^STARTTLS\b/i.test(l));
    if (!config.smtp_tls && config.smtp_starttls !== false && offersStartTls) {
      await conn.command('STARTTLS', [220]);
      const secure = await new Promise((resolve, reject) => {
        const s = tls.connect({ socket, servername: host, rejectUnauthorized: verify }, () => resolve(s));
        s.once('error', reject);
      });
      socket.removeAllListeners('data');
      conn.attach(secure);
      ehlo = await conn.command(`EHLO ${os.hostname()}`, [250]);
    }
    if (config.smtp_username) {
      const token = Buffer.from(`\0${config.smtp_username}\0${config.smtp_password || ''}`, 'utf8').toString(
        'base64',
      );
      await conn.command(`AUTH PLAIN ${token}`, [235]);
    }
    await conn.command(`MAIL FROM:<${addressOf(from)}>`, [250]);
    for (const rcpt of to) await conn.command(`RCPT TO:<${addressOf(rcpt)}>`, [250, 251]);
    await conn.command('DATA', [354]);
    // Dot-stuffing (RFC 5321 §4.5.2).
    const data = message.replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..');
    const accepted = await conn.command(`${data}${data.endsWith('\r\n') ? '' : '\r\n'}.`, [250]);
    await conn.command('QUIT', [221]).catch(() => undefined);
    return {
      sent: true,
      from,
      to,
      subject: params.subject,
      server: `${host}:${port}`,
      response: accepted.lines.join(' '),
    };
  } finally {
    conn.socket.destroy();
  }
}

export default async function sendmail(params, sdk = {}) {
  return sendMail(params, sdk.config || {});
}
