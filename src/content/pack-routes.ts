import { type RouteModule, authorize, requestUser } from '../api/index.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { NotFoundError, SquallError } from '../errors.js';
import { getExecutionService } from '../executions/index.js';
import { installPack, removePack, searchIndex, type InstallReport } from './install.js';
import { formatProblem } from './problems.js';
import { BUNDLED_PACKS_DIR, packSearchPaths } from './paths.js';
import { bundledRefs, registerPacks, unregisterPack } from './register.js';
import { clearUnloaded, unloadedPacksFile } from './unloaded.js';

/** Pack management: register (st2ctl reload), install, uninstall and index search (§14.4, §14.5). */
export const packManagementRoutes: RouteModule = (router, services) => {
  const register = async (only?: string[]) => {
    const report = await registerPacks({
      store: services.store,
      logger: services.logger.child({ component: 'content' }),
      packPaths: packSearchPaths(services),
      configDir: services.config.packs.config_dir!,
      only: only?.length ? only : undefined,
    });
    clearUnloaded(unloadedPacksFile(services.config.data_dir), only?.length ? report.packs : undefined);
    services.bus.publish('st2.pack__register', { packs: report.packs, counts: report.counts });
    services.bus.publish('squall.content__registered', { packs: report.packs, counts: report.counts });
    return report;
  };

  router.add({
    method: 'post',
    path: '/api/v1/packs/register',
    summary: 'Re-read packs from disk into the store (st2ctl reload); idempotent',
    tag: 'packs',
    body: {
      type: 'object',
      properties: {
        packs: { type: 'array', items: { type: 'string' }, description: 'Only these packs (default: all).' },
        types: {
          type: 'array',
          items: { type: 'string' },
          description: 'Accepted for st2 compatibility; Squall registers every kind.',
        },
        fail_on_failure: { type: 'boolean', default: true },
      },
    },
    handler: async ({ req, body }) => {
      authorize(services, req, 'pack_register');
      const b = body as { packs?: string[]; fail_on_failure: boolean };
      const report = await register(b.packs);
      const errors = report.problems.filter((p) => p.severity === 'error');
      if (errors.length && b.fail_on_failure && b.packs?.length) {
        throw new SquallError(
          'PACK_REGISTER_FAILED',
          `registration found ${errors.length} problem(s): ${errors.map((p) => `${p.pack}/${p.file}: ${p.message}`).join('; ')}`,
          { problems: errors },
        );
      }
      return { ...report.counts, packs: report.packs, problems: report.problems };
    },
  });

  /**
   * st2 answers install and uninstall with `202 {execution_id}` and does the work in an execution
   * (`packs.install`, `packs.uninstall`) that clients follow; so does Squall. What can be refused
   * at once (bad input, a bundled pack) is refused before the execution starts.
   */
  const asExecution = (
    req: Parameters<typeof requestUser>[0],
    ref: string,
    description: string,
    parameters: Record<string, unknown>,
    work: () => Promise<unknown>,
  ) =>
    getExecutionService(services)
      // st2's packs.install and packs.uninstall are Orquesta workflows, and st2client prints a
      // failed one as a workflow (its error on top); for other runner types it crashes on an
      // argument the pack commands lack (`with_schema`).
      .runBuiltin(
        { ref, description, user: requestUser(req).name, parameters, shownRunnerType: 'orquesta' },
        work,
      )
      .then((execution) => ({ execution_id: execution.id }));

  const install = async (b: { packs: string[]; force: boolean; skip_dependencies: boolean }) => {
    const { packs } = services.config;
    const reports = [];
    for (const source of b.packs) {
      reports.push(
        await installPack(source, {
          packsDir: packs.install_dir!,
          virtualenvsDir: packs.virtualenvs_dir!,
          python: packs.python_binary,
          venvOptions: packs.virtualenv_opts,
          force: b.force,
          skipDependencies: b.skip_dependencies,
          indexSource: packs.index_url,
          onProgress: (p) => services.logger.info({ progress: p }, 'pack install'),
        }),
      );
    }
    const refs = reports.flatMap(function collect(r): string[] {
      return [r.ref, ...r.dependencies.flatMap(collect)];
    });
    const registered = await register(refs);
    // st2's packs.install ends in packs.load, which fails on a pack its registration refuses (a
    // pack.yaml field outside its schema, once a forced install got past the checks): the install
    // fails there, its files left in place.
    const refused = refs.filter((ref) => !registered.packs.includes(ref));
    if (refused.length) {
      const errors = registered.problems.filter(
        (p) => p.severity === 'error' && p.pack !== undefined && refused.includes(p.pack),
      );
      throw new SquallError(
        'PACK_REGISTER_FAILED',
        `Failed to register pack ${refused.map((r) => `"${r}"`).join(', ')}: ${errors.map((p) => formatProblem(p)).join('; ')}; its files stay in ${packs.install_dir}: fix them and run pack register, or remove the pack`,
        { packs: refused, problems: errors },
      );
    }
    const installed: Array<InstallReport & { overrides_bundled?: string }> = reports.map((r) => {
      const o = registered.overridden.find((x) => x.ref === r.ref);
      return o ? { ...r, overrides_bundled: o.bundled } : r;
    });
    const warnings = installed.flatMap((r) => [
      ...r.warnings,
      ...r.conflicts.map(
        (c) => `${c.pack} ${c.installed} is installed; ${c.requiredBy} requires ${c.requested}`,
      ),
      ...(r.overrides_bundled
        ? [`${r.ref} replaces the bundled pack ${r.ref}; removing it brings the bundled one back`]
        : []),
    ]);
    // st2's packs.install output (packs_list, warning_list, message) and Squall's details.
    return {
      packs_list: refs,
      warning_list: warnings,
      message: `Successfully installed packs: ${refs.join(', ')}`,
      installed,
      registered: registered.counts,
      problems: registered.problems,
    };
  };

  router.add({
    method: 'post',
    path: '/api/v1/packs/install',
    summary:
      'Install packs from git URLs or paths (optionally =tag|branch|sha), then register them; answers the execution that does it',
    tag: 'packs',
    status: 202,
    body: {
      type: 'object',
      required: ['packs'],
      properties: {
        packs: { type: 'array', minItems: 1, items: { type: 'string' } },
        force: { type: 'boolean', default: false },
        skip_dependencies: { type: 'boolean', default: false },
      },
    },
    handler: async ({ req, body }) => {
      authorize(services, req, 'pack_install');
      const b = body as { packs: string[]; force: boolean; skip_dependencies: boolean };
      return asExecution(req, 'packs.install', 'Install packs and register them.', { ...b }, () =>
        install(b),
      );
    },
  });

  const uninstall = async (refs: string[]) => {
    const { packs } = services.config;
    const removed: Record<string, string[]> = {};
    for (const ref of refs) {
      await unregisterPack(services.store, ref);
      removed[ref] = (
        await removePack(ref, { packsDir: packs.install_dir!, virtualenvsDir: packs.virtualenvs_dir! })
      ).removed;
    }
    // A removed pack that replaced a bundled one gives the bundled one back.
    const bundled = await bundledRefs();
    clearUnloaded(unloadedPacksFile(services.config.data_dir), refs);
    const restored = refs.filter((ref) => bundled.has(ref));
    if (restored.length) await register(restored);
    services.bus.publish('st2.pack__register', { removed: refs });
    return { packs_list: refs, removed, ...(restored.length ? { restored_bundled: restored } : {}) };
  };

  for (const path of ['/api/v1/packs/uninstall', '/api/v1/packs/uninstall/:ref_or_id']) {
    router.add({
      method: 'post',
      path,
      responses: { 404: 'A pack named is not installed.' },
      summary: 'Remove packs (their records and files); answers the execution that does it',
      tag: 'packs',
      status: 202,
      body: {
        type: 'object',
        ...(path.endsWith('uninstall') ? { required: ['packs'] } : {}),
        properties: { packs: { type: 'array', minItems: 1, items: { type: 'string' } } },
      },
      handler: async ({ req, body, params }) => {
        authorize(services, req, 'pack_uninstall');
        const refs = params.ref_or_id ? [params.ref_or_id] : (body as { packs: string[] }).packs;
        for (const ref of refs) {
          const record = await services.store.packs.findOne({ ref });
          if (record && String(record.path).startsWith(BUNDLED_PACKS_DIR)) {
            throw new SquallError(
              'PACK_BUNDLED',
              `pack "${ref}" is bundled with Squall and cannot be removed`,
              { ref },
            );
          }
          if (!record && !existsSync(join(services.config.packs.install_dir!, ref)))
            throw new NotFoundError('pack', ref);
        }
        return asExecution(req, 'packs.uninstall', 'Remove packs.', { packs: refs }, () => uninstall(refs));
      },
    });
  }

  router.add({
    method: 'post',
    path: '/api/v1/packs/index/search',
    summary: 'Search the pack index (StackStorm Exchange index.json format)',
    tag: 'packs',
    body: { type: 'object', properties: { query: { type: 'string' }, pack: { type: 'string' } } },
    handler: async ({ req, body }) => {
      authorize(services, req, 'pack_search');
      const index = services.config.packs.index_url;
      if (!index)
        throw new SquallError('NO_PACK_INDEX', 'no pack index is configured', {
          hint: 'set packs.index_url (URL or file path)',
        });
      const b = body as { query?: string; pack?: string };
      if (b.query !== undefined) return searchIndex(b.query, index);
      // st2: `{pack}` is a lookup by name, answered with that one pack or an empty list.
      const exact = (await searchIndex(b.pack ?? '', index)).find(
        (p) => p.ref === b.pack || p.name === b.pack,
      );
      return exact ?? [];
    },
  });
};
