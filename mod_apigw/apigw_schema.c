/* JSON Schema validation (see apigw_schema.h). Pure: APR, jansson and
 * PCRE2.
 *
 * Compiling walks the schema once into a tree of nodes, one per schema
 * object (its keywords as fields), then resolves each $ref to the node of
 * the schema it points at (compiled then if the walk did not reach it)
 * and refuses $refs that loop back to where they started without
 * descending into the value (which would never end). Validating walks the
 * value and the nodes together and stops at the first value that breaks
 * the schema; inside anyOf, oneOf, not, if and contains, failures are
 * expected and cost no message. Every step is counted against a budget,
 * and so is the nesting. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "apigw_schema.h"

#include <pcre2.h>
#include <apr_hash.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What one pattern match may cost (as ApiPathRewrite's and
 * ApiBotPatterns' patterns: the value is the client's to choose). */
#define MATCH_LIMIT 100000
#define HEAP_LIMIT_KIB 8192
#define JIT_STACK_START (32 * 1024)
#define JIT_STACK_MAX (1024 * 1024)

/* What one validation may cost: steps (a schema node applied to a value,
 * a value hashed or compared, a pattern matched) in proportion to the
 * number of values in the body, and nesting: schemas applied within
 * schemas (a level of the value, a $ref, an allOf... each add one), at
 * some 210 bytes of C stack each, 1000 of them in about 200 KB (httpd's
 * threads have the system's 8 MB unless ThreadStackSize says less). */
#define STEPS_BASE 1000000
#define STEPS_PER_VALUE 100
#define MAX_EVAL_DEPTH 1000

/* How much of the value a message shows. */
#define SHOW_CHARS 32
#define SHOW_PATTERN 64
#define SHOW_POINTER 120

#define SHOW_QUOTES 0x1            /* escape '"' and '\' */
#define SHOW_POINTER_ESC 0x2       /* escape '~' and '/' as ~0 and ~1 */

/* type bits */
#define T_NULL    0x01
#define T_BOOLEAN 0x02
#define T_OBJECT  0x04
#define T_ARRAY   0x08
#define T_NUMBER  0x10
#define T_STRING  0x20
#define T_INTEGER 0x40

/* number keywords present */
#define N_MIN  0x01
#define N_MAX  0x02
#define N_XMIN 0x04
#define N_XMAX 0x08
#define N_MULT 0x10

typedef struct {
    int is_int;
    json_int_t i;
    double d;
} num;

typedef struct node node;

typedef struct {
    const char *name;
    size_t len;
} name_t;

typedef struct {
    const char *name;
    size_t len;
    node *schema;
} named;                           /* properties, dependentSchemas */

typedef struct {
    const char *name;
    size_t len;
    apr_array_header_t *needs;     /* name_t */
} dep_req;

typedef struct {
    pcre2_code *code;
    node *schema;
} pattern_prop;

struct node {
    const char *where;             /* its JSON pointer in the schema */
    int always;                    /* 1 true, 0 false, -1 its keywords */
    int color;                     /* the loop check's mark */
    const char *ref_text;          /* $ref as written */
    node *ref;
    unsigned types;                /* T_*, 0: any */
    int has_const;
    const json_t *const_value;
    const json_t *enum_values;     /* an array */
    unsigned nflags;               /* N_* */
    num minimum, maximum, xmin, xmax, mult;
    /* strings */
    apr_int64_t min_length, max_length;     /* -1 unset */
    pcre2_code *pattern;
    const char *pattern_src;
    /* arrays */
    apr_array_header_t *prefix;    /* node *, prefixItems or items [...] */
    node *items;                   /* every item after the prefix */
    apr_int64_t min_items, max_items;
    int unique;
    node *contains;
    apr_int64_t min_contains, max_contains;
    /* objects */
    apr_array_header_t *props;     /* named */
    apr_hash_t *prop_index;        /* name -> named */
    apr_array_header_t *pprops;    /* pattern_prop */
    node *additional;
    node *names;                   /* propertyNames */
    apr_array_header_t *required;  /* name_t */
    apr_int64_t min_props, max_props;
    apr_array_header_t *dep_required;  /* dep_req */
    apr_array_header_t *dep_schemas;   /* named */
    /* applied to the value itself */
    apr_array_header_t *all_of, *any_of, *one_of;  /* node * */
    node *not_, *if_, *then_, *else_;
    /* anything to check on a value of that type */
    int on_string, on_array, on_object;
};

struct apigw_schema {
    node *root;
    json_t *doc;
};

/* ---- messages ---- */

/* The next code point of s (len > 0 bytes): its length, or 0 when s does
 * not start with well-formed UTF-8. */
static size_t utf8_next(const unsigned char *s, size_t len, unsigned *cp)
{
    unsigned c = s[0];
    size_t n, i;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        *cp = c & 0x1F;
    }
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        *cp = c & 0x0F;
    }
    else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        *cp = c & 0x07;
    }
    else {
        return 0;
    }
    if (len < n) {
        return 0;
    }
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            return 0;
        }
        *cp = (*cp << 6) | (s[i] & 0x3F);
    }
    if ((n == 3 && *cp < 0x800) || (n == 4 && (*cp < 0x10000
                                                || *cp > 0x10FFFF))
        || (*cp >= 0xD800 && *cp <= 0xDFFF)) {
        return 0;
    }
    return n;
}

/* s (len bytes) as printable ASCII: control characters and everything
 * past ASCII as \uXXXX (a surrogate pair past U+FFFF), bytes that are not
 * UTF-8 as \xHH; with SHOW_QUOTES '"' and '\' escaped, with
 * SHOW_POINTER_ESC '~' and '/' as ~0 and ~1. At most max code points
 * (0: all), then "...". */
static const char *show(apr_pool_t *p, const char *s, size_t len, size_t max,
                        int mode)
{
    size_t cap = (max && max < len ? max : len) * 12 + 8, i = 0, n = 0;
    size_t shown = 0;
    char *out = apr_palloc(p, cap);

    while (i < len) {
        unsigned cp;
        size_t k;

        if (max && shown == max) {
            memcpy(out + n, "...", 3);
            n += 3;
            break;
        }
        shown++;
        k = utf8_next((const unsigned char *)s + i, len - i, &cp);
        if (!k) {
            n += (size_t)snprintf(out + n, cap - n, "\\x%02X",
                                  (unsigned char)s[i]);
            i++;
            continue;
        }
        i += k;
        if ((mode & SHOW_QUOTES) && (cp == '"' || cp == '\\')) {
            out[n++] = '\\';
            out[n++] = (char)cp;
        }
        else if ((mode & SHOW_POINTER_ESC) && (cp == '~' || cp == '/')) {
            out[n++] = '~';
            out[n++] = cp == '~' ? '0' : '1';
        }
        else if (cp >= 0x20 && cp < 0x7F) {
            out[n++] = (char)cp;
        }
        else if (cp == '\n') {
            memcpy(out + n, "\\n", 2);
            n += 2;
        }
        else if (cp == '\t') {
            memcpy(out + n, "\\t", 2);
            n += 2;
        }
        else if (cp < 0x10000) {
            n += (size_t)snprintf(out + n, cap - n, "\\u%04X", cp);
        }
        else {
            cp -= 0x10000;
            n += (size_t)snprintf(out + n, cap - n, "\\u%04X\\u%04X",
                                  0xD800 + (cp >> 10), 0xDC00 + (cp & 0x3FF));
        }
    }
    out[n] = '\0';
    return out;
}

static const char *printable(apr_pool_t *p, const char *s)
{
    return show(p, s, strlen(s), 0, 0);
}

/* base + "/" + key as a JSON pointer segment (control characters as
 * \uXXXX, so the pointer stays one C string). */
static const char *ptr_join(apr_pool_t *p, const char *base, const char *key,
                            size_t len)
{
    size_t blen = strlen(base), i, n, cap = blen + len * 6 + 2;
    char *out = apr_palloc(p, cap);

    memcpy(out, base, blen);
    n = blen;
    out[n++] = '/';
    for (i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)key[i];
        if (ch == '~' || ch == '/') {
            out[n++] = '~';
            out[n++] = ch == '~' ? '0' : '1';
        }
        else if (ch < 0x20) {
            n += (size_t)snprintf(out + n, cap - n, "\\u%04X", ch);
        }
        else {
            out[n++] = (char)ch;
        }
    }
    out[n] = '\0';
    return out;
}

static const char *type_of(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:  return "an object";
    case JSON_ARRAY:   return "an array";
    case JSON_STRING:  return "a string";
    case JSON_INTEGER:
    case JSON_REAL:    return "a number";
    case JSON_TRUE:
    case JSON_FALSE:   return "a boolean";
    default:           return "null";
    }
}

/* The shortest text that reads back as d. */
static const char *show_real(apr_pool_t *p, double d)
{
    char buf[40];
    int prec;

    for (prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof(buf), "%.*g", prec, d);
        if (strtod(buf, NULL) == d) {
            break;
        }
    }
    return apr_pstrdup(p, buf);
}

static const char *show_num(apr_pool_t *p, num n)
{
    return n.is_int ? apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)n.i)
                    : show_real(p, n.d);
}

/* A value as a message shows it: scalars as JSON (a string quoted and
 * cut), containers by their kind. */
static const char *show_value(apr_pool_t *p, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_NULL:
        return "null";
    case JSON_TRUE:
        return "true";
    case JSON_FALSE:
        return "false";
    case JSON_INTEGER:
        return apr_psprintf(p, "%" APR_INT64_T_FMT,
                            (apr_int64_t)json_integer_value(v));
    case JSON_REAL:
        return show_real(p, json_real_value(v));
    case JSON_STRING:
        return apr_pstrcat(p, "\"", show(p, json_string_value(v),
                                         json_string_length(v), SHOW_CHARS,
                                         SHOW_QUOTES), "\"", NULL);
    case JSON_ARRAY:
        return json_array_size(v) == 1 ? "an array of 1 item"
               : apr_psprintf(p, "an array of %lu items",
                              (unsigned long)json_array_size(v));
    default:
        return "an object";
    }
}

static const char *show_name(apr_pool_t *p, const char *name, size_t len)
{
    return show(p, name, len, SHOW_CHARS, SHOW_QUOTES);
}

static const char *type_names(apr_pool_t *p, unsigned t)
{
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {
        { T_STRING, "string" }, { T_NUMBER, "number" },
        { T_INTEGER, "integer" }, { T_BOOLEAN, "boolean" },
        { T_OBJECT, "object" }, { T_ARRAY, "array" }, { T_NULL, "null" }
    };
    const char *out = "";
    int i, left = 0;

    for (i = 0; i < 7; i++) {
        left += (t & names[i].bit) != 0;
    }
    for (i = 0; i < 7; i++) {
        if (t & names[i].bit) {
            left--;
            out = apr_pstrcat(p, out, names[i].name,
                              left > 1 ? ", " : left == 1 ? " or " : "",
                              NULL);
        }
    }
    return out;
}

/* ---- numbers ---- */

static num num_of(const json_t *v)
{
    num n;

    if (json_is_integer(v)) {
        n.is_int = 1;
        n.i = json_integer_value(v);
        n.d = (double)n.i;
    }
    else {
        n.is_int = 0;
        n.i = 0;
        n.d = json_real_value(v);
    }
    return n;
}

/* floor(), without libm (httpd does not link it): doubles of 2^52 and
 * more are whole already. */
static double dfloor(double d)
{
    double t;

    if (!(d > -4503599627370496.0 && d < 4503599627370496.0)) {
        return d;
    }
    t = (double)(long long)d;
    return t > d ? t - 1.0 : t;
}

static double dabs(double d)
{
    return d < 0 ? -d : d;
}

/* Compares a whole number with a real exactly: -1, 0 or 1. */
static int cmp_int_real(json_int_t i, double d)
{
    double fl;

    if (d >= 9223372036854775808.0) {
        return -1;
    }
    if (d < -9223372036854775808.0) {
        return 1;
    }
    fl = dfloor(d);
    if ((json_int_t)fl > i) {
        return -1;                 /* i < floor(d) <= d */
    }
    if ((json_int_t)fl < i) {
        return 1;                  /* i >= floor(d) + 1 > d */
    }
    return d > fl ? -1 : 0;
}

static int num_cmp(num a, num b)
{
    if (a.is_int && b.is_int) {
        return a.i < b.i ? -1 : a.i > b.i;
    }
    if (!a.is_int && !b.is_int) {
        return a.d < b.d ? -1 : a.d > b.d;
    }
    return a.is_int ? cmp_int_real(a.i, b.d) : -cmp_int_real(b.i, a.d);
}

static int is_integral(double d)
{
    return isfinite(d) && dfloor(d) == d;
}

/* x a multiple of m (> 0): exactly for whole numbers; otherwise the
 * quotient within 1e-9 (relative) of a whole number, as binary reals
 * cannot hold 0.1 (0.3 is a multiple of 0.1). */
static int is_multiple(num x, num m)
{
    double q, r;

    if (x.is_int && m.is_int) {
        return x.i % m.i == 0;
    }
    q = x.d / m.d;
    if (!isfinite(q)) {
        return 0;
    }
    r = dfloor(q + 0.5);
    return dabs(q - r) <= 1e-9 * (dabs(q) > 1.0 ? dabs(q) : 1.0);
}

/* ---- compiling ---- */

typedef struct {
    node *n;
    const char *ref;
    const char *where;
} pending_ref;

typedef struct {
    apr_pool_t *p;
    json_t *root;
    apr_hash_t *seen;              /* const json_t * -> node * */
    apr_array_header_t *nodes;     /* node *, every object schema */
    apr_array_header_t *refs;      /* pending_ref */
    pcre2_compile_context *cc;
    const char *legacy;            /* the draft $schema names, if one whose
                                    * validators ignore $ref's siblings */
    const char *err;
} cctx;

static void *cfail(cctx *c, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void *cfail(cctx *c, const char *where, const char *fmt, ...)
{
    va_list ap;
    const char *msg;

    if (!c->err) {
        va_start(ap, fmt);
        msg = apr_pvsprintf(c->p, fmt, ap);
        va_end(ap);
        c->err = printable(c->p, apr_pstrcat(c->p, "at ",
                                             *where ? where : "the root",
                                             ": ", msg, NULL));
    }
    return NULL;
}

static apr_status_t free_code(void *data)
{
    pcre2_code_free(data);
    return APR_SUCCESS;
}

static apr_status_t release_doc(void *data)
{
    json_decref(data);
    return APR_SUCCESS;
}

static pcre2_code *compile_regex(cctx *c, const char *pat, size_t len,
                                 const char *where)
{
    int errcode;
    PCRE2_SIZE erroffset;
    pcre2_code *code;

    code = pcre2_compile((PCRE2_SPTR)pat, len,
                         PCRE2_UTF | PCRE2_DOLLAR_ENDONLY | PCRE2_ALT_BSUX
                         | PCRE2_NEVER_BACKSLASH_C, &errcode, &erroffset,
                         c->cc);
    if (!code) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(errcode, msg, sizeof(msg));
        return cfail(c, where, "the pattern \"%s\" does not compile at "
                     "offset %lu: %s", show(c->p, pat, len, SHOW_PATTERN,
                                            SHOW_QUOTES),
                     (unsigned long)erroffset, (const char *)msg);
    }
    apr_pool_cleanup_register(c->p, code, free_code, apr_pool_cleanup_null);
    /* JIT where the library has it; the interpreter otherwise */
    (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
    return code;
}

static node *compile(cctx *c, const json_t *v, const char *where);

static node *new_node(cctx *c, const char *where)
{
    node *n = apr_pcalloc(c->p, sizeof(*n));

    n->where = where;
    n->always = -1;
    n->min_length = n->max_length = -1;
    n->min_items = n->max_items = -1;
    n->min_contains = n->max_contains = -1;
    n->min_props = n->max_props = -1;
    return n;
}

typedef int (*kw_fn)(cctx *c, node *n, const json_t *v, const char *where,
                     size_t arg);

static int kw_ref(cctx *c, node *n, const json_t *v, const char *where,
                  size_t arg)
{
    pending_ref *pr;

    (void)arg;
    if (!json_is_string(v)) {
        cfail(c, where, "$ref must be a string, found %s", type_of(v));
        return -1;
    }
    n->ref_text = json_string_value(v);
    pr = apr_array_push(c->refs);
    pr->n = n;
    pr->ref = n->ref_text;
    pr->where = where;
    return 0;
}

static unsigned type_bit(const char *s)
{
    static const struct {
        const char *name;
        unsigned bit;
    } types[] = {
        { "null", T_NULL }, { "boolean", T_BOOLEAN }, { "object", T_OBJECT },
        { "array", T_ARRAY }, { "number", T_NUMBER }, { "string", T_STRING },
        { "integer", T_INTEGER }, { NULL, 0 }
    };
    int i;

    for (i = 0; types[i].name; i++) {
        if (strcmp(s, types[i].name) == 0) {
            return types[i].bit;
        }
    }
    return 0;
}

static int kw_type(cctx *c, node *n, const json_t *v, const char *where,
                   size_t arg)
{
    static const char known[] = "null, boolean, object, array, number, "
                                "string or integer";
    size_t i;
    unsigned bit;

    (void)arg;
    if (json_is_string(v)) {
        if (!(n->types = type_bit(json_string_value(v)))) {
            cfail(c, where, "unknown type \"%s\" (%s)",
                  json_string_value(v), known);
            return -1;
        }
        return 0;
    }
    if (!json_is_array(v) || json_array_size(v) == 0) {
        cfail(c, where, "type must be a type name or a list of them, "
              "like [\"string\", \"null\"]");
        return -1;
    }
    for (i = 0; i < json_array_size(v); i++) {
        const json_t *t = json_array_get(v, i);
        const char *tw = apr_psprintf(c->p, "%s/%lu", where,
                                      (unsigned long)i);
        if (!json_is_string(t)) {
            cfail(c, tw, "a type name must be a string, found %s",
                  type_of(t));
            return -1;
        }
        if (!(bit = type_bit(json_string_value(t)))) {
            cfail(c, tw, "unknown type \"%s\" (%s)", json_string_value(t),
                  known);
            return -1;
        }
        if (n->types & bit) {
            cfail(c, tw, "type \"%s\" is listed twice", json_string_value(t));
            return -1;
        }
        n->types |= bit;
    }
    return 0;
}

static int kw_enum(cctx *c, node *n, const json_t *v, const char *where,
                   size_t arg)
{
    (void)arg;
    if (!json_is_array(v)) {
        cfail(c, where, "enum must be a list of values, found %s",
              type_of(v));
        return -1;
    }
    n->enum_values = v;
    return 0;
}

static int kw_const(cctx *c, node *n, const json_t *v, const char *where,
                    size_t arg)
{
    (void)c;
    (void)where;
    (void)arg;
    n->has_const = 1;
    n->const_value = v;
    return 0;
}

static int kw_number(cctx *c, node *n, const json_t *v, const char *where,
                     size_t arg)
{
    num x;

    if (json_is_boolean(v) && (arg == N_XMIN || arg == N_XMAX)) {
        cfail(c, where, "the boolean form of draft-04 is not supported; "
              "write the bound itself, like \"%s\": 0",
              arg == N_XMIN ? "exclusiveMinimum" : "exclusiveMaximum");
        return -1;
    }
    if (!json_is_number(v)) {
        cfail(c, where, "must be a number, found %s", type_of(v));
        return -1;
    }
    x = num_of(v);
    switch (arg) {
    case N_MIN:
        n->minimum = x;
        break;
    case N_MAX:
        n->maximum = x;
        break;
    case N_XMIN:
        n->xmin = x;
        break;
    case N_XMAX:
        n->xmax = x;
        break;
    default:
        if (!(x.is_int ? x.i > 0 : x.d > 0)) {
            cfail(c, where, "multipleOf must be greater than 0");
            return -1;
        }
        n->mult = x;
        break;
    }
    n->nflags |= (unsigned)arg;
    return 0;
}

static int kw_count(cctx *c, node *n, const json_t *v, const char *where,
                    size_t arg)
{
    apr_int64_t *field = (apr_int64_t *)((char *)n + arg);

    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        *field = (apr_int64_t)json_integer_value(v);
        return 0;
    }
    if (json_is_real(v) && is_integral(json_real_value(v))
        && json_real_value(v) >= 0 && json_real_value(v) < 9.0e15) {
        *field = (apr_int64_t)json_real_value(v);
        return 0;
    }
    cfail(c, where, "must be a whole number of 0 or more");
    return -1;
}

static int kw_pattern(cctx *c, node *n, const json_t *v, const char *where,
                      size_t arg)
{
    (void)arg;
    if (!json_is_string(v)) {
        cfail(c, where, "pattern must be a string, found %s", type_of(v));
        return -1;
    }
    n->pattern_src = json_string_value(v);
    n->pattern = compile_regex(c, n->pattern_src, json_string_length(v),
                               where);
    return n->pattern ? 0 : -1;
}

static int kw_unique(cctx *c, node *n, const json_t *v, const char *where,
                     size_t arg)
{
    (void)arg;
    if (!json_is_boolean(v)) {
        cfail(c, where, "uniqueItems must be true or false");
        return -1;
    }
    n->unique = json_is_true(v);
    return 0;
}

/* A keyword holding one schema, into the node * at arg. */
static int kw_one(cctx *c, node *n, const json_t *v, const char *where,
                  size_t arg)
{
    node **field = (node **)((char *)n + arg);

    *field = compile(c, v, where);
    return *field ? 0 : -1;
}

/* A list of schemas into *out (may be empty only where allow_empty). */
static int compile_list(cctx *c, const json_t *v, const char *where,
                        apr_array_header_t **out, int allow_empty)
{
    size_t i;

    if (!json_is_array(v) || (!allow_empty && json_array_size(v) == 0)) {
        cfail(c, where, "must be a list of schemas%s",
              allow_empty ? "" : " (at least one)");
        return -1;
    }
    *out = apr_array_make(c->p, (int)json_array_size(v) + 1, sizeof(node *));
    for (i = 0; i < json_array_size(v); i++) {
        node *s = compile(c, json_array_get(v, i),
                          apr_psprintf(c->p, "%s/%lu", where,
                                       (unsigned long)i));
        if (!s) {
            return -1;
        }
        APR_ARRAY_PUSH(*out, node *) = s;
    }
    return 0;
}

static int kw_list(cctx *c, node *n, const json_t *v, const char *where,
                   size_t arg)
{
    return compile_list(c, v, where,
                        (apr_array_header_t **)((char *)n + arg), 0);
}

static int kw_properties(cctx *c, node *n, const json_t *v,
                         const char *where, size_t arg)
{
    const char *key;
    size_t len;
    json_t *s;

    (void)arg;
    if (!json_is_object(v)) {
        cfail(c, where, "properties must be an object of schemas");
        return -1;
    }
    n->props = apr_array_make(c->p, (int)json_object_size(v) + 1,
                              sizeof(named));
    n->prop_index = apr_hash_make(c->p);
    json_object_keylen_foreach((json_t *)v, key, len, s) {
        named *pr = apr_array_push(n->props);
        pr->name = key;
        pr->len = len;
        if (!(pr->schema = compile(c, s, ptr_join(c->p, where, key, len)))) {
            return -1;
        }
        apr_hash_set(n->prop_index, key, (apr_ssize_t)len, pr);
    }
    return 0;
}

static int kw_pattern_props(cctx *c, node *n, const json_t *v,
                            const char *where, size_t arg)
{
    const char *key;
    size_t len;
    json_t *s;

    (void)arg;
    if (!json_is_object(v)) {
        cfail(c, where, "patternProperties must be an object of schemas");
        return -1;
    }
    n->pprops = apr_array_make(c->p, (int)json_object_size(v) + 1,
                               sizeof(pattern_prop));
    json_object_keylen_foreach((json_t *)v, key, len, s) {
        const char *kw = ptr_join(c->p, where, key, len);
        pattern_prop *pp = apr_array_push(n->pprops);
        if (!(pp->code = compile_regex(c, key, len, kw))
            || !(pp->schema = compile(c, s, kw))) {
            return -1;
        }
    }
    return 0;
}

/* A list of property names (required, dependentRequired's values). */
static int name_list(cctx *c, const json_t *v, const char *where,
                     apr_array_header_t **out)
{
    size_t i;

    if (!json_is_array(v)) {
        cfail(c, where, "must be a list of property names");
        return -1;
    }
    *out = apr_array_make(c->p, (int)json_array_size(v) + 1, sizeof(name_t));
    for (i = 0; i < json_array_size(v); i++) {
        const json_t *s = json_array_get(v, i);
        name_t *nm;
        if (!json_is_string(s)) {
            cfail(c, apr_psprintf(c->p, "%s/%lu", where, (unsigned long)i),
                  "a property name must be a string, found %s", type_of(s));
            return -1;
        }
        nm = apr_array_push(*out);
        nm->name = json_string_value(s);
        nm->len = json_string_length(s);
    }
    return 0;
}

static int kw_required(cctx *c, node *n, const json_t *v, const char *where,
                       size_t arg)
{
    (void)arg;
    return name_list(c, v, where, &n->required);
}

static int add_dep_required(cctx *c, node *n, const char *key, size_t len,
                            const json_t *v, const char *where)
{
    dep_req *d;

    if (!n->dep_required) {
        n->dep_required = apr_array_make(c->p, 2, sizeof(dep_req));
    }
    d = apr_array_push(n->dep_required);
    d->name = key;
    d->len = len;
    return name_list(c, v, where, &d->needs);
}

static int add_dep_schema(cctx *c, node *n, const char *key, size_t len,
                          const json_t *v, const char *where)
{
    named *d;

    if (!n->dep_schemas) {
        n->dep_schemas = apr_array_make(c->p, 2, sizeof(named));
    }
    d = apr_array_push(n->dep_schemas);
    d->name = key;
    d->len = len;
    return (d->schema = compile(c, v, where)) ? 0 : -1;
}

/* dependentRequired (arg 0), dependentSchemas (1), draft-07's
 * dependencies (2: a list of names or a schema each). */
static int kw_dependent(cctx *c, node *n, const json_t *v, const char *where,
                        size_t arg)
{
    const char *key;
    size_t len;
    json_t *d;

    if (!json_is_object(v)) {
        cfail(c, where, "must be an object keyed by property name");
        return -1;
    }
    json_object_keylen_foreach((json_t *)v, key, len, d) {
        const char *dw = ptr_join(c->p, where, key, len);
        int rc;
        if (arg == 0 || (arg == 2 && json_is_array(d))) {
            rc = add_dep_required(c, n, key, len, d, dw);
        }
        else {
            rc = add_dep_schema(c, n, key, len, d, dw);
        }
        if (rc < 0) {
            return -1;
        }
    }
    return 0;
}

static int kw_defs(cctx *c, node *n, const json_t *v, const char *where,
                   size_t arg)
{
    const char *key;
    size_t len;
    json_t *s;

    (void)n;
    (void)arg;
    if (!json_is_object(v)) {
        cfail(c, where, "must be an object of schemas");
        return -1;
    }
    /* every definition is compiled, used or not: its mistakes show now */
    json_object_keylen_foreach((json_t *)v, key, len, s) {
        if (!compile(c, s, ptr_join(c->p, where, key, len))) {
            return -1;
        }
    }
    return 0;
}

static int kw_annotation(cctx *c, node *n, const json_t *v, const char *where,
                         size_t arg)
{
    (void)c;
    (void)n;
    (void)v;
    (void)where;
    (void)arg;
    return 0;
}

static int kw_string(cctx *c, node *n, const json_t *v, const char *where,
                     size_t arg)
{
    (void)n;
    (void)arg;
    if (!json_is_string(v)) {
        cfail(c, where, "must be a string, found %s", type_of(v));
        return -1;
    }
    return 0;
}

/* $id (and draft-04's id): any at the root (only "#..." $refs are
 * followed, and they point into this document whatever its URI); below
 * it a new base URI would change what a $ref means, so only a "#name"
 * fragment, which names the schema and changes nothing else. */
static int kw_id(cctx *c, node *n, const json_t *v, const char *where,
                 size_t arg)
{
    if (kw_string(c, n, v, where, arg) < 0) {
        return -1;
    }
    if (strchr(where + 1, '/') && json_string_value(v)[0] != '#') {
        cfail(c, where, "a nested $id (\"%s\") starts a schema resource of "
              "its own, which is not supported; move it into "
              "\"$defs\" and $ref it as \"#/$defs/...\"",
              json_string_value(v));
        return -1;
    }
    return 0;
}

#define KW_ITEMS 1
#define KW_PREFIX_ITEMS 2
#define KW_ADDITIONAL_ITEMS 3

typedef struct {
    const char *name;
    kw_fn fn;                      /* NULL: one of KW_* (arg) */
    size_t arg;
    int constraint;                /* 0: an annotation or a container */
} keyword;

static const keyword keywords[] = {
    { "$ref", kw_ref, 0, 0 },
    { "type", kw_type, 0, 1 },
    { "enum", kw_enum, 0, 1 },
    { "const", kw_const, 0, 1 },
    { "minimum", kw_number, N_MIN, 1 },
    { "maximum", kw_number, N_MAX, 1 },
    { "exclusiveMinimum", kw_number, N_XMIN, 1 },
    { "exclusiveMaximum", kw_number, N_XMAX, 1 },
    { "multipleOf", kw_number, N_MULT, 1 },
    { "minLength", kw_count, offsetof(node, min_length), 1 },
    { "maxLength", kw_count, offsetof(node, max_length), 1 },
    { "pattern", kw_pattern, 0, 1 },
    { "items", NULL, KW_ITEMS, 1 },
    { "prefixItems", NULL, KW_PREFIX_ITEMS, 1 },
    { "additionalItems", NULL, KW_ADDITIONAL_ITEMS, 1 },
    { "minItems", kw_count, offsetof(node, min_items), 1 },
    { "maxItems", kw_count, offsetof(node, max_items), 1 },
    { "uniqueItems", kw_unique, 0, 1 },
    { "contains", kw_one, offsetof(node, contains), 1 },
    { "minContains", kw_count, offsetof(node, min_contains), 1 },
    { "maxContains", kw_count, offsetof(node, max_contains), 1 },
    { "properties", kw_properties, 0, 1 },
    { "patternProperties", kw_pattern_props, 0, 1 },
    { "additionalProperties", kw_one, offsetof(node, additional), 1 },
    { "propertyNames", kw_one, offsetof(node, names), 1 },
    { "required", kw_required, 0, 1 },
    { "minProperties", kw_count, offsetof(node, min_props), 1 },
    { "maxProperties", kw_count, offsetof(node, max_props), 1 },
    { "dependentRequired", kw_dependent, 0, 1 },
    { "dependentSchemas", kw_dependent, 1, 1 },
    { "dependencies", kw_dependent, 2, 1 },
    { "allOf", kw_list, offsetof(node, all_of), 1 },
    { "anyOf", kw_list, offsetof(node, any_of), 1 },
    { "oneOf", kw_list, offsetof(node, one_of), 1 },
    { "not", kw_one, offsetof(node, not_), 1 },
    { "if", kw_one, offsetof(node, if_), 1 },
    { "then", kw_one, offsetof(node, then_), 1 },
    { "else", kw_one, offsetof(node, else_), 1 },
    { "definitions", kw_defs, 0, 0 },
    { "$defs", kw_defs, 0, 0 },
    { "$schema", kw_string, 0, 0 },
    { "$id", kw_id, 0, 0 },
    { "id", kw_id, 0, 0 },
    { "$comment", kw_string, 0, 0 },
    { "title", kw_annotation, 0, 0 },
    { "description", kw_annotation, 0, 0 },
    { "default", kw_annotation, 0, 0 },
    { "examples", kw_annotation, 0, 0 },
    { "format", kw_annotation, 0, 0 },
    { "readOnly", kw_annotation, 0, 0 },
    { "writeOnly", kw_annotation, 0, 0 },
    { "deprecated", kw_annotation, 0, 0 },
    { "contentMediaType", kw_annotation, 0, 0 },
    { "contentEncoding", kw_annotation, 0, 0 },
    { "contentSchema", kw_annotation, 0, 0 },
    { NULL, NULL, 0, 0 }
};

static const keyword *find_keyword(const char *key, size_t len)
{
    int i;

    for (i = 0; keywords[i].name; i++) {
        if (strlen(keywords[i].name) == len
            && memcmp(keywords[i].name, key, len) == 0) {
            return &keywords[i];
        }
    }
    return NULL;
}

/* A word on what to write instead of a keyword that is not supported. */
static const char *unsupported_hint(const char *key)
{
    if (strcmp(key, "unevaluatedProperties") == 0) {
        return " (additionalProperties is)";
    }
    if (strcmp(key, "unevaluatedItems") == 0) {
        return " (items is)";
    }
    if (strcmp(key, "$anchor") == 0 || strcmp(key, "$dynamicRef") == 0
        || strcmp(key, "$dynamicAnchor") == 0
        || strcmp(key, "$recursiveRef") == 0
        || strcmp(key, "$recursiveAnchor") == 0) {
        return " (only $ref to \"#\" or \"#/...\" is)";
    }
    return "";
}

/* items, prefixItems and additionalItems together: prefixItems (or an
 * array of items) for the first items, items (or additionalItems) for
 * the rest. */
static int compile_items(cctx *c, node *n, const char *where,
                         const json_t *items, const json_t *prefix,
                         const json_t *additional)
{
    const char *iw = apr_pstrcat(c->p, where, "/items", NULL);
    const char *aw = apr_pstrcat(c->p, where, "/additionalItems", NULL);

    if (prefix) {
        if (items && json_is_array(items)) {
            cfail(c, iw, "prefixItems and a list of items: write the list "
                  "once, in prefixItems");
            return -1;
        }
        if (additional) {
            cfail(c, aw, "additionalItems goes with a list of items; with "
                  "prefixItems, items is for the rest");
            return -1;
        }
        if (compile_list(c, prefix, apr_pstrcat(c->p, where, "/prefixItems",
                                                NULL), &n->prefix, 1) < 0) {
            return -1;
        }
        return !items || (n->items = compile(c, items, iw)) ? 0 : -1;
    }
    if (items && json_is_array(items)) {
        if (compile_list(c, items, iw, &n->prefix, 1) < 0) {
            return -1;
        }
        return !additional || (n->items = compile(c, additional, aw)) ? 0
                                                                      : -1;
    }
    if (items && !(n->items = compile(c, items, iw))) {
        return -1;
    }
    /* without a list of items additionalItems applies to nothing (every
     * draft says so); it is still a schema, and checked as one */
    return !additional || compile(c, additional, aw) ? 0 : -1;
}

static node *compile(cctx *c, const json_t *v, const char *where)
{
    const json_t *items = NULL, *prefix = NULL, *additional = NULL;
    const char *key, *constraint = NULL;
    const json_t **mark;
    json_t *kv;
    size_t klen;
    node *n;

    if (json_is_boolean(v)) {
        n = new_node(c, where);
        n->always = json_is_true(v);
        return n;
    }
    if (!json_is_object(v)) {
        return cfail(c, where, "a schema is an object, true or false; "
                     "found %s", type_of(v));
    }
    if ((n = apr_hash_get(c->seen, &v, sizeof(v))) != NULL) {
        return n;
    }
    n = new_node(c, where);
    mark = apr_palloc(c->p, sizeof(*mark));
    *mark = v;
    apr_hash_set(c->seen, mark, sizeof(*mark), n);
    APR_ARRAY_PUSH(c->nodes, node *) = n;
    json_object_keylen_foreach((json_t *)v, key, klen, kv) {
        const keyword *k = find_keyword(key, klen);
        const char *kw;

        if (!k) {
            if (klen > 2 && memcmp(key, "x-", 2) == 0) {
                continue;          /* an extension's annotation */
            }
            return cfail(c, where, "keyword \"%s\" is not supported%s",
                         show(c->p, key, klen, 64, SHOW_QUOTES),
                         unsupported_hint(key));
        }
        if (k->constraint && !constraint) {
            constraint = k->name;
        }
        if (!k->fn) {
            if (k->arg == KW_ITEMS) {
                items = kv;
            }
            else if (k->arg == KW_PREFIX_ITEMS) {
                prefix = kv;
            }
            else {
                additional = kv;
            }
            continue;
        }
        kw = ptr_join(c->p, where, key, klen);
        if (k->fn(c, n, kv, kw, k->arg) < 0) {
            return NULL;
        }
    }
    if ((items || prefix || additional)
        && compile_items(c, n, where, items, prefix, additional) < 0) {
        return NULL;
    }
    if (n->ref_text && constraint && c->legacy) {
        return cfail(c, where, "beside \"$ref\", \"%s\" is ignored by %s "
                     "validators ($schema says %s); put both in an \"allOf\" "
                     "to have it checked", constraint, c->legacy, c->legacy);
    }
    n->on_string = n->min_length >= 0 || n->max_length >= 0 || n->pattern;
    n->on_array = n->prefix || n->items || n->min_items >= 0
                  || n->max_items >= 0 || n->unique || n->contains;
    n->on_object = n->props || n->pprops || n->additional || n->names
                   || n->required || n->min_props >= 0 || n->max_props >= 0
                   || n->dep_required || n->dep_schemas;
    return n;
}

/* The JSON pointer of a "#/..." fragment resolved in the document: NULL
 * (an error set) or the value, *target_where its pointer. */
static const json_t *resolve(cctx *c, const char *ref, const char *where,
                             const char **target_where)
{
    const json_t *v = c->root;
    const char *tw = "";
    char *dec;
    size_t i, n = 0, len, start;

    if (ref[0] != '#') {
        return cfail(c, where, "remote $ref \"%s\" is not supported; only "
                     "\"#\" and \"#/...\" within this schema are (put the "
                     "schema it names under \"$defs\")", ref);
    }
    if (ref[1] == '\0') {
        *target_where = "";
        return c->root;
    }
    if (ref[1] != '/') {
        return cfail(c, where, "$ref \"%s\" names an anchor, which is not "
                     "supported; only \"#\" and \"#/...\" are", ref);
    }
    /* a URI fragment: percent-encoded */
    len = strlen(ref + 1);
    dec = apr_palloc(c->p, len + 1);
    for (i = 1; ref[i]; i++) {
        if (ref[i] == '%') {
            int hi, lo;
            if (!apr_isxdigit(ref[i + 1]) || !apr_isxdigit(ref[i + 2])) {
                return cfail(c, where, "$ref \"%s\": a %% not followed by "
                             "two hex digits", ref);
            }
            hi = apr_isdigit(ref[i + 1]) ? ref[i + 1] - '0'
                 : (apr_tolower(ref[i + 1]) - 'a' + 10);
            lo = apr_isdigit(ref[i + 2]) ? ref[i + 2] - '0'
                 : (apr_tolower(ref[i + 2]) - 'a' + 10);
            dec[n++] = (char)(hi * 16 + lo);
            i += 2;
        }
        else {
            dec[n++] = ref[i];
        }
    }
    /* dec[0] is '/': each segment after a '/', ~1 and ~0 undone */
    for (start = 1; start <= n; ) {
        size_t end = start, sl = 0;
        char *seg;
        while (end < n && dec[end] != '/') {
            end++;
        }
        seg = apr_palloc(c->p, end - start + 1);
        for (i = start; i < end; i++) {
            if (dec[i] == '~') {
                if (i + 1 >= end || (dec[i + 1] != '0' && dec[i + 1] != '1')) {
                    return cfail(c, where, "$ref \"%s\": '~' must be "
                                 "followed by 0 or 1", ref);
                }
                seg[sl++] = dec[i + 1] == '0' ? '~' : '/';
                i++;
            }
            else {
                seg[sl++] = dec[i];
            }
        }
        seg[sl] = '\0';
        if (json_is_object(v)) {
            v = json_object_getn(v, seg, sl);
        }
        else if (json_is_array(v) && sl > 0 && sl < 10
                 && strspn(seg, "0123456789") == sl
                 && (seg[0] != '0' || sl == 1)) {
            v = json_array_get(v, (size_t)atoi(seg));
        }
        else {
            v = NULL;
        }
        if (!v) {
            return cfail(c, where, "$ref \"%s\" points at nothing in this "
                         "schema", ref);
        }
        tw = ptr_join(c->p, tw, seg, sl);
        start = end + 1;
    }
    *target_where = tw;
    return v;
}

static int resolve_refs(cctx *c)
{
    int i;

    /* compiling a target may add $refs of its own to the list */
    for (i = 0; i < c->refs->nelts; i++) {
        pending_ref pr = APR_ARRAY_IDX(c->refs, i, pending_ref);
        const char *tw;
        const json_t *target = resolve(c, pr.ref, pr.where, &tw);
        if (!target || !(pr.n->ref = compile(c, target, tw))) {
            return -1;
        }
    }
    return 0;
}

/* The k-th schema n applies to the value itself (not to a part of it),
 * or NULL past the last. */
static node *in_place(const node *n, int k)
{
    const apr_array_header_t *lists[3];
    node *const singles[4] = { n->not_, n->if_, n->then_, n->else_ };
    int i;

    if (n->ref) {
        if (k == 0) {
            return n->ref;
        }
        k--;
    }
    lists[0] = n->all_of;
    lists[1] = n->any_of;
    lists[2] = n->one_of;
    for (i = 0; i < 3; i++) {
        if (lists[i]) {
            if (k < lists[i]->nelts) {
                return APR_ARRAY_IDX(lists[i], k, node *);
            }
            k -= lists[i]->nelts;
        }
    }
    for (i = 0; i < 4; i++) {
        if (singles[i]) {
            if (k == 0) {
                return singles[i];
            }
            k--;
        }
    }
    if (n->dep_schemas && k < n->dep_schemas->nelts) {
        return APR_ARRAY_IDX(n->dep_schemas, k, named).schema;
    }
    return NULL;
}

typedef struct {
    node *n;
    int k;
} frame;

/* A $ref whose target applies, through $refs and in-place applicators
 * only, back to itself: validation would go round for ever. Depth-first,
 * on an explicit stack (a chain of $refs may be long). */
static int check_loops(cctx *c)
{
    apr_array_header_t *stack = apr_array_make(c->p, 16, sizeof(frame));
    int i;

    for (i = 0; i < c->nodes->nelts; i++) {
        node *start = APR_ARRAY_IDX(c->nodes, i, node *);
        frame *f;

        if (start->color) {
            continue;
        }
        start->color = 1;
        f = apr_array_push(stack);
        f->n = start;
        f->k = 0;
        while (stack->nelts) {
            frame *top = &APR_ARRAY_IDX(stack, stack->nelts - 1, frame);
            node *next = in_place(top->n, top->k++);
            if (!next) {
                top->n->color = 2;
                stack->nelts--;
                continue;
            }
            if (next->color == 1) {
                cfail(c, top->n->where, "this schema applies itself again "
                      "(through %s) without descending into the value: "
                      "validation would never end",
                      next == top->n->ref && top->n->ref_text
                      ? apr_psprintf(c->p, "$ref \"%s\"", top->n->ref_text)
                      : *next->where ? next->where : "the root");
                return -1;
            }
            if (next->color == 0) {
                next->color = 1;
                f = apr_array_push(stack);
                f->n = next;
                f->k = 0;
            }
        }
    }
    return 0;
}

/* The draft a $schema URI names, when its validators ignore a $ref's
 * siblings; "" for draft-03 (refused); NULL otherwise. */
static const char *legacy_draft(const char *uri)
{
    static const char *const drafts[] = { "draft-04", "draft-06", "draft-07",
                                          NULL };
    int i;

    if (!strstr(uri, "json-schema.org/")) {
        return NULL;
    }
    if (strstr(uri, "/draft-03/")) {
        return "";
    }
    for (i = 0; drafts[i]; i++) {
        if (strstr(uri, drafts[i])) {
            return drafts[i];
        }
    }
    return NULL;
}

const char *apigw_schema_compile_json(apr_pool_t *p, json_t *doc,
                                      apigw_schema **out)
{
    cctx c;
    node *root;
    apigw_schema *s;
    const json_t *sv;

    *out = NULL;
    memset(&c, 0, sizeof(c));
    c.p = p;
    c.root = doc;
    c.seen = apr_hash_make(p);
    c.nodes = apr_array_make(p, 16, sizeof(node *));
    c.refs = apr_array_make(p, 4, sizeof(pending_ref));
    if (json_is_object(doc)
        && (sv = json_object_get(doc, "$schema")) != NULL
        && json_is_string(sv)) {
        c.legacy = legacy_draft(json_string_value(sv));
        if (c.legacy && !*c.legacy) {
            return "at /$schema: draft-03 is not supported (draft-04 to "
                   "2020-12 are)";
        }
    }
    if (!(c.cc = pcre2_compile_context_create(NULL))) {
        return "out of memory";
    }
    pcre2_set_compile_extra_options(c.cc, PCRE2_EXTRA_ALT_BSUX);
    root = compile(&c, doc, "");
    if (root && resolve_refs(&c) == 0) {
        check_loops(&c);
    }
    pcre2_compile_context_free(c.cc);
    if (c.err) {
        return c.err;
    }
    s = apr_pcalloc(p, sizeof(*s));
    s->root = root;
    s->doc = json_incref(doc);
    apr_pool_cleanup_register(p, s->doc, release_doc, apr_pool_cleanup_null);
    *out = s;
    return NULL;
}

const char *apigw_schema_compile(apr_pool_t *p, const char *text,
                                 apr_size_t len, apigw_schema **out)
{
    json_error_t jerr;
    json_t *doc;
    const char *err;

    *out = NULL;
    doc = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
                     &jerr);
    if (!doc) {
        return printable(p, apr_psprintf(p, "not valid JSON at line %d, "
                                         "column %d (character %d): %s",
                                         jerr.line, jerr.column,
                                         jerr.position, jerr.text));
    }
    err = apigw_schema_compile_json(p, doc, out);
    json_decref(doc);
    return err;
}

/* ---- validating ---- */

/* Where a value is in the body: a chain up to the root, on the C stack. */
typedef struct path {
    const struct path *up;
    const char *key;               /* NULL: an array item */
    size_t len;                    /* the key's length, or the item's index */
} path;

typedef struct {
    apr_pool_t *p;
    apr_size_t steps, max_steps;
    int depth;
    int quiet;                     /* inside anyOf, oneOf, not, if, contains:
                                    * no messages */
    const char *msg;               /* the first failure */
    const char *undecided;
    pcre2_general_context *gc;
    pcre2_match_context *mc;
    pcre2_match_data *md;
    pcre2_jit_stack *stack;
} vctx;

#define V_VALID 1
#define V_INVALID 0
#define V_UNDECIDED (-1)

static const char *pointer(apr_pool_t *p, const path *at)
{
    const path *q;
    const char **segs, *out;
    int n = 0, i;
    size_t len;

    for (q = at; q; q = q->up) {
        n++;
    }
    if (!n) {
        return "(root)";
    }
    segs = apr_palloc(p, sizeof(*segs) * (apr_size_t)n);
    for (q = at, i = n - 1; q; q = q->up, i--) {
        segs[i] = q->key ? show(p, q->key, q->len, SHOW_CHARS,
                                SHOW_POINTER_ESC)
                         : apr_psprintf(p, "%lu", (unsigned long)q->len);
    }
    out = "";
    for (i = 0; i < n; i++) {
        out = apr_pstrcat(p, out, "/", segs[i], NULL);
    }
    len = strlen(out);
    if (len > SHOW_POINTER) {
        /* the end, from a segment boundary */
        const char *tail = out + len - SHOW_POINTER;
        const char *slash = strchr(tail, '/');
        out = apr_pstrcat(p, "...", slash ? slash : tail, NULL);
    }
    return out;
}

static int vfail(vctx *c, const path *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int vfail(vctx *c, const path *at, const char *fmt, ...)
{
    va_list ap;
    const char *what;

    va_start(ap, fmt);
    what = apr_pvsprintf(c->p, fmt, ap);
    va_end(ap);
    c->msg = apr_pstrcat(c->p, pointer(c->p, at), ": ", what, NULL);
    return V_INVALID;
}

/* A failure: a message only when one is wanted (its arguments are not
 * even worked out otherwise). */
#define FAIL(c, at, ...) \
    ((c)->quiet || (c)->msg ? V_INVALID : vfail((c), (at), __VA_ARGS__))

static int undecided(vctx *c, const char *why)
{
    if (!c->undecided) {
        c->undecided = why;
    }
    return V_UNDECIDED;
}

static int step(vctx *c)
{
    return ++c->steps > c->max_steps
           ? undecided(c, "it takes more steps than a body of this size may")
           : V_VALID;
}

static int validate(vctx *c, const node *n, const json_t *v, const path *at);

/* Equal as JSON Schema says: numbers by value, objects whatever the
 * order of their keys. 1, 0, or V_UNDECIDED past the budget. */
static int equal(vctx *c, const json_t *a, const json_t *b)
{
    size_t i, len;
    const char *key;
    json_t *av;

    if (step(c) != V_VALID) {
        return V_UNDECIDED;
    }
    if (json_is_number(a) && json_is_number(b)) {
        return num_cmp(num_of(a), num_of(b)) == 0;
    }
    if (json_typeof(a) != json_typeof(b)) {
        return 0;
    }
    switch (json_typeof(a)) {
    case JSON_STRING:
        return json_string_length(a) == json_string_length(b)
               && memcmp(json_string_value(a), json_string_value(b),
                         json_string_length(a)) == 0;
    case JSON_ARRAY:
        if (json_array_size(a) != json_array_size(b)) {
            return 0;
        }
        for (i = 0; i < json_array_size(a); i++) {
            int rc = equal(c, json_array_get(a, i), json_array_get(b, i));
            if (rc != 1) {
                return rc;
            }
        }
        return 1;
    case JSON_OBJECT:
        if (json_object_size(a) != json_object_size(b)) {
            return 0;
        }
        json_object_keylen_foreach((json_t *)a, key, len, av) {
            const json_t *bv = json_object_getn(b, key, len);
            int rc;
            if (!bv) {
                return 0;
            }
            if ((rc = equal(c, av, bv)) != 1) {
                return rc;
            }
        }
        return 1;
    default:
        return 1;                  /* null, true, false */
    }
}

static uint64_t mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

static uint64_t hash_bytes(const char *s, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    size_t i;

    for (i = 0; i < len; i++) {
        h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
    }
    return mix(h ^ len);
}

/* A hash that equal() values share (whole reals hash as integers, an
 * object's keys in any order). */
static uint64_t hash_value(vctx *c, const json_t *v)
{
    uint64_t h;
    size_t i, len;
    const char *key;
    json_t *m;
    double d;

    c->steps++;
    switch (json_typeof(v)) {
    case JSON_NULL:
        return 1;
    case JSON_FALSE:
        return 2;
    case JSON_TRUE:
        return 3;
    case JSON_INTEGER:
        return mix(0x10 ^ (uint64_t)json_integer_value(v));
    case JSON_REAL:
        d = json_real_value(v);
        if (is_integral(d) && d >= -9223372036854775808.0
            && d < 9223372036854775808.0) {
            return mix(0x10 ^ (uint64_t)(json_int_t)d);
        }
        memcpy(&h, &d, sizeof(h));
        return mix(0x11 ^ h);
    case JSON_STRING:
        return hash_bytes(json_string_value(v), json_string_length(v)) ^ 0x20;
    case JSON_ARRAY:
        h = 0x30;
        for (i = 0; i < json_array_size(v); i++) {
            h = mix(h * 31 + hash_value(c, json_array_get(v, i)));
        }
        return h;
    default:
        h = 0x40;
        json_object_keylen_foreach((json_t *)v, key, len, m) {
            h += mix(hash_bytes(key, len) * 31 + hash_value(c, m));
        }
        return mix(h);
    }
}

typedef struct {
    uint64_t h;
    size_t i;
} hashed;

static int by_hash(const void *a, const void *b)
{
    const hashed *x = a, *y = b;

    if (x->h != y->h) {
        return x->h < y->h ? -1 : 1;
    }
    return x->i < y->i ? -1 : x->i > y->i;
}

/* uniqueItems: the items hashed and sorted, only those of one hash
 * compared. */
static int check_unique(vctx *c, const json_t *arr, const path *at)
{
    size_t n = json_array_size(arr), i, j, k;
    hashed *hs;

    if (n < 2) {
        return V_VALID;
    }
    hs = apr_palloc(c->p, sizeof(*hs) * n);
    for (i = 0; i < n; i++) {
        hs[i].h = hash_value(c, json_array_get(arr, i));
        hs[i].i = i;
    }
    if (c->steps > c->max_steps) {
        return undecided(c, "it takes more steps than a body of this size "
                         "may");
    }
    qsort(hs, n, sizeof(*hs), by_hash);
    for (i = 0; i < n; i = j) {
        for (j = i + 1; j < n && hs[j].h == hs[i].h; j++)
            ;
        for (k = i; k + 1 < j; k++) {
            size_t m;
            for (m = k + 1; m < j; m++) {
                int rc = equal(c, json_array_get(arr, hs[k].i),
                               json_array_get(arr, hs[m].i));
                if (rc < 0) {
                    return rc;
                }
                if (rc) {
                    return FAIL(c, at, "items %lu and %lu are equal, and "
                                "the items must be unique",
                                (unsigned long)hs[k].i,
                                (unsigned long)hs[m].i);
                }
            }
        }
    }
    return V_VALID;
}

static void *pool_malloc(PCRE2_SIZE size, void *data)
{
    return apr_palloc(data, size);
}

static void pool_free(void *block, void *data)
{
    (void)block;
    (void)data;
}

/* Does code match anywhere in s? 1, 0, or V_UNDECIDED (a bound). */
static int match(vctx *c, const pcre2_code *code, const char *s, size_t len)
{
    int rc;

    if (step(c) != V_VALID) {
        return V_UNDECIDED;
    }
    if (!c->md) {
        if (!(c->gc = pcre2_general_context_create(pool_malloc, pool_free,
                                                   c->p))
            || !(c->mc = pcre2_match_context_create(c->gc))
            || !(c->md = pcre2_match_data_create(1, c->gc))) {
            return undecided(c, "out of memory");
        }
        pcre2_set_match_limit(c->mc, MATCH_LIMIT);
        pcre2_set_depth_limit(c->mc, MATCH_LIMIT);
        pcre2_set_heap_limit(c->mc, HEAP_LIMIT_KIB);
    }
    rc = pcre2_match(code, (PCRE2_SPTR)s, len, 0, 0, c->md, c->mc);
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT && !c->stack
        && (c->stack = pcre2_jit_stack_create(JIT_STACK_START, JIT_STACK_MAX,
                                              c->gc)) != NULL) {
        pcre2_jit_stack_assign(c->mc, NULL, c->stack);
        rc = pcre2_match(code, (PCRE2_SPTR)s, len, 0, 0, c->md, c->mc);
    }
    if (rc >= 0) {
        return 1;
    }
    if (rc == PCRE2_ERROR_NOMATCH) {
        return 0;
    }
    {
        PCRE2_UCHAR msg[120];
        pcre2_get_error_message(rc, msg, sizeof(msg));
        return undecided(c, apr_psprintf(c->p, "a pattern could not be "
                                         "matched within its bounds (%s)",
                                         (const char *)msg));
    }
}

static int type_ok(unsigned t, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_NULL:
        return (t & T_NULL) != 0;
    case JSON_TRUE:
    case JSON_FALSE:
        return (t & T_BOOLEAN) != 0;
    case JSON_OBJECT:
        return (t & T_OBJECT) != 0;
    case JSON_ARRAY:
        return (t & T_ARRAY) != 0;
    case JSON_STRING:
        return (t & T_STRING) != 0;
    case JSON_INTEGER:
        return (t & (T_NUMBER | T_INTEGER)) != 0;
    default:
        return (t & T_NUMBER)
               || ((t & T_INTEGER) && is_integral(json_real_value(v)));
    }
}

static int check_number(vctx *c, const node *n, const json_t *v,
                        const path *at)
{
    num x = num_of(v);

    if ((n->nflags & N_MIN) && num_cmp(x, n->minimum) < 0) {
        return FAIL(c, at, "%s is less than the minimum of %s",
                    show_value(c->p, v), show_num(c->p, n->minimum));
    }
    if ((n->nflags & N_XMIN) && num_cmp(x, n->xmin) <= 0) {
        return FAIL(c, at, "%s is not greater than %s", show_value(c->p, v),
                    show_num(c->p, n->xmin));
    }
    if ((n->nflags & N_MAX) && num_cmp(x, n->maximum) > 0) {
        return FAIL(c, at, "%s is greater than the maximum of %s",
                    show_value(c->p, v), show_num(c->p, n->maximum));
    }
    if ((n->nflags & N_XMAX) && num_cmp(x, n->xmax) >= 0) {
        return FAIL(c, at, "%s is not less than %s", show_value(c->p, v),
                    show_num(c->p, n->xmax));
    }
    if ((n->nflags & N_MULT) && !is_multiple(x, n->mult)) {
        return FAIL(c, at, "%s is not a multiple of %s", show_value(c->p, v),
                    show_num(c->p, n->mult));
    }
    return V_VALID;
}

static apr_int64_t code_points(const char *s, size_t len)
{
    apr_int64_t n = 0;
    size_t i;

    for (i = 0; i < len; i++) {
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    }
    return n;
}

static int check_string(vctx *c, const node *n, const json_t *v,
                        const path *at)
{
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    int rc;

    if (n->min_length >= 0 || n->max_length >= 0) {
        apr_int64_t cps = code_points(s, len);
        if (n->min_length >= 0 && cps < n->min_length) {
            return FAIL(c, at, "%s is shorter than %" APR_INT64_T_FMT
                        " character%s", show_value(c->p, v), n->min_length,
                        n->min_length == 1 ? "" : "s");
        }
        if (n->max_length >= 0 && cps > n->max_length) {
            return FAIL(c, at, "%s is longer than %" APR_INT64_T_FMT
                        " character%s", show_value(c->p, v), n->max_length,
                        n->max_length == 1 ? "" : "s");
        }
    }
    if (n->pattern) {
        if ((rc = match(c, n->pattern, s, len)) != 1) {
            return rc < 0 ? rc
                   : FAIL(c, at, "%s does not match the pattern %s",
                          show_value(c->p, v),
                          show(c->p, n->pattern_src, strlen(n->pattern_src),
                               SHOW_PATTERN, 0));
        }
    }
    return V_VALID;
}

static int check_array(vctx *c, const node *n, const json_t *v,
                       const path *at)
{
    size_t len = json_array_size(v), np = n->prefix
                 ? (size_t)n->prefix->nelts : 0, i;
    path sub;
    int rc;

    if (n->min_items >= 0 && (apr_int64_t)len < n->min_items) {
        return FAIL(c, at, "the array has %lu item%s, fewer than %"
                    APR_INT64_T_FMT, (unsigned long)len, len == 1 ? "" : "s",
                    n->min_items);
    }
    if (n->max_items >= 0 && (apr_int64_t)len > n->max_items) {
        return FAIL(c, at, "the array has %lu items, more than %"
                    APR_INT64_T_FMT, (unsigned long)len, n->max_items);
    }
    sub.up = at;
    sub.key = NULL;
    for (i = 0; i < len && i < np; i++) {
        sub.len = i;
        if ((rc = validate(c, APR_ARRAY_IDX(n->prefix, i, node *),
                           json_array_get(v, i), &sub)) != V_VALID) {
            return rc;
        }
    }
    if (n->items && len > np) {
        if (n->items->always == 0) {
            return FAIL(c, at, "the array has %lu items, more than the %lu "
                        "allowed", (unsigned long)len, (unsigned long)np);
        }
        for (i = np; i < len; i++) {
            sub.len = i;
            if ((rc = validate(c, n->items, json_array_get(v, i), &sub))
                != V_VALID) {
                return rc;
            }
        }
    }
    if (n->unique && (rc = check_unique(c, v, at)) != V_VALID) {
        return rc;
    }
    if (n->contains) {
        apr_int64_t found = 0;
        apr_int64_t min = n->min_contains >= 0 ? n->min_contains : 1;

        c->quiet++;
        for (i = 0; i < len; i++) {
            sub.len = i;
            rc = validate(c, n->contains, json_array_get(v, i), &sub);
            if (rc < 0) {
                c->quiet--;
                return rc;
            }
            found += rc;
            if (n->max_contains >= 0 && found > n->max_contains) {
                break;
            }
        }
        c->quiet--;
        if (found < min) {
            return min == 1
                   ? FAIL(c, at, "no item matches the schema of contains")
                   : FAIL(c, at, "%" APR_INT64_T_FMT " item%s match%s the "
                          "schema of contains, fewer than %" APR_INT64_T_FMT,
                          found, found == 1 ? "" : "s", found == 1 ? "es" : "",
                          min);
        }
        if (n->max_contains >= 0 && found > n->max_contains) {
            return FAIL(c, at, "more than %" APR_INT64_T_FMT " item%s match "
                        "the schema of contains", n->max_contains,
                        n->max_contains == 1 ? "" : "s");
        }
    }
    return V_VALID;
}

/* One property of the value against patternProperties,
 * additionalProperties and propertyNames. */
static int check_property(vctx *c, const node *n, const char *key,
                          size_t len, const json_t *value, const path *at)
{
    path sub;
    int rc, matched, i;

    sub.up = at;
    sub.key = key;
    sub.len = len;
    if (n->names) {
        json_t *name = json_stringn_nocheck(key, len);
        if (!name) {
            return undecided(c, "out of memory");
        }
        rc = validate(c, n->names, name, at);
        json_decref(name);
        if (rc != V_VALID) {
            return rc;
        }
    }
    matched = n->prop_index
              && apr_hash_get(n->prop_index, key, (apr_ssize_t)len) != NULL;
    for (i = 0; n->pprops && i < n->pprops->nelts; i++) {
        const pattern_prop *pp = &APR_ARRAY_IDX(n->pprops, i, pattern_prop);
        if ((rc = match(c, pp->code, key, len)) < 0) {
            return rc;
        }
        if (rc) {
            matched = 1;
            if ((rc = validate(c, pp->schema, value, &sub)) != V_VALID) {
                return rc;
            }
        }
    }
    if (!matched && n->additional) {
        if (n->additional->always == 0) {
            return FAIL(c, at, "the property \"%s\" is not allowed",
                        show_name(c->p, key, len));
        }
        return validate(c, n->additional, value, &sub);
    }
    return V_VALID;
}

static int check_object(vctx *c, const node *n, const json_t *v,
                        const path *at)
{
    size_t count = json_object_size(v), len;
    const char *key;
    json_t *m;
    path sub;
    int i, j, rc;

    if (n->min_props >= 0 && (apr_int64_t)count < n->min_props) {
        return FAIL(c, at, "the object has %lu propert%s, fewer than %"
                    APR_INT64_T_FMT, (unsigned long)count,
                    count == 1 ? "y" : "ies", n->min_props);
    }
    if (n->max_props >= 0 && (apr_int64_t)count > n->max_props) {
        return FAIL(c, at, "the object has %lu properties, more than %"
                    APR_INT64_T_FMT, (unsigned long)count, n->max_props);
    }
    for (i = 0; n->required && i < n->required->nelts; i++) {
        const name_t *r = &APR_ARRAY_IDX(n->required, i, name_t);
        if (!json_object_getn(v, r->name, r->len)) {
            return FAIL(c, at, "the property \"%s\" is required",
                        show_name(c->p, r->name, r->len));
        }
    }
    for (i = 0; n->dep_required && i < n->dep_required->nelts; i++) {
        const dep_req *d = &APR_ARRAY_IDX(n->dep_required, i, dep_req);
        if (!json_object_getn(v, d->name, d->len)) {
            continue;
        }
        for (j = 0; j < d->needs->nelts; j++) {
            const name_t *r = &APR_ARRAY_IDX(d->needs, j, name_t);
            if (!json_object_getn(v, r->name, r->len)) {
                return FAIL(c, at, "the property \"%s\" is required when "
                            "\"%s\" is present",
                            show_name(c->p, r->name, r->len),
                            show_name(c->p, d->name, d->len));
            }
        }
    }
    sub.up = at;
    for (i = 0; n->props && i < n->props->nelts; i++) {
        const named *pr = &APR_ARRAY_IDX(n->props, i, named);
        const json_t *pv = json_object_getn(v, pr->name, pr->len);
        if (pv) {
            sub.key = pr->name;
            sub.len = pr->len;
            if ((rc = validate(c, pr->schema, pv, &sub)) != V_VALID) {
                return rc;
            }
        }
    }
    if (n->pprops || n->additional || n->names) {
        json_object_keylen_foreach((json_t *)v, key, len, m) {
            if ((rc = step(c)) != V_VALID
                || (rc = check_property(c, n, key, len, m, at)) != V_VALID) {
                return rc;
            }
        }
    }
    for (i = 0; n->dep_schemas && i < n->dep_schemas->nelts; i++) {
        const named *d = &APR_ARRAY_IDX(n->dep_schemas, i, named);
        if (json_object_getn(v, d->name, d->len)
            && (rc = validate(c, d->schema, v, at)) != V_VALID) {
            return rc;
        }
    }
    return V_VALID;
}

/* A schema applied to the value only to learn whether it holds. */
static int quietly(vctx *c, const node *n, const json_t *v, const path *at)
{
    int rc;

    c->quiet++;
    rc = validate(c, n, v, at);
    c->quiet--;
    return rc;
}

static int check_applicators(vctx *c, const node *n, const json_t *v,
                             const path *at)
{
    int i, rc, first = -1, second = -1;

    for (i = 0; n->all_of && i < n->all_of->nelts; i++) {
        if ((rc = validate(c, APR_ARRAY_IDX(n->all_of, i, node *), v, at))
            != V_VALID) {
            return rc;
        }
    }
    if (n->any_of) {
        for (i = 0; i < n->any_of->nelts; i++) {
            if ((rc = quietly(c, APR_ARRAY_IDX(n->any_of, i, node *), v, at))
                != V_INVALID) {
                break;
            }
        }
        if (i == n->any_of->nelts) {
            return FAIL(c, at, "%s matches none of the schemas of anyOf",
                        show_value(c->p, v));
        }
        if (rc < 0) {
            return rc;
        }
    }
    if (n->one_of) {
        for (i = 0; i < n->one_of->nelts && second < 0; i++) {
            if ((rc = quietly(c, APR_ARRAY_IDX(n->one_of, i, node *), v, at))
                < 0) {
                return rc;
            }
            if (rc) {
                *(first < 0 ? &first : &second) = i;
            }
        }
        if (first < 0) {
            return FAIL(c, at, "%s matches none of the schemas of oneOf",
                        show_value(c->p, v));
        }
        if (second >= 0) {
            return FAIL(c, at, "%s matches more than one schema of oneOf "
                        "(%d and %d)", show_value(c->p, v), first, second);
        }
    }
    if (n->not_) {
        if ((rc = quietly(c, n->not_, v, at)) < 0) {
            return rc;
        }
        if (rc) {
            return FAIL(c, at, "%s matches the schema of not",
                        show_value(c->p, v));
        }
    }
    if (n->if_) {
        if ((rc = quietly(c, n->if_, v, at)) < 0) {
            return rc;
        }
        if (rc && n->then_) {
            return validate(c, n->then_, v, at);
        }
        if (!rc && n->else_) {
            return validate(c, n->else_, v, at);
        }
    }
    return V_VALID;
}

static int check_keywords(vctx *c, const node *n, const json_t *v,
                          const path *at)
{
    int rc = V_VALID;
    size_t i;

    if (n->ref && (rc = validate(c, n->ref, v, at)) != V_VALID) {
        return rc;
    }
    if (n->types && !type_ok(n->types, v)) {
        return FAIL(c, at, "%s is not of type %s", show_value(c->p, v),
                    type_names(c->p, n->types));
    }
    if (n->has_const && (rc = equal(c, v, n->const_value)) != 1) {
        return rc < 0 ? rc : FAIL(c, at, "%s is not the one value allowed",
                                  show_value(c->p, v));
    }
    if (n->enum_values) {
        for (i = 0; i < json_array_size(n->enum_values); i++) {
            if ((rc = equal(c, v, json_array_get(n->enum_values, i))) != 0) {
                break;
            }
        }
        if (rc < 0) {
            return rc;
        }
        if (i == json_array_size(n->enum_values)) {
            return FAIL(c, at, "%s is not one of the values allowed",
                        show_value(c->p, v));
        }
    }
    switch (json_typeof(v)) {
    case JSON_INTEGER:
    case JSON_REAL:
        rc = n->nflags ? check_number(c, n, v, at) : V_VALID;
        break;
    case JSON_STRING:
        rc = n->on_string ? check_string(c, n, v, at) : V_VALID;
        break;
    case JSON_ARRAY:
        rc = n->on_array ? check_array(c, n, v, at) : V_VALID;
        break;
    case JSON_OBJECT:
        rc = n->on_object ? check_object(c, n, v, at) : V_VALID;
        break;
    default:
        rc = V_VALID;
        break;
    }
    return rc != V_VALID ? rc : check_applicators(c, n, v, at);
}

static int validate(vctx *c, const node *n, const json_t *v, const path *at)
{
    int rc;

    if (n->always >= 0) {
        return n->always ? V_VALID
               : FAIL(c, at, "%s is not allowed here", show_value(c->p, v));
    }
    if (step(c) != V_VALID) {
        return V_UNDECIDED;
    }
    if (c->depth >= MAX_EVAL_DEPTH) {
        return undecided(c, "it nests deeper than can be checked");
    }
    c->depth++;
    rc = check_keywords(c, n, v, at);
    c->depth--;
    return rc;
}

apigw_schema_verdict apigw_schema_validate(apr_pool_t *p,
                                           const apigw_schema *s,
                                           const json_t *value,
                                           apr_size_t max_steps,
                                           const char **why)
{
    vctx c;
    int rc;

    memset(&c, 0, sizeof(c));
    c.p = p;
    c.max_steps = max_steps;
    rc = validate(&c, s->root, value, NULL);
    if (c.stack) {
        pcre2_jit_stack_free(c.stack);
    }
    if (rc == V_VALID) {
        *why = NULL;
        return APIGW_SCHEMA_VALID;
    }
    if (rc == V_INVALID) {
        *why = c.msg ? c.msg : "(root): the value does not match";
        return APIGW_SCHEMA_INVALID;
    }
    *why = c.undecided ? c.undecided : "a bound was reached";
    return APIGW_SCHEMA_UNDECIDED;
}

/* ---- request bodies ---- */

/* How many values text may hold, at most (a count of what starts one:
 * the first, then each ',', '[' and '{' outside strings). */
static apr_size_t count_values(const char *text, apr_size_t len)
{
    apr_size_t n = 1, i;
    int in_string = 0;

    for (i = 0; i < len; i++) {
        char ch = text[i];
        if (in_string) {
            if (ch == '\\') {
                i++;
            }
            else if (ch == '"') {
                in_string = 0;
            }
        }
        else if (ch == '"') {
            in_string = 1;
        }
        else if (ch == ',' || ch == '[' || ch == '{') {
            n++;
        }
    }
    return n;
}

static const char *parse_problem(const json_error_t *e)
{
    switch (json_error_code(e)) {
    case json_error_invalid_utf8:
        return "it is not UTF-8";
    case json_error_premature_end_of_input:
        return "it ends before its value does";
    case json_error_end_of_input_expected:
        return "something follows its value";
    case json_error_duplicate_key:
        return "an object repeats a key";
    case json_error_stack_overflow:
        return "it nests deeper than 2048 levels";
    case json_error_numeric_overflow:
        return "a number is too large";
    case json_error_null_character:
    case json_error_null_byte_in_key:
        return "it holds a NUL character";
    case json_error_out_of_memory:
        return "out of memory";
    default:
        return "a syntax error";
    }
}

apigw_schema_verdict apigw_schema_check_body(apr_pool_t *p,
                                             const apigw_schema *s,
                                             const char *body,
                                             apr_size_t len,
                                             const char **why)
{
    const size_t flags = JSON_DECODE_ANY | JSON_REJECT_DUPLICATES
                         | JSON_ALLOW_NUL;
    apigw_schema_verdict v;
    apr_size_t values;
    apr_pool_t *scratch;
    json_error_t jerr;
    const char *inner;
    json_t *doc;

    if (len == 0) {
        *why = "the request body is empty";
        return APIGW_SCHEMA_MALFORMED;
    }
    if (len > APIGW_SCHEMA_MAX_BODY) {
        *why = apr_psprintf(p, "the request body is larger than %d bytes",
                            APIGW_SCHEMA_MAX_BODY);
        return APIGW_SCHEMA_TOO_LARGE;
    }
    if ((values = count_values(body, len)) > APIGW_SCHEMA_MAX_VALUES) {
        *why = apr_psprintf(p, "the request body holds more than %d JSON "
                            "values", APIGW_SCHEMA_MAX_VALUES);
        return APIGW_SCHEMA_TOO_LARGE;
    }
    doc = json_loadb(body, len, flags, &jerr);
    if (!doc && json_error_code(&jerr) == json_error_numeric_overflow) {
        /* a whole number past 64 bits: as a real, as Go's float64 */
        doc = json_loadb(body, len, flags | JSON_DECODE_INT_AS_REAL, &jerr);
    }
    if (!doc) {
        *why = apr_psprintf(p, "the request body is not valid JSON: %s (at "
                            "character %d)", parse_problem(&jerr),
                            jerr.position);
        return APIGW_SCHEMA_MALFORMED;
    }
    if (apr_pool_create(&scratch, p) != APR_SUCCESS) {
        json_decref(doc);
        *why = "the request body could not be checked against the "
               "endpoint's schema: out of memory";
        return APIGW_SCHEMA_UNDECIDED;
    }
    v = apigw_schema_validate(scratch, s, doc,
                              STEPS_BASE + STEPS_PER_VALUE * values, &inner);
    json_decref(doc);
    switch (v) {
    case APIGW_SCHEMA_VALID:
        *why = NULL;
        break;
    case APIGW_SCHEMA_INVALID:
        *why = apr_pstrcat(p, "the request body does not match the "
                           "endpoint's schema: ", inner, NULL);
        break;
    default:
        *why = apr_pstrcat(p, "the request body could not be checked "
                           "against the endpoint's schema: ", inner, NULL);
        v = APIGW_SCHEMA_UNDECIDED;
        break;
    }
    apr_pool_destroy(scratch);
    return v;
}
