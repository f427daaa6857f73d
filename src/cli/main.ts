import { Command, CommanderError } from 'commander';
import { SquallError } from '../errors.js';
import { VERSION } from '../version.js';
import {
  registerConfig,
  registerStart,
  registerStore,
  registerLogin,
  registerWhoami,
  registerKey,
  registerApikey,
  registerUser,
  registerRole,
  registerWorkflow,
  registerAlias,
  registerChat,
  registerChatops,
  registerRun,
  registerExecution,
  registerAction,
  registerPack,
  registerRule,
  registerTrigger,
  registerTriggerInstance,
  registerWebhook,
  registerTrace,
  registerRuleEnforcement,
  registerSensor,
  registerTimer,
  registerInquiry,
} from './commands/index.js';

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
