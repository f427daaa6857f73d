import { actionChainRunner } from './action-chain.js';
import { announcementRunner } from './announcement.js';
import { httpRequestRunner } from './http.js';
import { inquirerRunner } from './inquirer.js';
import { localShellCmdRunner, localShellScriptRunner } from './local-shell.js';
import { nodejsRunner } from './nodejs.js';
import { orquestaRunner } from './orquesta.js';
import { noopRunner } from './noop.js';
import { pythonScriptRunner } from './python.js';
import { remoteShellCmdRunner, remoteShellScriptRunner } from './remote-shell.js';
import type { Runner } from './types.js';

export * from './types.js';
export * from './catalog.js';
export { pythonShimDir } from './paths.js';
export { registerAnnouncer, type AnnouncementRequest, type Announcer } from './announcement.js';
export { stopSpawner } from './spawner.js';
export { killOrphans, trackRunsIn } from './run-token.js';
export { KILL_GRACE_MS } from './process.js';
export { SYSTEM_PACK_NAMES, missingVirtualenv } from './virtualenv.js';
export { DATASTORE_METHODS, serveDatastoreCall } from './datastore-rpc.js';
export {
  MAX_CHANNEL_IN_FLIGHT,
  MAX_CHANNEL_MESSAGE_BYTES,
  serveJsonChannel,
  type JsonChannel,
} from './json-channel.js';
export {
  ensureSt2Runtime,
  packPythonPath,
  st2RuntimeBaseDir,
  st2RuntimeSettled,
  stopSt2RuntimeInstall,
} from './st2-runtime.js';
export { parseHosts, type HostResult, type HostTarget } from './remote-shell.js';
export { canonicalAddress, DEFAULT_EGRESS, type EgressSettings } from './egress.js';
export { MAX_PARAM_LENGTH, buildScriptArguments, serializePositional, shellQuote } from './shell-args.js';

/**
 * The runners Squall executes itself, by runner type name (st2 §1.1). Built on first use: the
 * workflow and inquiry runners sit in an import cycle with this index (runners → workflows →
 * executions → runners), so their bindings may not be initialised while this module evaluates.
 */
let runners: Readonly<Record<string, Runner>> | undefined;
const runnerTable = (): Readonly<Record<string, Runner>> =>
  (runners ??= Object.freeze({
    [localShellCmdRunner.name]: localShellCmdRunner,
    [localShellScriptRunner.name]: localShellScriptRunner,
    [noopRunner.name]: noopRunner,
    [httpRequestRunner.name]: httpRequestRunner,
    [pythonScriptRunner.name]: pythonScriptRunner,
    [nodejsRunner.name]: nodejsRunner,
    [remoteShellCmdRunner.name]: remoteShellCmdRunner,
    [remoteShellScriptRunner.name]: remoteShellScriptRunner,
    [orquestaRunner.name]: orquestaRunner,
    [actionChainRunner.name]: actionChainRunner,
    [inquirerRunner.name]: inquirerRunner,
    [announcementRunner.name]: announcementRunner,
  }));

export function getRunner(name: string): Runner | undefined {
  const table = runnerTable();
  return Object.prototype.hasOwnProperty.call(table, name) ? table[name] : undefined;
}
