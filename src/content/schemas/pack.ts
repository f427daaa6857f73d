/** pack.yaml (st2-reference.md §14.2, st2 `PackAPI`). */
export const PACK_REF_PATTERN = '^[a-z0-9_]+$';

/**
 * Bundled packs a user's pack may not replace: st2 refuses user packs named `core` or `packs`
 * (USER_PACK_NAME_BLACKLIST), and Squall's own content depends on `core`.
 */
export const RESERVED_PACK_REFS = ['core', 'packs'];

/**
 * st2's ST2_VERSION_REGEX, the `pattern` of `stackstorm_version` in its PackAPI schema: one or more
 * `<op>MAJOR.MINOR.PATCH` with op one of >, >>, >=, =, <=, <, << and optional commas between.
 * st2 refuses to register a pack whose value misses it ("Failed to register pack"), however it was
 * installed, even though its install check accepts `all` or a bare `3.9.0`.
 */
export const ST2_VERSION_PATTERN = '^((>?>|>=|=|<=|<?<)\\s*[0-9]+\\.[0-9]+\\.[0-9]+?(\\s*,)?\\s*)+$';

export const packSchema = {
  $id: 'https://squall.dev/schemas/pack.json',
  title: 'pack.yaml',
  description: 'Pack metadata.',
  type: 'object',
  required: ['name', 'description', 'version', 'author'],
  properties: {
    ref: {
      type: 'string',
      pattern: PACK_REF_PATTERN,
      description:
        'Pack reference (lowercase letters, digits, underscores); required when `name` has other characters.',
    },
    name: {
      type: 'string',
      minLength: 1,
      description: 'Display name; used as the ref when `ref` is absent.',
    },
    description: { type: 'string', description: 'What the pack does.' },
    keywords: { type: 'array', items: { type: 'string' }, description: 'Search keywords.' },
    version: { type: ['string', 'number'], description: 'Semantic version (MAJOR.MINOR.PATCH).' },
    stackstorm_version: {
      type: 'string',
      description: 'Range of StackStorm versions the pack works with, e.g. ">=3.0.0".',
    },
    python_versions: {
      type: 'array',
      items: { type: 'string', enum: ['2', '3'] },
      description: 'Python major versions the pack supports; Squall runs Python 3 only.',
    },
    author: { type: 'string', description: 'Author name.' },
    email: { type: 'string', format: 'email', description: 'Author email.' },
    contributors: {
      type: 'array',
      items: { type: 'string' },
      description: 'Other contributors ("Name <email>").',
    },
    dependencies: {
      type: 'array',
      items: { type: 'string' },
      description:
        'Packs this pack needs: Exchange names or git URLs, each optionally `=<version|tag|branch|sha>`.',
    },
    system: { type: 'object', description: 'System requirements (free-form).' },
    repo_url: { type: 'string', description: 'Where the source lives.' },
    url: { type: 'string', description: 'Home page.' },
    icon: { type: 'string', description: 'Icon file (icon.png by default).' },
    uid: { type: 'string', description: 'Computed (`pack:<ref>`); ignored when present.' },
    id: { type: 'string', description: 'Database id; ignored when present.' },
  },
  additionalProperties: true,
};
