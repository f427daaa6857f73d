// linux.FileWatchSensor: tails the files named by the rules using linux.file_watch.line and
// dispatches one trigger instance per new line. Sensor SDK shape: see the pack README.
import { open, stat } from 'node:fs/promises';
import { watch } from 'node:fs';
import { basename } from 'node:path';

const TRIGGER = 'linux.file_watch.line';

export default class FileWatchSensor {
  constructor(sensorService, config = {}) {
    this.sensorService = sensorService;
    this.config = config;
    this.files = new Map(); // path -> { offset, partial, watcher, refs: Set<trigger id> }
    this.pollMs = Number(config.file_watch_poll_ms || 1000);
  }

  async setup() {}

  async run() {
    // Watching is event-driven (add_trigger); run() keeps a slow poll as a safety net for
    // filesystems where fs.watch misses events.
    this.timer = setInterval(() => {
      for (const path of this.files.keys()) void this.readNew(path);
    }, this.pollMs);
  }

  async cleanup() {
    clearInterval(this.timer);
    for (const entry of this.files.values()) entry.watcher?.close();
    this.files.clear();
  }

  async add_trigger(trigger) {
    const path = trigger?.parameters?.file_path;
    if (!path) return;
    let entry = this.files.get(path);
    if (!entry) {
      let offset = 0;
      try {
        offset = (await stat(path)).size; // only lines written from now on
      } catch {
        offset = 0;
      }
      entry = { offset, partial: '', refs: new Set(), watcher: undefined };
      try {
        entry.watcher = watch(path, () => void this.readNew(path));
      } catch {
        entry.watcher = undefined; // the file may not exist yet; the poll picks it up
      }
      this.files.set(path, entry);
    }
    entry.refs.add(trigger.id ?? trigger.ref ?? path);
  }

  async update_trigger(trigger) {
    await this.add_trigger(trigger);
  }

  async remove_trigger(trigger) {
    const path = trigger?.parameters?.file_path;
    const entry = path && this.files.get(path);
    if (!entry) return;
    entry.refs.delete(trigger.id ?? trigger.ref ?? path);
    if (entry.refs.size === 0) {
      entry.watcher?.close();
      this.files.delete(path);
    }
  }

  async readNew(path) {
    const entry = this.files.get(path);
    if (!entry || entry.reading) return;
    entry.reading = true;
    try {
      const { size } = await stat(path);
      if (size < entry.offset) entry.offset = 0; // truncated or rotated
      if (size === entry.offset) return;
      const fh = await open(path, 'r');
      try {
        const buf = Buffer.alloc(size - entry.offset);
        await fh.read(buf, 0, buf.length, entry.offset);
        entry.offset = size;
        const text = entry.partial + buf.toString('utf8');
        const lines = text.split('\n');
        entry.partial = lines.pop() ?? '';
        for (const line of lines) {
          await this.sensorService.dispatch(TRIGGER, {
            file_path: path,
            file_name: basename(path),
            line: line.replace(/\r$/, ''),
          });
        }
      } finally {
        await fh.close();
      }
    } catch {
      // missing file: wait for it to appear
    } finally {
      entry.reading = false;
    }
  }
}
