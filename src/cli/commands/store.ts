import path from 'node:path';
import type { Command } from 'commander';
import type { SqliteDatabase } from '../../store/index.js';

async function openEmbedded(opts: {
  config?: string;
  dataDir?: string;
}): Promise<{ db: SqliteDatabase; dataDir: string }> {
  // Loaded here, not at the top: `squall --help` and the API commands need neither.
  const [{ loadConfig }, { STORE_FILE, SqliteDatabase, secureDataDir }] = await Promise.all([
    import('../../config/index.js'),
    import('../../store/index.js'),
  ]);
  const { config } = loadConfig({ file: opts.config, overrides: { data_dir: opts.dataDir } });
  if (config.store.url)
    throw new Error('the store is MongoDB (store.url): these commands are for the embedded store');
  secureDataDir(config.data_dir);
  const db = new SqliteDatabase(path.join(config.data_dir, STORE_FILE), { cacheMb: config.store.cache_mb });
  return { db, dataDir: config.data_dir };
}

export function registerStore(program: Command): void {
  const store = program.command('store').description('The embedded store (SQLite under the data directory)');
  store
    .command('migrate')
    .description(
      'Import a data directory written by the nedb store (Squall before SQLite); `squall start` does it too',
    )
    .option('-c, --config <file>', 'configuration file')
    .option('-d, --data-dir <dir>', 'data directory (default: ./.squall, or SQUALL_DATA_DIR)')
    .option(
      '--skip-damaged',
      'import the readable records and save the damaged lines aside, instead of stopping',
    )
    .action(async (opts: { config?: string; dataDir?: string; skipDamaged?: boolean }) => {
      const { db, dataDir } = await openEmbedded(opts);
      const { importNedb } = await import('../../store/index.js');
      try {
        db.openAll();
        const result = await importNedb(dataDir, db, {
          skipDamaged: opts.skipDamaged,
          onProgress: (p) =>
            process.stdout.write(`  [${p.fileIndex}/${p.files}] ${p.file}: ${p.records} records\n`),
        });
        if (!result) {
          process.stdout.write(`nothing to import: no nedb store in ${path.join(dataDir, 'db')}\n`);
          return;
        }
        process.stdout.write(
          `imported ${result.records} records from ${result.files} files into ${db.file}\n` +
            `the nedb files are kept in ${result.keptAt}\n`,
        );
        for (const d of result.damaged)
          process.stdout.write(`  skipped damaged ${path.basename(d.file)}:${d.line} (${d.reason})\n`);
      } finally {
        db.close();
      }
    });
  store
    .command('check')
    .description('Check the embedded store file for damage (PRAGMA integrity_check)')
    .option('-c, --config <file>', 'configuration file')
    .option('-d, --data-dir <dir>', 'data directory')
    .action(async (opts: { config?: string; dataDir?: string }) => {
      const { db } = await openEmbedded(opts);
      try {
        const problems = db.db.pragma('integrity_check') as Array<{ integrity_check: string }>;
        const lines = problems.map((p) => p.integrity_check);
        if (lines.length === 1 && lines[0] === 'ok') process.stdout.write(`${db.file}: ok\n`);
        else {
          process.stdout.write(`${db.file} is damaged:\n${lines.map((l) => `  ${l}`).join('\n')}\n`);
          process.exitCode = 1;
        }
      } finally {
        db.close();
      }
    });
}
