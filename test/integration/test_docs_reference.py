# docs/reference/ against the modules' own command tables, so the
# directive reference cannot drift from the code:
#
# - every directive a module registers (an AP_INIT_*("Name", ...) entry
#   in the C sources of a mod_* folder or common/, comments and #if 0
#   blocks left out, a table macro counted only where it is used) has
#   exactly one "### `Name`" entry (a block directive: "### `<Name>`"),
#   on its module's page, docs/reference/MODULE.md;
# - every such entry names a directive that exists;
# - each entry has its Syntax, Default, Context and Module rows and an
#   example; Module names the folder that registers it; Context names no
#   place the command table's override flags forbid (no RSRC_CONF: no
#   server config or virtual host; no ACCESS_CONF: no directory section),
#   says "main server only" where the directive's function checks
#   GLOBAL_ONLY, and only <ApiEndpoint> where it refuses every other place;
# - every handler name the modules define (#define ..._HANDLER "apigw-...",
#   strcmp(r->handler, "apigw-...")) has exactly one entry in handlers.md;
# - index.md links every page and lists every directive with the module
#   and context of its entry; every relative link of the reference
#   reaches a file (and, inside docs/reference/, a heading).
#
# No httpd is started: the sources and the pages are read as text.
import os
import re

import pytest

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
REF = os.path.join(TOP, "docs", "reference")
SPECIAL_PAGES = ("index.md", "handlers.md")


# ---- the sources ----

def strip_c(text):
    """C text without comments and #if 0 blocks; string and character
    literals kept as they are (a "https://*.example.com" holds no
    comment)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("\n" * text.count("\n", i, j) or " ")
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        else:
            out.append(c)
            i += 1
    lines, kept, depth = "".join(out).split("\n"), [], 0
    for line in lines:
        s = line.strip()
        if depth:
            if re.match(r"#\s*if", s):
                depth += 1
            elif re.match(r"#\s*endif", s):
                depth -= 1
            elif depth == 1 and re.match(r"#\s*(else|elif)", s):
                depth = 0
            kept.append("")
        elif re.match(r"#\s*if\s+0\b", s):
            depth = 1
            kept.append("")
        else:
            kept.append(line)
    return "\n".join(kept)


def split_args(text, start):
    """The arguments of the call whose '(' is at start: (list, end)."""
    args, depth, i, cur = [], 0, start + 1, []
    while i < len(text):
        c = text[i]
        if c in "\"'":
            j = i + 1
            while text[j] != c:
                j += 2 if text[j] == "\\" else 1
            cur.append(text[i:j + 1])
            i = j + 1
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            if depth == 0:
                args.append("".join(cur).strip())
                return args, i
            depth -= 1
        elif c == "," and depth == 0:
            args.append("".join(cur).strip())
            cur = []
            i += 1
            continue
        cur.append(c)
        i += 1
    raise AssertionError("unbalanced AP_INIT_ call")


def literal(arg):
    """The value of a C string literal (adjacent ones joined), or None."""
    parts = re.findall(r'"((?:[^"\\]|\\.)*)"', arg)
    if not parts or re.sub(r'"(?:[^"\\]|\\.)*"', "", arg).strip():
        return None
    return "".join(parts)


def source_files():
    dirs = [d for d in sorted(os.listdir(TOP))
            if (d.startswith("mod_") or d == "common")
            and os.path.isdir(os.path.join(TOP, d))]
    for d in dirs:
        for root, _, files in os.walk(os.path.join(TOP, d)):
            for f in sorted(files):
                if f.endswith((".c", ".h")):
                    yield d, os.path.join(root, f)


def load_sources():
    srcs = {}
    for folder, path in source_files():
        with open(path, encoding="utf-8", errors="replace") as f:
            text = strip_c(f.read())
        srcs[path] = (folder, text)
    return srcs


SOURCES = load_sources()
ALL_TEXT = "\n".join(t for _, t in SOURCES.values())
# a #define with its continuation lines: group 1 the name, 2 the body
DEFINE = re.compile(r"^[ \t]*#[ \t]*define[ \t]+(\w+)((?:[^\n]*\\\n)*[^\n]*)",
                    re.M)
DEFINES = {}
for _, _text in SOURCES.values():
    for m in DEFINE.finditer(_text):
        DEFINES.setdefault(m.group(1), m.group(2))

FLAG_BITS = {"OR_NONE": 0, "OR_LIMIT": 1, "OR_OPTIONS": 2, "OR_FILEINFO": 4,
             "OR_AUTHCFG": 8, "OR_INDEXES": 16, "OR_UNSET": 32,
             "ACCESS_CONF": 64, "RSRC_CONF": 128, "EXEC_ON_READ": 256,
             "NONFATAL_OVERRIDE": 512, "NONFATAL_UNKNOWN": 1024,
             "NONFATAL_ALL": 1536, "OR_ALL": 31}


def flags_value(expr, depth=0):
    value = 0
    for word in re.findall(r"[A-Za-z_]\w*", expr):
        if word in FLAG_BITS:
            value |= FLAG_BITS[word]
        elif word in DEFINES and depth < 8:
            value |= flags_value(DEFINES[word], depth + 1)
        else:
            raise AssertionError(f"unknown override flag {word} in {expr!r}")
    return value


def macro_holding(text, pos):
    """The name of the #define whose body holds pos, or None."""
    for m in DEFINE.finditer(text):
        if m.start() <= pos <= m.end():
            return m.group(1)
    return None


def function_body(name, prefer):
    """The text of C function name's body, the file prefer first."""
    pat = re.compile(r"\b%s\s*\([^;{)]*(?:\)[^;{)]*)*\)\s*\{" % re.escape(name))
    for path in [prefer] + [p for p in SOURCES if p != prefer]:
        text = SOURCES[path][1]
        m = pat.search(text)
        if not m:
            continue
        depth, i = 1, m.end()
        while depth and i < len(text):
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        return text[m.end():i]
    return ""


def registered_directives():
    """{name: {folder, file, flags, func}} of every AP_INIT_ entry."""
    found = {}
    for path, (folder, text) in SOURCES.items():
        for m in re.finditer(r"\bAP_INIT_\w+\s*\(", text):
            args, _ = split_args(text, m.end() - 1)
            name = literal(args[0])
            assert name, f"{path}: AP_INIT_ without a literal name: {args[0]}"
            macro = macro_holding(text, m.start())
            if macro and len(re.findall(r"\b%s\b" % macro, ALL_TEXT)) < 2:
                continue    # a table macro no command table uses
            if name.startswith("<"):
                name += ">"
            assert name not in found, \
                f"{name} registered twice: {found[name]['file']} and {path}"
            found[name] = {"folder": folder, "file": path,
                           "flags": flags_value(args[3]),
                           "func": re.sub(r"[\\\s]", "", args[1])}
    return found


DIRECTIVES = registered_directives()


def defined_handlers():
    names = set(re.findall(r'#\s*define\s+\w*HANDLER\s+"(apigw-[^"]+)"',
                           ALL_TEXT))
    names |= set(re.findall(r'strcmp\(\s*r->handler\s*,\s*"(apigw-[^"]+)"',
                            ALL_TEXT))
    return names


# ---- the pages ----

HEADING = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t]*$")
ENTRY = re.compile(r"^`([^`]+)`$")


def pages():
    return sorted(f for f in os.listdir(REF) if f.endswith(".md"))


def read_page(name):
    with open(os.path.join(REF, name), encoding="utf-8") as f:
        return f.read()


def entries(name):
    """[(title, body)] of a page's ### headings whose title has a `...`;
    a ### heading holding backticks that is not exactly ### `X` fails."""
    out, cur, fence = [], None, False
    for line in read_page(name).split("\n"):
        if line.startswith("```"):
            fence = not fence
        m = None if fence else HEADING.match(line)
        if m:
            if cur:
                out.append(cur)
                cur = None
            if len(m.group(1)) == 3 and "`" in m.group(2):
                e = ENTRY.match(m.group(2))
                assert e, f"{name}: heading {line!r} is not ### `Name`"
                cur = (e.group(1), [])
            continue
        if cur:
            cur[1].append(line)
    if cur:
        out.append(cur)
    return [(t, "\n".join(b)) for t, b in out]


def directive_pages():
    return [p for p in pages() if p not in SPECIAL_PAGES]


def all_entries():
    got = {}
    for page in directive_pages():
        for title, body in entries(page):
            got.setdefault(title, []).append((page, body))
    return got


def row(body, field):
    rows = re.findall(r"^\|\s*%s\s*\|(.*)\|\s*$" % field, body, re.M)
    return rows


def test_the_sources_register_directives():
    # the parser found the command tables (a broken parser passes nothing)
    assert len(DIRECTIVES) > 80, sorted(DIRECTIVES)
    assert "<ApiEndpoint>" in DIRECTIVES and "ApiRateLimit" in DIRECTIVES


def test_every_directive_has_exactly_one_entry():
    got = all_entries()
    missing = sorted(d for d in DIRECTIVES if d not in got)
    twice = sorted(f"{d}: {[p for p, _ in got[d]]}" for d in DIRECTIVES
                   if len(got.get(d, [])) > 1)
    assert not missing, "directives without a ### `Name` entry in " \
        f"docs/reference/: {missing}"
    assert not twice, f"directives with several entries: {twice}"


def test_every_entry_names_a_registered_directive():
    unknown = sorted(f"{t} ({p})" for t, where in all_entries().items()
                     for p, _ in where if t not in DIRECTIVES)
    assert not unknown, f"entries for no registered directive: {unknown}"


def test_each_entry_is_on_its_modules_page():
    wrong = []
    for title, where in all_entries().items():
        d = DIRECTIVES.get(title)
        if d and d["folder"] != "common":
            wrong += [f"{title} on {p}, registered in {d['folder']}"
                      for p, _ in where if p != d["folder"] + ".md"]
    assert not wrong, wrong


@pytest.mark.parametrize("name", sorted(DIRECTIVES))
def test_entry_has_syntax_default_context_module_example(name):
    where = all_entries().get(name)
    if not where:
        pytest.skip("no entry (test_every_directive_has_exactly_one_entry)")
    page, body = where[0]
    d = DIRECTIVES[name]
    for field in ("Syntax", "Default", "Context", "Module"):
        rows = row(body, field)
        assert len(rows) == 1 and rows[0].strip(), \
            f"{page}: {name}: needs one non-empty | {field} | row"
    syntax = row(body, "Syntax")[0]
    bare = name.strip("<>")
    assert bare in syntax, f"{page}: {name}: Syntax does not name it"
    module = row(body, "Module")[0].strip().strip("`")
    if d["folder"] != "common":
        assert module == d["folder"], \
            f"{page}: {name}: Module {module}, registered in {d['folder']}"
    assert re.search(r"^```\w*\n(?:.*\n)*?```", body, re.M), \
        f"{page}: {name}: no example (a fenced code block)"
    prose = re.sub(r"^```.*?^```", "", body, flags=re.M | re.S)
    assert len(re.sub(r"^\|.*$", "", prose, flags=re.M).split()) >= 8, \
        f"{page}: {name}: no description"

    context = row(body, "Context")[0]
    low = context.lower()
    if not d["flags"] & FLAG_BITS["RSRC_CONF"]:
        assert "server config" not in low and "virtual host" not in low, \
            f"{page}: {name}: Context {context!r}, but not RSRC_CONF"
    if not d["flags"] & (FLAG_BITS["ACCESS_CONF"] | FLAG_BITS["OR_ALL"]):
        for place in ("<apiendpoint>", "<location", "<directory", "<proxy",
                      "<files", "directory"):
            assert place not in low, \
                f"{page}: {name}: Context {context!r}, but not ACCESS_CONF"
    func = function_body(d["func"], d["file"])
    if re.search(r"\bGLOBAL_ONLY\b", func):
        assert "main server only" in low, \
            f"{page}: {name}: GLOBAL_ONLY, Context should say main server only"
    if re.search(r"\b(endpoint_only|only_in_endpoint|endpoint_context)\s*\("
                 r"|only allowed inside <ApiEndpoint>", func):
        assert "<apiendpoint>" in low and "server config" not in low \
            and "virtual host" not in low and "<location" not in low, \
            f"{page}: {name}: only inside <ApiEndpoint>, Context {context!r}"


def test_every_handler_has_one_entry():
    handlers = defined_handlers()
    assert {"apigw-metrics", "apigw-admin"} <= handlers, handlers
    titles = [t for t, _ in entries("handlers.md")]
    missing = sorted(h for h in handlers if h not in titles)
    twice = sorted(t for t in set(titles) if titles.count(t) > 1)
    unknown = sorted(t for t in titles if t not in handlers)
    assert not missing, f"handlers.md has no entry for {missing}"
    assert not twice, f"handlers.md: entries given twice: {twice}"
    assert not unknown, f"handlers.md: no such handler: {unknown}"


def test_index_links_every_page():
    index = read_page("index.md")
    for page in pages():
        if page != "index.md":
            assert f"({page})" in index or f"({page}#" in index, \
                f"index.md does not link {page}"


def test_index_lists_every_directive():
    # one row per directive: | [`Name`](page#anchor) | module | context |,
    # its module and context those of the directive's entry
    index = read_page("index.md")
    rows = {m.group(1): (m.group(2), m.group(3).strip(), m.group(4).strip())
            for m in re.finditer(r"^\| \[`([^`]+)`\]\(([\w.]+)#[\w-]+\) "
                                 r"\|([^|]*)\|(.*)\|\s*$", index, re.M)}
    missing = sorted(d for d in DIRECTIVES if d not in rows)
    assert not missing, f"index.md does not list {missing}"
    entries_ = all_entries()
    wrong = []
    for name, (page, module, context) in rows.items():
        if name not in entries_:
            continue            # test_every_entry_names_a_registered_...
        epage, body = entries_[name][0]
        want = row(body, "Context")[0].strip()
        if page != epage or module != epage[:-3] or context != want:
            wrong.append(f"{name}: index says {page}, {module}, {context!r}; "
                         f"the entry {epage}, {want!r}")
    assert not wrong, wrong


def slug(title):
    s = title.strip().lower()
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


def test_relative_links_resolve():
    bad = []
    for page in pages():
        text = re.sub(r"^```.*?^```", "", read_page(page), flags=re.M | re.S)
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target):
                continue            # http:, https:, mailto:
            path, _, anchor = target.partition("#")
            full = os.path.normpath(os.path.join(REF, path)) if path \
                else os.path.join(REF, page)
            if not os.path.exists(full):
                bad.append(f"{page}: {target} (no such file)")
                continue
            if anchor and os.path.dirname(full) == REF:
                with open(full, encoding="utf-8") as f:
                    body = re.sub(r"^```.*?^```", "", f.read(),
                                  flags=re.M | re.S)
                slugs = {slug(m.group(2)) for m in
                         (HEADING.match(l) for l in body.split("\n")) if m}
                if anchor not in slugs:
                    bad.append(f"{page}: {target} (no such heading)")
    assert not bad, bad
