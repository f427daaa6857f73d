/**
 * Runner types as StackStorm declares them (st2-reference.md §1.1): names, runner parameters with
 * their defaults, and output keys. Actions inherit these parameters and may override only
 * default, description, enum, immutable and required.
 */
export interface ParameterSpec {
  type?: 'string' | 'integer' | 'number' | 'boolean' | 'object' | 'array' | 'null' | string[];
  description?: string;
  default?: unknown;
  required?: boolean;
  enum?: unknown[];
  position?: number;
  immutable?: boolean;
  secret?: boolean;
  items?: Record<string, unknown>;
  properties?: Record<string, unknown>;
  [keyword: string]: unknown;
}

export interface RunnerTypeSpec {
  name: string;
  description: string;
  enabled: boolean;
  runner_module: string;
  runner_parameters: Record<string, ParameterSpec>;
  output_key?: string;
  output_schema?: Record<string, unknown>;
  /** Squall-only: false for st2 runners we recognise but do not run (a named warning, not a crash). */
  supported: boolean;
}

/** Attributes of a runner parameter that an action may override (st2 §1). */
export const OVERRIDABLE_RUNNER_PARAMETER_ATTRIBUTES = [
  'default',
  'description',
  'enum',
  'immutable',
  'required',
];

/** The longest action timeout accepted: a year (0 means none). A longer one is surely a mistake. */
export const MAX_TIMEOUT_SECONDS = 365 * 86_400;
const timeoutRange = { minimum: 0, maximum: MAX_TIMEOUT_SECONDS };

const shellCommon: Record<string, ParameterSpec> = {
  cwd: { type: 'string', description: 'Working directory where the command will be executed in.' },
  env: { type: 'object', description: 'Environment variables which will be available to the command.' },
  kwarg_op: { type: 'string', description: 'Operator to use in front of keyword args.', default: '--' },
  sudo: { type: 'boolean', description: 'The command will be executed with sudo.', default: false },
  sudo_password: { type: 'string', description: 'Sudo password.', secret: true, required: false },
  timeout: { type: 'integer', description: 'Action timeout in seconds.', default: 60, ...timeoutRange },
};

const remoteCommon: Record<string, ParameterSpec> = {
  bastion_host: { type: 'string', description: 'The host SSH connections will be proxied through.' },
  cwd: {
    type: 'string',
    description: 'Working directory where the command will be executed.',
    default: '/tmp',
  },
  dir: {
    type: 'string',
    description: 'The working directory where the script is copied to.',
    default: '/tmp',
    immutable: true,
  },
  env: { type: 'object', description: 'Environment variables which will be available to the command.' },
  hosts: {
    type: 'string',
    description: 'A comma delimited string of a list of hosts (host:port allowed).',
    required: true,
  },
  kwarg_op: { type: 'string', description: 'Operator to use in front of keyword args.', default: '--' },
  parallel: {
    type: 'boolean',
    description: 'Run on all hosts in parallel.',
    default: false,
    immutable: true,
  },
  passphrase: { type: 'string', description: 'Passphrase for the private key.', secret: true },
  password: { type: 'string', description: 'Password used to log in.', secret: true },
  port: { type: 'integer', description: 'SSH port.' },
  private_key: { type: 'string', description: 'Private key material or path to the key file.', secret: true },
  sudo: { type: 'boolean', description: 'The remote command will be executed with sudo.', default: false },
  sudo_password: { type: 'string', description: 'Sudo password.', secret: true },
  timeout: { type: 'integer', description: 'Action timeout in seconds.', default: 60, ...timeoutRange },
  username: { type: 'string', description: 'Username used to log in.' },
};

export const RUNNER_TYPES: Record<string, RunnerTypeSpec> = {
  'local-shell-cmd': {
    name: 'local-shell-cmd',
    description: 'A runner to execute local actions as a fixed user.',
    enabled: true,
    runner_module: 'local_shell_command_runner',
    runner_parameters: {
      cmd: { type: 'string', description: 'Arbitrary Linux command to be executed on the host.' },
      ...shellCommon,
    },
    supported: true,
  },
  'local-shell-script': {
    name: 'local-shell-script',
    description: 'A runner to execute local actions as a fixed user.',
    enabled: true,
    runner_module: 'local_shell_script_runner',
    runner_parameters: {
      debug: { type: 'boolean', description: 'Enable debug mode (set -x for bash scripts).', default: false },
      content_version: { type: 'string', description: 'Git revision of the pack content to use.' },
      ...shellCommon,
    },
    supported: true,
  },
  'remote-shell-cmd': {
    name: 'remote-shell-cmd',
    description: 'A remote execution runner that executes commands on remote hosts over SSH.',
    enabled: true,
    runner_module: 'remote_command_runner',
    runner_parameters: {
      cmd: { type: 'string', description: 'Arbitrary Linux command to be executed on the remote host(s).' },
      ...remoteCommon,
    },
    supported: true,
  },
  'remote-shell-script': {
    name: 'remote-shell-script',
    description: 'A remote execution runner that copies a script to remote hosts over SSH and runs it.',
    enabled: true,
    runner_module: 'remote_script_runner',
    runner_parameters: { ...remoteCommon },
    supported: true,
  },
  'python-script': {
    name: 'python-script',
    description: 'A runner for launching python actions.',
    enabled: true,
    runner_module: 'python_runner',
    runner_parameters: {
      debug: { type: 'boolean', default: false },
      content_version: { type: 'string' },
      env: { type: 'object', description: 'Environment variables which will be available to the script.' },
      timeout: { type: 'integer', description: 'Action timeout in seconds.', default: 600, ...timeoutRange },
      log_level: {
        type: 'string',
        default: 'DEBUG',
        enum: ['AUDIT', 'CRITICAL', 'ERROR', 'WARNING', 'INFO', 'DEBUG'],
      },
    },
    output_key: 'result',
    supported: true,
  },
  nodejs: {
    name: 'nodejs',
    description:
      "Squall's native runner: a JS or TS module exporting an action class or function, run in a child process.",
    enabled: true,
    runner_module: 'nodejs_runner',
    runner_parameters: {
      env: { type: 'object', description: 'Environment variables which will be available to the action.' },
      timeout: { type: 'integer', description: 'Action timeout in seconds.', default: 600, ...timeoutRange },
    },
    output_key: 'result',
    supported: true,
  },
  'http-request': {
    name: 'http-request',
    description: 'A HTTP client for running HTTP actions.',
    enabled: true,
    runner_module: 'http_runner',
    runner_parameters: {
      allow_redirects: { type: 'boolean', default: false },
      cookies: { type: 'object' },
      headers: { type: 'object' },
      http_proxy: { type: 'string' },
      https_proxy: { type: 'string' },
      password: { type: 'string', secret: true },
      url: { type: 'string', required: true },
      username: { type: 'string' },
      verify_ssl_cert: { type: 'boolean', default: true },
      url_hosts_blacklist: { type: 'array', items: { type: 'string' } },
      url_hosts_whitelist: { type: 'array', items: { type: 'string' } },
    },
    output_key: 'body',
    supported: true,
  },
  orquesta: {
    name: 'orquesta',
    description: 'A runner for executing orquesta workflows.',
    enabled: true,
    runner_module: 'orquesta_runner',
    runner_parameters: {
      notify: { type: 'array', items: { type: 'string', pattern: '^\\w+$' }, uniqueItems: true, default: [] },
    },
    output_key: 'output',
    supported: true,
  },
  'action-chain': {
    name: 'action-chain',
    description: 'A runner for launching linear action chains.',
    enabled: true,
    runner_module: 'action_chain_runner',
    runner_parameters: {
      display_published: { type: 'boolean', default: true },
      skip_notify: { type: 'array', items: { type: 'string' }, default: [] },
    },
    output_key: 'published',
    supported: true,
  },
  inquirer: {
    name: 'inquirer',
    description: 'A runner that pauses a workflow and asks a human for a response.',
    enabled: true,
    runner_module: 'inquirer_runner',
    runner_parameters: {
      schema: {
        type: 'object',
        default: {
          title: 'response_data',
          type: 'object',
          properties: {
            continue: {
              type: 'boolean',
              description: 'Would you like to continue the workflow?',
              required: true,
            },
          },
        },
      },
      route: { type: 'string', default: '' },
      roles: { type: 'array', default: [] },
      users: { type: 'array', default: [] },
      ttl: {
        type: 'number',
        default: 1440,
        description: 'Time (in minutes) that an unacknowledged Inquiry is cleaned up',
      },
    },
    supported: true,
  },
  noop: {
    name: 'noop',
    description: 'A runner which does nothing.',
    enabled: true,
    runner_module: 'noop_runner',
    runner_parameters: {},
    supported: true,
  },
  announcement: {
    name: 'announcement',
    description: 'A runner for emitting an announcement event on the stream.',
    enabled: true,
    runner_module: 'announcement_runner',
    runner_parameters: {
      experimental: { type: 'boolean', default: false, required: true },
      route: { type: 'string', default: 'general', minLength: 1, maxLength: 255 },
    },
    supported: true,
  },
  'winrm-cmd': winrm('winrm-cmd', 'winrm_command_runner', true),
  'winrm-ps-cmd': winrm('winrm-ps-cmd', 'winrm_ps_command_runner', true),
  'winrm-ps-script': winrm('winrm-ps-script', 'winrm_ps_script_runner', false),
};

function winrm(name: string, module: string, withCmd: boolean): RunnerTypeSpec {
  return {
    name,
    description: 'WinRM runner (recognised for compatibility; Squall does not run it).',
    enabled: false,
    runner_module: module,
    runner_parameters: {
      ...(withCmd ? { cmd: { type: 'string' } } : {}),
      cwd: { type: 'string' },
      env: { type: 'object' },
      host: { type: 'string', required: true },
      kwarg_op: { type: 'string', default: '-' },
      password: { type: 'string', required: true, secret: true },
      port: { type: 'integer', default: 5986 },
      scheme: { type: 'string', default: 'https' },
      timeout: { type: 'integer', default: 60, ...timeoutRange },
      transport: {
        type: 'string',
        default: 'ntlm',
        enum: ['basic', 'certificate', 'credssp', 'kerberos', 'ntlm', 'plaintext', 'ssl'],
      },
      username: { type: 'string', required: true },
      verify_ssl_cert: { type: 'boolean', default: true },
    },
    supported: false,
  };
}

/** Runners st2 once had and removed; packs naming them get a precise warning. */
export const REMOVED_RUNNERS: Record<string, string> = {
  'mistral-v2': 'Mistral workflows were removed in StackStorm 3.3; port the workflow to orquesta',
  'windows-cmd': 'windows-cmd was replaced by winrm-cmd in StackStorm 2.9',
  'windows-script': 'windows-script was replaced by winrm-ps-script in StackStorm 2.9',
  cloudslang: 'the cloudslang runner is not supported',
  'run-local': 'run-local is the pre-1.0 name of local-shell-cmd',
  'run-local-script': 'run-local-script is the pre-1.0 name of local-shell-script',
  'run-remote': 'run-remote is the pre-1.0 name of remote-shell-cmd',
  'run-remote-script': 'run-remote-script is the pre-1.0 name of remote-shell-script',
  'run-python': 'run-python is the pre-1.0 name of python-script',
};

export function getRunnerType(name: string): RunnerTypeSpec | undefined {
  return Object.prototype.hasOwnProperty.call(RUNNER_TYPES, name) ? RUNNER_TYPES[name] : undefined;
}
