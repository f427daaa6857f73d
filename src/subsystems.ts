import type { SquallConfig } from './config/index.js';
import type { Subsystem } from './service/index.js';

/**
 * The subsystems a `squall start` process runs. Each folder of the domain contributes one; the
 * roles in the config decide which of their parts are active.
 */
export function defaultSubsystems(_config: SquallConfig): Subsystem[] {
  return [];
}
