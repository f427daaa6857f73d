/**
 * YAML read as st2's from_yaml_string reads it: PyYAML's safe_load, which is YAML 1.1. js-yaml
 * reads YAML 1.2, where `yes`, `no`, `on` and `off` are strings and `010` is ten; PyYAML reads
 * True, False, True, False and eight, and `1_000` as a thousand. A date stays the text it was
 * (Python prints a date as it is written), and `1e3` (no dot) stays a string, as in PyYAML.
 */
import yaml from 'js-yaml';
import { loadYaml } from '../../../yaml.js';

const TRUE = /^(?:yes|Yes|YES|true|True|TRUE|on|On|ON)$/;
const BOOL = /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/;
const INT =
  /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/;
const FLOAT =
  /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;

/** Base 60 (`1:30` is 90), as PyYAML's construct_yaml_int and construct_yaml_float read it. */
function sexagesimal(digits: string): number {
  return digits.split(':').reduce((acc, part) => acc * 60 + Number(part), 0);
}

function signed(text: string): [number, string] {
  const clean = text.replace(/_/g, '');
  if (clean.startsWith('-')) return [-1, clean.slice(1)];
  return [1, clean.startsWith('+') ? clean.slice(1) : clean];
}

const bool = new yaml.Type('tag:yaml.org,2002:bool', {
  kind: 'scalar',
  resolve: (data: string) => BOOL.test(data),
  construct: (data: string) => TRUE.test(data),
  predicate: (v: unknown) => typeof v === 'boolean',
});

const int = new yaml.Type('tag:yaml.org,2002:int', {
  kind: 'scalar',
  resolve: (data: string) => INT.test(data),
  construct(data: string): number {
    const [sign, v] = signed(data);
    if (v === '0') return 0;
    if (v.startsWith('0b')) return sign * parseInt(v.slice(2), 2);
    if (v.startsWith('0x')) return sign * parseInt(v.slice(2), 16);
    if (v.startsWith('0')) return sign * parseInt(v, 8);
    if (v.includes(':')) return sign * sexagesimal(v);
    return sign * Number(v);
  },
  predicate: (v: unknown) => typeof v === 'number' && Number.isInteger(v),
});

const float = new yaml.Type('tag:yaml.org,2002:float', {
  kind: 'scalar',
  resolve: (data: string) => FLOAT.test(data),
  construct(data: string): number {
    const [sign, v] = signed(data.toLowerCase());
    if (v === '.inf') return sign * Infinity;
    if (v === '.nan') return NaN;
    if (v.includes(':')) return sign * sexagesimal(v);
    return sign * Number(v);
  },
  predicate: (v: unknown) => typeof v === 'number',
});

// js-yaml's own types (its typings leave `types` out).
const types = (yaml as unknown as { types: Record<string, yaml.Type> }).types;

const SCHEMA = yaml.FAILSAFE_SCHEMA.extend({
  implicit: [types.null, bool, int, float, types.merge],
  explicit: [types.binary, types.omap, types.pairs, types.set],
});

/** PyYAML's safe_load of a YAML text, with the alias bound every YAML from users gets. */
export function pyYamlLoad(text: string): unknown {
  // The bound is counted on the load that knows how (aliases share nodes the same way in both).
  if (text.includes('*')) loadYaml(text);
  return yaml.load(text, { schema: SCHEMA }) ?? null;
}
