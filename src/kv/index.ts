export { kvSubsystem, getKeyValueService } from './subsystem.js';
export {
  KeyValueService,
  normaliseScope,
  kvUid,
  type KeyValuePair,
  type KvScope,
  type KvScopeFilter,
  type KvSnapshot,
  type KvLookupTable,
  type KeyChange,
  type KeyOptions,
  type SetOptions,
  type ListOptions,
} from './service.js';
export {
  encryptValue,
  decryptValue,
  loadOrCreateKey,
  generateKeyFile,
  readKeyFile,
  secretBox,
} from './crypto.js';
export { kvRoutes } from './routes.js';
export {
  secretReader,
  templateDecryptor,
  datastoreGet,
  decryptRefused,
  type SecretReader,
} from './access.js';
