/**
 * The configuration schema. It validates squall.yaml and SQUALL_* overrides, and it is the
 * reference documentation: `squall config schema` prints it. Every leaf maps to an environment
 * variable named after its path (api.port → SQUALL_API_PORT).
 */
/** One target of a notification route (chatops.routes): a chat channel or a webhook. */
const routeTarget = {
  type: 'object',
  additionalProperties: false,
  properties: {
    adapter: { type: 'string' },
    channel: { type: 'string' },
    thread: { type: 'string' },
    webhook: { type: 'string', pattern: '^https?://' },
    headers: { type: 'object', additionalProperties: { type: 'string' } },
  },
} as const;

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
        max_admin_page_size: {
          type: 'integer',
          minimum: 0,
          default: 10000,
          description:
            'Largest page of executions an admin gets, limit=-1 ("all") included; X-Limit then says so and offset pages on. 100,000 executions as one answer froze the service for 11 s and took 640 MB more. 0: no limit.',
        },
        cors_origins: {
          type: 'array',
          items: { type: 'string' },
          default: [],
          description: 'Origins allowed by CORS.',
        },
        max_streams_per_user: {
          type: 'integer',
          minimum: 0,
          default: 32,
          description:
            'Event streams (/stream/v1/…) one user may hold open in one process; past it a new one is a 429. 0: no limit.',
        },
        max_waiting_webhooks_per_user: {
          type: 'integer',
          minimum: 0,
          default: 64,
          description:
            "Synchronous webhooks (?wait=, or a trigger's wait parameter) one user may hold waiting at once in one process; an HMAC-signed webhook sent without credentials counts against its url. Each holds a socket and hears every execution event until it answers. Past it a new one is a 429 and nothing is dispatched. 0: no limit.",
        },
        max_waiting_webhooks: {
          type: 'integer',
          minimum: 0,
          default: 1024,
          description:
            'Synchronous webhooks all users together may hold waiting at once in one process; past it a new one is a 429 and nothing is dispatched. 0: no limit.',
        },
        max_stream_buffer_bytes: {
          type: 'integer',
          minimum: 0,
          default: 8388608,
          description:
            'Bytes of events an event stream may hold for a client that is not reading them; past it the stream is closed (the client reconnects). A client that never read kept every event in memory: 30 such streams and a command printing 30 MB took 1.5 GB. 0: no limit.',
        },
        headers_timeout_ms: {
          type: 'integer',
          minimum: 1000,
          default: 20000,
          description:
            "How long a client may take to send a request's headers before its connection is closed (slow clients holding sockets).",
        },
        keep_alive_timeout_ms: {
          type: 'integer',
          minimum: 1000,
          default: 65000,
          description:
            "How long an idle keep-alive connection stays open for the client's next request. Keep it above the idle timeout of any load balancer or client pool in front (AWS ALB 60 s): whichever side closes first races the other's next request, which then fails without an answer. Node's default was 5 s.",
        },
        request_timeout_ms: {
          type: 'integer',
          minimum: 1000,
          default: 120000,
          description:
            'How long a client may take to send a whole request, body included, before its connection is closed.',
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
        cache_mb: {
          type: 'integer',
          minimum: 1,
          default: 4,
          description:
            "Embedded store: SQLite's page cache in MiB, per connection (the writer and the read-aside worker). The store's memory stays within it however much history is kept; pages beyond it are read from the operating system's file cache.",
        },
        check_on_start: {
          type: 'boolean',
          default: true,
          description:
            'Embedded store: check the file for damage (PRAGMA quick_check) at start; it reads the whole file (see README, "Where data lives").',
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
        api_url: {
          type: 'string',
          description:
            "st2's [auth] api_url: the public base URL of the API without its version, as clients reach it. Workflows' st2.api_url and actions' ST2_ACTION_API_URL are <api_url>/v1, as in st2 (e.g. http://127.0.0.1:9101/ gives http://127.0.0.1:9101/v1, which Squall also answers). Defaults to <api.url>/api.",
        },
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
        login_throttle: {
          type: 'object',
          additionalProperties: false,
          default: {},
          description:
            'Failed logins (POST /auth/v1/tokens) allowed per user and per client address within a window; beyond them logins answer 429 with Retry-After. Counted per process.',
          properties: {
            window_seconds: {
              type: 'integer',
              minimum: 1,
              default: 300,
              description: 'Length of the window failed logins are counted in, in seconds.',
            },
            max_failures_per_user: {
              type: 'integer',
              minimum: 1,
              default: 10,
              description: 'Failed logins for one user name within the window (any address).',
            },
            max_failures_per_address: {
              type: 'integer',
              minimum: 1,
              default: 30,
              description: 'Failed logins from one client address within the window (any user).',
            },
          },
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
    chatops: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'ChatOps: chat commands (action aliases), results in the thread, notification routes.',
      properties: {
        enable: { type: 'boolean', default: true, description: 'Answer chat commands (with the chat role).' },
        prefix: {
          type: 'string',
          default: '!',
          description:
            'Messages starting with this are commands; so are mentions of the bot and direct messages.',
        },
        bot_name: {
          type: 'string',
          default: 'squall',
          description: 'The name the bot answers to ("@squall help").',
        },
        max_command_length: {
          type: 'integer',
          minimum: 10,
          default: 4000,
          description: 'Longer chat commands are refused unparsed.',
        },
        card_edit_interval_ms: {
          type: 'integer',
          minimum: 0,
          default: 2000,
          description:
            "Shortest time between two edits of an execution's chat card (edits in between are coalesced).",
        },
        default_user: {
          type: 'string',
          default: 'chatops',
          description: 'Squall user that chat users not listed in `users` (nor linked) act as.',
        },
        default_roles: {
          type: 'array',
          items: { type: 'string' },
          default: [],
          description: 'Roles of that default user when it has no account of its own.',
        },
        users: {
          type: 'object',
          additionalProperties: { type: 'string' },
          default: {},
          description: 'Chat identities to Squall users: {"slack:U123": "alice", "shell:bob": "bob"}.',
        },
        link_ttl_ms: {
          type: 'integer',
          minimum: 10000,
          default: 900000,
          description:
            'How long the one-time web link sent by `!link` stays valid (a chat user binds their identity to their Squall account with it).',
        },
        routes: {
          type: 'object',
          default: {},
          description:
            'Notification routes by name: {adapter, channel, thread?} posts to chat; {webhook, headers?} POSTs JSON; a list fans out.',
          additionalProperties: {
            oneOf: [routeTarget, { type: 'array', minItems: 1, items: routeTarget }],
          },
        },
        delivery_attempts: {
          type: 'integer',
          minimum: 1,
          default: 5,
          description: 'Tries per notification before it is given up (and audited as failed).',
        },
        delivery_backoff_ms: {
          type: 'integer',
          minimum: 10,
          default: 2000,
          description: 'Wait before the first retry of a failed delivery; doubles each time.',
        },
        forward_timeout_ms: {
          type: 'integer',
          minimum: 100,
          default: 10000,
          description:
            'A post to a chat adapter that another process is connected to goes to that process over Redis; give up (and retry the delivery) after this long.',
        },
        alias_reload_ms: {
          type: 'integer',
          minimum: 100,
          default: 60000,
          description: 'How often the alias list is re-read besides on alias change events.',
        },
        slack: {
          type: 'object',
          additionalProperties: false,
          default: {},
          description:
            'The Slack transport (adapters/slack, @slack/bolt): Socket Mode needs bot_token + app_token, HTTP mode bot_token + signing_secret.',
          properties: {
            enabled: {
              type: 'boolean',
              default: false,
              description: 'Connect to Slack (with the chat role).',
            },
            mode: {
              type: 'string',
              enum: ['socket', 'http'],
              default: 'socket',
              description: 'socket: outbound WebSocket (no public URL); http: Events API on events_path.',
            },
            bot_token: { type: 'string', secret: true, description: 'The bot token (xoxb-…).' },
            app_token: {
              type: 'string',
              secret: true,
              description: 'The app-level token (xapp-…, connections:write), Socket Mode only.',
            },
            signing_secret: {
              type: 'string',
              secret: true,
              description: 'Verifies HTTP-mode requests (v0 HMAC, 5-minute timestamp window).',
            },
            slash_command: {
              type: 'string',
              pattern: '^/',
              default: '/squall',
              description: 'The slash command answered as a chat command.',
            },
            api_url: {
              type: 'string',
              pattern: '^https?://',
              description: "Web API base URL (default Slack's https://slack.com/api/; an emulator in tests).",
            },
            events_path: {
              type: 'string',
              pattern: '^/',
              default: '/slack/events',
              description: 'HTTP mode: path for events, interactivity and slash commands.',
            },
            port: {
              type: 'integer',
              minimum: 0,
              maximum: 65535,
              default: 3000,
              description:
                "HTTP mode: port of the Slack receiver (its own listener: signatures need the raw body, which the API app's parsers consume).",
            },
          },
        },
        discord: {
          type: 'object',
          additionalProperties: false,
          default: {},
          description: 'The Discord transport (adapters/discord, discord.js).',
          properties: {
            enabled: {
              type: 'boolean',
              default: false,
              description: 'Connect to Discord (with the chat role).',
            },
            token: { type: 'string', secret: true, description: 'The bot token.' },
            application_id: {
              type: 'string',
              description:
                'Application id, for registering the slash command (default: from the gateway READY).',
            },
            guild_id: {
              type: 'string',
              description: 'Register the slash command in this guild (instantly) instead of globally.',
            },
            api_url: {
              type: 'string',
              pattern: '^https?://',
              description: "REST base URL without /v10 (default Discord's; an emulator in tests).",
            },
            gateway_url: {
              type: 'string',
              description:
                'Unused by discord.js 14 (the gateway comes from GET /gateway/bot at api_url); kept for operators.',
            },
            prefix: {
              type: 'string',
              description: 'Command prefix on Discord (default: chatops.prefix).',
            },
            slash_command: {
              type: 'string',
              default: 'squall',
              description: 'Name of the slash command (/squall <command>); empty registers none.',
            },
            message_content: {
              type: 'boolean',
              default: true,
              description:
                'Ask for the privileged Message Content intent (switch it on in the Developer Portal: the app → Bot → Privileged Gateway Intents; else Discord closes the gateway with 4014). Off, Discord sends the text only of messages that mention the bot and of DMs: prefix commands cannot be read, mentions and /squall work.',
            },
          },
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
        enable_common_libs: {
          type: 'boolean',
          default: false,
          description:
            "st2's [packs] enable_common_libs: put a pack's root lib/ first on its Python actions' PYTHONPATH (off by default, as in st2).",
        },
        python_binary: {
          type: 'string',
          minLength: 1,
          default: 'python3',
          description:
            "st2's [actionrunner] python_binary: the Python a pack's virtualenv is made with at install (a name on PATH or a path), e.g. an older python3.8 for a pack whose pinned requirements no longer build on the newest.",
        },
        virtualenv_opts: {
          type: 'array',
          items: { type: 'string' },
          default: [],
          description:
            'st2\'s [actionrunner] virtualenv_opts: extra options for `<python_binary> -m venv`, e.g. ["--system-site-packages"].',
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
        shutdown_grace_ms: {
          type: 'integer',
          minimum: 0,
          default: 10000,
          description:
            'On SIGTERM, how long running actions get to finish. Those still running then have their process groups killed and are recorded as abandoned (re-queued when idempotent), with a result saying so.',
        },
        max_output_chars: {
          type: 'integer',
          minimum: 0,
          default: 67108864,
          description:
            'Output kept per stream (stdout, stderr) of one execution. Past it the beginning is kept (and streamed), then the last 64 KiB, with a line saying how much was dropped; a command that never stops printing cannot fill the memory or the store. 0: no limit.',
        },
      },
    },
    leases: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description:
        'Scale-out leases: each sensor, and each chat bot connection, runs in exactly one process; another process takes it over when that one dies.',
      properties: {
        ttl_ms: {
          type: 'integer',
          minimum: 200,
          default: 15000,
          description:
            'A lease whose process has not heartbeaten (executions.heartbeat_ms) for this long is taken over by another process. At least twice executions.heartbeat_ms.',
        },
        check_every_ms: {
          type: 'integer',
          minimum: 50,
          default: 2000,
          description:
            'How often a process looks for sensors and chat connections to take (unowned, or left by a dead process) and checks it still holds its own. A takeover happens within ttl_ms + check_every_ms.',
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
        store_unheard_actiontrigger: {
          type: 'boolean',
          default: false,
          description:
            "Store the action trigger's instance even when no rule listens to it, as st2 does: traces list one per execution (st2's self-check test_quickstart_trace counts them). It is stored without its payload, which is read from the execution's record, but still costs ~460 bytes of disk per execution (bench/disk.mjs; issue 19's 3 KB per webhook), for a record that only mirrors the execution: off by default, and stored only while a rule listens.",
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
          default: 30000,
          description:
            'After this long a locked job whose process died is taken by another process. A running job renews its lock every third of this; Agenda also holds each finished run in memory for half of it.',
        },
      },
    },
    timers: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description:
        'Timers (core.st2.IntervalTimer, DateTimer, CronTimer; st2-reference.md §3.1), with the timers role.',
      properties: {
        catch_up: {
          type: 'string',
          enum: ['skip', 'once', 'all'],
          default: 'skip',
          description:
            'Ticks missed while no process could fire them (later than misfire_grace_ms): skip = drop them (st2), once = fire one instance for all of them, all = fire each (up to catch_up_limit).',
        },
        misfire_grace_ms: {
          type: 'integer',
          minimum: 0,
          default: 15000,
          description: 'A tick fired at most this late is on time and always fires; later ones are missed.',
        },
        catch_up_limit: {
          type: 'integer',
          minimum: 1,
          default: 1000,
          description: 'With catch_up = all, at most this many missed ticks fire (the most recent ones).',
        },
        resync_interval_ms: {
          type: 'integer',
          minimum: 0,
          default: 60000,
          description:
            'Fallback: how often timers are re-derived from the rules, for rule changes made in another process whose events do not reach this one (no Redis). 0 = only on rule events and at start.',
        },
      },
    },
    retention: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description:
        'Garbage collection of old records (st2 garbagecollector), on by default as n8n prunes: completed executions and the records of their events are kept 30 days, and at most 100,000 executions. 0 turns a limit off (st2 keeps everything).',
      properties: {
        executions_days: {
          type: 'integer',
          minimum: 0,
          default: 30,
          description:
            'Delete completed executions (with their output, stored results and workflow state) older than this.',
        },
        execution_output_days: {
          type: 'integer',
          minimum: 0,
          default: 0,
          description: 'Delete output lines of completed executions older than this (keeps the executions).',
        },
        trigger_instances_days: {
          type: 'integer',
          minimum: 0,
          default: 30,
          description: 'Delete trigger instances older than this.',
        },
        rule_enforcements_days: {
          type: 'integer',
          minimum: 0,
          default: 30,
          description: 'Delete rule enforcements older than this.',
        },
        traces_days: {
          type: 'integer',
          minimum: 0,
          default: 30,
          description: 'Delete traces older than this.',
        },
        tokens_days: {
          type: 'integer',
          minimum: 0,
          default: 7,
          description: 'Delete auth tokens that expired more than this many days ago.',
        },
        inquiries_days: {
          type: 'integer',
          minimum: 0,
          default: 30,
          description: 'Delete answered or timed-out inquiries older than this (pending ones are kept).',
        },
        executions_max_count: {
          type: 'integer',
          minimum: 0,
          default: 100000,
          description:
            'Keep at most this many completed executions: the oldest beyond it are deleted (with their output, stored results and workflow state).',
        },
        check_every_ms: {
          type: 'integer',
          minimum: 1000,
          default: 600000,
          description: 'How often the collection runs (one process at a time, an Agenda job).',
        },
        batch_size: {
          type: 'integer',
          minimum: 1,
          default: 500,
          description: 'Records deleted per batch.',
        },
        batch_pause_ms: {
          type: 'integer',
          minimum: 0,
          default: 200,
          description: 'Pause between batches, so collection never starves the API of the database.',
        },
      },
    },
    backpressure: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description:
        'Refuse new work (429 + Retry-After) on POST /api/v1/executions and webhooks while too much is queued.',
      properties: {
        max_queue_depth: {
          type: 'integer',
          minimum: 0,
          default: 10000,
          description:
            'Executions requested, scheduled or delayed but not yet running above which intake answers 429; 0 = never.',
        },
        retry_after_seconds: {
          type: 'integer',
          minimum: 1,
          default: 5,
          description: 'The Retry-After a refused request is given.',
        },
        refresh_ms: {
          type: 'integer',
          minimum: 100,
          default: 1000,
          description: 'How often each API process re-counts the queue in the store.',
        },
      },
    },
    results: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'Execution results: large ones are stored outside the execution record.',
      properties: {
        max_inline_bytes: {
          type: 'integer',
          minimum: 1024,
          default: 1048576,
          description:
            'A result larger than this (as JSON) is stored apart (files under <data_dir>/results, or GridFS on MongoDB); the execution keeps a preview and the API returns the whole result.',
        },
        preview_bytes: {
          type: 'integer',
          minimum: 0,
          default: 4096,
          description: 'Size of the preview kept in the execution record of an offloaded result.',
        },
      },
    },
    egress: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description:
        'Where the http-request runner (core.http) may connect, whatever an action asks: hosts are resolved and every address they reach is checked, before each request and redirect.',
      properties: {
        block_metadata: {
          type: 'boolean',
          default: true,
          description:
            'Deny link-local addresses (169.254.0.0/16, fe80::/10) and cloud metadata services (169.254.169.254, fd00:ec2::254, 100.100.100.200, metadata.google.internal).',
        },
        deny: {
          type: 'array',
          items: { type: 'string' },
          default: [],
          description: 'CIDRs (10.0.0.0/8), addresses or host names never called. Deny wins over allow.',
        },
        allow: {
          type: 'array',
          items: { type: 'string' },
          default: [],
          description:
            'When not empty, only these may be called: a host whose name is listed, or whose every address is in a listed CIDR or address.',
        },
      },
    },
  },
} as const;
