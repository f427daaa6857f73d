import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Writes a pack `name` under `root`: a valid pack.yaml and the given files (path relative to
 * the pack → content). Returns the pack's directory.
 */
export function writeTestPack(root: string, name: string, files: Record<string, string>): string {
  const dir = path.join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, 'pack.yaml'),
    `ref: ${name}\nname: ${name}\ndescription: test pack ${name}\nversion: 1.0.0\nauthor: tests\nemail: tests@example.com\n`,
  );
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), text);
  }
  return dir;
}
