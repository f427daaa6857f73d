import type { Command } from 'commander';
import yaml from 'js-yaml';

export function registerConfig(program: Command): void {
  const config = program.command('config').description('Inspect Squall configuration');
  config
    .command('schema')
    .description('Print the configuration JSON schema (the reference for squall.yaml and SQUALL_* variables)')
    .option('--env', 'list the environment variable of every key instead')
    .action(async (opts: { env?: boolean }) => {
      const { configLeaves, configSchema } = await import('../../config/index.js');
      if (opts.env) {
        for (const leaf of configLeaves())
          process.stdout.write(`${leaf.env.padEnd(36)} ${leaf.path.join('.')}\n`);
        return;
      }
      process.stdout.write(JSON.stringify(configSchema, null, 2) + '\n');
    });
  config
    .command('show')
    .description('Print the effective configuration (file + SQUALL_* + defaults), secrets masked')
    .option('-c, --config <file>', 'configuration file')
    .option('--json', 'JSON instead of YAML')
    .action(async (opts: { config?: string; json?: boolean }) => {
      const { loadConfig, maskConfig } = await import('../../config/index.js');
      const { config: effective, file, warnings } = loadConfig({ file: opts.config });
      const masked = maskConfig(effective);
      // YAML comments keep the output a valid config; JSON has none, so its warnings go to stderr.
      if (opts.json) {
        for (const warning of warnings) process.stderr.write(`warning: ${warning}\n`);
        process.stdout.write(JSON.stringify(masked, null, 2) + '\n');
      } else {
        const notes = warnings.map((w) => `# warning: ${w}\n`).join('');
        process.stdout.write(`# from ${file ?? 'defaults and environment'}\n${notes}` + yaml.dump(masked));
      }
    });
}
