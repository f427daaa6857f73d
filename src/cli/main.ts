import { Command, CommanderError } from 'commander';
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
import { registerChatops } from './commands/chatops.js';
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
 * Whether the command in argv runs chat transports, so the entry point must register the chat
 * adapters (Slack's and Discord's SDKs) before it runs; every other command starts without them.
 */
export function needsChatAdapters(argv: string[]): boolean {
  // The root command has no options taking a value: the first word is the command.
  return argv.slice(2).find((a) => !a.startsWith('-')) === 'start';
}

/**
 * The `squall` command. Each group lives in ./commands/<group>.ts and registers itself here;
 * commands that talk to a running server go through the API client. Command modules load domain
 * modules inside their actions (`await import()`), so `--help` and the API commands stay quick.
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
  registerChatops(program);
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
  // ConfigError's code: importing the class would load the config schema (and ajv) for every command.
  if (err instanceof SquallError && err.code === 'CONFIG_INVALID') {
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
