/**
 * The configuration schema. It validates squall.yaml and SQUALL_* overrides, and it is the
 * reference documentation: `squall config schema` prints it. Every leaf maps to an environment
 * variable named after its path (api.port → SQUALL_API_PORT).
 */
export const configSchema = {
  $id: 'https://squall.dev/schemas/config.json',
  title: 'Squall configuration',
  type: 'object',
  additionalProperties: false,
  properties: {
    data_dir: {
      type: 'string',
      default: './.squall',
      description: 'Where the embedded store, the encryption key, pack configs and virtualenvs live.',
    },
    roles: {
      type: 'array',
      items: {
        type: 'string',
        enum: ['all', 'api', 'rules', 'scheduler', 'runner', 'sensors', 'chat', 'timers'],
      },
      default: ['all'],
      description: 'Which parts of Squall this process runs (see "Scaling out" in the README).',
    },
    api: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'The HTTP API, webhooks, event stream and web UI.',
      properties: {
        host: { type: 'string', default: '127.0.0.1', description: 'Address to listen on.' },
        port: {
          type: 'integer',
          minimum: 0,
          maximum: 65535,
          default: 9101,
          description: 'Port to listen on (0 picks a free one).',
        },
        url: {
          type: 'string',
          description:
            'Public base URL of the API, used in links posted to chat; defaults to http://host:port.',
        },
        body_limit: {
          type: 'string',
          default: '1mb',
          description: 'Largest request body accepted, e.g. "1mb".',
        },
        max_page_size: {
          type: 'integer',
          minimum: 1,
          default: 100,
          description: 'Largest page a list endpoint returns.',
        },
        cors_origins: {
          type: 'array',
          items: { type: 'string' },
          default: [],
          description: 'Origins allowed by CORS.',
        },
      },
    },
    store: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'Where records live: the embedded store under data_dir (default), or MongoDB.',
      properties: {
        url: {
          type: 'string',
          pattern: '^mongodb(\\+srv)?://',
          description: 'MongoDB connection string (mongodb://host:port/db). Also read from SQUALL_MONGO_URL.',
        },
      },
    },
    redis: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'Optional Redis for job notifications and events between processes.',
      properties: {
        url: {
          type: 'string',
          pattern: '^rediss?://',
          description: 'Redis URL, e.g. redis://127.0.0.1:6379.',
        },
      },
    },
    log: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        level: {
          type: 'string',
          enum: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'],
          default: 'info',
          description: 'Log level.',
        },
        format: {
          type: 'string',
          enum: ['auto', 'json', 'pretty'],
          default: 'auto',
          description: 'auto = pretty on a terminal, JSON otherwise.',
        },
      },
    },
    auth: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        enable: { type: 'boolean', default: true, description: 'Require authentication on the API.' },
        token_ttl: {
          type: 'integer',
          minimum: 60,
          default: 86400,
          description: 'Lifetime of login tokens, in seconds.',
        },
        admin_username: {
          type: 'string',
          default: 'st2admin',
          description: 'Name of the admin created on first start.',
        },
        admin_password: {
          type: 'string',
          secret: true,
          description:
            'Password of the admin created on first start; when absent one is generated and printed once.',
        },
        service_token_ttl: {
          type: 'integer',
          minimum: 60,
          default: 86400,
          description:
            'Lifetime, in seconds, of the temporary token an execution receives (ST2_ACTION_AUTH_TOKEN); revoked when it ends.',
        },
        cookie_secure: {
          type: 'boolean',
          default: false,
          description: 'Mark the web UI auth cookie Secure (set true behind HTTPS).',
        },
      },
    },
    rbac: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'Role-based access control (st2 RBAC): roles and assignments under <data_dir>/rbac/.',
      properties: {
        enable: {
          type: 'boolean',
          default: true,
          description: 'Check permissions; when false every authenticated user may do everything.',
        },
        permission_isolation: {
          type: 'boolean',
          default: false,
          description: 'Users other than admins only see their own executions.',
        },
        definitions_dir: {
          type: 'string',
          description: 'Directory holding roles/*.yaml and assignments/*.yaml; default <data_dir>/rbac.',
        },
      },
    },
    kv: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'The key-value datastore.',
      properties: {
        encryption_key_path: {
          type: 'string',
          description:
            'AES-256 key file for secret values; default <data_dir>/keys/datastore.key, generated (mode 0600) on first start.',
        },
        purge_interval_ms: {
          type: 'integer',
          minimum: 50,
          default: 1000,
          description: 'How often expired keys (ttl) are deleted; they are invisible as soon as they expire.',
        },
      },
    },
    packs: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        paths: {
          type: 'array',
          items: { type: 'string' },
          default: [],
          description: 'Extra directories holding packs, searched after the bundled ./packs.',
        },
        install_dir: {
          type: 'string',
          description: 'Where `squall pack install` puts packs; default <data_dir>/packs.',
        },
        config_dir: {
          type: 'string',
          description: 'Where pack configs <pack>.yaml live; default <data_dir>/configs.',
        },
        virtualenvs_dir: {
          type: 'string',
          description: 'Where per-pack Python virtualenvs live; default <data_dir>/virtualenvs.',
        },
        index_url: {
          type: 'string',
          description: 'Pack index (StackStorm Exchange index.json format): URL or file path.',
        },
      },
    },
    executions: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'Crash recovery: no execution stays in running forever.',
      properties: {
        heartbeat_ms: {
          type: 'integer',
          minimum: 100,
          default: 2000,
          description: 'How often each process records that it is alive.',
        },
        dead_after_ms: {
          type: 'integer',
          minimum: 500,
          default: 15000,
          description:
            'A process silent this long is dead: its running executions become abandoned (or re-run when idempotent).',
        },
        check_every_ms: {
          type: 'integer',
          minimum: 100,
          default: 5000,
          description: 'How often the consistency check runs.',
        },
      },
    },
    rules: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'The rules engine (st2-reference.md §4).',
      properties: {
        system_user: {
          type: 'string',
          default: 'stanley',
          description: 'User rule-fired executions run as (st2 system user).',
        },
        emit_actiontrigger: {
          type: 'boolean',
          default: true,
          description:
            'Dispatch core.st2.generic.actiontrigger for every completed execution (st2 [action_sensor] enable).',
        },
      },
    },
    webhooks: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'POST /api/v1/webhooks/<url> (st2-reference.md §11.1, §10.3 and Squall extensions).',
      properties: {
        max_body_bytes: {
          type: 'integer',
          minimum: 1,
          default: 1048576,
          description: 'Largest webhook request body accepted; larger bodies are answered 413.',
        },
        delivery_id_headers: {
          type: 'array',
          items: { type: 'string' },
          default: ['X-GitHub-Delivery', 'X-Request-Id'],
          description:
            'Headers naming a delivery; a repeated delivery id gets the first answer again and dispatches nothing.',
        },
        max_wait_seconds: {
          type: 'integer',
          minimum: 0,
          default: 300,
          description: 'Upper bound of ?wait=SECONDS (synchronous webhooks).',
        },
      },
    },
    scheduler: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        process_every_ms: {
          type: 'integer',
          minimum: 50,
          default: 5000,
          description: 'How often Agenda polls for due jobs; new jobs start at once through notifications.',
        },
        max_concurrency: {
          type: 'integer',
          minimum: 1,
          default: 50,
          description: 'Jobs this process runs at once.',
        },
        lock_lifetime_ms: {
          type: 'integer',
          minimum: 1000,
          default: 600000,
          description: 'After this long a locked job whose process died is taken by another process.',
        },
      },
    },
  },
} as const;
