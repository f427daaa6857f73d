import path from 'node:path';
import type { Command } from 'commander';
import { SquallError } from '../../errors.js';
import { clientFrom, withClientOptions, type ApiClient } from '../client.js';
import { followExecution } from '../execution-view.js';
import { outputFormat, print, withOutputOptions, type OutputFlags } from '../output.js';

type Flags = OutputFlags & { url?: string };

/** Waits for the execution a pack install/uninstall answered with; its output, or its error. */
async function followPackExecution(
  client: ApiClient,
  started: { execution_id: string },
): Promise<Record<string, unknown>> {
  const e = await followExecution(client, started.execution_id, { showOutput: false });
  if (e.status !== 'succeeded')
    throw new SquallError(
      String(e.result?.code ?? 'PACK_EXECUTION_FAILED'),
      String(e.result?.error ?? `${e.action?.ref} ended ${e.status}`),
      { execution: started.execution_id },
    );
  return (e.result?.output ?? {}) as Record<string, unknown>;
}

/** `squall pack list|get|register|install|remove|search|validate` (st2 pack, st2-validate-pack). */
export function registerPack(program: Command): void {
  const pack = program
    .command('pack')
    .description('Packs: list, register, install, remove, search, validate');

  withOutputOptions(withClientOptions(pack.command('list').description('Installed packs'))).action(
    async (opts: Flags) => {
      const rows = await clientFrom(opts).getAll<Record<string, unknown>>('/api/v1/packs');
      print(rows, opts, { columns: ['ref', 'name', 'version', 'description'] });
    },
  );

  withOutputOptions(withClientOptions(pack.command('get <pack>').description('One pack'))).action(
    async (ref: string, opts: Flags) => {
      print(await clientFrom(opts).get(`/api/v1/packs/${encodeURIComponent(ref)}`), opts);
    },
  );

  withOutputOptions(
    withClientOptions(
      pack
        .command('register [packs...]')
        .description('Re-read packs from disk (st2ctl reload); all packs when none named'),
    ),
  ).action(async (packs: string[], opts: Flags) => {
    const res = await clientFrom(opts).post<
      Record<string, unknown> & { problems: Array<Record<string, unknown>> }
    >('/api/v1/packs/register', {
      packs: packs.length ? packs : undefined,
      fail_on_failure: false,
    });
    if (outputFormat(opts) !== 'table') return print(res, opts);
    const { problems, packs: registered, ...counts } = res;
    process.stdout.write(
      `registered ${(registered as string[]).length} packs: ${Object.entries(counts)
        .map(([k, v]) => `${v} ${k}`)
        .join(', ')}\n`,
    );
    for (const p of problems)
      process.stdout.write(
        `  ${p.severity}: ${p.pack}/${p.file}${p.line ? `:${p.line}` : ''}: ${p.message}\n`,
      );
  });

  withOutputOptions(
    withClientOptions(
      pack
        .command('install <sources...>')
        .description('Install packs from git URLs or local paths, optionally at =<tag|branch|sha>')
        .option('--force', 'replace an installed pack of the same name')
        .option('--skip-dependencies', "do not install the pack's dependencies"),
    ),
  ).action(async (sources: string[], opts: Flags & { force?: boolean; skipDependencies?: boolean }) => {
    const resolved = sources.map((s) => {
      const [loc, ver] = s.split(/=(?=[^=]*$)/);
      const local =
        !/^[a-z]+:\/\//i.test(loc) && !loc.includes('@') && (loc.startsWith('.') || loc.startsWith('/'));
      return local ? `${path.resolve(loc)}${ver ? `=${ver}` : ''}` : s;
    });
    if (process.stderr.isTTY)
      process.stderr.write(`installing ${resolved.join(', ')}… (cloning, dependencies, virtualenvs)\n`);
    const client = clientFrom(opts);
    const res = (await followPackExecution(
      client,
      await client.post<{ execution_id: string }>('/api/v1/packs/install', {
        packs: resolved,
        force: Boolean(opts.force),
        skip_dependencies: Boolean(opts.skipDependencies),
      }),
    )) as { installed: Array<Record<string, any>>; problems: Array<Record<string, unknown>> };
    if (outputFormat(opts) !== 'table') return print(res, opts);
    for (const r of res.installed) {
      process.stdout.write(
        `installed ${r.ref} ${r.version}${r.commit ? ` (${String(r.commit).slice(0, 10)})` : ''} into ${r.dir}${r.venv ? `, virtualenv ${r.venv}` : ''}${r.nodeModules ? ', node_modules' : ''}\n`,
      );
      if (r.overrides_bundled)
        process.stdout.write(
          `  it replaces the bundled pack ${r.ref} (${r.overrides_bundled}); \`squall pack remove ${r.ref}\` brings that one back\n`,
        );
      for (const c of r.conflicts ?? [])
        process.stdout.write(
          `  conflict: ${c.pack} ${c.installed} installed, ${c.requested} requested by ${c.requiredBy}\n`,
        );
      for (const w of r.warnings ?? []) process.stdout.write(`  warning: ${w}\n`);
    }
    for (const p of res.problems)
      process.stdout.write(`  ${p.severity}: ${p.pack}/${p.file}: ${p.message}\n`);
  });

  withOutputOptions(
    withClientOptions(
      pack.command('remove <packs...>').description('Unregister packs and delete their files'),
    ),
  ).action(async (packs: string[], opts: Flags) => {
    const client = clientFrom(opts);
    const res = (await followPackExecution(
      client,
      await client.post<{ execution_id: string }>('/api/v1/packs/uninstall', { packs }),
    )) as { removed: Record<string, string[]>; restored_bundled?: string[] };
    if (outputFormat(opts) !== 'table') return print(res, opts);
    for (const ref of Object.keys(res.removed)) process.stdout.write(`removed ${ref}\n`);
    for (const ref of res.restored_bundled ?? [])
      process.stdout.write(`the bundled pack ${ref} is active again\n`);
  });

  withOutputOptions(
    withClientOptions(
      pack
        .command('unload <packs...>')
        .description(
          "Unregister packs' content and keep their files (st2's packs.unload); `pack register` brings it back",
        ),
    ),
  ).action(async (packs: string[], opts: Flags) => {
    const res = await clientFrom(opts).post<{
      unloaded: Record<string, Record<string, string[]> & { warnings: string[] }>;
    }>('/api/v1/packs/unload', { packs });
    if (outputFormat(opts) !== 'table') return print(res, opts);
    for (const [ref, report] of Object.entries(res.unloaded)) {
      const counts = Object.entries(report)
        .filter(([k, v]) => k !== 'warnings' && v.length)
        .map(([k, v]) => `${v.length} ${k}`);
      process.stdout.write(
        `unloaded ${ref}${counts.length ? ` (${counts.join(', ')})` : ''}; its files are kept\n`,
      );
      for (const w of report.warnings) process.stdout.write(`  warning: ${w}\n`);
    }
  });

  withOutputOptions(
    withClientOptions(pack.command('search <text>').description('Search the configured pack index')),
  ).action(async (text: string, opts: Flags) => {
    const rows = await clientFrom(opts).post<Record<string, unknown>[]>('/api/v1/packs/index/search', {
      query: text,
    });
    print(rows, opts, { columns: ['name', 'version', 'description'] });
  });

  pack
    .command('validate <dir>')
    .description('Check a pack directory offline and list every problem (exit 1 when there are errors)')
    .option('--config-dir <dir>', 'where <pack>.yaml configs live')
    .option('-j, --json', 'JSON output')
    .action(async (dir: string, opts: { configDir?: string; json?: boolean }) => {
      const { formatProblem, validatePackDir } = await import('../../content/index.js');
      const problems = await validatePackDir(path.resolve(dir), { configDir: opts.configDir });
      const errors = problems.filter((p) => p.severity === 'error');
      if (opts.json) process.stdout.write(JSON.stringify(problems, null, 2) + '\n');
      else {
        for (const p of problems) process.stdout.write(`${p.severity}: ${formatProblem(p)}\n`);
        process.stdout.write(
          `${path.resolve(dir)}: ${errors.length} error(s), ${problems.length - errors.length} warning(s)\n`,
        );
      }
      if (errors.length) process.exitCode = 1;
    });
}
