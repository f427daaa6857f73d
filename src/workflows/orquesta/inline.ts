/**
 * orquesta's inline parameter shorthand (`core.echo message=<% ctx(m) %> count=2`, and
 * `publish: a=<% … %> b=…`). Values are JSON-decoded when they parse (so `2` is a number and
 * `true` a boolean) unless they were quoted, like orquesta's parse_inline_params.
 */
const VALUE_VARIATIONS = [
  '"[^"]*"', // "double quoted"
  "'[^']*'", // 'single quoted'
  '\\{[^}]*\\}', // {json}
  '\\[.*?\\]', // [json]
  '<%.*?%>', // yaql
  '\\{\\{.*?\\}\\}', // jinja expression
  '\\{%.*?%\\}', // jinja statement
  '[^\\s,;]*', // bare word
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
