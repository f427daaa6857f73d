import { CONTENT_NAME_PATTERN, NAME_MAX_LENGTH } from '../../names.js';

/**
 * The `name` property of a content file (action, alias, policy, trigger type, sensor): what
 * names.ts allows, in one place. A sensor's name may be absent or empty (it defaults to its class).
 */
export function contentNameSchema(description: string, { required = true } = {}) {
  return {
    type: 'string',
    ...(required ? { minLength: 1 } : {}),
    maxLength: NAME_MAX_LENGTH,
    pattern: CONTENT_NAME_PATTERN,
    description,
  };
}
