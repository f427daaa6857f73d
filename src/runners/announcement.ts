import { SquallError } from '../errors.js';
import { leafRegistry } from '../leaf-registry.js';
import type { Runner } from './types.js';

/** One announcement of the `announcement` runner: st2's AnnouncementDispatcher.dispatch(). */
export interface AnnouncementRequest {
  route: string;
  /** The action's parameters (not the runner's), as st2 publishes them. */
  payload: Record<string, unknown>;
  executionId: string;
  actionRef: string;
}

/**
 * Who delivers announcements in a process: the chat layer (src/chatops), which posts a message to
 * a chat route it names and publishes anything else on the stream, registered in a leaf registry
 * (src/leaf-registry.ts) so the runner imports nothing that imports the runners.
 */
export interface Announcer {
  /** The API URL of the process it serves; runner contexts carry the same URL. */
  apiUrl(): string;
  /** Delivers it; says where it went (for the log). */
  announce(request: AnnouncementRequest): Promise<Record<string, unknown>>;
}

const announcers = leafRegistry<Announcer>('ANNOUNCER_MISSING', 'announcer', 'chatopsSubsystem');

export const registerAnnouncer = announcers.register;

/**
 * `announcement` (st2's announcement_runner, which st2's chatops.post_message uses): publishes the
 * action's parameters as `st2.announcement__<route>` for the bots on the stream, and succeeds with
 * them as its result (`{output: <parameters>, ...<parameters>}`). As st2's, it refuses to run
 * unless the action sets `experimental: true`.
 */
export const announcementRunner: Runner = {
  name: 'announcement',
  async run(ctx) {
    if (ctx.runnerParameters.experimental !== true)
      throw new SquallError(
        'ANNOUNCEMENT_NOT_EXPERIMENTAL',
        `Experimental flag is missing for action ${ctx.action.ref}: the announcement runner needs the runner parameter "experimental" set to true`,
        { action: ctx.action.ref },
      );
    // Its catalog spec (1..255 characters) was checked when the execution was asked for; what a
    // stream event name can hold, by the announcer.
    const route = String(ctx.runnerParameters.route ?? 'general');
    const payload = ctx.actionParameters;
    const delivered = await announcers.for(ctx).announce({
      route,
      payload,
      executionId: ctx.executionId,
      actionRef: ctx.action.ref,
    });
    ctx.logger.info({ route, ...delivered }, 'announcement delivered');
    return { status: 'succeeded', result: { output: payload, ...payload } };
  },
};
