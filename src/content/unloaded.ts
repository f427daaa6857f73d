import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Packs unloaded and not registered since (st2's `packs.unload`). st2 registers content only when
 * told (`st2 pack register`, `st2ctl reload`), so an unloaded pack stays so across restarts;
 * Squall registers every pack on disk when it starts, and skips these. Kept in the data dir:
 * `pack register` (of the pack, or of all), `pack install` and `pack remove` take a pack off.
 */
export function unloadedPacksFile(dataDir: string): string {
  return path.join(dataDir, 'unloaded-packs.json');
}

export function readUnloaded(file: string): string[] {
  if (!existsSync(file)) return [];
  try {
    const refs = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return Array.isArray(refs) ? refs.filter((r): r is string => typeof r === 'string') : [];
  } catch {
    return []; // a damaged list unloads nothing: every pack is registered, as st2ctl reload does
  }
}

function write(file: string, refs: string[]): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify([...new Set(refs)].sort()));
  renameSync(tmp, file);
}

export function markUnloaded(file: string, refs: string[]): void {
  write(file, [...readUnloaded(file), ...refs]);
}

/** Takes `refs` off the list, or every pack when `refs` is undefined. */
export function clearUnloaded(file: string, refs?: string[]): void {
  const now = readUnloaded(file);
  if (!now.length) return;
  write(file, refs ? now.filter((r) => !refs.includes(r)) : []);
}
