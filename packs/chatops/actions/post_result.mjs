// chatops.post_result: asks the chat layer to format and post an execution's result
// (`sdk.chat.postResult`), the action st2's notify rule on core.st2.generic.notifytrigger runs.
export default async function postResult(params, sdk = {}) {
  if (!sdk.chat || typeof sdk.chat.postResult !== 'function') {
    throw new Error(
      'chatops.post_result: no chat adapter is available (sdk.chat.postResult missing); is the ChatOps service enabled?',
    );
  }
  const posted = await sdk.chat.postResult({
    execution_id: params.execution_id,
    channel: params.channel,
    ...(params.user ? { user: params.user } : {}),
    whisper: Boolean(params.whisper),
    ...(params.thread_id ? { thread_id: params.thread_id } : {}),
    ...(params.route ? { route: params.route } : {}),
    ...(params.context ? { context: params.context } : {}),
  });
  return { execution_id: params.execution_id, channel: params.channel, posted: posted ?? true };
}
