import { execFile } from 'node:child_process';
import { cp, mkdir, readdir, readFile, readlink, realpath, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadYaml } from '../yaml.js';
import { ConflictError, NotFoundError, SquallError } from '../errors.js';
import { newId } from '../ids.js';
import { RESERVED_PACK_REFS } from './schemas/index.js';
import { stackstormVersionMatches } from './semver.js';
import { STACKSTORM_VERSION } from '../version.js';

/**
 * Pack install/remove on disk (st2-reference.md §14.4) and Exchange index search (§14.5).
 * Store-free: registering the installed content is the caller's job (loadPack + the store).
 */

export interface InstallProgress {
  step: 'download' | 'checkout' | 'npm' | 'venv' | 'pip' | 'dependency' | 'done';
  pack: string;
  message: string;
}

export interface InstallOptions {
  packsDir: string;
  virtualenvsDir: string;
  /** Replace an installed pack of the same ref, and skip the python_versions and stackstorm_version checks (st2 `--force`). */
  force?: boolean;
  /** Do not install pack.yaml dependencies (st2 `--skip-dependencies`). */
  skipDependencies?: boolean;
  /** Turns a dependency spec (name, URL, path, without `=version`) into a source to install; default: URLs and paths as-is, names through `indexSource`. */
  resolveDependency?: (spec: {
    name: string;
    version?: string;
  }) => string | undefined | Promise<string | undefined>;
  /** index.json (URL or file) used to find packs given by Exchange name. */
  indexSource?: string;
  onProgress?: (p: InstallProgress) => void;
  /** Extra options for `python3 -m venv` (st2 `virtualenv_opts`), e.g. ['--system-site-packages']. */
  venvOptions?: string[];
  python?: string;
}

export interface InstallReport {
  ref: string;
  version: string;
  /** Absolute directory the pack was installed to. */
  dir: string;
  source: string;
  /** The `=<tag|branch|sha>` that was checked out, if any. */
  checkout?: string;
  /** The git commit installed, for git sources. */
  commit?: string;
  /** The pack's virtualenv when requirements.txt was installed. */
  venv?: string;
  nodeModules: boolean;
  dependencies: InstallReport[];
  /** Dependencies already installed at another version than requested (not changed). */
  conflicts: Array<{ pack: string; requested: string; installed: string; requiredBy: string }>;
  warnings: string[];
}

export interface RemoveOptions {
  packsDir: string;
  virtualenvsDir: string;
}

export interface IndexEntry {
  ref: string;
  name: string;
  description: string;
  version?: string;
  author?: string;
  email?: string;
  keywords: string[];
  repo_url?: string;
  [key: string]: unknown;
}

function run(
  cmd: string,
  args: string[],
  // `wholeOutput`: the error's context keeps all of stdout and stderr, for a caller that reads
  // why from them (pip prints which step failed above a traceback that can be longer than the tail).
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; wholeOutput?: boolean } = {},
): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      cmd,
      args,
      { cwd: opts.cwd, env: opts.env ?? process.env, maxBuffer: 32 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) {
          reject(
            new SquallError(
              'PACK_INSTALL_COMMAND_FAILED',
              `\`${cmd} ${args.join(' ')}\` failed: ${(stderr || err.message).trim().split('\n').slice(-5).join(' | ')}`,
              {
                cmd,
                args,
                cwd: opts.cwd,
                stderr: opts.wholeOutput ? String(stderr) : String(stderr).slice(-4000),
                stdout: opts.wholeOutput ? String(stdout) : String(stdout).slice(-4000),
              },
            ),
          );
        } else resolvePromise(String(stdout));
      },
    );
  });
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

/** `<name|url|path>[=<version|tag|branch|sha>]` */
export function parsePackSource(source: string): { location: string; version?: string } {
  const i = source.lastIndexOf('=');
  if (i > 0 && i < source.length - 1) return { location: source.slice(0, i), version: source.slice(i + 1) };
  return { location: i === source.length - 1 ? source.slice(0, -1) : source };
}

function isGitUrl(s: string): boolean {
  return /^(https?|git|ssh):\/\//.test(s) || /^[\w.-]+@[\w.-]+:/.test(s) || s.endsWith('.git');
}

function isPathLike(s: string): boolean {
  return (
    s.startsWith('file://') || s.startsWith('/') || s.startsWith('./') || s.startsWith('../') || s === '.'
  );
}

/** Guessed ref of a dependency, for spotting an installed copy (Exchange repos are `stackstorm-<pack>`). */
function guessRef(location: string): string {
  const base = basename(location.replace(/\/+$/, '')).replace(/\.git$/, '');
  return base
    .replace(/^stackstorm-/, '')
    .replace(/-/g, '_')
    .toLowerCase();
}

/**
 * The largest pack.yaml an install reads. Real ones are a few KB; parsing is synchronous, and a
 * 100 MB one from a repository held the service 2.6 s of CPU and took 440 MB of heap.
 */
export const MAX_PACK_YAML_BYTES = 1024 * 1024;

async function readPackYaml(
  dir: string,
  source: string,
): Promise<{
  ref: string;
  version: string;
  dependencies: string[];
  python_versions?: string[];
  stackstorm_version?: string;
}> {
  const file = join(dir, 'pack.yaml');
  const size = await stat(file).then(
    (st) => st.size,
    () => 0,
  );
  if (size > MAX_PACK_YAML_BYTES)
    throw new SquallError(
      'PACK_INVALID',
      `${source}: pack.yaml is ${size.toLocaleString('en-US')} bytes, more than the ${MAX_PACK_YAML_BYTES.toLocaleString('en-US')} a pack.yaml may have; it is not read`,
      { source, file, size, limit: MAX_PACK_YAML_BYTES },
    );
  let data: unknown;
  try {
    data = loadYaml(await readFile(file, 'utf8'));
  } catch (err) {
    throw new SquallError(
      'PACK_INVALID',
      `${source}: pack.yaml is missing or not valid YAML: ${(err as Error).message}`,
      { source, file },
    );
  }
  if (typeof data !== 'object' || data === null)
    throw new SquallError('PACK_INVALID', `${source}: pack.yaml must be a mapping`, { source, file });
  const d = data as Record<string, unknown>;
  const ref = typeof d.ref === 'string' ? d.ref : typeof d.name === 'string' ? d.name : undefined;
  if (!ref || !/^[a-z0-9_]+$/.test(ref)) {
    throw new SquallError(
      'BAD_PACK_REF',
      `${source}: pack.yaml ref/name ${JSON.stringify(ref)} is not a valid pack ref (lowercase letters, digits, underscores)`,
      { source, file, field: 'ref' },
    );
  }
  if (RESERVED_PACK_REFS.includes(ref)) {
    throw new SquallError(
      'PACK_NAME_RESERVED',
      `${source}: pack ref "${ref}" is reserved for the pack bundled with Squall; a user pack cannot use it`,
      { source, file, field: 'ref' },
    );
  }
  return {
    ref,
    version: d.version === undefined ? '' : String(d.version),
    dependencies: Array.isArray(d.dependencies) ? d.dependencies.map(String) : [],
    ...(Array.isArray(d.python_versions) ? { python_versions: d.python_versions.map(String) } : {}),
    ...(d.stackstorm_version ? { stackstorm_version: String(d.stackstorm_version) } : {}),
  };
}

async function loadIndex(indexSource: string): Promise<Record<string, Record<string, unknown>>> {
  let text: string;
  if (/^https?:\/\//.test(indexSource)) {
    const res = await fetch(indexSource);
    if (!res.ok)
      throw new SquallError(
        'PACK_INDEX_UNAVAILABLE',
        `pack index ${indexSource} answered HTTP ${res.status}`,
        { indexSource, status: res.status },
      );
    text = await res.text();
  } else {
    const file = indexSource.startsWith('file://') ? fileURLToPath(indexSource) : indexSource;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new SquallError(
        'PACK_INDEX_UNAVAILABLE',
        `pack index ${file} cannot be read: ${(err as Error).message}`,
        { indexSource },
      );
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new SquallError(
      'PACK_INDEX_INVALID',
      `pack index ${indexSource} is not valid JSON: ${(err as Error).message}`,
      { indexSource },
    );
  }
  const packs = (parsed as { packs?: unknown }).packs;
  if (typeof packs !== 'object' || packs === null)
    throw new SquallError(
      'PACK_INDEX_INVALID',
      `pack index ${indexSource} has no "packs" object (StackStorm Exchange index.json format)`,
      { indexSource },
    );
  return packs as Record<string, Record<string, unknown>>;
}

function toEntry(key: string, p: Record<string, unknown>): IndexEntry {
  return {
    ...p,
    ref: typeof p.ref === 'string' ? p.ref : key,
    name: typeof p.name === 'string' ? p.name : key,
    description: typeof p.description === 'string' ? p.description : '',
    keywords: Array.isArray(p.keywords) ? p.keywords.map(String) : [],
  };
}

/**
 * Searches an index in StackStorm Exchange's index.json format (`{metadata, packs: {name: {...}}}`)
 * by case-insensitive substring; ranked name/ref, then keywords, then description, then author.
 */
export async function searchIndex(text: string, indexSource: string): Promise<IndexEntry[]> {
  const packs = await loadIndex(indexSource);
  const q = text.trim().toLowerCase();
  const scored: Array<{ entry: IndexEntry; score: number }> = [];
  for (const [key, p] of Object.entries(packs)) {
    const entry = toEntry(key, p);
    const has = (s: unknown) => typeof s === 'string' && s.toLowerCase().includes(q);
    let score = 0;
    if (has(entry.ref) || has(entry.name)) score = 4;
    else if (entry.keywords.some(has)) score = 3;
    else if (has(entry.description)) score = 2;
    else if (has(entry.author)) score = 1;
    if (score > 0) scored.push({ entry, score });
  }
  return scored
    .sort((a, b) => b.score - a.score || a.entry.ref.localeCompare(b.entry.ref))
    .map((s) => s.entry);
}

/**
 * A pack's files stay inside it. A repository can hold symbolic links, and one such as
 * `actions/workflows/x.yaml -> /home/squall/.ssh/id_rsa` (or `../../keys/...`) would be read as
 * pack content by the loader, the workflow graph API and the runners, and quoted in their errors.
 * Links within the pack are kept; one that leads outside it (or dangles outside it) stops the
 * install, naming it.
 */
async function refuseEscapingLinks(root: string, label: string): Promise<void> {
  const realRoot = await realpath(root);
  const inside = (p: string) => p === realRoot || p.startsWith(realRoot + sep);
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, entry.name);
      if (entry.isSymbolicLink()) {
        const target = await readlink(p);
        const resolved = await realpath(p).catch(() => resolve(dirname(p), target));
        if (!inside(resolved))
          throw new SquallError(
            'PACK_LINK_OUTSIDE',
            `${label}: ${relative(root, p)} is a symbolic link to ${target}, outside the pack; a pack may link only to its own files`,
            { pack: label, path: relative(root, p), target },
            400,
          );
      } else if (entry.isDirectory() && !(dir === root && entry.name === '.git')) await walk(p);
    }
  };
  await walk(root);
}

async function fetchSource(
  location: string,
  version: string | undefined,
  dest: string,
  opts: InstallOptions,
  label: string,
): Promise<{ commit?: string }> {
  const progress = (step: InstallProgress['step'], message: string) =>
    opts.onProgress?.({ step, pack: label, message });
  let local: string | undefined;
  if (isPathLike(location) || (!isGitUrl(location) && (await exists(location)))) {
    local = resolve(location.startsWith('file://') ? fileURLToPath(location) : location);
    if (!(await exists(local))) throw new NotFoundError('pack source', location, { location });
  }
  if (local && !version) {
    progress('download', `copying ${local}`);
    // Links are copied as written: resolved, a link inside the pack would point back at the source.
    await cp(local, dest, {
      recursive: true,
      verbatimSymlinks: true,
      filter: (src) => !/\/(\.git|node_modules)$/.test(src),
    });
    return {};
  }
  let url = local ?? location;
  if (!local && !isGitUrl(location)) {
    if (!opts.indexSource) {
      throw new SquallError(
        'PACK_SOURCE_UNKNOWN',
        `"${location}" is neither a path nor a git URL, and no pack index is configured to look the name up`,
        { location },
      );
    }
    const packs = await loadIndex(opts.indexSource);
    const entry = Object.entries(packs)
      .map(([k, p]) => toEntry(k, p))
      .find((e) => e.ref === location || e.name === location);
    if (!entry?.repo_url) throw new NotFoundError('pack', location, { indexSource: opts.indexSource });
    url = entry.repo_url;
  }
  progress('download', `git clone ${url}`);
  await run('git', ['clone', '--quiet', url, dest]);
  if (version) {
    progress('checkout', `checking out ${version}`);
    // st2 accepts a version for a tag named either "1.0.0" or "v1.0.0".
    const candidates = /^\d+\.\d+\.\d+/.test(version) ? [version, `v${version}`] : [version];
    let done = false;
    for (const ref of candidates) {
      try {
        await run('git', ['-C', dest, 'checkout', '--quiet', ref]);
        done = true;
        break;
      } catch {
        // try the next spelling
      }
    }
    if (!done)
      throw new SquallError('PACK_VERSION_NOT_FOUND', `${url}: no tag, branch or commit named "${version}"`, {
        url,
        version,
      });
  }
  const commit = (await run('git', ['-C', dest, 'rev-parse', 'HEAD'])).trim();
  return { commit };
}

/**
 * Installs a pack from a git URL, a local path (copied, or cloned when `=<ref>` is given) or an
 * Exchange name into `<packsDir>/<ref>`, sets up node_modules / a Python venv, and installs its
 * dependencies recursively.
 */
export async function installPack(source: string, options: InstallOptions): Promise<InstallReport> {
  const staging = new Staging();
  try {
    const report = await installOne(source, options, new Map(), staging);
    await staging.commit();
    return report;
  } catch (err) {
    await staging.rollback();
    throw err;
  }
}

/**
 * An install in progress: each step that changes what is live (a pack directory, a virtualenv)
 * keeps what it replaced aside and says how to undo itself, so a failure anywhere — pip, npm, a
 * dependency — puts back exactly what was there before, and success removes the kept copies.
 */
class Staging {
  private undo: Array<() => Promise<void>> = [];
  private kept: string[] = [];

  /** Moves `live` (when present) aside; `rollback` removes whatever is at `live` and moves it back. */
  async replace(live: string): Promise<void> {
    const aside = join(dirname(live), `.previous-${newId()}-${basename(live)}`);
    const had = await exists(live);
    if (had) {
      await rename(live, aside);
      this.kept.push(aside);
    }
    this.undo.push(async () => {
      await rm(live, { recursive: true, force: true });
      if (had) await rename(aside, live);
    });
  }

  async commit(): Promise<void> {
    for (const dir of this.kept) await rm(dir, { recursive: true, force: true });
    this.undo = [];
    this.kept = [];
  }

  async rollback(): Promise<void> {
    for (const step of this.undo.reverse()) await step();
    this.undo = [];
    this.kept = [];
  }
}

/** The CPython a failed build compiled for, from its build directory: a pin that predates that
 * Python is the usual cause, and the user cannot see the version otherwise. */
function builtFor(lines: string[]): string {
  for (const line of lines) {
    const m = /cpython-(\d)(\d+)/.exec(line);
    if (m) return ` (compiled for CPython ${m[1]}.${m[2]})`;
  }
  return '';
}

/** pip's own words for which requirement failed and why, from its output (stdout, then stderr). */
export function pipFailure(output: string): { package?: string; reason: string } {
  const lines = output.split('\n').map((l) => l.trim());
  const last = (re: RegExp) => {
    for (let i = lines.length - 1; i >= 0; i--) {
      const m = re.exec(lines[i]);
      if (m) return m;
    }
    return null;
  };
  const first = (re: RegExp) => {
    for (const line of lines) {
      const m = re.exec(line);
      if (m) return m;
    }
    return null;
  };
  const notFound = last(/No matching distribution found for (\S+)/);
  if (notFound)
    return {
      package: notFound[1],
      reason: 'no matching distribution found (no such package on the index, or no release for this Python)',
    };
  const build = last(/(?:Failed (?:building wheel for|to build)|Could not build wheels for) ([^\s,]+)/);
  // pip's closing `error: metadata-generation-failed` says the same when the × line is out of reach.
  const metadata = last(
    /^(?:× (?:python setup\.py egg_info|Getting requirements to build wheel|Preparing metadata .*) did not run successfully|error: metadata-generation-failed$)/,
  );
  const building = last(
    /^(?:Collecting|Building wheel for|Preparing metadata for|Processing|Obtaining) (\S+)(?: from (\S+))?/,
  );
  // An editable `-e git+https://…#egg=UNKNOWN` (qualys) is "Obtaining UNKNOWN from <url>": the URL
  // is what the user can find in requirements.txt.
  if (building && building[1] === 'UNKNOWN' && building[2]) building[1] = building[2];
  // The build's own complaint, not pip's generic lines around it.
  // A C compiler's `fatal error:` (a missing header) says why; the `error: command 'gcc' failed`
  // after it only repeats the compiler's command line.
  // Of a compiler's plain errors the first is the cause; the hundreds after it follow from it
  // (an old pin against a newer Python's C API).
  const compilerError =
    last(/^\S+:\d+:\d+: fatal error: .*/) ??
    first(/^\S+:\d+:\d+: error: .*/) ??
    last(
      /^(?!.*(?:subprocess-exited-with-error|metadata-generation-failed|Could not build wheels|Failed building wheel|Failed to build|ERROR:)).*(?:error:|Error:|Exception:|fatal error:|ModuleNotFoundError|OSError|command '.*' failed|not found)/,
    );
  if (build || metadata) {
    const pkg = build?.[1] ?? building?.[1];
    return {
      ...(pkg ? { package: pkg } : {}),
      reason: `it failed to build${compilerError ? `: ${compilerError.input}` : ''}${builtFor(lines)}`,
    };
  }
  // A `git+https://…` requirement: git's own complaint says why (an unreachable host, a missing
  // ref); pip's closing lines only say a subprocess failed.
  const clone = last(/^× git clone .*?(\S+:\/\/\S+) \S+ did not run successfully/);
  if (clone) {
    const gitError = last(/^fatal: (.*)/);
    return {
      ...(building ? { package: building[1] } : {}),
      reason: `git could not clone ${clone[1]}${gitError ? `: ${gitError[1]}` : ''}`,
    };
  }
  const invalid = last(/Invalid requirement: '?([^'\s]+)'?/);
  if (invalid) return { package: invalid[1], reason: 'invalid requirement line' };
  const error = last(/^ERROR: (.*)/);
  return {
    ...(building ? { package: building[1] } : {}),
    reason: error?.[1] ?? lines.filter(Boolean).slice(-1)[0] ?? 'pip failed',
  };
}

async function installOne(
  source: string,
  options: InstallOptions,
  visiting: Map<string, string>,
  staging: Staging,
): Promise<InstallReport> {
  const packsDir = resolve(options.packsDir);
  await mkdir(packsDir, { recursive: true });
  const { location, version } = parsePackSource(source);
  const tmp = join(packsDir, `.installing-${newId()}`);
  const label = guessRef(location);
  let report: InstallReport;
  try {
    const { commit } = await fetchSource(location, version, tmp, options, label);
    await refuseEscapingLinks(tmp, label);
    const meta = await readPackYaml(tmp, source);
    // As st2's download_pack, force skips the check: Python 2 code often runs under Python 3.
    if (
      !options.force &&
      meta.python_versions &&
      meta.python_versions.length > 0 &&
      !meta.python_versions.includes('3')
    ) {
      throw new SquallError(
        'PACK_PYTHON_UNSUPPORTED',
        `${meta.ref}: pack.yaml python_versions ${JSON.stringify(meta.python_versions)} excludes Python 3, the only one Squall runs; install with force to try it anyway (it is not guaranteed to work)`,
        { pack: meta.ref, field: 'python_versions' },
      );
    }
    // As st2's verify_pack_version (skipped with force, as there): the release Squall answers as.
    if (!options.force && meta.stackstorm_version) {
      let fits: boolean;
      try {
        fits = stackstormVersionMatches(meta.stackstorm_version);
      } catch (err) {
        throw new SquallError(
          'PACK_STACKSTORM_VERSION_INVALID',
          `${meta.ref}: pack.yaml ${(err as Error).message}; install with force to skip the check`,
          { pack: meta.ref, field: 'stackstorm_version', value: meta.stackstorm_version },
        );
      }
      if (!fits)
        throw new SquallError(
          'PACK_STACKSTORM_UNSUPPORTED',
          `${meta.ref}: pack.yaml requires StackStorm "${meta.stackstorm_version}", but Squall answers as StackStorm "${STACKSTORM_VERSION}"; install with force to try it anyway (it is not guaranteed to work)`,
          {
            pack: meta.ref,
            field: 'stackstorm_version',
            required: meta.stackstorm_version,
            current: STACKSTORM_VERSION,
          },
        );
    }
    const dest = join(packsDir, meta.ref);
    if ((await exists(dest)) && !options.force)
      throw new ConflictError(`pack "${meta.ref}" is already installed in ${dest}; use force to replace it`, {
        pack: meta.ref,
        dir: dest,
      });
    visiting.set(meta.ref, meta.version);
    report = {
      ref: meta.ref,
      version: meta.version,
      dir: dest,
      source,
      ...(version ? { checkout: version } : {}),
      ...(commit ? { commit } : {}),
      nodeModules: false,
      dependencies: [],
      conflicts: [],
      warnings: [],
    };
    const progress = (step: InstallProgress['step'], message: string) =>
      options.onProgress?.({ step, pack: meta.ref, message });

    // node_modules is built in the staged copy (it moves with it); a virtualenv is not
    // relocatable, so it is built in place with the previous one kept aside.
    if (await exists(join(tmp, 'package.json'))) {
      progress('npm', 'npm install --omit=dev');
      await run('npm', ['install', '--omit=dev', '--no-audit', '--no-fund', '--loglevel=error'], {
        cwd: tmp,
      });
      report.nodeModules = true;
    }
    if (await exists(join(tmp, 'requirements.txt'))) {
      const venv = join(resolve(options.virtualenvsDir), meta.ref);
      await mkdir(resolve(options.virtualenvsDir), { recursive: true });
      await staging.replace(venv);
      const venvArgs = ['-m', 'venv', ...(options.venvOptions ?? []), venv];
      progress('venv', `${options.python ?? 'python3'} ${venvArgs.join(' ')}`);
      await run(options.python ?? 'python3', venvArgs);
      progress('pip', 'pip install -r requirements.txt');
      try {
        await run(
          join(venv, 'bin', 'pip'),
          // Not --quiet: when a package fails while pip collects it (mysqlclient without
          // pkg-config), only stdout's "Collecting X" says which one it was.
          [
            'install',
            '--disable-pip-version-check',
            '--progress-bar',
            'off',
            '-r',
            join(tmp, 'requirements.txt'),
          ],
          { cwd: tmp, wholeOutput: true },
        );
      } catch (err) {
        const context = (err as SquallError).context as { stdout?: string; stderr?: string } | undefined;
        const stderr = context?.stderr ?? (err as Error).message;
        const failure = pipFailure(`${context?.stdout ?? ''}\n${stderr}`);
        throw new SquallError(
          'PACK_REQUIREMENTS_FAILED',
          `pack "${meta.ref}": pip could not install ${failure.package ?? 'its requirements'} from requirements.txt: ${failure.reason}; nothing was installed`,
          {
            pack: meta.ref,
            ...(failure.package ? { package: failure.package } : {}),
            stderr: stderr.slice(-4000),
          },
        );
      }
      report.venv = venv;
    }
    await staging.replace(dest);
    await rename(tmp, dest);

    if (!options.skipDependencies) {
      for (const dep of meta.dependencies) {
        const spec = parsePackSource(dep);
        let depRef = guessRef(spec.location);
        if (isPathLike(spec.location) && (await exists(join(spec.location, 'pack.yaml')))) {
          depRef = await readPackYaml(spec.location, dep).then(
            (m) => m.ref,
            () => depRef,
          );
        }
        progress('dependency', `dependency ${dep}`);
        const seenVersion = visiting.get(depRef);
        const installedDir = join(packsDir, depRef);
        if (seenVersion !== undefined || (await exists(join(installedDir, 'pack.yaml')))) {
          const installedVersion =
            seenVersion ??
            (await readPackYaml(installedDir, depRef).then(
              (m) => m.version,
              () => '',
            ));
          if (
            spec.version &&
            installedVersion &&
            spec.version.replace(/^v/, '') !== installedVersion.replace(/^v/, '')
          ) {
            report.conflicts.push({
              pack: depRef,
              requested: spec.version,
              installed: installedVersion,
              requiredBy: meta.ref,
            });
          }
          continue;
        }
        let depSource: string | undefined;
        if (options.resolveDependency)
          depSource = await options.resolveDependency({
            name: spec.location,
            ...(spec.version ? { version: spec.version } : {}),
          });
        else if (isGitUrl(spec.location) || isPathLike(spec.location) || options.indexSource)
          depSource = spec.location;
        if (!depSource) {
          report.warnings.push(
            `dependency "${dep}" of ${meta.ref} cannot be resolved (no index configured); install it separately`,
          );
          continue;
        }
        const sub = await installOne(
          spec.version ? `${depSource}=${spec.version}` : depSource,
          options,
          visiting,
          staging,
        );
        report.dependencies.push(sub);
        report.conflicts.push(...sub.conflicts);
      }
    }
    progress('done', `installed ${meta.ref}${meta.version ? ` ${meta.version}` : ''} in ${dest}`);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return report;
}

/** Deletes an installed pack's files and its virtualenv. */
export async function removePack(ref: string, options: RemoveOptions): Promise<{ removed: string[] }> {
  if (!/^[a-z0-9_]+$/.test(ref))
    throw new SquallError('BAD_PACK_REF', `"${ref}" is not a valid pack ref`, { ref });
  const dir = join(resolve(options.packsDir), ref);
  const venv = join(resolve(options.virtualenvsDir), ref);
  if (!(await exists(dir))) throw new NotFoundError('pack', ref, { dir });
  const removed: string[] = [];
  await rm(dir, { recursive: true, force: true });
  removed.push(dir);
  if (await exists(venv)) {
    await rm(venv, { recursive: true, force: true });
    removed.push(venv);
  }
  return { removed };
}
