import type { Command } from 'commander';
import v8 from 'node:v8';

/**
 * Start-up allocates tens of MB that die young (module loading, content registration): V8 grew
 * its young generation to its maximum (2 × 16 MB) on that, and kept it, empty but resident, long
 * after (an idle server's RSS was ~120 MB at 2 s, ~100 MB only once V8's memory reducer ran, tens
 * of seconds later). Growing it is turned off while Squall starts (it stays at its initial 1 MB per
 * half; more, cheaper scavenges) and back on (V8's default factor, 2) once it is up, so the hot path
 * grows it as before.
 */
function youngGenerationForStartUp(): void {
  v8.setFlagsFromString('--semi-space-growth-factor=1');
}

function youngGenerationForWork(): void {
  v8.setFlagsFromString('--semi-space-growth-factor=2');
}

export function registerStart(program: Command): void {
  program
    .command('start')
    .description(
      'Run Squall: API, rules, scheduler, runners, sensors and chat in one process (or the given --roles)',
    )
    .option('-c, --config <file>', 'configuration file (default: ./squall.yaml when present)')
    .option(
      '-d, --data-dir <dir>',
      'where the embedded store and keys live (default: ./.squall, or SQUALL_DATA_DIR)',
    )
    .option('--host <host>', 'address to listen on (default 127.0.0.1)')
    // Anything but digits is passed on as typed, so that the configuration check names the flag
    // and the value (parseInt made "abc" a NaN, reported as "expected integer, got null").
    .option('-p, --port <port>', 'port to listen on (default 9101)', (v) => (/^\d+$/.test(v) ? Number(v) : v))
    .option(
      '--roles <roles>',
      'comma-separated roles: api,rules,scheduler,runner,sensors,chat,timers (default all)',
      (v) => v.split(',').map((s) => s.trim()),
    )
    .action(
      async (opts: {
        config?: string;
        dataDir?: string;
        host?: string;
        port?: number | string;
        roles?: string[];
      }) => {
        youngGenerationForStartUp();
        // Loaded here, not at the top: the service is most of Squall, and `--help` needs none of it.
        const [
          { loadConfig },
          { createLogger },
          { installCrashPolicy, startService },
          { defaultSubsystems },
        ] = await Promise.all([
          import('../../config/index.js'),
          import('../../log/index.js'),
          import('../../service/index.js'),
          import('../../subsystems.js'),
        ]);
        const { config, warnings } = loadConfig({
          file: opts.config,
          overrides: {
            data_dir: opts.dataDir,
            'api.host': opts.host,
            'api.port': opts.port,
            roles: opts.roles,
          },
          overrideFlags: {
            data_dir: '--data-dir',
            'api.host': '--host',
            'api.port': '--port',
            roles: '--roles',
          },
        });
        const logger = createLogger({ level: config.log.level, format: config.log.format });
        for (const warning of warnings) logger.warn(warning);
        // One stop for SIGTERM, SIGINT and a fatal error, whichever comes first.
        const up: { service?: Awaited<ReturnType<typeof startService>> } = {};
        let stopping: Promise<void> | undefined;
        const stopOnce = (): Promise<void> | undefined => (stopping ??= up.service?.stop());
        installCrashPolicy({ logger, stop: stopOnce, graceMs: config.executions.shutdown_grace_ms });
        const running = await startService({ config, logger, subsystems: defaultSubsystems(config) });
        up.service = running;
        const { services } = running;
        logger.info(
          { url: running.url, store: services.store.kind, dataDir: config.data_dir, roles: config.roles },
          `Squall is running at ${running.url} (store: ${services.store.kind})`,
        );
        process.stdout.write(`\nSquall is up: ${running.url}\n  health: ${running.url}/api/v1/health\n`);
        for (const line of services.startupNotes ?? []) process.stdout.write(`  ${line}\n`);
        process.stdout.write('  stop with Ctrl-C\n\n');
        youngGenerationForWork();

        let shuttingDown = false;
        const shutdown = (signal: string) => {
          if (shuttingDown) {
            logger.warn('second signal: exiting now');
            process.exit(130);
          }
          shuttingDown = true;
          logger.info({ signal }, 'shutting down: letting in-flight jobs finish');
          Promise.resolve(stopOnce())
            .then(() => {
              logger.info('stopped');
              process.exit(0);
            })
            .catch((err) => {
              logger.error({ err }, 'error during shutdown');
              process.exit(1);
            });
        };
        process.on('SIGINT', () => shutdown('SIGINT'));
        process.on('SIGTERM', () => shutdown('SIGTERM'));
      },
    );
}
