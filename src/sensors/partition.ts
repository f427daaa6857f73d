/**
 * Sensors spread over the processes with the `sensors` role: each enabled sensor runs in exactly
 * one of them, under the lease `sensor:<ref>` (src/scale/leases.ts). Every round each process
 * keeps up to a fair share of the sensors (enabled sensors / live members of the group), takes
 * unowned ones or ones left by a dead process up to that share, and gives back what is over it so
 * that a process that joins later gets work. A sensor is stopped here before its lease is given
 * back, so two processes never run it at once.
 */
import type { Logger } from '../log/index.js';
import { fairShare, type Leases } from '../scale/index.js';
import type { SensorRecord } from '../store/index.js';

export const SENSORS_GROUP = 'sensors';

export const sensorLease = (ref: string) => `sensor:${ref}`;

export interface SensorPartitioner {
  /** Of the enabled sensors, the refs this process should run now. */
  assign(sensors: SensorRecord[]): Promise<Set<string>>;
  /** The host stopped (or never ran) every sensor not in the last assignment: give their leases back. */
  settled(): Promise<void>;
  /** The worker holding a sensor's lease (null: nobody), and this process's worker id. */
  holder(ref: string): Promise<{ held_by: string | null; this_process: string }>;
  /** Stop: every lease back and out of the group (the sensors are already stopped). */
  releaseAll(): Promise<void>;
}

export class SensorPartition implements SensorPartitioner {
  /** Refs whose lease this process holds (as of the last round). */
  private held = new Set<string>();
  private assigned = new Set<string>();

  constructor(
    private readonly leases: Leases,
    private readonly log: Logger,
  ) {}

  async assign(sensors: SensorRecord[]): Promise<Set<string>> {
    const me = this.leases.owner;
    const alive = await this.leases.aliveWorkers();
    let members = await this.leases.members(SENSORS_GROUP, alive);
    if (!members.includes(me)) {
      await this.leases.join(SENSORS_GROUP);
      members = [...members, me];
    }
    const share = fairShare(sensors.length, members.length);
    const holders = await this.leases.holders(sensors.map((s) => sensorLease(s.ref)));
    const mine = sensors.filter((s) => holders.get(sensorLease(s.ref)) === me).map((s) => s.ref);
    const enabled = new Set(sensors.map((s) => s.ref));
    for (const ref of this.held)
      if (enabled.has(ref) && !mine.includes(ref))
        this.log.warn(
          { sensor: ref, held_by: holders.get(sensorLease(ref)) ?? null },
          `lost the lease of sensor ${ref} (this process missed its heartbeats); stopping it here`,
        );
    // Disabled or removed sensors stay held until the host has stopped them (settled()).
    const retired = [...this.held].filter((ref) => !enabled.has(ref));
    this.held = new Set([...mine, ...retired]);
    // Over the share (a process joined): the first ones are kept, the rest given back after they stop.
    const keep = mine.slice(0, share);
    for (const sensor of sensors) {
      if (keep.length >= share) break;
      const name = sensorLease(sensor.ref);
      const holder = holders.get(name);
      if (holder === me || (holder && alive.has(holder))) continue;
      if (await this.leases.acquire(name, alive)) {
        this.held.add(sensor.ref);
        keep.push(sensor.ref);
      }
    }
    const given = mine.slice(share);
    if (given.length)
      this.log.info(
        { sensors: given, share, members: members.length },
        `giving back ${given.length} sensor(s) over this process's share of ${share}`,
      );
    this.assigned = new Set(keep);
    return this.assigned;
  }

  async settled(): Promise<void> {
    for (const ref of [...this.held]) {
      if (this.assigned.has(ref)) continue;
      await this.leases.release(sensorLease(ref));
      this.held.delete(ref);
    }
  }

  async holder(ref: string): Promise<{ held_by: string | null; this_process: string }> {
    const holders = await this.leases.holders([sensorLease(ref)]);
    return { held_by: holders.get(sensorLease(ref)) ?? null, this_process: this.leases.owner };
  }

  async releaseAll(): Promise<void> {
    this.assigned = new Set();
    await this.settled();
    await this.leases.leave(SENSORS_GROUP);
  }
}
