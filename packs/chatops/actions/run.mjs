// chatops.run: st2's action chain workflows/run.yaml (match_and_execute, format_execution_result,
// post_message) in one Node action. As st2's chain, it posts the message even when the alias turns
// results off (the chain has no branch on `enabled`; post_result has).
import { formatExecutionResult, matchAndExecute } from './lib/squall.mjs';

export default async function run(params, sdk = {}) {
  const executionId = await matchAndExecute({
    text: params.text,
    source_channel: params.channel,
    user: params.user,
  });
  const formatted = await formatExecutionResult(executionId);
  if (!sdk.chat || typeof sdk.chat.postMessage !== 'function')
    throw new Error(
      'chatops.run: no chat adapter is available (sdk.chat.postMessage missing); is the ChatOps service enabled?',
    );
  await sdk.chat.postMessage({
    channel: params.channel,
    message: formatted.message,
    ...(params.user ? { user: params.user } : {}),
    whisper: Boolean(params.whisper),
    ...(formatted.extra ? { extra: formatted.extra } : {}),
  });
  return {
    execution_id: executionId,
    message: formatted.message,
    ...(formatted.extra ? { extra: formatted.extra } : {}),
  };
}
