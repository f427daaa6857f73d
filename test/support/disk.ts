import type { SqliteDatabase } from '../../src/store/index.js';

/** The embedded store's fsync, held or failing on demand: a slow disk, then a failed one. */
export interface HeldDisk {
  /** How many fsyncs have been asked for since the disk was held. */
  readonly waiting: number;
  /** Lets every fsync asked for (and any later one) reach the disk. */
  release(): void;
  /** Makes every fsync asked for (and any later one) report an I/O error. */
  fail(): void;
  /** Puts the real fsync back and releases what still waits. */
  restore(): void;
}

/** Holds the embedded store's fsyncs until the test says release() or fail(). */
export function holdFsync(embedded: SqliteDatabase): HeldDisk {
  const realFsync = embedded.fsync;
  let settle!: (outcome: 'release' | 'fail') => void;
  const settled = new Promise<'release' | 'fail'>((r) => (settle = r));
  let waiting = 0;
  embedded.fsync = (fd, done) => {
    waiting++;
    void settled.then((outcome) =>
      outcome === 'release'
        ? realFsync(fd, done)
        : done(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' })),
    );
  };
  return {
    get waiting() {
      return waiting;
    },
    release: () => settle('release'),
    fail: () => settle('fail'),
    restore() {
      embedded.fsync = realFsync;
      settle('release');
    },
  };
}
