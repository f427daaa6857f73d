/** The terminal chat adapter (server side) and the `squall chat` REPL (client side). */
export { ShellAdapter, type ShellAdapterOptions, type ShellEvent } from './adapter.js';
export { runRepl, renderEvent, type ReplOptions } from './repl.js';
