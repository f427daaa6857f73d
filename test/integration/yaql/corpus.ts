/** Expressions evaluated by both our YAQL and Python's yaql (via orquesta) against DATA. */

export const DATA = {
  n: 5,
  f: 2.5,
  neg: -3,
  zero: 0,
  s: 'Hello World',
  empty: '',
  csv: 'a,b,,c',
  padded: '  pad  ',
  t: true,
  nul: null,
  l: [3, 1, 4, 1, 5, 9, 2, 6],
  strs: ['b', 'a', 'c'],
  nested: [[1, 2], [3, [4, 5]]],
  d: { a: 1, b: 'two', c: [1, 2], e: { x: 10 } },
  people: [
    { name: 'ann', age: 30, team: 'ops', tags: ['a', 'b'] },
    { name: 'bob', age: 20, team: 'dev', tags: [] },
    { name: 'cid', age: 40, team: 'ops', tags: ['c'] },
  ],
  hosts: ['web1.example.com', 'db1.example.com', 'web2.example.com'],
  st2: { action_execution_id: 'abc123', user: 'stanley', source_channel: 'chatops' },
  __hidden: 'secret',
};

const arithmetic = [
  '1', '0', '42', '1.5', '2.0', '-1', '-2.5', '+3', '1 + 2', '1 + 2 * 3', '(1 + 2) * 3', '10 - 4 - 3',
  '7 / 2', '-7 / 2', '7.0 / 2', '7 / 2.0', '6 / 3', '1 / 0', '1.0 / 0', '7 mod 3', '-7 mod 3', '7 mod -3',
  '7.5 mod 2', '2 * 3.0', '0.1 + 0.2', '1.5 + 1.5', '10 / 4 * 2', '2 * -3', '--2', '-(1 + 2)', '1 mod 0',
  '$.n * $.f', '$.n / 2', '$.n mod 2', '$.neg * $.neg', '$.f * 2', '$.zero - 1', 'abs(-4)', 'abs(-4.5)',
  'abs($.neg)', 'sign(-2)', 'sign(0)', 'sign(3.5)', 'pow(2, 10)', 'pow(2, 3, 5)', 'pow(2.0, 2)', 'pow(2, -1)',
  'round(2.5)', 'round(3.5)', 'round(2.675, 2)', 'round(7)', 'round(-1.5)', 'max(3, 8)', 'min(3, 8)',
  'max("a", "b")', 'min(1, null)', 'max(null, 2)', '1 + "a"', '"a" - 1', 'true + 1', '3 * "ab"',
  '"ab" * 3', '[1, 2] * 2', '2 * [0]', 'bitwiseAnd(12, 10)', 'bitwiseOr(12, 10)', 'bitwiseXor(12, 10)',
  'bitwiseNot(5)', 'shiftBitsLeft(1, 4)', 'shiftBitsRight(256, 3)', 'float(1) / 3 > 0.33', '1e3',
];

const comparisons = [
  '1 = 1', '1 = 1.0', '1 = true', '0 = false', '1 != 2', '"a" = "a"', '"a" = "A"', '1 = "1"', 'null = null',
  'null != null', '1 < 2', '2 <= 2', '3 > 2', '3 >= 4', '"abc" < "abd"', '"B" < "a"', '1 < "a"', 'null < 1',
  '1 < null', 'null <= null', 'null > null', '1 > null', '[1, 2] = [1, 2]', '[1, 2] = [2, 1]',
  '{a => 1} = {a => 1}', '{a => 1, b => 2} = {b => 2, a => 1}', '$.d.a = 1', '$.n > 3 and $.n < 10',
  '$.n > 3 or false', 'not $.t', 'not 0', 'not ""', 'not []', 'not null', 'not 1 = 2', 'true and false',
  'true or false', 'false or null', '0 or "x"', '1 and 2', '"" and 2', 'null and 1', 'true and not false',
  '3 in [1, 2, 3]', '4 in [1, 2, 3]', '"b" in $.strs', '"ell" in $.s', '"z" in "abc"', '"a" in {a => 1}',
  '1 in 2', 'null in [null]', '$.n in $.l', 'not 9 in $.l', '1 < 2 = true', '[1] < [2]',
  'set(1, 2) < set(1, 2, 3)', 'set(1, 2) <= set(1, 2)', 'set(1, 2, 3) > set(2)', 'set(1) >= set(2)',
  '$.s =~ "^Hel"', '$.s =~ "^hel"', '$.s !~ "World$"', '"abc" =~ regex("B", ignoreCase => true)',
  '"x" =~ 1',
];

const strings = [
  "'single'", '"double"', "'it''s'", '"a\\tb"', "'line\\nbreak'", '"\\u00e9"', '`verbatim\\n`', '"a" + "b"',
  '"n=" + str($.n)', '$.s + "!"', 'str(1)', 'str(1.0)', 'str(2.5)', 'str(null)', 'str(true)', 'str(false)',
  'str("x")', 'str([1, "a", null, true])', 'str([1])', 'str({a => 1})', 'str({a => [1, 2]})', 'str(0.1)',
  'str(1e20)', 'str(123456789.125)', 'str(-0.0001)', 'str(0.00001)', 'str(1.0 / 3)', 'str($.d.e)',
  'str([])', 'str("it\'s")', 'len("héllo")', 'len($.s)', '$.s.len()', '$.s.toUpper()', '$.s.toLower()',
  '$.padded.trim()', '$.padded.trimLeft()', '$.padded.trimRight()', '"xxhixx".trim("x")', '$.csv.split(",")',
  '$.csv.split(",", 1)', '"a b  c".split()', '"  a b  ".split(" ")', '"a,b,c".rightSplit(",", 1)',
  '$.s.startsWith("Hell")', '$.s.startsWith("x", "H")', '$.s.endsWith("World")', '$.s.endsWith("o")',
  '$.s.indexOf("o")', '$.s.indexOf("o", 5)', '$.s.indexOf("zz")', '$.s.lastIndexOf("o")', '$.s.substring(6)',
  '$.s.substring(0, 5)', '$.s.substring(-5)', '$.s.substring(3, 100)', '$.s.replace("l", "L")',
  '$.s.replace("l", "L", 1)', '$.s.replace({H => "J", W => "w"})', '"a".join(["x", "y"])', '["x", "y"].join(",")',
  '[1, null, true].join("-")', '$.strs.join(", ")', '", ".join($.strs)', 'concat("a", "b", "c")', '"abc".toCharArray()',
  '"".isEmpty()', '"  ".isEmpty()', 'isEmpty(null)', '"a".isEmpty()', '"  ".isEmpty(false)', 'norm("  a  ")',
  'norm("   ")', '$.s.matches("W.r")', 'regex("W.r").matches($.s)', '"x".toUpper().toLower()', '"abc"[0]',
  "'a' + 1", '"%s" + "x"', '$.empty + "z"', 'len($.empty)', '"ß".toUpper()', '"a\\\\b"', 'str("a\\nb")',
  '"Ab" < "aB"', '"abc".indexOf("c", 0, 2)', '"abcabc".lastIndexOf("b", 0, 3)', 'hex(255)', 'hex(-1)',
  '"x".toUpper', 'isString("a")', 'isString(1)',
];

const collections = [
  '[]', '[1, 2, 3]', '[1, [2, 3], "a"]', '{}', '{a => 1, b => 2}', '{"a b" => 1}', '{1 => "one"}',
  '{a => {b => [1]}}', 'dict(a => 1, b => 2)', 'dict([[1, 2], [3, 4]])', 'dict()', 'list(1, 2, 3)', 'list([1, 2])',
  'list()', 'list($.l.where($ > 4))', 'set(1, 2, 2)', '$.l[0]', '$.l[-1]', '$.l[100]', '$.l[1.5]', '$.d["a"]',
  '$.d[a]', '$.d[zz]', '$.d[zz, "dflt"]', '$.d.zz', '$.d.e.x', '$.d.c[1]', '$.nested[1][1][0]', '$.people[0].name',
  '$.people.name', '$.people.age.sum()', '$.d.get(a)', '$.d.get(zz)', '$.d.get(zz, 7)', '$.d.keys()',
  '$.d.values().len()', '$.d.items().first()', 'keys($.d)', '$.d.containsKey(b)', '$.d.containsKey(q)',
  '$.d.containsValue("two")', '$.d.set(z, 26)', '$.d.set({a => 100})', '$.d.set(a => 0, y => 25)',
  '$.d.delete(a, b)', '$.d.deleteAll([a, c])', '$.d + {f => 6}', '{a => 1} + {a => 2}', '[1, 2] + [3]',
  '$.l + $.strs', '[1] + 2', '$.l.len()', 'len($.l)', 'len($.d)', 'len(set(1, 1))', 'len(1)', '$.l.count()',
  '$.l.contains(9)', '$.l.contains(10)', '$.l.first()', '$.l.last()', '[].first()', '[].first(0)', '[].last(null)',
  '$.l.sum()', '[1.5, 2.5].sum()', '$.strs.sum()', '[].sum()', '[].sum(0)', '$.l.max()', '$.l.min()',
  '$.strs.max()', '[].max()', '$.l.distinct()', '$.l.distinct().len()', 'distinct($.l)', '$.l.reverse()',
  '$.l.orderBy($)', '$.l.orderByDescending($)', '$.strs.orderBy($)', '$.people.orderBy($.age).select($.name)',
  '$.people.orderByDescending($.age).first().name', '$.people.orderBy($.team).thenBy($.age).name',
  '$.people.orderBy($.team).thenByDescending($.age).name', '[3, "a"].orderBy($)', '$.l.skip(5)', '$.l.take(3)',
  '$.l.limit(2)', '$.l.takeWhile($ < 5)', '$.l.skipWhile($ < 5)', '$.nested.flatten()', '[[1], [], [[2]]].flatten()',
  '$.l.toSet().len()', 'set(1, 2).union(set(2, 3)).len()', 'set(1, 2).intersect(set(2, 3))',
  'set(1, 2).difference(set(2, 3))', 'set(1, 2).symmetricDifference(set(2, 3)).len()', 'set(1) + set(2) = set(1, 2)',
  'set(1, 2) - set(2)', 'set(1).add(2, 3).len()', 'set(1, 2).remove(1)', 'isSet(set())', 'isList($.l)',
  'isList($.l.where(true))', 'isDict($.d)', 'isIterable($.l)', 'isIterable("a")', 'isInteger(1)', 'isInteger(1.0)',
  'isNumber(1.5)', 'isNumber(true)', 'isBoolean(false)', '$.l.indexOf(1)', '$.l.lastIndexOf(1)', '$.l.indexOf(99)',
  '$.l.indexWhere($ > 3)', '$.l.lastIndexWhere($ > 3)', '$.l.enumerate().take(2)', '$.strs.enumerate(1)',
  '[1, 2].zip([3, 4], [5, 6])', '[1, 2, 3].zip([4])', '[1].zipLongest([2, 3])', '[1].zipLongest([2, 3], default => 0)',
  '$.l.slice(3)', '$.l.splitAt(2)', '$.l.splitWhere($ = 1)', '$.l.sliceWhere($ > 2)', '$.l.aggregate($1 + $2)',
  '$.l.reduce($1 * $2, 1)', '[1, 2, 3].accumulate($1 + $2)', '[5].single()', '[1, 2].single()',
  '[].defaultIfEmpty([0])', '[1].defaultIfEmpty([0])', '$.l.append(10, 11)', '[1].concat([2], [3])',
  'concat([1], [2])', '$.l.any()', '[].any()', '$.l.any($ > 8)', '$.l.all($ > 0)', '[0, 1].all()', 'any([0, 1])',
  '[1, 2, 3].insert(1, 9)', '[1, 2, 3].where(true).insert(5, 9)', '[1, 2, 3].insertMany(1, [8, 9])',
  '[1, 2, 3, 4].delete(1, 2)', '[1, 2, 3].replace(0, 7)', '[1, 2, 3].replaceMany(1, [8, 9], 2)',
  '$.l.groupBy($ mod 2)', '$.people.groupBy($.team, $.name)', '$.people.groupBy($.team, $.age, $.sum())',
  '$.people.toDict($.name, $.age)', '$.strs.toDict($)', '$.people.select([$.name, $.age]).toList()',
  'range(5)', 'range(2, 5)', 'range(10, 0, -3)', 'range(0)', 'sequence().take(4)', 'sequence(5, 5).take(3)',
  '1.repeat(3)', '[1, 2].cycle().take(5)', 'range(3).select($ * $)', '[1, 2].memorize()', '$.d.mergeWith({e => {y => 2}, c => [3]})',
  '{a => [1, 2]}.mergeWith({a => [2, 3]})', '{a => 1}.mergeWith({a => 2}, maxLevels => 1)', '$.l.toList()[1]',
  '$.l.select($)[0]', '$.people.where($.age > 25).select($.name)[0]', '$.l.where($ > 3)', '$.l.where($ > 100)',
  '$.l.select($ * 2)', '$.l.where($ mod 2 = 0).select($ * 10)', '$.l.select($ > 3)', '$.people.select($.name.toUpper())',
  '$.people.where($.tags.len() > 0).name', '$.people.selectMany($.tags)', '[[1, 2], 3].selectMany($)',
  '$.people.where($.team = ops).len()', '$.people.any($.age > 35)', '$.people.all($.age > 25)',
  '$.hosts.where($.startsWith("web"))', '$.hosts.select($.split(".")[0])', '$.hosts.where($ =~ "^db")',
  '$.people.select({name => $.name, old => $.age > 25})', '$.people.select(dict(n => $.name))',
  '[{a => 1}, {a => 2}].a', '[{a => 1}, {b => 2}].a', '$.people.tags', '[1, 2]?.len()', 'null?.len()', 'null?.a',
  '$.d?.a', '$.l.where($ > 2).len()', '$.l.where($ > 2).count()', '$.l.where($ > 2).first()',
  '$.l.select($ + 1).orderBy(-$).take(2)', 'len([].where(true))', '$.people.orderBy($.name).last().age',
  '$.people.select($.age).max() - $.people.select($.age).min()', '$.d.keys().orderBy($)', '$.d.items().where($[0] = a)',
  '$.d.values().where(isString($))', '[[1, "a"], [2, "b"]].select($[1])', '[1, 2, 3].where($ > 1).select($ * 2).sum()',
  '$.l.distinct().orderBy($).skip(1).take(3)', 'switch($.n > 3 => "big", true => "small")', 'switch(false => 1)',
  'coalesce(null, null, 3)', 'coalesce()', 'selectCase($.n > 10, $.n > 3)', 'selectAllCases(true, false, true)',
  'examine(1, 0)', '2.switchCase("a", "b", "c")', '9.switchCase("a", "b")', '$.n.assert($ > 1)',
  '$.n.assert($ > 10, "too small")',
];

const variables = [
  '$', '$.n', '$.nul', '$.st2.user', '$.missing', '$nothing', 'let(x => 2) -> $x * $.n', 'let(1, 2) -> $1 + $2',
  'let(a => 1, b => 2) -> [$a, $b]', 'let(x => $.l) -> $x.where($ > 4)', 'let(x => 3) -> $.l.where($ > $x)',
  'let(x => 1) -> let(y => $x + 1) -> $x + $y', 'with(1, 2) -> $2', '[1, 2].unpack(a, b) -> $a + $b',
  '[1, 2].unpack() -> $2', '[1, 2].unpack(a) -> $a', '$.l.select($1 + 1)', '$.people.select($.name + ":" + str($.age))',
  'ctx()', 'ctx(n)', "ctx('s')", 'ctx("st2").user', 'ctx().st2.action_execution_id', 'ctx(nope)', 'ctx(__hidden)',
  'ctx().keys().orderBy($).take(3)', 'ctx(l).where($ > 5)', 'ctx().d.c.sum()', 'len(ctx().people)',
  'ctx(people).where($.team = "dev").first().name', 'ctx(n) + ctx(f)', 'ctx(d).get(b)', 'ctx(d).e.x * 2',
  'ctx().hosts.select($.replace(".example.com", ""))', '$.people.where($.name in ["ann", "cid"]).age',
  'let(names => $.people.name) -> $names.join(",")', '$.l.where($ > 2).select(let(v => $) -> $v * $v)',
];

const regexes = [
  'regex("a+").search("baaad")', 'regex("z").search("abc")', '"baaad".search(regex("a+"))',
  'regex("(\\\\w+)@(\\\\w+)").search("mail bob@host now", $2.value)', 'regex("\\\\d+").searchAll("a1b22c333")',
  'regex("\\\\d").replace("a1b2", "#")', '"a1b2".replace(regex("\\\\d"), "#")', 'regex("\\\\d").replace("a1b2", "#", 1)',
  'regex("(\\\\w)(\\\\d)").replace("a1 b2", "\\\\2\\\\1")', 'regex("[,;]").split("a,b;c")', '"a,b;c".split(regex("[,;]"))',
  'regex("\\\\d+").replaceBy("a1b22", str(int($1.value) * 2))', 'escapeRegex("a.b*c")', 'isRegex(regex("x"))',
  'regex("^web").matches("web1")', '"web1".matches("^db")', 'regex("A", ignoreCase => true).matches("a")',
  '"x\\ny" =~ regex("^y", multiLine => true)', '"x\\ny" =~ regex("x.y", dotAll => true)', '"abc" =~ "["',
  '$.hosts.where(regex("^web\\\\d").matches($)).len()', '$.hosts.select(regex("\\\\d").search($))',
];

const conversions = [
  'int("12")', 'int(" 7 ")', 'int("1.5")', 'int(1.9)', 'int(-1.9)', 'int(null)', 'int(true)', 'int("x")', 'int([1])',
  'float("1.5")', 'float(2)', 'float(null)', 'float("abc")', 'float("1e3")', 'str(float("2"))', 'bool(0)', 'bool("")',
  'bool("0")', 'bool([])', 'bool([0])', 'bool({})', 'bool(null)', 'bool($.d)', 'int($.f)', 'str($.n) + str($.f)',
  'int("-3") + 1', 'float(1) = 1', 'str(int("5") * 2)',
];

const syntaxAndErrors = [
  '1 +', '(1', '[1, 2', '{a => }', '$.', 'foo(', '1 2', '"unterminated', 'unknownFunction()', '$.l.unknownMethod()',
  'len()', 'len(1, 2)', '$.l.where()', '"a".where($)', 'not(true)', 'where($.l, $ > 1)', 'keys({a => 1})',
  '__x', '$.n.nope', '1 => 2', '[a => 1]', '#', '1 = = 2', 'and', '$.l[]', ')', '$.d.a.b',
];

const precedence = [
  '1 + 2 = 3', 'not 1 + 1 = 3', '2 * 3 mod 4', '-2 * -2', '- $.n + 1', '1 < 2 and 2 < 3 or false', 'true or false and false',
  '(true or false) and false', 'not true or true', 'not (true or true)', '1 + 2 in [3]', '"a" + "b" in ["ab"]',
  '$.l[0] + $.l[1] * 2', '$.d.c[0] * 10', '-$.l[0]', '2 * $.l.len()', '$.l.len() * 2 + 1', '10 - 2 - 3', '100 / 10 / 5',
  '2 * 3 / 4', '1 - -1', 'let(a => 1) -> $a + 1 = 2', '[1, 2, 3].select($ * 2).where($ > 2).len() = 2',
  '$.n > 3 = true', '1 + 1 mod 2', '"a" < "b" = true', '[1,2,3][1+1]', '{a=>1+1}.a', 'dict(a=>[1,2][0])',
  '(1 + 2).toString', '1.5.round', '[1][0]',
];

const regressions = [
  '"abc".matches(regex("b"))', 'not {}.keys()', 'bool($.d.keys())', '$.d.keys().count()', 'round(0.5)', 'round(1.5)',
  'round(2.5, 0)', 'round(0.125, 2)', 'round(-2.5)', 'round(1234, -2)', 'round(2.675, 2) = 2.67', 'sequence(2).take(2)',
  'regex("a").searchAll("banana")', '$.d.items().len()', '$.d.items().toList().len()', '$.d.keys().len()', '$.d.values().count()',
]

export const CORPUS: string[] = [
  ...arithmetic,
  ...comparisons,
  ...strings,
  ...collections,
  ...variables,
  ...regexes,
  ...conversions,
  ...syntaxAndErrors,
  ...precedence,
  ...regressions,
];
