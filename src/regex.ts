/** Building regular expressions from text a user gave, to be matched literally or as a glob. */

/** `s` with every character a RegExp gives a meaning to escaped: it matches itself only. */
export function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** RegExp source of a glob whose only wildcard is `*` (any run of characters), unanchored. */
export function globSource(glob: string): string {
  return glob.split('*').map(escapeRegex).join('.*');
}
