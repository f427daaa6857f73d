import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  installPack,
  loadPack,
  MAX_PACK_YAML_BYTES,
  removePack,
  searchIndex,
  type InstallProgress,
} from '../../../src/content/index.js';

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', '-c', 'commit.gpgsign=false', ...args], {
    cwd,
    encoding: 'utf8',
  });
const hasPython = (() => {
  try {
    execFileSync('python3', ['-c', 'import venv'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const requireAll = process.env.SQUALL_REQUIRE_ALL === '1';

async function makePack(
  dir: string,
  ref: string,
  version: string,
  extra: Record<string, string> = {},
): Promise<void> {
  await mkdir(join(dir, 'actions'), { recursive: true });
  await writeFile(
    join(dir, 'pack.yaml'),
    `name: ${ref}\ndescription: test pack\nversion: ${version}\nauthor: t\n` +
      (extra['pack.yaml.extra'] ?? ''),
  );
  await writeFile(
    join(dir, 'actions', 'hello.yaml'),
    `name: hello\nrunner_type: local-shell-cmd\nparameters:\n  cmd:\n    default: echo ${version}\n`,
  );
  for (const [rel, text] of Object.entries(extra)) {
    if (rel === 'pack.yaml.extra') continue;
    await mkdir(join(dir, rel, '..'), { recursive: true });
    await writeFile(join(dir, rel), text);
  }
}

describe('pack install and remove on disk', () => {
  let root: string;
  let packsDir: string;
  let virtualenvsDir: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'squall-install-'));
    packsDir = join(root, 'packs');
    virtualenvsDir = join(root, 'virtualenvs');
  });

  it('refuses a pack (git or copied) with a symbolic link leading outside it, naming the link; keeps links inside it', async () => {
    // A cloned repository with `actions/workflows/keys.yaml -> <outside>` was installed, and the
    // loader, the workflow graph API and the runners read the outside file as pack content.
    const secret = join(root, 'outside-secret.txt');
    await writeFile(secret, 'not for packs\n');
    const repo = join(root, 'src-links');
    await makePack(repo, 'linky', '1.0.0', { 'actions/lib/real.sh': 'echo hi\n' });
    await symlink('real.sh', join(repo, 'actions', 'lib', 'inside.sh'));
    await mkdir(join(repo, 'actions', 'workflows'), { recursive: true });
    await symlink(secret, join(repo, 'actions', 'workflows', 'keys.yaml'));
    git(repo, 'init', '-q');
    git(repo, 'add', '.');
    git(repo, 'commit', '-qm', 'links');
    git(repo, 'tag', 'v1.0.0');
    for (const source of [`${repo}=1.0.0`, repo]) {
      await expect(
        installPack(source, { packsDir, virtualenvsDir, skipDependencies: true }),
      ).rejects.toMatchObject({
        code: 'PACK_LINK_OUTSIDE',
        status: 400,
        message: expect.stringMatching(
          /actions\/workflows\/keys\.yaml is a symbolic link to .*outside-secret\.txt, outside the pack/,
        ),
      });
      expect(existsSync(join(packsDir, 'linky'))).toBe(false);
    }
    await rm(join(repo, 'actions', 'workflows', 'keys.yaml'));
    git(repo, 'commit', '-qam', 'no escaping link');
    const report = await installPack(repo, { packsDir, virtualenvsDir, skipDependencies: true });
    expect(report).toMatchObject({ ref: 'linky' });
    expect(await readFile(join(packsDir, 'linky', 'actions', 'lib', 'inside.sh'), 'utf8')).toBe('echo hi\n');
  });

  it('installs a git repository at a tag: the installed copy has the tagged content', async () => {
    const repo = join(root, 'src-git');
    await makePack(repo, 'tagged', '1.0.0');
    git(repo, 'init', '-q');
    git(repo, 'add', '.');
    git(repo, 'commit', '-qm', 'v1');
    git(repo, 'tag', 'v1.0.0');
    await makePack(repo, 'tagged', '2.0.0');
    git(repo, 'commit', '-qam', 'v2');
    const steps: InstallProgress[] = [];
    const report = await installPack(`${repo}=1.0.0`, {
      packsDir,
      virtualenvsDir,
      onProgress: (p) => steps.push(p),
    });
    expect(report).toMatchObject({
      ref: 'tagged',
      version: '1.0.0',
      dir: join(packsDir, 'tagged'),
      checkout: '1.0.0',
    });
    expect(report.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(await readFile(join(packsDir, 'tagged/actions/hello.yaml'), 'utf8')).toContain('echo 1.0.0');
    expect(steps.map((s) => s.step)).toEqual(['download', 'checkout', 'done']);
    const loaded = await loadPack(report.dir);
    expect(loaded.actions.map((a) => a.ref)).toEqual(['tagged.hello']);

    await expect(installPack(`${repo}=v1.0.0`, { packsDir, virtualenvsDir })).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringMatching(/pack "tagged" is already installed/),
    });
    const forced = await installPack(`${repo}=master`, { packsDir, virtualenvsDir, force: true }).catch(() =>
      installPack(`${repo}=main`, { packsDir, virtualenvsDir, force: true }),
    );
    expect(forced.version).toBe('2.0.0');
    await expect(
      installPack(`${repo}=9.9.9`, { packsDir, virtualenvsDir, force: true }),
    ).rejects.toMatchObject({ code: 'PACK_VERSION_NOT_FOUND' });
  });

  it('installs from a plain path by copying, and removes it', async () => {
    const src = join(root, 'src-plain');
    await makePack(src, 'plain', '0.1.0');
    const report = await installPack(src, { packsDir, virtualenvsDir });
    expect(report).toMatchObject({ ref: 'plain', version: '0.1.0', nodeModules: false });
    expect(report.venv).toBeUndefined();
    expect(existsSync(join(packsDir, 'plain/actions/hello.yaml'))).toBe(true);
    expect(await removePack('plain', { packsDir, virtualenvsDir })).toEqual({
      removed: [join(packsDir, 'plain')],
    });
    expect(existsSync(join(packsDir, 'plain'))).toBe(false);
    await expect(removePack('plain', { packsDir, virtualenvsDir })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('refuses a pack for Python 2 only unless forced, as st2 does', async () => {
    const src = join(root, 'src-py2');
    await makePack(src, 'py2only', '1.0.0', { 'pack.yaml.extra': 'python_versions:\n  - "2"\n' });
    await expect(installPack(src, { packsDir, virtualenvsDir })).rejects.toMatchObject({
      code: 'PACK_PYTHON_UNSUPPORTED',
      message: expect.stringMatching(/py2only: .*excludes Python 3.*install with force/),
    });
    expect(existsSync(join(packsDir, 'py2only'))).toBe(false);
    const forced = await installPack(src, { packsDir, virtualenvsDir, force: true });
    expect(forced).toMatchObject({ ref: 'py2only', version: '1.0.0' });
    expect(existsSync(join(packsDir, 'py2only/actions/hello.yaml'))).toBe(true);
  });

  it('refuses a pack whose stackstorm_version excludes the StackStorm release Squall answers as, unless forced, as st2 does', async () => {
    const newer = join(root, 'src-st2-newer');
    await makePack(newer, 'st2newer', '1.0.0', { 'pack.yaml.extra': 'stackstorm_version: ">=3.10.0"\n' });
    await expect(installPack(newer, { packsDir, virtualenvsDir })).rejects.toMatchObject({
      code: 'PACK_STACKSTORM_UNSUPPORTED',
      message: expect.stringMatching(
        /st2newer: pack.yaml requires StackStorm ">=3.10.0", but Squall answers as StackStorm "3.9.0"; install with force/,
      ),
    });
    expect(existsSync(join(packsDir, 'st2newer'))).toBe(false);
    // st2's own fixture's range, and a bare version st2's regex allows but its semver cannot read.
    const old = join(root, 'src-st2-old');
    await makePack(old, 'st2old', '1.0.0', { 'pack.yaml.extra': 'stackstorm_version: ">=1.6.0, <2.2.0"\n' });
    await expect(installPack(old, { packsDir, virtualenvsDir })).rejects.toMatchObject({
      code: 'PACK_STACKSTORM_UNSUPPORTED',
    });
    const loose = join(root, 'src-st2-loose');
    await makePack(loose, 'st2loose', '1.0.0', { 'pack.yaml.extra': 'stackstorm_version: ">=3.4"\n' });
    await expect(installPack(loose, { packsDir, virtualenvsDir })).rejects.toMatchObject({
      code: 'PACK_STACKSTORM_VERSION_INVALID',
      message: expect.stringContaining('">=3.4" is not <op><MAJOR.MINOR.PATCH>'),
    });
    expect(await installPack(old, { packsDir, virtualenvsDir, force: true })).toMatchObject({
      ref: 'st2old',
    });
    const fits = join(root, 'src-st2-fits');
    await makePack(fits, 'st2fits', '1.0.0', {
      'pack.yaml.extra': 'stackstorm_version: ">=3.0.0, <4.0.0"\n',
    });
    expect(await installPack(fits, { packsDir, virtualenvsDir })).toMatchObject({ ref: 'st2fits' });
  });

  it('rejects a source whose pack.yaml has no valid ref', async () => {
    const src = join(root, 'src-badref');
    await makePack(src, 'Bad Name', '1.0.0');
    await expect(installPack(src, { packsDir, virtualenvsDir })).rejects.toMatchObject({
      code: 'BAD_PACK_REF',
    });
    expect(existsSync(join(packsDir, 'Bad Name'))).toBe(false);
  });

  it('refuses a pack.yaml of more than MAX_PACK_YAML_BYTES unread, and one whose aliases expand to a billion values, writing nothing in the packs dir', async () => {
    const before = await readdir(packsDir).catch(() => []);
    const big = join(root, 'src-bigyaml');
    await makePack(big, 'bigyaml', '1.0.0', {
      'pack.yaml.extra': 'tags:\n' + '  - aaaaaaaaaaaaaaaaaaaa\n'.repeat(MAX_PACK_YAML_BYTES / 20),
    });
    await expect(installPack(big, { packsDir, virtualenvsDir })).rejects.toMatchObject({
      code: 'PACK_INVALID',
      message: expect.stringContaining('more than the 1,048,576 a pack.yaml may have'),
    });
    const bomb = join(root, 'src-yamlbomb');
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      const name = String.fromCharCode(97 + i);
      levels.push(`${name}: &${name} [${Array(10).fill(`*${prev}`).join(',')}]`);
    }
    await makePack(bomb, 'yamlbomb', '1.0.0', { 'pack.yaml.extra': levels.join('\n') + '\n' });
    await expect(installPack(bomb, { packsDir, virtualenvsDir })).rejects.toMatchObject({
      code: 'PACK_INVALID',
      message: expect.stringContaining('anchors and aliases expand to more than'),
    });
    expect(await readdir(packsDir)).toEqual(before);
  });

  it('gives a Node pack its node_modules (npm install --omit=dev)', async () => {
    const src = join(root, 'src-node');
    await makePack(src, 'nodepack', '1.0.0', {
      'package.json': JSON.stringify({
        name: 'nodepack',
        version: '1.0.0',
        private: true,
        dependencies: { 'is-number': '7.0.0' },
      }),
    });
    const report = await installPack(src, { packsDir, virtualenvsDir });
    expect(report.nodeModules).toBe(true);
    expect(
      JSON.parse(await readFile(join(packsDir, 'nodepack/node_modules/is-number/package.json'), 'utf8'))
        .version,
    ).toBe('7.0.0');
  }, 180_000);

  it('installs dependencies recursively and reports version conflicts', async () => {
    const dep = join(root, 'src-dep');
    await makePack(dep, 'dep_one', '1.2.0');
    const main = join(root, 'src-main');
    await makePack(main, 'main_pack', '1.0.0', { 'pack.yaml.extra': `dependencies:\n  - ${dep}\n` });
    const report = await installPack(main, { packsDir, virtualenvsDir });
    expect(report.dependencies.map((d) => [d.ref, d.version])).toEqual([['dep_one', '1.2.0']]);
    expect(existsSync(join(packsDir, 'dep_one/pack.yaml'))).toBe(true);
    const other = join(root, 'src-other');
    await makePack(other, 'other_pack', '1.0.0', { 'pack.yaml.extra': `dependencies:\n  - ${dep}=2.0.0\n` });
    const second = await installPack(other, { packsDir, virtualenvsDir, resolveDependency: () => dep });
    expect(second.conflicts).toEqual([
      { pack: 'dep_one', requested: '2.0.0', installed: '1.2.0', requiredBy: 'other_pack' },
    ]);
  });

  it('searches an index in Exchange index.json format', async () => {
    const index = join(root, 'index.json');
    await writeFile(
      index,
      JSON.stringify({
        metadata: { generated_ts: 0, hash: 'x' },
        packs: {
          aws: {
            name: 'aws',
            ref: 'aws',
            description: 'Amazon Web Services',
            keywords: ['cloud', 'ec2'],
            version: '1.0.0',
            author: 'st2',
            repo_url: 'https://github.com/StackStorm-Exchange/stackstorm-aws',
          },
          slack: {
            name: 'slack',
            description: 'Slack chat integration',
            keywords: ['chat'],
            version: '2.0.0',
            author: 'st2',
          },
          jira: {
            name: 'jira',
            description: 'Jira issues, e.g. from a cloud instance',
            keywords: [],
            version: '1.0.0',
            author: 'st2',
          },
        },
      }),
    );
    expect((await searchIndex('cloud', index)).map((e) => e.ref)).toEqual(['aws', 'jira']);
    expect((await searchIndex('SLACK', index))[0]).toMatchObject({ ref: 'slack', version: '2.0.0' });
    expect(await searchIndex('nothing-matches', index)).toEqual([]);
    await expect(searchIndex('x', join(root, 'missing.json'))).rejects.toMatchObject({
      code: 'PACK_INDEX_UNAVAILABLE',
    });
  });

  describe.skipIf(!hasPython && !requireAll)(
    hasPython ? 'Python pack venv' : 'Python pack venv (skipped: python3 with venv is missing)',
    () => {
      it('creates <virtualenvsDir>/<ref> with requirements.txt installed, and remove deletes it', async () => {
        const src = join(root, 'src-py');
        await makePack(src, 'pypack', '1.0.0', { 'requirements.txt': 'six\n' });
        const report = await installPack(src, { packsDir, virtualenvsDir });
        expect(report.venv).toBe(join(virtualenvsDir, 'pypack'));
        const out = execFileSync(
          join(virtualenvsDir, 'pypack/bin/python'),
          ['-c', 'import six; print(six.__name__)'],
          { encoding: 'utf8' },
        );
        expect(out.trim()).toBe('six');
        const removed = await removePack('pypack', { packsDir, virtualenvsDir });
        expect(removed.removed).toEqual([join(packsDir, 'pypack'), join(virtualenvsDir, 'pypack')]);
        expect(existsSync(join(virtualenvsDir, 'pypack'))).toBe(false);
      }, 300_000);

      it("names the requirement and the reason when its metadata step fails under a traceback longer than pip's closing lines", async () => {
        // A requirement whose setup fails deep in an import (an old package importing
        // pkg_resources, which new setuptools dropped): the install said only pip's closing
        // `hint: See above for details.`, as the line naming the failed step was above the part kept.
        // An in-tree build backend needs nothing from the index.
        const src = join(root, 'src-py-broken');
        const backend = [
          'import sys',
          '',
          'def _fail():',
          '    for i in range(120):',
          "        print(f'checking build option {i} of the old setup script', file=sys.stderr)",
          '    import squall_missing_helper_module  # noqa: F401',
          '',
          'def get_requires_for_build_wheel(config_settings=None):',
          '    return []',
          '',
          'def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):',
          '    _fail()',
          '',
          'def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):',
          '    _fail()',
          '',
        ].join('\n');
        await makePack(src, 'pybroken', '1.0.0', {
          'requirements.txt': './lib/brokendep\n',
          'lib/brokendep/pyproject.toml':
            '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n\n' +
            '[project]\nname = "brokendep"\nversion = "0.1"\n',
          'lib/brokendep/backend.py': backend,
        });
        await expect(
          installPack(src, { packsDir, virtualenvsDir, skipDependencies: true }),
        ).rejects.toMatchObject({
          code: 'PACK_REQUIREMENTS_FAILED',
          message: expect.stringMatching(
            /pack "pybroken": pip could not install \S*brokendep\S* from requirements\.txt: it failed to build: ModuleNotFoundError: No module named 'squall_missing_helper_module'/,
          ),
        });
        expect(existsSync(join(packsDir, 'pybroken'))).toBe(false);
      }, 300_000);
    },
  );
});
