import type { RouteModule } from '../api/index.js';
import { authorize } from '../api/index.js';
import { SquallError } from '../errors.js';
import { installPack, removePack, searchIndex } from './install.js';
import { BUNDLED_PACKS_DIR } from './index.js';
import { registerPacks, unregisterPack } from './register.js';
import { packSearchPaths } from './subsystem.js';

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

  router.add({
    method: 'post',
    path: '/api/v1/packs/install',
    summary: 'Install packs from git URLs or paths (optionally =tag|branch|sha), then register them',
    tag: 'packs',
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
      const { packs } = services.config;
      const reports = [];
      for (const source of b.packs) {
        reports.push(
          await installPack(source, {
            packsDir: packs.install_dir!,
            virtualenvsDir: packs.virtualenvs_dir!,
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
      return { installed: reports, registered: registered.counts, problems: registered.problems };
    },
  });

  router.add({
    method: 'post',
    path: '/api/v1/packs/uninstall',
    responses: { 404: 'A pack named is not installed.' },
    summary: 'Remove packs: their records and their files',
    tag: 'packs',
    body: {
      type: 'object',
      required: ['packs'],
      properties: { packs: { type: 'array', minItems: 1, items: { type: 'string' } } },
    },
    handler: async ({ req, body }) => {
      authorize(services, req, 'pack_uninstall');
      const { packs } = services.config;
      const removed: Record<string, string[]> = {};
      for (const ref of (body as { packs: string[] }).packs) {
        const record = await services.store.packs.findOne({ ref });
        if (record && String(record.path).startsWith(BUNDLED_PACKS_DIR)) {
          throw new SquallError(
            'PACK_BUNDLED',
            `pack "${ref}" is bundled with Squall and cannot be removed`,
            { ref },
          );
        }
        await unregisterPack(services.store, ref);
        removed[ref] = (
          await removePack(ref, { packsDir: packs.install_dir!, virtualenvsDir: packs.virtualenvs_dir! })
        ).removed;
      }
      services.bus.publish('st2.pack__register', { removed: Object.keys(removed) });
      return { removed };
    },
  });

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
      return searchIndex(b.query ?? b.pack ?? '', index);
    },
  });
};
