/**
 * orquesta's inline parameter shorthand (`core.echo message=<% ctx(m) %> count=2`, and
 * `publish: a=<% … %> b=…`). Values are JSON-decoded when they parse (so `2` is a number and
 * `true` a boolean) unless they were quoted, like orquesta's parse_inline_params.
 */
// Same alternatives, in the same order, as orquesta's REGEX_INLINE_PARAM_VARIATIONS: a bare word
// is not a value there, so `a=b` is ignored (quote it: `a='b'`).
const VALUE_VARIATIONS = [
  '\\[.*\\]\\s*', // [json list] (greedy, like orquesta)
  '"[^"]*"\\s*',
  "'[^']*'\\s*",
  '-?\\d*\\.\\d+',
  '-?\\d+',
  '[Tt][Rr][Uu][Ee]',
  '[Ff][Aa][Ll][Ss][Ee]',
  'null',
  '<%.*?%>',
  '\\{\\{.*?\\}\\}',
  '\\{%.*?%\\}',
];

export function parseInlineParams(text: string): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  const re = new RegExp(`(\\w+)=(${VALUE_VARIATIONS.join('|')})`, 'gs');
  for (const match of text.matchAll(re)) {
    const key = match[1];
    let value = match[2].trim();
    const quoted = /^".*"$/s.test(value) || /^'.*'$/s.test(value);
    value = value.replace(/^"/, '').replace(/"$/, '').replace(/^'/, '').replace(/'$/, '');
    let parsed: unknown = value;
    if (!quoted && value !== '') {
      const candidate = /^(true|false)$/i.test(value) ? value.toLowerCase() : value;
      try {
        parsed = JSON.parse(candidate);
      } catch {
        parsed = value;
      }
    }
    out.push([key, parsed]);
  }
  return out;
}
