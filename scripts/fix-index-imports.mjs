#!/usr/bin/env node
// Rewrites imports that reach past another folder's index.ts (what eslint's
// import-x/no-internal-modules reports) so that they go through that index, and adds the names
// they use to the index's re-exports (creating the index when the folder has none). Mechanical:
// it changes only import paths and re-export lines, never what a name is bound to.
//   node scripts/fix-index-imports.mjs            rewrite src/, adapters/, aliases/
//   node scripts/fix-index-imports.mjs --check    list what it would change; exit 1 if anything
// Re-run it after a merge brings new deep imports; then `npx eslint src adapters aliases`.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');
const ROOTS = ['src', 'adapters', 'aliases'];
const SKIP_DIRS = new Set(['node_modules', 'dist', 'python', 'shim']);

const rel = (p) => path.relative(root, p).split(path.sep).join('/');

function walk(dir, out = []) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name)) walk(p, out);
    } else if (/\.tsx?$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

function resolveSpec(from, spec) {
  const base = path.resolve(path.dirname(from), spec).replace(/\.js$/, '');
  for (const c of [base + '.ts', base + '.tsx', path.join(base, 'index.ts')]) if (existsSync(c)) return c;
  return null;
}

const parsed = new Map();
function parse(file) {
  if (!parsed.has(file)) {
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    parsed.set(file, ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true));
  }
  return parsed.get(file);
}
const hasExportModifier = (n) => !!n.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword);

/** What `file` exports under `name`: 'type', 'value', or null (followed through re-exports). */
function exportKind(file, name, seen = new Set()) {
  if (seen.has(file)) return null;
  seen.add(file);
  const sf = parse(file);
  for (const st of sf.statements) {
    if (ts.isExportDeclaration(st)) {
      const target = st.moduleSpecifier ? resolveSpec(file, st.moduleSpecifier.text) : null;
      if (!st.exportClause) {
        if (target) {
          const k = exportKind(target, name, seen);
          if (k) return st.isTypeOnly ? 'type' : k;
        }
        continue;
      }
      if (ts.isNamedExports(st.exportClause)) {
        for (const el of st.exportClause.elements) {
          if (el.name.text !== name) continue;
          if (st.isTypeOnly || el.isTypeOnly) return 'type';
          const orig = (el.propertyName ?? el.name).text;
          if (target) return exportKind(target, orig, new Set()) ?? 'value';
          return localKind(sf, orig) ?? 'value';
        }
      }
      continue;
    }
    if (!hasExportModifier(st)) continue;
    if ((ts.isInterfaceDeclaration(st) || ts.isTypeAliasDeclaration(st)) && st.name.text === name)
      return 'type';
    if (
      (ts.isFunctionDeclaration(st) || ts.isClassDeclaration(st) || ts.isEnumDeclaration(st)) &&
      st.name?.text === name
    )
      return 'value';
    if (ts.isVariableStatement(st)) {
      for (const d of st.declarationList.declarations)
        if (ts.isIdentifier(d.name) && d.name.text === name) return 'value';
    }
  }
  return null;
}
function localKind(sf, name) {
  for (const st of sf.statements) {
    if ((ts.isInterfaceDeclaration(st) || ts.isTypeAliasDeclaration(st)) && st.name.text === name)
      return 'type';
    if (
      ts.isImportDeclaration(st) &&
      st.importClause?.namedBindings &&
      ts.isNamedImports(st.importClause.namedBindings)
    ) {
      for (const el of st.importClause.namedBindings.elements) {
        if (el.name.text === name) {
          if (st.importClause.isTypeOnly || el.isTypeOnly) return 'type';
          const t = resolveSpec(sf.fileName, st.moduleSpecifier.text);
          return t ? exportKind(t, (el.propertyName ?? el.name).text) : 'value';
        }
      }
    }
  }
  return null;
}

/** The folder of `target` that `importer` must enter through its index, or null when it may reach in. */
function gateFor(importer, target) {
  const from = path.dirname(importer);
  let dir = path.dirname(target);
  if (path.basename(target) === 'index.ts' || path.basename(target) === 'index.tsx') return null;
  if ((from + path.sep).startsWith(dir + path.sep)) return null; // same folder or an ancestor's file
  if (rel(dir) === 'src') return null; // src/*.ts are shared leaves (errors, ids, …)
  return dir;
}

const pendingExports = new Map(); // index file → [{ line, name }]
function ensureExport(indexFile, moduleFile, name, kind, withJs) {
  if (existsSync(indexFile) && exportKind(indexFile, name)) return;
  const list = pendingExports.get(indexFile) ?? [];
  if (list.some((e) => e.name === name)) return;
  const spec = './' + path.relative(path.dirname(indexFile), moduleFile).split(path.sep).join('/');
  const jsSpec = spec.replace(/\.tsx?$/, withJs ? '.js' : '');
  list.push({ name, moduleSpec: jsSpec, kind });
  pendingExports.set(indexFile, list);
}

const problems = [];
const edits = new Map(); // file → [{ start, end, text }]
for (const file of ROOTS.flatMap((r) => walk(path.join(root, r)))) {
  const sf = parse(file);
  for (const st of sf.statements) {
    const isImport = ts.isImportDeclaration(st);
    const isReexport = ts.isExportDeclaration(st) && st.moduleSpecifier;
    if (!isImport && !isReexport) continue;
    const spec = st.moduleSpecifier.text;
    if (!spec.startsWith('.')) continue;
    const target = resolveSpec(file, spec);
    if (!target) continue;
    const gate = gateFor(file, target);
    if (!gate) continue;
    const indexFile = path.join(gate, 'index.ts');
    const names = [];
    if (isImport) {
      const clause = st.importClause;
      if (!clause || clause.name || (clause.namedBindings && !ts.isNamedImports(clause.namedBindings))) {
        problems.push(`${rel(file)}: "${spec}" is a default, namespace or bare import; fix it by hand`);
        continue;
      }
      for (const el of clause.namedBindings?.elements ?? [])
        names.push({ name: (el.propertyName ?? el.name).text, typeOnly: clause.isTypeOnly || el.isTypeOnly });
    } else {
      if (!st.exportClause || !ts.isNamedExports(st.exportClause)) {
        problems.push(`${rel(file)}: "export * from '${spec}'" reaches into ${rel(gate)}; fix it by hand`);
        continue;
      }
      for (const el of st.exportClause.elements)
        names.push({ name: (el.propertyName ?? el.name).text, typeOnly: st.isTypeOnly || el.isTypeOnly });
    }
    let ok = true;
    for (const n of names) {
      const kind = exportKind(target, n.name);
      if (!kind) {
        problems.push(`${rel(file)}: ${n.name} is not exported by ${rel(target)}`);
        ok = false;
        continue;
      }
      ensureExport(indexFile, target, n.name, kind, spec.endsWith('.js'));
    }
    if (!ok) continue;
    let newSpec = path.relative(path.dirname(file), indexFile).split(path.sep).join('/');
    if (!newSpec.startsWith('.')) newSpec = './' + newSpec;
    newSpec = spec.endsWith('.js') ? newSpec.replace(/\.ts$/, '.js') : newSpec.replace(/\.ts$/, '');
    const list = edits.get(file) ?? [];
    list.push({
      start: st.moduleSpecifier.getStart(sf) + 1,
      end: st.moduleSpecifier.getEnd() - 1,
      text: newSpec,
      was: spec,
    });
    edits.set(file, list);
  }
}

for (const [file, list] of edits) {
  for (const e of list) console.log(`${rel(file)}: ${e.was} → ${e.text}`);
  if (check) continue;
  let text = readFileSync(file, 'utf8');
  for (const e of [...list].sort((a, b) => b.start - a.start))
    text = text.slice(0, e.start) + e.text + text.slice(e.end);
  writeFileSync(file, mergeImports(file, text));
}

/** One import declaration per index: `import { a }` and `import type { B }` become `import { a, type B }`. */
function mergeImports(file, text) {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const groups = new Map();
  for (const st of sf.statements) {
    if (!ts.isImportDeclaration(st) || st.attributes) continue;
    const c = st.importClause;
    if (!c || c.name || !c.namedBindings || !ts.isNamedImports(c.namedBindings)) continue;
    const spec = st.moduleSpecifier.text;
    if (!/(^|\/)index(\.js)?$/.test(spec)) continue;
    groups.set(spec, [...(groups.get(spec) ?? []), st]);
  }
  const cuts = [];
  for (const [spec, decls] of groups) {
    if (decls.length < 2) continue;
    const allType = decls.every((d) => d.importClause.isTypeOnly);
    const parts = decls.flatMap((d) =>
      d.importClause.namedBindings.elements.map((el) =>
        !allType && d.importClause.isTypeOnly && !el.isTypeOnly ? `type ${el.getText(sf)}` : el.getText(sf),
      ),
    );
    const merged = `import ${allType ? 'type ' : ''}{ ${[...new Set(parts)].join(', ')} } from '${spec}';`;
    cuts.push({ start: decls[0].getStart(sf), end: decls[0].getEnd(), text: merged });
    for (const d of decls.slice(1)) {
      let end = d.getEnd();
      if (text[end] === '\n') end++;
      cuts.push({ start: d.getStart(sf), end, text: '' });
    }
  }
  for (const c of cuts.sort((a, b) => b.start - a.start))
    text = text.slice(0, c.start) + c.text + text.slice(c.end);
  return text;
}

for (const [indexFile, list] of pendingExports) {
  const byModule = new Map();
  for (const e of list) {
    const k = `${e.moduleSpec}\0${e.kind}`;
    byModule.set(k, [...(byModule.get(k) ?? []), e.name]);
  }
  const lines = [...byModule].map(([k, names]) => {
    const [spec, kind] = k.split('\0');
    return `export ${kind === 'type' ? 'type ' : ''}{ ${names.sort().join(', ')} } from '${spec}';`;
  });
  console.log(`${rel(indexFile)}: + ${lines.join('\n    + ')}`);
  if (check) continue;
  const created = !existsSync(indexFile);
  const head = created
    ? `// The public surface of ${rel(path.dirname(indexFile))}: other folders import it from here.\n`
    : '';
  const before = created ? '' : readFileSync(indexFile, 'utf8').replace(/\n*$/, '\n');
  writeFileSync(indexFile, head + before + lines.join('\n') + '\n');
}
const touched = [...edits.keys(), ...pendingExports.keys()];
if (!check && touched.length)
  spawnSync('npx', ['prettier', '--log-level', 'warn', '--write', ...touched], {
    cwd: root,
    stdio: 'inherit',
  });
for (const p of problems) console.error(`fix by hand: ${p}`);
if (check && (edits.size || pendingExports.size || problems.length)) process.exit(1);
