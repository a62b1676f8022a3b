/* sources: mod_apigw/apigw_gql_parse.c mod_apigw/apigw_gql_lex.c */
/* libFuzzer target for the GraphQL parser (mod_apigw/apigw_gql_parse.c,
 * apigw_gql_lex.c). The input is the document. Beyond crashes, it checks
 * the parser against models of its own:
 *  - an accepted document is UTF-8 without NUL (checked independently);
 *  - every node's line and column (found with a line table built here)
 *    point at the text the node starts with: its name, keyword, '$', '@',
 *    "...", '[', '{', '"' or literal;
 *  - names match [_A-Za-z][_0-9A-Za-z]*, arrays the AST promises are
 *    there, counts (fields, aliases, deepest nesting) agree with a walk of
 *    the tree;
 *  - the depth bound is exact: the document parses with max_depth equal
 *    to its depth and fails, naming the bound, with one less;
 *  - a printer here writes the AST back as GraphQL; that text parses
 *    again, with the same counts, and prints the same (a fixed point);
 *  - an error's message starts "Syntax Error: ", holds no control byte
 *    and is UTF-8, and its location lies within the document. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "apigw_gql_parse.h"

#define MAX_DEPTH 24

#define FUZZ_TARGET "fuzz_gql_parse"
#include "fuzz_check.h"

#define NTH(arr, i, type) (((type **)(arr)->elts)[i])

/* ---- the source as lines, built independently of the lexer ---- */

typedef struct {
    const unsigned char *src;
    size_t len;
    size_t *starts;            /* byte offset of each line's start */
    size_t nlines;
} source;

static void source_make(apr_pool_t *p, source *s, const uint8_t *data,
                        size_t len)
{
    size_t i, n = 1;

    s->src = data;
    s->len = len;
    s->starts = apr_palloc(p, (len + 2) * sizeof(size_t));
    s->starts[0] = 0;
    for (i = 0; i < len; i++) {
        if (data[i] == '\r' && i + 1 < len && data[i + 1] == '\n') {
            i++;
        }
        if (data[i] == '\n' || data[i] == '\r') {
            s->starts[n++] = i + 1;
        }
    }
    s->nlines = n;
}

/* Bytes in a UTF-8 sequence led by c (the input is known valid). */
static size_t seq_len(unsigned char c)
{
    return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

/* The byte offset of line:column; len + 1 when it is off the text. */
static size_t offset_of(const source *s, apigw_gql_loc loc)
{
    size_t off;
    unsigned col;

    CHECK(loc.line >= 1 && loc.column >= 1, "location %u:%u", loc.line,
          loc.column);
    if (loc.line > s->nlines) {
        return s->len + 1;
    }
    off = s->starts[loc.line - 1];
    for (col = 1; col < loc.column; col++) {
        if (off >= s->len || s->src[off] == '\n' || s->src[off] == '\r') {
            return s->len + 1;
        }
        off += seq_len(s->src[off]);
    }
    return off;
}

/* The node at loc starts with text. */
static void at_text(const source *s, apigw_gql_loc loc, const char *text,
                    const char *what)
{
    size_t off = offset_of(s, loc), n = strlen(text);

    CHECK(off <= s->len && s->len - off >= n
          && memcmp(s->src + off, text, n) == 0,
          "%s at %u:%u does not start with \"%s\"", what, loc.line,
          loc.column, text);
}

/* ---- independent checks of bytes and names ---- */

static int is_utf8(const unsigned char *s, size_t n)
{
    size_t i = 0, k, need;
    unsigned cp;

    while (i < n) {
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        if ((c & 0xE0) == 0xC0) {
            need = 1;
            cp = c & 0x1F;
        }
        else if ((c & 0xF0) == 0xE0) {
            need = 2;
            cp = c & 0x0F;
        }
        else if ((c & 0xF8) == 0xF0) {
            need = 3;
            cp = c & 0x07;
        }
        else {
            return 0;
        }
        if (i + need >= n) {
            return 0;
        }
        for (k = 1; k <= need; k++) {
            if ((s[i + k] & 0xC0) != 0x80) {
                return 0;
            }
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((need == 1 && cp < 0x80) || (need == 2 && cp < 0x800)
            || (need == 3 && cp < 0x10000) || cp > 0x10FFFF
            || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return 0;
        }
        i += need + 1;
    }
    return 1;
}

static void check_name(const char *name, const char *what)
{
    const char *c;

    CHECK(name != NULL, "%s: no name", what);
    CHECK(*name == '_' || (*name >= 'A' && *name <= 'Z')
          || (*name >= 'a' && *name <= 'z'), "%s: bad name \"%s\"", what,
          name);
    for (c = name + 1; *c; c++) {
        CHECK(*c == '_' || (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z')
              || (*c >= '0' && *c <= '9'), "%s: bad name \"%s\"", what, name);
    }
}

/* ---- the AST walk: locations, names, counts ---- */

typedef struct {
    const source *s;
    unsigned fields, aliases, max_depth;
} walk;

static void note_depth(walk *w, unsigned depth)
{
    if (depth > w->max_depth) {
        w->max_depth = depth;
    }
}

static void walk_value(walk *w, const apigw_gql_value *v, unsigned depth);

static int is_blank(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (s[i] != ' ' && s[i] != '\t') {
            return 0;
        }
    }
    return 1;
}

/* The specification's BlockStringValue, step by step as it is written:
 * lines, common indentation, strip it, drop blank lines at both ends,
 * join with \n. raw has \""" already made """. */
static char *model_block_value(apr_pool_t *p, const char *raw, size_t n)
{
    apr_array_header_t *lines = apr_array_make(p, 8, sizeof(char *));
    size_t i = 0, start = 0, common = (size_t)-1, ws;
    int k, first, last;
    char *line, *outp = apr_palloc(p, n + 1), *o = outp;

    for (;;) {
        if (i == n || raw[i] == '\n' || raw[i] == '\r') {
            *(char **)apr_array_push(lines) = apr_pstrmemdup(p, raw + start,
                                                             i - start);
            if (i == n) {
                break;
            }
            if (raw[i] == '\r' && i + 1 < n && raw[i + 1] == '\n') {
                i++;
            }
            start = ++i;
            continue;
        }
        i++;
    }
    for (k = 1; k < lines->nelts; k++) {
        line = NTH(lines, k, char);
        for (ws = 0; line[ws] == ' ' || line[ws] == '\t'; ws++) {
        }
        if (ws < strlen(line) && ws < common) {
            common = ws;
        }
    }
    for (k = 1; k < lines->nelts && common != (size_t)-1; k++) {
        line = NTH(lines, k, char);
        NTH(lines, k, char) = strlen(line) > common ? line + common
                                                    : line + strlen(line);
    }
    for (first = 0; first < lines->nelts
         && is_blank(NTH(lines, first, char),
                     strlen(NTH(lines, first, char))); first++) {
    }
    for (last = lines->nelts - 1; last >= first
         && is_blank(NTH(lines, last, char),
                     strlen(NTH(lines, last, char))); last--) {
    }
    for (k = first; k <= last; k++) {
        if (k > first) {
            *o++ = '\n';
        }
        line = NTH(lines, k, char);
        memcpy(o, line, strlen(line));
        o += strlen(line);
    }
    *o = '\0';
    return outp;
}

/* A block string's value is the model's dedent of its raw text; a
 * string without escapes is its raw text. */
static void check_string(walk *w, const apigw_gql_value *v)
{
    const source *s = w->s;
    size_t off = offset_of(s, v->loc), i, n = 0;
    apr_pool_t *p;
    char *raw;

    if (s->len - off >= 3 && memcmp(s->src + off, "\"\"\"", 3) == 0) {
        apr_pool_create(&p, NULL);
        raw = apr_palloc(p, s->len - off + 1);
        for (i = off + 3; i + 2 < s->len; ) {
            if (memcmp(s->src + i, "\"\"\"", 3) == 0) {
                break;
            }
            if (s->len - i >= 4 && memcmp(s->src + i, "\\\"\"\"", 4) == 0) {
                memcpy(raw + n, "\"\"\"", 3);
                n += 3;
                i += 4;
                continue;
            }
            raw[n++] = (char)s->src[i++];
        }
        raw = model_block_value(p, raw, n);
        CHECK(strcmp(raw, v->text) == 0, "block string at %u:%u is \"%s\", "
              "the model's \"%s\"", v->loc.line, v->loc.column, v->text, raw);
        apr_pool_destroy(p);
        return;
    }
    for (i = off + 1; i < s->len && s->src[i] != '"' && s->src[i] != '\\';
         i++) {
    }
    if (i < s->len && s->src[i] == '"') {
        CHECK(strlen(v->text) == i - off - 1
              && memcmp(v->text, s->src + off + 1, i - off - 1) == 0,
              "string at %u:%u is \"%s\"", v->loc.line, v->loc.column,
              v->text);
    }
}

static void walk_arguments(walk *w, const apr_array_header_t *args,
                           unsigned depth)
{
    int i;

    CHECK(args != NULL, "arguments missing");
    for (i = 0; i < args->nelts; i++) {
        const apigw_gql_argument *a = NTH(args, i, const apigw_gql_argument);
        check_name(a->name, "argument");
        at_text(w->s, a->loc, a->name, "argument");
        walk_value(w, a->value, depth);
    }
}

static void walk_value(walk *w, const apigw_gql_value *v, unsigned depth)
{
    int i;

    CHECK(v != NULL, "value missing");
    switch (v->kind) {
    case APIGW_GQL_VARIABLE:
        check_name(v->text, "variable");
        at_text(w->s, v->loc, "$", "variable");
        break;
    case APIGW_GQL_INT:
    case APIGW_GQL_FLOAT:
    case APIGW_GQL_ENUM:
        at_text(w->s, v->loc, v->text, "literal");
        break;
    case APIGW_GQL_STRING:
        CHECK(v->text != NULL, "string without text");
        at_text(w->s, v->loc, "\"", "string");
        check_string(w, v);
        break;
    case APIGW_GQL_BOOLEAN:
        CHECK(v->boolean == 0 || v->boolean == 1, "boolean %d", v->boolean);
        at_text(w->s, v->loc, v->boolean ? "true" : "false", "boolean");
        break;
    case APIGW_GQL_NULL:
        at_text(w->s, v->loc, "null", "null");
        break;
    case APIGW_GQL_LIST:
        at_text(w->s, v->loc, "[", "list");
        CHECK(v->items && !v->fields, "list arrays");
        note_depth(w, depth + 1);
        for (i = 0; i < v->items->nelts; i++) {
            walk_value(w, NTH(v->items, i, const apigw_gql_value), depth + 1);
        }
        break;
    case APIGW_GQL_OBJECT:
        at_text(w->s, v->loc, "{", "object");
        CHECK(v->fields && !v->items, "object arrays");
        note_depth(w, depth + 1);
        walk_arguments(w, v->fields, depth + 1);
        break;
    default:
        CHECK(0, "value kind %d", (int)v->kind);
    }
}

static void walk_directives(walk *w, const apr_array_header_t *dirs,
                            unsigned depth)
{
    int i;

    CHECK(dirs != NULL, "directives missing");
    for (i = 0; i < dirs->nelts; i++) {
        const apigw_gql_directive *d = NTH(dirs, i,
                                           const apigw_gql_directive);
        check_name(d->name, "directive");
        at_text(w->s, d->loc, "@", "directive");
        walk_arguments(w, d->arguments, depth);
    }
}

static void walk_type(walk *w, const apigw_gql_type_ref *t, unsigned depth)
{
    CHECK(t != NULL, "type missing");
    switch (t->kind) {
    case APIGW_GQL_TYPE_NAMED:
        check_name(t->name, "type");
        at_text(w->s, t->loc, t->name, "type");
        break;
    case APIGW_GQL_TYPE_LIST:
        at_text(w->s, t->loc, "[", "list type");
        note_depth(w, depth + 1);
        walk_type(w, t->of, depth + 1);
        break;
    case APIGW_GQL_TYPE_NON_NULL:
        CHECK(t->of && t->of->kind != APIGW_GQL_TYPE_NON_NULL,
              "non-null of non-null");
        CHECK(t->loc.line == t->of->loc.line
              && t->loc.column == t->of->loc.column, "non-null location");
        walk_type(w, t->of, depth);
        break;
    default:
        CHECK(0, "type kind %d", (int)t->kind);
    }
}

static void walk_selections(walk *w, const apr_array_header_t *sels,
                            unsigned depth)
{
    int i;

    CHECK(sels != NULL && sels->nelts > 0, "empty selection set");
    note_depth(w, depth + 1);
    for (i = 0; i < sels->nelts; i++) {
        const apigw_gql_selection *s = NTH(sels, i,
                                           const apigw_gql_selection);
        walk_directives(w, s->directives, depth + 1);
        switch (s->kind) {
        case APIGW_GQL_FIELD:
            w->fields++;
            check_name(s->name, "field");
            if (s->alias) {
                w->aliases++;
                check_name(s->alias, "alias");
            }
            at_text(w->s, s->loc, s->alias ? s->alias : s->name, "field");
            walk_arguments(w, s->arguments, depth + 1);
            if (s->selections) {
                walk_selections(w, s->selections, depth + 1);
            }
            break;
        case APIGW_GQL_FRAGMENT_SPREAD:
            check_name(s->name, "spread");
            CHECK(strcmp(s->name, "on") != 0, "spread of \"on\"");
            CHECK(!s->selections, "spread with selections");
            at_text(w->s, s->loc, "...", "spread");
            break;
        case APIGW_GQL_INLINE_FRAGMENT:
            CHECK(!s->name, "inline fragment with a name");
            if (s->type_condition) {
                check_name(s->type_condition, "type condition");
            }
            at_text(w->s, s->loc, "...", "inline fragment");
            walk_selections(w, s->selections, depth + 1);
            break;
        default:
            CHECK(0, "selection kind %d", (int)s->kind);
        }
    }
}

static void walk_input_values(walk *w, const apr_array_header_t *vals)
{
    int i;

    CHECK(vals != NULL, "input values missing");
    for (i = 0; i < vals->nelts; i++) {
        const apigw_gql_input_value_def *v =
            NTH(vals, i, const apigw_gql_input_value_def);
        check_name(v->name, "input value");
        at_text(w->s, v->loc, v->name, "input value");
        walk_type(w, v->type, 0);
        if (v->default_value) {
            walk_value(w, v->default_value, 0);
        }
        walk_directives(w, v->directives, 0);
    }
}

static void walk_names(const apr_array_header_t *names, const char *what)
{
    int i;

    CHECK(names != NULL, "%s missing", what);
    for (i = 0; i < names->nelts; i++) {
        check_name(NTH(names, i, const char), what);
    }
}

static const char *const TYPE_KEYWORDS[] = {
    "scalar", "type", "interface", "union", "enum", "input"
};

static void walk_type_def(walk *w, const apigw_gql_type_def *t)
{
    int i;

    CHECK((unsigned)t->kind < 6, "type def kind %d", (int)t->kind);
    at_text(w->s, t->loc, TYPE_KEYWORDS[t->kind], "type definition");
    check_name(t->name, "type definition");
    walk_names(t->interfaces, "interface");
    walk_names(t->members, "member");
    walk_directives(w, t->directives, 0);
    CHECK(t->fields && t->input_fields && t->values, "type def arrays");
    for (i = 0; i < t->fields->nelts; i++) {
        const apigw_gql_field_def *f = NTH(t->fields, i,
                                           const apigw_gql_field_def);
        check_name(f->name, "field definition");
        at_text(w->s, f->loc, f->name, "field definition");
        walk_input_values(w, f->arguments);
        walk_type(w, f->type, 0);
        walk_directives(w, f->directives, 0);
    }
    walk_input_values(w, t->input_fields);
    for (i = 0; i < t->values->nelts; i++) {
        const apigw_gql_enum_value_def *e = NTH(t->values, i,
                                                const apigw_gql_enum_value_def);
        check_name(e->name, "enum value");
        CHECK(strcmp(e->name, "true") && strcmp(e->name, "false")
              && strcmp(e->name, "null"), "enum value %s", e->name);
        at_text(w->s, e->loc, e->name, "enum value");
        walk_directives(w, e->directives, 0);
    }
}

static void walk_definition(walk *w, const apigw_gql_definition *d)
{
    apigw_gql_loc loc;
    int i;

    switch (d->kind) {
    case APIGW_GQL_DEF_OPERATION: {
        const apigw_gql_operation *o = d->u.operation;
        static const char *const kw[] = { "query", "mutation",
                                          "subscription" };
        loc = o->loc;
        CHECK((unsigned)o->kind < 3, "operation kind");
        if (offset_of(w->s, loc) < w->s->len
            && w->s->src[offset_of(w->s, loc)] == '{') {
            CHECK(o->kind == APIGW_GQL_QUERY && !o->name
                  && o->variables->nelts == 0 && o->directives->nelts == 0,
                  "shorthand query");
        }
        else {
            at_text(w->s, loc, kw[o->kind], "operation");
        }
        if (o->name) {
            check_name(o->name, "operation");
        }
        for (i = 0; i < o->variables->nelts; i++) {
            const apigw_gql_variable_def *v =
                NTH(o->variables, i, const apigw_gql_variable_def);
            check_name(v->name, "variable definition");
            at_text(w->s, v->loc, "$", "variable definition");
            walk_type(w, v->type, 0);
            if (v->default_value) {
                walk_value(w, v->default_value, 0);
            }
            walk_directives(w, v->directives, 0);
        }
        walk_directives(w, o->directives, 0);
        walk_selections(w, o->selections, 0);
        break;
    }
    case APIGW_GQL_DEF_FRAGMENT:
        loc = d->u.fragment->loc;
        at_text(w->s, loc, "fragment", "fragment");
        check_name(d->u.fragment->name, "fragment");
        CHECK(strcmp(d->u.fragment->name, "on") != 0, "fragment \"on\"");
        check_name(d->u.fragment->type_condition, "type condition");
        walk_directives(w, d->u.fragment->directives, 0);
        walk_selections(w, d->u.fragment->selections, 0);
        break;
    case APIGW_GQL_DEF_TYPE:
        loc = d->u.type->loc;
        walk_type_def(w, d->u.type);
        break;
    case APIGW_GQL_DEF_SCHEMA:
        loc = d->u.schema->loc;
        at_text(w->s, loc, "schema", "schema");
        CHECK(d->u.schema->query || d->u.schema->mutation
              || d->u.schema->subscription, "empty schema");
        walk_directives(w, d->u.schema->directives, 0);
        break;
    case APIGW_GQL_DEF_DIRECTIVE:
        loc = d->u.directive->loc;
        at_text(w->s, loc, "directive", "directive definition");
        check_name(d->u.directive->name, "directive definition");
        walk_input_values(w, d->u.directive->arguments);
        CHECK(d->u.directive->locations->nelts > 0, "no locations");
        walk_names(d->u.directive->locations, "location");
        break;
    default:
        CHECK(0, "definition kind %d", (int)d->kind);
        return;
    }
    CHECK(d->loc.line == loc.line && d->loc.column == loc.column,
          "definition location %u:%u, its node's %u:%u", d->loc.line,
          d->loc.column, loc.line, loc.column);
}

/* ---- the printer ---- */

typedef struct {
    apr_pool_t *p;
    char *buf;
    size_t len, cap;
} out;

static void put_n(out *o, const char *s, size_t n)
{
    if (o->cap - o->len < n + 1) {
        size_t cap = o->cap ? o->cap : 256;
        char *b;
        while (cap - o->len < n + 1) {
            cap *= 2;
        }
        b = apr_palloc(o->p, cap);
        if (o->len) {
            memcpy(b, o->buf, o->len);
        }
        o->buf = b;
        o->cap = cap;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = '\0';
}

static void put(out *o, const char *s)
{
    put_n(o, s, strlen(s));
}

static void put_string(out *o, const char *s)
{
    char esc[8];

    put(o, "\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            put_n(o, esc, 2);
        }
        else if (c < 0x20) {
            snprintf(esc, sizeof(esc), "\\u%04X", c);
            put(o, esc);
        }
        else {
            put_n(o, (const char *)&c, 1);
        }
    }
    put(o, "\"");
}

static void print_value(out *o, const apigw_gql_value *v);

static void print_arguments(out *o, const apr_array_header_t *args,
                            const char *open, const char *close, int always)
{
    int i;

    if (!args->nelts && !always) {
        return;
    }
    put(o, open);
    for (i = 0; i < args->nelts; i++) {
        const apigw_gql_argument *a = NTH(args, i, const apigw_gql_argument);
        put(o, i ? ", " : "");
        put(o, a->name);
        put(o, ": ");
        print_value(o, a->value);
    }
    put(o, close);
}

static void print_value(out *o, const apigw_gql_value *v)
{
    int i;

    switch (v->kind) {
    case APIGW_GQL_VARIABLE:
        put(o, "$");
        put(o, v->text);
        break;
    case APIGW_GQL_STRING:
        put_string(o, v->text);
        break;
    case APIGW_GQL_BOOLEAN:
        put(o, v->boolean ? "true" : "false");
        break;
    case APIGW_GQL_NULL:
        put(o, "null");
        break;
    case APIGW_GQL_LIST:
        put(o, "[");
        for (i = 0; i < v->items->nelts; i++) {
            put(o, i ? ", " : "");
            print_value(o, NTH(v->items, i, const apigw_gql_value));
        }
        put(o, "]");
        break;
    case APIGW_GQL_OBJECT:
        print_arguments(o, v->fields, "{", "}", 1);
        break;
    default:
        put(o, v->text);
    }
}

static void print_directives(out *o, const apr_array_header_t *dirs)
{
    int i;

    for (i = 0; i < dirs->nelts; i++) {
        const apigw_gql_directive *d = NTH(dirs, i,
                                           const apigw_gql_directive);
        put(o, " @");
        put(o, d->name);
        print_arguments(o, d->arguments, "(", ")", 0);
    }
}

static void print_type(out *o, const apigw_gql_type_ref *t)
{
    switch (t->kind) {
    case APIGW_GQL_TYPE_NAMED:
        put(o, t->name);
        break;
    case APIGW_GQL_TYPE_LIST:
        put(o, "[");
        print_type(o, t->of);
        put(o, "]");
        break;
    default:
        print_type(o, t->of);
        put(o, "!");
    }
}

static void print_selections(out *o, const apr_array_header_t *sels)
{
    int i;

    put(o, "{");
    for (i = 0; i < sels->nelts; i++) {
        const apigw_gql_selection *s = NTH(sels, i,
                                           const apigw_gql_selection);
        put(o, i ? " " : "");
        if (s->kind == APIGW_GQL_FIELD) {
            if (s->alias) {
                put(o, s->alias);
                put(o, ": ");
            }
            put(o, s->name);
            print_arguments(o, s->arguments, "(", ")", 0);
            print_directives(o, s->directives);
            if (s->selections) {
                put(o, " ");
                print_selections(o, s->selections);
            }
        }
        else if (s->kind == APIGW_GQL_FRAGMENT_SPREAD) {
            put(o, "...");
            put(o, s->name);
            print_directives(o, s->directives);
        }
        else {
            put(o, "...");
            if (s->type_condition) {
                put(o, " on ");
                put(o, s->type_condition);
            }
            print_directives(o, s->directives);
            put(o, " ");
            print_selections(o, s->selections);
        }
    }
    put(o, "}");
}

static void print_description(out *o, const char *desc)
{
    if (desc) {
        put_string(o, desc);
        put(o, " ");
    }
}

static void print_input_values(out *o, const apr_array_header_t *vals,
                               const char *open, const char *close)
{
    int i;

    if (!vals->nelts) {
        return;
    }
    put(o, open);
    for (i = 0; i < vals->nelts; i++) {
        const apigw_gql_input_value_def *v =
            NTH(vals, i, const apigw_gql_input_value_def);
        put(o, i ? ", " : "");
        print_description(o, v->description);
        put(o, v->name);
        put(o, ": ");
        print_type(o, v->type);
        if (v->default_value) {
            put(o, " = ");
            print_value(o, v->default_value);
        }
        print_directives(o, v->directives);
    }
    put(o, close);
}

static void print_names(out *o, const apr_array_header_t *names,
                        const char *lead, const char *sep)
{
    int i;

    for (i = 0; i < names->nelts; i++) {
        put(o, i ? sep : lead);
        put(o, NTH(names, i, const char));
    }
}

static void print_type_def(out *o, const apigw_gql_type_def *t)
{
    int i;

    print_description(o, t->description);
    put(o, TYPE_KEYWORDS[t->kind]);
    put(o, " ");
    put(o, t->name);
    print_names(o, t->interfaces, " implements ", " & ");
    print_directives(o, t->directives);
    if (t->fields->nelts) {
        put(o, " {");
        for (i = 0; i < t->fields->nelts; i++) {
            const apigw_gql_field_def *f = NTH(t->fields, i,
                                               const apigw_gql_field_def);
            put(o, i ? " " : "");
            print_description(o, f->description);
            put(o, f->name);
            print_input_values(o, f->arguments, "(", ")");
            put(o, ": ");
            print_type(o, f->type);
            print_directives(o, f->directives);
        }
        put(o, "}");
    }
    print_names(o, t->members, " = ", " | ");
    if (t->values->nelts) {
        put(o, " {");
        for (i = 0; i < t->values->nelts; i++) {
            const apigw_gql_enum_value_def *e =
                NTH(t->values, i, const apigw_gql_enum_value_def);
            put(o, i ? " " : "");
            print_description(o, e->description);
            put(o, e->name);
            print_directives(o, e->directives);
        }
        put(o, "}");
    }
    print_input_values(o, t->input_fields, " {", "}");
}

static void print_definition(out *o, const apigw_gql_definition *d)
{
    static const char *const kw[] = { "query", "mutation", "subscription" };
    const apigw_gql_operation *op;
    const apigw_gql_schema_def *s;
    const apigw_gql_directive_def *dd;
    int i;

    switch (d->kind) {
    case APIGW_GQL_DEF_OPERATION:
        op = d->u.operation;
        put(o, kw[op->kind]);
        if (op->name) {
            put(o, " ");
            put(o, op->name);
        }
        if (op->variables->nelts) {
            put(o, "(");
            for (i = 0; i < op->variables->nelts; i++) {
                const apigw_gql_variable_def *v =
                    NTH(op->variables, i, const apigw_gql_variable_def);
                put(o, i ? ", $" : "$");
                put(o, v->name);
                put(o, ": ");
                print_type(o, v->type);
                if (v->default_value) {
                    put(o, " = ");
                    print_value(o, v->default_value);
                }
                print_directives(o, v->directives);
            }
            put(o, ")");
        }
        print_directives(o, op->directives);
        put(o, " ");
        print_selections(o, op->selections);
        break;
    case APIGW_GQL_DEF_FRAGMENT:
        put(o, "fragment ");
        put(o, d->u.fragment->name);
        put(o, " on ");
        put(o, d->u.fragment->type_condition);
        print_directives(o, d->u.fragment->directives);
        put(o, " ");
        print_selections(o, d->u.fragment->selections);
        break;
    case APIGW_GQL_DEF_TYPE:
        print_type_def(o, d->u.type);
        break;
    case APIGW_GQL_DEF_SCHEMA:
        s = d->u.schema;
        print_description(o, s->description);
        put(o, "schema");
        print_directives(o, s->directives);
        put(o, " {");
        put(o, s->query ? apr_pstrcat(o->p, " query: ", s->query, NULL) : "");
        put(o, s->mutation ? apr_pstrcat(o->p, " mutation: ", s->mutation,
                                         NULL) : "");
        put(o, s->subscription ? apr_pstrcat(o->p, " subscription: ",
                                             s->subscription, NULL) : "");
        put(o, " }");
        break;
    case APIGW_GQL_DEF_DIRECTIVE:
        dd = d->u.directive;
        print_description(o, dd->description);
        put(o, "directive @");
        put(o, dd->name);
        print_input_values(o, dd->arguments, "(", ")");
        put(o, dd->repeatable ? " repeatable on " : " on ");
        print_names(o, dd->locations, "", " | ");
        break;
    }
}

static const char *print_document(apr_pool_t *p,
                                  const apigw_gql_document *doc, size_t *len)
{
    out o = { p, NULL, 0, 0 };
    int i;

    for (i = 0; i < doc->definitions->nelts; i++) {
        put(&o, i ? "\n" : "");
        print_definition(&o, NTH(doc->definitions, i,
                                 const apigw_gql_definition));
    }
    *len = o.len;
    return o.buf ? o.buf : "";
}

/* ---- the checks ---- */

static void check_error(const source *s, const apigw_gql_syntax_error *e)
{
    const char *m = e->message, *c;
    size_t n = strlen(m);

    CHECK(strncmp(m, "Syntax Error: ", 14) == 0 && n > 15,
          "message \"%s\"", m);
    CHECK(m[n - 1] == '.' || m[n - 1] == '?', "message \"%s\"", m);
    for (c = m; *c; c++) {
        CHECK((unsigned char)*c >= 0x20 && *c != 0x7F,
              "control byte in \"%s\"", m);
    }
    CHECK(is_utf8((const unsigned char *)m, n), "message not UTF-8");
    CHECK(e->loc.line >= 1 && e->loc.column >= 1, "error at %u:%u",
          e->loc.line, e->loc.column);
    /* at most one past the end of its line */
    CHECK(e->loc.line <= s->nlines, "error at line %u of %zu", e->loc.line,
          s->nlines);
    if (e->loc.column > 1) {
        apigw_gql_loc before = e->loc;
        before.column--;
        CHECK(offset_of(s, before) < s->len, "error at %u:%u is past its "
              "line", e->loc.line, e->loc.column);
    }
}

static void check_document(apr_pool_t *p, const source *s,
                           const apigw_gql_document *doc)
{
    walk w = { s, 0, 0, 0 };
    apigw_gql_document *again = NULL, *third = NULL;
    const apigw_gql_syntax_error *e;
    const char *text, *text2;
    size_t len, len2;
    int i;

    CHECK(memchr(s->src, 0, s->len) == NULL, "NUL byte accepted");
    CHECK(is_utf8(s->src, s->len), "invalid UTF-8 accepted");
    CHECK(doc->definitions->nelts > 0, "no definitions");
    for (i = 0; i < doc->definitions->nelts; i++) {
        walk_definition(&w, NTH(doc->definitions, i,
                                const apigw_gql_definition));
    }
    CHECK(w.fields == doc->fields && w.aliases == doc->aliases
          && w.max_depth == doc->max_depth,
          "counts %u/%u/%u, the walk's %u/%u/%u", doc->fields, doc->aliases,
          doc->max_depth, w.fields, w.aliases, w.max_depth);
    CHECK(doc->max_depth <= MAX_DEPTH, "depth %u", doc->max_depth);

    /* the bound is exact */
    e = apigw_gql_parse(p, (const char *)s->src, s->len, doc->max_depth,
                        &third);
    CHECK(e == NULL, "fails at its own depth %u: %s", doc->max_depth,
          e->message);
    if (doc->max_depth > 0) {
        e = apigw_gql_parse(p, (const char *)s->src, s->len,
                            doc->max_depth - 1, &third);
        CHECK(e && strcmp(e->message, apr_psprintf(p, "Syntax Error: the "
                          "document is nested deeper than %u levels.",
                          doc->max_depth - 1)) == 0,
              "depth %u accepted with a bound of one less: %s",
              doc->max_depth, e ? e->message : "(accepted)");
    }

    /* print, parse, print: the same text */
    text = print_document(p, doc, &len);
    e = apigw_gql_parse(p, text, len, MAX_DEPTH, &again);
    CHECK(e == NULL, "printed document fails: %s at %u:%u\n  %s",
          e->message, e->loc.line, e->loc.column, text);
    CHECK(again->fields == doc->fields && again->aliases == doc->aliases
          && again->max_depth == doc->max_depth
          && again->definitions->nelts == doc->definitions->nelts,
          "printed document counts differ\n  %s", text);
    text2 = print_document(p, again, &len2);
    CHECK(len == len2 && memcmp(text, text2, len) == 0,
          "no fixed point:\n  %s\n  %s", text, text2);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    apr_initialize();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    apigw_gql_document *doc = NULL;
    const apigw_gql_syntax_error *e;
    source s;

    if (size > 65536 || apr_pool_create(&p, NULL) != APR_SUCCESS) {
        return 0;
    }
    source_make(p, &s, data, size);
    e = apigw_gql_parse(p, (const char *)data, size, MAX_DEPTH, &doc);
    if (e) {
        CHECK(doc == NULL, "an error and a document");
        check_error(&s, e);
    }
    else {
        CHECK(doc != NULL, "no error and no document");
        check_document(p, &s, doc);
    }
    apr_pool_destroy(p);
    return 0;
}
