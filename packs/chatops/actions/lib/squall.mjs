// What st2's chatops python actions do with st2client, through Squall's API with the execution's
// temporary token (ST2_ACTION_API_URL / ST2_ACTION_AUTH_TOKEN), so RBAC applies to each call as to
// any other caller's.

/** Statuses st2's match_and_execute waits through, and Squall's delayed (a queued policy). */
const PENDING = new Set(['requested', 'scheduled', 'delayed', 'running', 'canceling']);

export async function api(method, path, body) {
  const base = process.env.ST2_ACTION_API_URL;
  if (!base) throw new Error(`Squall's API is not available to this action: ST2_ACTION_API_URL is not set`);
  const token = process.env.ST2_ACTION_AUTH_TOKEN;
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { 'X-Auth-Token': token } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = text;
  }
  if (!res.ok) {
    const why =
      parsed && typeof parsed === 'object' && parsed.faultstring ? parsed.faultstring : text.slice(0, 300);
    throw new Error(`${method} ${path} failed with ${res.status}: ${why}`);
  }
  return parsed;
}

/** st2's chatops.match: the one alias `text` means, and the representation it matched. */
export async function match(text) {
  const found = await api('POST', '/actionalias/match', { command: text });
  const alias = found.actionalias;
  return {
    alias: { name: alias.name, pack: alias.pack, action_ref: alias.action_ref },
    representation: found.representation,
  };
}

/**
 * st2's chatops.match_and_execute: runs the alias `text` means as `user` would from chat, waits
 * for the execution to finish and returns its id. As st2's, the execution notifies no chat route:
 * whoever called this posts the result (chatops.run).
 */
export async function matchAndExecute({ text, source_channel, user }) {
  const found = await api('POST', '/actionalias/match', { command: text });
  const created = await api('POST', '/aliasexecution', {
    name: `${found.actionalias.pack}.${found.actionalias.name}`,
    format: found.representation,
    command: text,
    ...(source_channel ? { source_channel } : {}),
    ...(user ? { user } : {}),
    notification_route: '',
  });
  const id = created.execution.id;
  let execution = created.execution;
  while (PENDING.has(execution.status)) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    execution = await api('GET', `/executions/${encodeURIComponent(id)}`);
  }
  return id;
}

/** st2's chatops.format_execution_result: {enabled, message} and the alias's rendered `extra`. */
export async function formatExecutionResult(executionId) {
  if (!executionId) throw new Error('Invalid execution_id provided.');
  return api('GET', `/chatops/result/${encodeURIComponent(executionId)}`);
}
