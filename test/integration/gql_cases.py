"""GraphQL documents for the management API's parser tests.

No tests here: the lists the HTTP tests send to the gateway.

VALID    executable documents that graphql-core 2.3.2's graphql.parse
         accepts and the gateway's parser (mod_apigw/apigw_gql_parse.c) must
         accept too (str).
INVALID  documents graphql-core's parse rejects; the gateway must answer a
         syntax error (str, or bytes where the document is not UTF-8 or the
         point is a raw byte).
HOSTILE  zero-argument functions returning bytes: documents built to
         exhaust a parser (deep nesting, a megabyte of aliases, a megabyte
         of unterminated string, deep list values). The gateway must answer
         each with an error (depth, size or syntax) quickly, without
         crashing.

test_gql_cases.py keeps VALID and INVALID true against graphql-core.
graphql-core 2.3.2 reads an older specification, so what it lacks is in
neither list: the null literal, block strings (it reads '\"\"\"' as '\"\"'
and '\"'), \\u{...} escapes, raw control characters in strings; nor what
it accepts and the gateway refuses by design (a lone surrogate or U+0000
escaped in a string, type system extensions).
"""

VALID = [
    "{a}",
    "{ a b c }",
    "query { a }",
    "query Q { a }",
    "mutation M { doIt(input: {a: 1, b: \"x\", c: ENUM, d: [], "
    "e: true, f: false}) { id } }",
    "subscription S { events { id } }",
    "query Q($x: Int, $y: [String!]! = [\"a\", \"b\"], "
    "$z: In = {f: 1, g: [1.5, -2e3]}) { a(x: $x, y: $y, z: $z) }",
    "{ alias: field }",
    "{ _a1: __b2 __typename }",
    "{ a: b(c: 1) @include(if: true) @skip(if: false) { d } }",
    "{ ...F } fragment F on T { a }",
    "{ ... on T { a } ... { b } ... @include(if: true) { c } }",
    "{ ...onFragment } fragment onFragment on T { a }",
    "query Q @dir(a: 1) { a }",
    "fragment F on T @d { a } query { ...F @d }",
    "{ a(x: \"esc \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\uD83D\\uDE00\") }",
    "{ a(x: \"\", y: \"h\u00e9llo \u65e5\u672c \U0001F600\") } # \u00fcmlaut",
    "# comment\n{ a # trailing comment\n b }",
    "\ufeff{ a }",
    "{ a,,, b,, }",
    "{ a }\r\n{ b }\r{ c }\n",
    "\t{\ta\t}\t",
    "{ a(i: 0, j: -0, k: 123, f: 1.0, g: -1.5e-10, h: 2E+3, l: 0.0e0) }",
    "{ a { b { c { d { e } } } } }",
    "{ a(x: [[1], [], [[2, 3]]], y: {}, z: {o: {p: [{q: NONE}]}}) }",
    "{ query mutation subscription fragment on true false null }",
    "{ a(x: query, y: on, z: fragment) }",
    "query ($id: ID!) { route(id: $id) { id path methods } }",
    "query A { a } query B { b } mutation C { c }",
    "query Q($x: [[Int!]!] = [[1]]) { a(x: $x) }",
    "query Q($v: In = {a: [1, 2], b: {c: \"d\"}}) { a(v: $v) }",
    "{ a(x: 1) @d1 @d2(a: [1]) { ... on T @d3 { b } } }",
]

INVALID = [
    # empty and incomplete documents
    "",
    "   ",
    "# only a comment",
    "{",
    "{a",
    "{a{b}",
    "}",
    "{}",
    "{a}}",
    "query",
    "query Q",
    "query Q(",
    "query Q() {a}",
    "query Q($x) {a}",
    "query Q($x:) {a}",
    "query Q(x: Int) {a}",
    "query Q($x: Int = 1, $y: Int = 2 {a}",
    "query Q($x: Int!!) {a}",
    "query Q($x: [Int) {a}",
    "query Q @ {a}",
    "mutation",
    "subscription {}",
    "notakeyword {a}",
    "{a} garbage",
    "\"desc\" query {a}",
    # variables where only constants may stand
    "query Q($x: Int = $y) {a}",
    "query Q($x: [Int] = [$y]) {a}",
    "query Q($x: In = {f: $y}) {a}",
    # strings and block strings
    "{a(x: \"abc)}",
    "{a(x: \"abc\n\")}",
    "{a(x: \"abc",
    "{a(x: \"\"\"abc)}",
    "{a(x: \"\"\"abc\\\"\"\")}",
    "{a(x: \"\\q\")}",
    "{a(x: \"\\u12\")}",
    "{a(x: \"\\uXYZW\")}",
    "{a(x: \"\\\")}",
    "{a(x: 'single')}",
    "{a(x: \"\x00\")}",
    # numbers
    "{a(x: 1.)}",
    "{a(x: 01)}",
    "{a(x: 1e)}",
    "{a(x: 0x1)}",
    "{a(x: .5)}",
    "{a(x: 123abc)}",
    "{a(x: -)}",
    "{a(x: 1.5.)}",
    "{a(x: +1)}",
    # fragments
    "fragment on on X {a}",
    "fragment F {a}",
    "fragment F on {a}",
    "{...}",
    "{... on}",
    # arguments, values, stray punctuators
    "{a(x: 1}",
    "{a(: 1)}",
    "{a()}",
    "{a @}",
    "{a: }",
    "{a(x: [1, 2)}",
    "{a(x: {b: 1)}",
    "{a(x: $)}",
    "{a(x: ...)}",
    "{a(x: ..)}",
    "{a(x: 1) (y: 2)}",
    "{a ! }",
    "{a & b}",
    "{a | b}",
    "{a = b}",
    ":{a}",
    "${a}",
    "@{a}",
    "!",
    "{a}\x00",
    "{a \x07 }",
    # not UTF-8
    b"{a(x: \"\xff\")}",
    b"{a}\xc3",
    b"{a(x: \"\xed\xa0\x80\")}",
    b"{\xc0\xaf}",
    b"# \xfe\n{a}",
    # control characters in strings and comments, the braced escape of
    # the October 2021 specification (graphql-core 2.3.2 knows neither)
    "{ a(x: \"a\x01b\") }",
    "{ a(x: \"\"\"a\x1fb\"\"\") }",
    "# c\x01\n{a}",
    "{ a(x: \"\\u{41}\") }",
]


def deep_selections(depth=10000):
    """{a{a{...}}} nested depth times."""
    return b"{a" * depth + b"}" * depth


def aliases_1mb(size=1 << 20):
    """{a0:__typename a1:__typename ...} of about size bytes."""
    parts = [b"{"]
    total, i = 1, 0
    while total < size:
        item = b"a%d:__typename " % i
        parts.append(item)
        total += len(item)
        i += 1
    parts.append(b"}")
    return b"".join(parts)


def unterminated_string_1mb(size=1 << 20):
    """An argument string opened and never closed, size bytes of it."""
    return b"{a(x: \"" + b"x" * size


def deep_list_value(depth=10000):
    """[[[[...]]]] nested depth times, in an argument."""
    return b"{a(x: " + b"[" * depth + b"]" * depth + b")}"


def deep_object_value(depth=10000):
    """{b: {b: {...}}} nested depth times, in an argument."""
    return b"{a(x: " + b"{b: " * depth + b"1" + b"}" * depth + b")}"


def deep_list_type(depth=10000):
    """A variable of type [[[...Int...]]] nested depth times."""
    return (b"query Q($x: " + b"[" * depth + b"Int" + b"]" * depth
            + b") { a }")


def unterminated_block_string_1mb(size=1 << 20):
    """A block string of size bytes of lines, never closed."""
    return b"{a(x: \"\"\"" + b"    line\n" * (size // 9)


HOSTILE = [
    deep_selections,
    aliases_1mb,
    unterminated_string_1mb,
    deep_list_value,
    deep_object_value,
    deep_list_type,
    unterminated_block_string_1mb,
]
