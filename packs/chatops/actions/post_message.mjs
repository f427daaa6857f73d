// chatops.post_message: hands the message to the chat layer through `sdk.chat.postMessage`,
// which the Squall action SDK provides to Node actions (see the pack README).
export default async function postMessage(params, sdk = {}) {
  if (!sdk.chat || typeof sdk.chat.postMessage !== 'function') {
    throw new Error(
      'chatops.post_message: no chat adapter is available (sdk.chat.postMessage missing); is the ChatOps service enabled?',
    );
  }
  const posted = await sdk.chat.postMessage({
    channel: params.channel,
    message: params.message,
    ...(params.user ? { user: params.user } : {}),
    whisper: Boolean(params.whisper),
    ...(params.thread_id ? { thread_id: params.thread_id } : {}),
    ...(params.extra ? { extra: params.extra } : {}),
    ...(params.context ? { context: params.context } : {}),
    ...(params.route ? { route: params.route } : {}),
  });
  return { channel: params.channel, posted: posted ?? true };
}
