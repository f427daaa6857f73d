import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/index.js';
import { SquallError } from '../errors.js';
import { VERSION } from '../version.js';
import { registerConfig } from './commands/config.js';
import { registerStart } from './commands/start.js';
import { registerStore } from './commands/store.js';
import { registerLogin } from './commands/login.js';
import { registerWhoami } from './commands/whoami.js';
import { registerKey } from './commands/key.js';
import { registerApikey } from './commands/apikey.js';
import { registerUser } from './commands/user.js';
import { registerRole } from './commands/role.js';
import { registerWorkflow } from './commands/workflow.js';
import { registerAlias } from './commands/alias.js';
import { registerChat } from './commands/chat.js';
import { registerRun } from './commands/run.js';
import { registerExecution } from './commands/execution.js';
import { registerAction } from './commands/action.js';
import { registerPack } from './commands/pack.js';

import { registerRule } from './commands/rule.js';
import { registerTrigger } from './commands/trigger.js';
import { registerTriggerInstance } from './commands/trigger-instance.js';
import { registerWebhook } from './commands/webhook.js';
import { registerTrace } from './commands/trace.js';
import { registerRuleEnforcement } from './commands/rule-enforcement.js';
import { registerSensor } from './commands/sensor.js';
import { registerTimer } from './commands/timer.js';
import { registerInquiry } from './commands/inquiry.js';
/**
 * The `squall` command. Each group lives in ./commands/<group>.ts and registers itself here;
 * commands that talk to a running server go through the API client.
 */
export function buildProgram(): Command {
  const program = new Command('squall')
    .description('Squall: event-driven automation with ChatOps at its centre (StackStorm-compatible)')
    .version(VERSION, '-v, --version', 'print the version')
    .showHelpAfterError('(run with --help for usage)')
    .showSuggestionAfterError(true);
  registerStart(program);
  registerConfig(program);
  registerStore(program);
  registerLogin(program);
  registerWhoami(program);
  registerKey(program);
  registerApikey(program);
  registerUser(program);
  registerRole(program);
  registerWorkflow(program);
  registerAlias(program);
  registerChat(program);
  registerRun(program);
  registerExecution(program);
  registerAction(program);
  registerPack(program);
  registerRule(program);
  registerTrigger(program);
  registerTriggerInstance(program);
  registerWebhook(program);
  registerTrace(program);
  registerRuleEnforcement(program);
  registerSensor(program);
  registerTimer(program);
  registerInquiry(program);
  return program;
}

/** One line for humans, the right exit code: 2 for configuration problems, 1 otherwise. */
export function reportError(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode;
  if (err instanceof ConfigError) {
    process.stderr.write(
      `squall: configuration error:\n${err.message
        .split('\n')
        .map((l) => `  ${l}`)
        .join('\n')}\n  (see: squall config schema)\n`,
    );
    return 2;
  }
  if (err instanceof SquallError) {
    const hint = typeof err.context.hint === 'string' ? `\n  hint: ${err.context.hint}` : '';
    process.stderr.write(`squall: ${err.message}${hint}\n`);
    return 1;
  }
  process.stderr.write(`squall: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return 1;
}

export async function main(argv: string[] = process.argv): Promise<void> {
  const program = buildProgram();
  program.exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    const code = reportError(err);
    process.exitCode = code;
    if (code !== 0 && !(err instanceof CommanderError)) process.exit(code);
  }
}
