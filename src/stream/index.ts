/**
 * The event stream (st2's st2stream): `/stream/v1` serves bus events and execution output as
 * Server-Sent Events. A room of its own: it presents executions, which the API's plumbing must not
 * depend on (that made api part of the rooms' import cycle).
 */
export { streamRoutes, DEFAULT_STREAM_EVENTS, type StreamOptions } from './routes.js';
