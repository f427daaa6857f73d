import { chmod, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export const packYaml = (name: string): string => `---
name: ${name}
description: a pack with problems
version: 1.0.0
author: tester
`;

/** Writes a pack under a fresh temp dir; pack.yaml defaults to a valid one. Returns the pack dir. */
export async function writePack(files: Record<string, string>, name = 'bad'): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'squall-content-'));
  const dir = join(root, name);
  const all = { 'pack.yaml': packYaml(name), ...files };
  for (const [rel, text] of Object.entries(all)) {
    const path = join(dir, rel);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, text);
    if (rel.endsWith('.sh')) await chmod(path, 0o755);
  }
  return dir;
}
