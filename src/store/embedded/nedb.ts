import { createRequire } from 'node:module';
import type NedbTypes from '@seald-io/nedb';

/**
 * nedb is CommonJS whose typings declare an ES default export; loading it through require gives
 * the class itself under NodeNext resolution.
 */
const require = createRequire(import.meta.url);
export type NedbDatastore<T = Record<string, unknown>> = NedbTypes.default<T>;
export const NedbDatastore = require('@seald-io/nedb') as new <T>(
  options: NedbTypes.default.DataStoreOptions,
) => NedbTypes.default<T>;
