import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The generated admin password, kept (mode 0600) beside the datastore key until the admin changes
 * it, as Jenkins keeps its initialAdminPassword. Printing it once was not enough: a first start
 * that failed after creating the admin (a port in use) lost it, and nothing could recover it.
 */
export class InitialAdminPassword {
  readonly file: string;

  constructor(dataDir: string) {
    this.file = path.join(dataDir, 'keys', 'initial-admin-password');
  }

  /** Written aside first, so that a password is only ever in place once its user exists. */
  stage(password: string): { commit(): void; discard(): void } {
    mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
    const staged = `${this.file}.${process.pid}.tmp`;
    writeFileSync(staged, `${password}\n`, { mode: 0o600 });
    return {
      commit: () => renameSync(staged, this.file),
      discard: () => rmSync(staged, { force: true }),
    };
  }

  read(): string | undefined {
    if (!existsSync(this.file)) return undefined;
    return readFileSync(this.file, 'utf8').trim() || undefined;
  }

  remove(): void {
    rmSync(this.file, { force: true });
  }
}
