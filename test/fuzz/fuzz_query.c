/* sources: mod_apigw/apigw_query.c mod_apigw/apigw_policy_validate.c mod_apigw/apigw_policy_origin.c common/apigw_parse.c */
/* cflags: -I/usr/include/apache2 */
/* libFuzzer target for the query-string filters of mod_apigw/apigw_query.c
 * (ApiInputQueryStrings, ApiDenyQueryStrings) and the deny-list validation
 * of mod_apigw/apigw_policy_validate.c. Every answer is compared with an
 * independent reference written here from apigw_query.h and docs/guides/edge-policies.md:
 *
 * - a query is split on '&'; empty pairs are dropped; a pair's name is
 *   what precedes its first '=' (the whole pair without one);
 * - a name is form-decoded ('+' is a space, '%' and two hex digits of
 *   either case a byte, any other '%' itself) and compared byte for byte,
 *   case-sensitively, with each listed name;
 * - the allow filter keeps the pairs whose name is listed, the deny filter
 *   the others, both raw and in order, joined by single '&'s, NULL when
 *   none is left; all=1, or a deny filter without names, returns the
 *   query itself; a NULL or empty query gives NULL;
 * - without the model: both outputs are subsequences of the non-empty
 *   input pairs that together partition them, the input is left as it
 *   was, no kept pair of the deny filter decodes to a denied name and
 *   every spelling of a denied name (raw, %XX, %xx, '+' for a space,
 *   mixed) is dropped (and kept by the allow filter);
 * - apigw_query_deny_validate refuses the first name that is empty or
 *   holds '&', '=', a space or a tab, and only those.
 *
 * Input: lines. "n<name>" adds a listed name (a C string: cut at a NUL);
 * "N" alone makes the list NULL instead of an empty array; "Q" alone is a
 * NULL query; any other line, or "q<query>", is a query (cut at a NUL, as
 * r->args is). Every query is filtered by the list, and so are queries
 * spelling each listed name in several encodings. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "apigw_query.h"
#include "apigw_policy_validate.h"

#define MAX_NAMES 16
#define MAX_QUERIES 32
#define MAX_PAIRS 512

#define FUZZ_TARGET "fuzz_query"
#include "fuzz_check.h"

typedef struct {
    const char *s;                 /* into the query */
    size_t len;
} span;

/* ---- the reference ---- */

static int ref_hex(unsigned char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* The non-empty pairs of q, in order. */
static int ref_pairs(const char *q, span *out)
{
    int n = 0;
    const char *start = q, *s;

    for (s = q;; s++) {
        if (*s == '&' || *s == '\0') {
            if (s > start) {
                CHECK(n < MAX_PAIRS, "too many pairs");
                out[n].s = start;
                out[n++].len = (size_t)(s - start);
            }
            if (*s == '\0') {
                return n;
            }
            start = s + 1;
        }
    }
}

/* The form-decoded name of a pair, into buf; returns its length. */
static size_t ref_name(const span *pair, char *buf)
{
    size_t end = 0, i = 0, n = 0;

    while (end < pair->len && pair->s[end] != '=') {
        end++;
    }
    while (i < end) {
        unsigned char c = (unsigned char)pair->s[i];
        if (c == '+') {
            buf[n++] = ' ';
            i++;
        }
        else if (c == '%' && end - i >= 3
                 && ref_hex((unsigned char)pair->s[i + 1]) >= 0
                 && ref_hex((unsigned char)pair->s[i + 2]) >= 0) {
            buf[n++] = (char)(ref_hex((unsigned char)pair->s[i + 1]) * 16
                              + ref_hex((unsigned char)pair->s[i + 2]));
            i += 3;
        }
        else {
            buf[n++] = (char)c;
            i++;
        }
    }
    return n;
}

static int ref_listed(apr_pool_t *p, const span *pair,
                      const apr_array_header_t *names)
{
    char *buf = apr_palloc(p, pair->len + 1);
    size_t n = ref_name(pair, buf);
    int i;

    for (i = 0; names && i < names->nelts; i++) {
        const char *want = APR_ARRAY_IDX(names, i, const char *);
        if (strlen(want) == n && memcmp(want, buf, n) == 0) {
            return 1;
        }
    }
    return 0;
}

/* The expected output: the pairs with ref_listed() == keep, or NULL. */
static const char *ref_filter(apr_pool_t *p, const char *q,
                              const apr_array_header_t *names, int keep)
{
    span *pairs = apr_palloc(p, MAX_PAIRS * sizeof(*pairs));
    int n = ref_pairs(q, pairs), i;
    char *out = apr_palloc(p, strlen(q) + 1), *o = out;

    for (i = 0; i < n; i++) {
        if (ref_listed(p, &pairs[i], names) == keep) {
            if (o != out) {
                *o++ = '&';
            }
            memcpy(o, pairs[i].s, pairs[i].len);
            o += pairs[i].len;
        }
    }
    *o = '\0';
    return o == out ? NULL : out;
}

/* ---- checks ---- */

static const char *show(apr_pool_t *p, const char *s)
{
    size_t n = s ? strlen(s) : 0, i;
    char *out, *o;

    if (!s) {
        return "(null)";
    }
    out = o = apr_palloc(p, n * 4 + 3);
    *o++ = '"';
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c >= 0x7f || c == '\\' || c == '"') {
            o += sprintf(o, "\\x%02x", c);
        }
        else {
            *o++ = (char)c;
        }
    }
    *o++ = '"';
    *o = '\0';
    return out;
}

static const char *show_names(apr_pool_t *p, const apr_array_header_t *names)
{
    const char *s = names ? "[" : "NULL";
    int i;

    for (i = 0; names && i < names->nelts; i++) {
        s = apr_pstrcat(p, s, i ? ", " : "",
                        show(p, APR_ARRAY_IDX(names, i, const char *)), NULL);
    }
    return names ? apr_pstrcat(p, s, "]", NULL) : s;
}

static int same(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* Model-free: the allow and deny outputs interleave into exactly the
 * non-empty pairs of q, each kept byte for byte. */
static void check_partition(apr_pool_t *p, const char *q, const char *allow,
                            const char *deny)
{
    span *in = apr_palloc(p, MAX_PAIRS * sizeof(*in));
    span *a = apr_palloc(p, MAX_PAIRS * sizeof(*a));
    span *d = apr_palloc(p, MAX_PAIRS * sizeof(*d));
    int nin = ref_pairs(q, in), na = 0, nd = 0, i, ia = 0, id = 0;

    if (allow) {
        CHECK(allow[0] != '&' && allow[strlen(allow) - 1] != '&'
              && !strstr(allow, "&&"), "empty pair kept: %s", show(p, allow));
        na = ref_pairs(allow, a);
    }
    if (deny) {
        CHECK(deny[0] != '&' && deny[strlen(deny) - 1] != '&'
              && !strstr(deny, "&&"), "empty pair kept: %s", show(p, deny));
        nd = ref_pairs(deny, d);
    }
    CHECK(na + nd == nin, "%s: %d + %d pairs out of %d", show(p, q), na, nd,
          nin);
    for (i = 0; i < nin; i++) {
        if (ia < na && a[ia].len == in[i].len
            && memcmp(a[ia].s, in[i].s, in[i].len) == 0) {
            ia++;
        }
        else if (id < nd && d[id].len == in[i].len
                 && memcmp(d[id].s, in[i].s, in[i].len) == 0) {
            id++;
        }
        else {
            CHECK(0, "%s: pair %d (%s) in neither %s nor %s", show(p, q), i,
                  show(p, apr_pstrmemdup(p, in[i].s, in[i].len)),
                  show(p, allow), show(p, deny));
        }
    }
}

/* Model-free safety: what the deny filter keeps never decodes to a listed
 * name, what the allow filter keeps always does. */
static void check_names(apr_pool_t *p, const char *out,
                        const apr_array_header_t *names, int listed)
{
    span *pairs = apr_palloc(p, MAX_PAIRS * sizeof(*pairs));
    int n, i;

    if (!out) {
        return;
    }
    n = ref_pairs(out, pairs);
    for (i = 0; i < n; i++) {
        CHECK(ref_listed(p, &pairs[i], names) == listed, "%s kept %s with "
              "names %s", listed ? "allow" : "deny",
              show(p, apr_pstrmemdup(p, pairs[i].s, pairs[i].len)),
              show_names(p, names));
    }
}

static void check_query(apr_pool_t *p, const char *q,
                        const apr_array_header_t *names)
{
    char *copy = q ? apr_pstrdup(p, q) : NULL;
    int listed = names && names->nelts > 0;
    const char *allow = apigw_query_filter(p, q, 0, names);
    const char *all = apigw_query_filter(p, q, 1, names);
    const char *deny = apigw_query_filter_deny(p, q, names);
    const char *want_allow, *want_deny;

    CHECK(same(q, copy), "query changed: %s, was %s", show(p, q),
          show(p, copy));
    if (!q || !*q) {
        CHECK(!allow && !all && !deny, "%s: allow %s, all %s, deny %s",
              show(p, q), show(p, allow), show(p, all), show(p, deny));
        return;
    }
    CHECK(all == q, "all=1 on %s gave %s", show(p, q), show(p, all));
    if (!listed) {
        CHECK(allow == NULL, "%s with names %s: allow %s", show(p, q),
              show_names(p, names), show(p, allow));
        CHECK(deny == q, "%s with names %s: deny %s", show(p, q),
              show_names(p, names), show(p, deny));
        return;
    }
    want_allow = ref_filter(p, q, names, 1);
    want_deny = ref_filter(p, q, names, 0);
    CHECK(same(allow, want_allow), "allow %s on %s: %s, want %s",
          show_names(p, names), show(p, q), show(p, allow), show(p, want_allow));
    CHECK(same(deny, want_deny), "deny %s on %s: %s, want %s",
          show_names(p, names), show(p, q), show(p, deny), show(p, want_deny));
    CHECK(allow != q && deny != q, "a filtered query is the input itself");
    check_partition(p, q, allow, deny);
    check_names(p, allow, names, 1);
    check_names(p, deny, names, 0);
}

static void check_validate(apr_pool_t *p, const apr_array_header_t *names)
{
    const apigw_invalid *inv = apigw_query_deny_validate(p, names);
    int i, bad = -1;

    for (i = 0; names && i < names->nelts && bad < 0; i++) {
        const char *n = APR_ARRAY_IDX(names, i, const char *), *s;
        if (!*n) {
            bad = i;
        }
        for (s = n; *s && bad < 0; s++) {
            if (*s == '&' || *s == '=' || *s == ' ' || *s == '\t') {
                bad = i;
            }
        }
    }
    if (bad < 0) {
        CHECK(inv == NULL, "names %s refused: %s: %s", show_names(p, names),
              inv->field, inv->problem);
        return;
    }
    CHECK(inv != NULL, "names %s accepted, [%d] is invalid",
          show_names(p, names), bad);
    CHECK(strcmp(inv->field, apr_psprintf(p, "queryPolicy.names[%d]", bad))
          == 0, "field %s, want [%d]", inv->field, bad);
    CHECK(strstr(inv->problem, apr_psprintf(p, "'%s'",
                 APR_ARRAY_IDX(names, bad, const char *))) != NULL,
          "problem %s does not quote the name", inv->problem);
}

/* A spelling of name that form-decodes to it: mode 0 raw where a raw byte
 * reads as itself, 1 %XX, 2 %xx, 3 alternating, 4 as bits of seed say;
 * a space is '+' or %20 in turn. */
static const char *spell(apr_pool_t *p, const char *name, int mode,
                         uint32_t seed)
{
    size_t n = strlen(name), i;
    char *out = apr_palloc(p, n * 3 + 1), *o = out;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        int raw_ok = c != '&' && c != '=' && c != '%' && c != '+' && c != ' ';
        int enc;

        switch (mode) {
        case 0: enc = !raw_ok; break;
        case 1: case 2: enc = 1; break;
        case 3: enc = !raw_ok || (i % 2); break;
        default: enc = !raw_ok || ((seed >> (i % 32)) & 1); break;
        }
        if (c == ' ' && (mode + (int)i) % 2 == 0) {
            *o++ = '+';
        }
        else if (enc) {
            o += sprintf(o, mode == 2 || (mode == 4 && (seed >> ((i + 7) % 32)) & 1)
                            ? "%%%02x" : "%%%02X", c);
        }
        else {
            *o++ = (char)c;
        }
    }
    *o = '\0';
    return out;
}

static void check_spellings(apr_pool_t *p, const apr_array_header_t *names,
                            uint32_t seed)
{
    int i, mode;

    for (i = 0; i < names->nelts; i++) {
        const char *name = APR_ARRAY_IDX(names, i, const char *);

        if (!*name) {
            continue;
        }
        for (mode = 0; mode < 5; mode++) {
            const char *sp = spell(p, name, mode, seed + (uint32_t)i);
            const char *q = apr_pstrcat(p, "zz%00=1&", sp, "=v&", sp,
                                        "&&", sp, "=a%26b=c", NULL);
            const char *deny = apigw_query_filter_deny(p, q, names);
            const char *allow = apigw_query_filter(p, q, 0, names);
            const char *want_allow = apr_pstrcat(p, sp, "=v&", sp, "&", sp,
                                                 "=a%26b=c", NULL);
            span sp_span;
            char *buf = apr_palloc(p, strlen(sp) + 1);

            sp_span.s = sp;
            sp_span.len = strlen(sp);
            CHECK(ref_name(&sp_span, buf) == strlen(name)
                  && memcmp(buf, name, strlen(name)) == 0,
                  "spelling %s of %s does not decode to it", show(p, sp),
                  show(p, name));
            /* "zz\0" is never listed (a name holds no NUL) */
            CHECK(deny && strcmp(deny, "zz%00=1") == 0,
                  "deny %s on %s: %s, want \"zz%%00=1\" (a spelling got "
                  "through)", show_names(p, names), show(p, q), show(p, deny));
            CHECK(allow && strcmp(allow, want_allow) == 0,
                  "allow %s on %s: %s, want %s", show_names(p, names),
                  show(p, q), show(p, allow), show(p, want_allow));
            check_query(p, q, names);
        }
    }
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
    apr_array_header_t *names;
    const char *queries[MAX_QUERIES];
    int nqueries = 0, null_list = 0, i;
    uint32_t seed = 2166136261u;
    size_t pos = 0;

    if (apr_pool_create(&p, NULL) != APR_SUCCESS) {
        return 0;
    }
    names = apr_array_make(p, 4, sizeof(const char *));
    for (i = 0; (size_t)i < size; i++) {
        seed = (seed ^ data[i]) * 16777619u;
    }
    while (pos < size) {
        const uint8_t *nl = memchr(data + pos, '\n', size - pos);
        size_t len = nl ? (size_t)(nl - (data + pos)) : size - pos;
        const char *line = (const char *)data + pos;

        pos += len + 1;
        if (len >= 1 && line[0] == 'n') {
            if (names->nelts < MAX_NAMES) {
                APR_ARRAY_PUSH(names, const char *) =
                    apr_pstrndup(p, line + 1, len - 1);
            }
        }
        else if (len == 1 && line[0] == 'N') {
            null_list = 1;
        }
        else if (nqueries < MAX_QUERIES) {
            if (len == 1 && line[0] == 'Q') {
                queries[nqueries++] = NULL;
            }
            else {
                size_t skip = len >= 1 && line[0] == 'q' ? 1 : 0;
                queries[nqueries++] = apr_pstrndup(p, line + skip, len - skip);
            }
        }
    }

    check_validate(p, names);
    check_validate(p, NULL);
    for (i = 0; i < nqueries; i++) {
        check_query(p, queries[i], null_list ? NULL : names);
        check_query(p, queries[i], NULL);
    }
    check_spellings(p, names, seed);
    apr_pool_destroy(p);
    return 0;
}
