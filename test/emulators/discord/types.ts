/** Shapes the Discord emulator stores and returns. Raw objects follow Discord's API v10 JSON. */

export interface DiscordUser {
  id: string;
  username: string;
  global_name?: string | null;
  bot?: boolean;
}

/** A raw channel object (text channel type 0, public thread 11, private thread 12, DM 1). */
export type DiscordChannel = {
  id: string;
  type: number;
  name?: string;
  guild_id?: string;
  parent_id?: string | null;
} & Record<string, unknown>;

/** A raw message object as the REST API and the gateway carry it. */
export type DiscordMessage = {
  id: string;
  channel_id: string;
  guild_id?: string;
  author: DiscordUser & Record<string, unknown>;
  content: string;
  components: unknown[];
  embeds: unknown[];
  attachments: DiscordAttachment[];
  flags: number;
} & Record<string, unknown>;

export interface DiscordAttachment {
  id: string;
  filename: string;
  size: number;
  url: string;
  proxy_url: string;
  content_type?: string;
  description?: string;
}

/** Every REST request the bot made, in order (also rejected and rate-limited ones). */
export interface DiscordCall {
  method: string;
  /** Path below /api/v10, decoded (`/webhooks/…/messages/@original`). */
  path: string;
  query: Record<string, string>;
  /** JSON body, or `payload_json` of a multipart body. */
  body: unknown;
  files: { field: string; filename: string; contentType: string; size: number }[];
  status: number;
}

/** A message the bot made visible in a channel or thread. */
export type DiscordPost = DiscordMessage & {
  via: 'channel' | 'interaction' | 'followup';
};

export interface DiscordUpdate {
  channel_id: string;
  id: string;
  content: string;
  components: unknown[];
  embeds: unknown[];
  via: 'edit' | 'interaction_update' | 'edit_original' | 'edit_followup';
  /** The message after the update. */
  message: DiscordMessage;
}

export interface DiscordUpload {
  channel_id: string;
  message_id: string;
  filename: string;
  contentType: string;
  description?: string;
  data: Buffer;
}

/** How the bot answered an interaction (POST …/callback). */
export interface DiscordInteractionResponse {
  interaction_id: string;
  /** 4 reply, 5 deferred reply, 6 deferred update, 7 update message, 9 modal. */
  type: number;
  data?: Record<string, unknown>;
}

export interface DiscordGatewayEvent {
  kind: 'connect' | 'identify' | 'resume' | 'heartbeat' | 'close' | 'other';
  op?: number;
  code?: number;
  query?: Record<string, string>;
  data?: unknown;
}

export interface DiscordCommand {
  id: string;
  application_id: string;
  guild_id?: string;
  name: string;
  description: string;
  type: number;
  options?: { name: string; type: number; description?: string; required?: boolean }[];
  version: string;
  [key: string]: unknown;
}
