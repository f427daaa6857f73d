/** Shapes the Slack emulator stores and returns. Field names follow Slack's own JSON. */

export interface SlackUser {
  id: string;
  name: string;
  real_name?: string;
  is_bot?: boolean;
  email?: string;
}

export interface SlackChannel {
  id: string;
  name: string;
  /** A direct-message channel with `user` (channel_type `im`). */
  is_im?: boolean;
  is_private?: boolean;
  user?: string;
  /** Whether the bot is in it (default true): posting elsewhere is `not_in_channel`. conversations.join sets it. */
  is_member?: boolean;
  /** The people in it (default everyone): an ephemeral to anyone else is `user_not_in_channel`. */
  members?: string[];
}

export interface SlackFileRef {
  id: string;
  name: string;
  title: string;
  size: number;
  mimetype: string;
}

export interface SlackMessage {
  type: 'message';
  ts: string;
  channel: string;
  text: string;
  user?: string;
  bot_id?: string;
  blocks?: unknown[];
  thread_ts?: string;
  reply_count?: number;
  reply_users?: string[];
  latest_reply?: string;
  files?: SlackFileRef[];
  edited?: { user: string; ts: string };
  reactions?: { name: string; users: string[]; count: number }[];
  subtype?: string;
  /** Message metadata the app attached (chat.postMessage `metadata`). */
  metadata?: { event_type: string; event_payload: Record<string, unknown> };
}

/** Every Web API request the bot made, in order (including rejected and rate-limited ones). */
export interface SlackCall {
  method: string;
  /** Form fields with `blocks`, `files`, `attachments`, … JSON-decoded. */
  params: Record<string, unknown>;
  token?: string;
  status: number;
  response: unknown;
}

/** A message the bot made visible to everyone in a channel or thread. */
export interface SlackPost extends SlackMessage {
  via: 'chat.postMessage' | 'response_url' | 'files.completeUploadExternal';
}

export interface SlackUpdate {
  channel: string;
  ts: string;
  text: string;
  blocks?: unknown[];
  via: 'chat.update' | 'response_url';
  /** The message after the update. */
  message: SlackMessage;
}

export interface SlackEphemeral {
  channel: string;
  user: string;
  text: string;
  blocks?: unknown[];
  thread_ts?: string;
  message_ts: string;
  via: 'chat.postEphemeral' | 'response_url';
}

export interface SlackUpload {
  file_id: string;
  filename: string;
  title?: string;
  /** Bytes announced in files.getUploadURLExternal. */
  length: number;
  /** Bytes actually received at the upload URL. */
  data?: Buffer;
  channel_id?: string;
  thread_ts?: string;
  initial_comment?: string;
  /** True once files.completeUploadExternal shared it. */
  completed: boolean;
}

/** A POST the bot made to a `response_url` (Bolt's `respond()`). */
export interface SlackResponseUrlPost {
  id: string;
  body: Record<string, unknown>;
}

export type SlackEnvelopeType = 'events_api' | 'slash_commands' | 'interactive';

/** How the bot acknowledged a delivery. */
export interface SlackAck {
  /** 200 for a Socket Mode ack; the HTTP status in HTTP mode (401 for a bad signature, …). */
  status: number;
  /** The ack payload (Socket Mode) or parsed response body (HTTP; a plain string stays a string). */
  payload: unknown;
}

export interface SlackDeliveryOptions {
  /** HTTP mode only: sign with the wrong secret, or use a timestamp 10 minutes old. */
  tamper?: 'bad-signature' | 'stale-timestamp';
}
