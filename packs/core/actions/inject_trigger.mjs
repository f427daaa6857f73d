// core.inject_trigger: dispatches a trigger instance through Squall's API, like st2's
// POST /api/v1/webhooks/st2 ({trigger, payload, trace_tag}), authenticated with the temporary
// token every execution receives (ST2_ACTION_API_URL / ST2_ACTION_AUTH_TOKEN, §1.2).
export default async function injectTrigger(params, sdk = {}) {
  const trigger = params.trigger_name || params.trigger;
  if (!trigger) throw new Error('core.inject_trigger: parameter "trigger_name" is required');
  const env = sdk.env || process.env;
  const apiUrl = env.ST2_ACTION_API_URL;
  const token = env.ST2_ACTION_AUTH_TOKEN;
  if (!apiUrl) throw new Error('core.inject_trigger: ST2_ACTION_API_URL is not set');
  const body = { trigger, payload: params.payload || {} };
  if (params.trace_tag) body.trace_tag = params.trace_tag;
  const res = await fetch(`${apiUrl.replace(/\/+$/, '')}/webhooks/st2`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { 'x-auth-token': token } : {}) },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`core.inject_trigger: API answered HTTP ${res.status}: ${text}`);
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
