/* sources: mod_apigw/apigw_policy_origin.c mod_apigw/apigw_policy_validate.c common/apigw_parse.c */
/* cflags: -I/usr/include/apache2 */
/* libFuzzer target for the CORS origin patterns of
 * mod_apigw/apigw_policy_origin.c and their validation in
 * mod_apigw/apigw_policy_validate.c. Every answer is compared with an
 * independent reference written here from the documented semantics
 * (docs/guides/edge-policies.md "CORS", apigw_policy_origin.h):
 *
 * - a pattern is "null" or scheme "://" ["*."] host [":" port], scheme
 *   1+ of alnum "+-.", host 1+ of alnum "-." not starting with '.', port
 *   1 to 5 digits; apigw_cors_origin_check accepts exactly those, with
 *   the message naming the first offending part;
 * - an exact pattern matches the origin equal to it byte for byte, ASCII
 *   case aside (so "null" matches "null");
 * - "S://" "*.H[:P]" matches the origins S://L.H[:P] (case aside) where L
 *   is one or more dot-separated labels, each non-empty and made of
 *   alnum and '-': never H itself, never an empty label ("..H", "a..H",
 *   ".H"), never another scheme or port (present, absent or different),
 *   never userinfo, a path, a NUL, CR or LF;
 * - compile()+matches() answer as match() does, and as the lower-cased
 *   pattern (what a policy keeps) does;
 * - apigw_cors_validate accepts a list iff every origin is "*" or passes
 *   the check (so a refused pattern is never compiled into a policy),
 *   names the first bad one, and refuses "*" with credentials.
 *
 * Input: lines. "p<pattern>" adds a pattern (a C string: cut at a NUL);
 * "c" turns credentials on for the validation; any other line, or
 * "o<origin>", is an origin, with the escapes \0 \r \n \\ decoded (raw NUL
 * bytes are kept too). Every origin, a fixed list of hostile ones and
 * variants derived from each pattern are matched against every pattern. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "apigw_policy_origin.h"
#include "apigw_policy_validate.h"

#define MAX_PATTERNS 16
#define MAX_ORIGINS 32

#define FUZZ_TARGET "fuzz_cors"
#include "fuzz_check.h"

typedef struct {
    const char *s;
    size_t len;
} bytes;

/* Origins worth trying against every pattern. */
static const char *const HOSTILE[] = {
    "null", "NULL", "Null", "", "*", "https://", "https:/", "https:",
    "https://example.com", "https://a.example.com", "https://A.EXAMPLE.COM",
    "https://a.b.example.com", "https://.example.com", "https://..example.com",
    "https://a..example.com", "https://a.example.com.", "https://example.com.",
    "https://a.example.com:443", "https://a.example.com:8443",
    "https://a.example.com:", "http://a.example.com", "https://example.com/",
    "https://a.example.com@evil.com", "https://evil.com@a.example.com",
    "https://user:pw@a.example.com", "https://evil.com.example.com",
    "https://example.com.evil.com", "https://evil.com/.example.com",
    "https://evil.com?.example.com", "https://evil.com#.example.com",
    "https://a_b.example.com", "https://-.example.com", "https://*.example.com",
    "https://a.example.com%2f", "HTTPS://APP.EXAMPLE.COM", "ws://a.example.com",
    "http://127.0.0.1:8080", "https://[::1]", "https://a.example.com:8443:8443",
    "https://xn--bcher-kva.example.com", "https://a.example.com ",
    " https://a.example.com", "https://a.example.com\r", "https://a\n.example.com",
    "https://caf\xc3\xa9.example.com", "https://a\xff.example.com", NULL
};

/* ---- the reference ---- */

static int ref_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9');
}

static int ref_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static unsigned char ref_lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

static int ci_eq(const char *a, const char *b, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (ref_lower((unsigned char)a[i]) != ref_lower((unsigned char)b[i])) {
            return 0;
        }
    }
    return 1;
}

/* Why the grammar refuses pattern: a phrase of the expected message, or
 * NULL when it is valid. */
static const char *ref_check(const char *pattern)
{
    size_t n = strlen(pattern), i, scheme_len, h, host_end, port_len = 0;
    int has_port;

    if (strcmp(pattern, "null") == 0) {
        return NULL;
    }
    for (i = 0; i < n && (ref_alnum((unsigned char)pattern[i])
                          || strchr("+-.", pattern[i])); i++)
        ;
    scheme_len = i;
    if (n - i < 3 || memcmp(pattern + i, "://", 3) != 0) {
        /* does "://" appear at all, after a non-empty prefix? */
        const char *sep = strstr(pattern, "://");
        if (!sep || sep == pattern) {
            return "scheme://host";
        }
        return "scheme holds an invalid character";
    }
    if (scheme_len == 0) {
        return "scheme://host";
    }
    h = scheme_len + 3;
    if (n - h >= 2 && pattern[h] == '*' && pattern[h + 1] == '.') {
        h += 2;
    }
    if (h == n || pattern[h] == '.' || pattern[h] == ':') {
        return "host is missing";
    }
    for (host_end = h; host_end < n && pattern[host_end] != ':'; host_end++)
        ;
    has_port = host_end < n;
    for (i = h; i < n; i++) {
        unsigned char c = (unsigned char)pattern[i];
        int ok = i < host_end ? ref_alnum(c) || c == '-' || c == '.'
                 : i == host_end ? 1 : ref_digit(c);
        if (!ok) {
            return c == '/' ? "no path" : c == '*' ? "first label"
                   : "invalid character";
        }
        port_len += i > host_end;
    }
    if (has_port && (port_len == 0 || port_len > 5)) {
        return "port is not a number";
    }
    return NULL;
}

/* One or more non-empty labels of alnum and '-', joined by '.'. */
static int ref_labels(const char *s, size_t n)
{
    size_t i, label = 0;

    if (n == 0) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.') {
            if (label == 0) {
                return 0;
            }
            label = 0;
        }
        else if (ref_alnum(c) || c == '-') {
            label++;
        }
        else {
            return 0;
        }
    }
    return label > 0;
}

/* Does the valid pattern match origin (olen bytes)? */
static int ref_match(const char *pattern, const char *origin, size_t olen)
{
    size_t plen = strlen(pattern), scheme_len, i, ohost_end, phost_len;
    const char *sep = strstr(pattern, "://");
    const char *phost, *pport, *oauth, *oport, *osep;
    size_t pport_len, oport_len, oauth_len, ohost_len;

    if (memchr(origin, '\0', olen)) {
        return 0;                      /* no pattern holds a NUL */
    }
    if (!sep || strncmp(sep + 3, "*.", 2) != 0) {
        return olen == plen && ci_eq(pattern, origin, olen);
    }
    /* the wildcard: S "://" "*.H[:P]" */
    scheme_len = (size_t)(sep - pattern);
    phost = sep + 5;
    pport = strchr(phost, ':');
    phost_len = pport ? (size_t)(pport - phost) : strlen(phost);
    pport_len = pport ? strlen(pport) : 0;   /* ":P" or nothing */

    /* the origin taken apart: scheme "://" host [":" port] */
    osep = NULL;
    for (i = 0; i + 3 <= olen; i++) {
        if (memcmp(origin + i, "://", 3) == 0) {
            osep = origin + i;
            break;
        }
    }
    if (!osep || (size_t)(osep - origin) != scheme_len
        || !ci_eq(origin, pattern, scheme_len)) {
        return 0;
    }
    oauth = osep + 3;
    oauth_len = olen - (size_t)(oauth - origin);
    for (ohost_end = 0; ohost_end < oauth_len && oauth[ohost_end] != ':';
         ohost_end++)
        ;
    ohost_len = ohost_end;
    oport = ohost_end < oauth_len ? oauth + ohost_end : NULL;
    oport_len = oport ? oauth_len - ohost_end : 0;
    /* the same port, written the same way (or none on both) */
    if ((oport != NULL) != (pport != NULL) || oport_len != pport_len
        || (oport && memcmp(oport, pport, pport_len) != 0)) {
        return 0;
    }
    /* host = L "." H */
    if (ohost_len < phost_len + 2
        || oauth[ohost_len - phost_len - 1] != '.'
        || !ci_eq(oauth + ohost_len - phost_len, phost, phost_len)) {
        return 0;
    }
    return ref_labels(oauth, ohost_len - phost_len - 1);
}

/* ---- driving ---- */

static char *lower_copy(apr_pool_t *p, const char *s)
{
    char *c = apr_pstrdup(p, s), *t;

    for (t = c; *t; t++) {
        *t = (char)ref_lower((unsigned char)*t);
    }
    return c;
}

static const char *show(apr_pool_t *p, const char *s, size_t n)
{
    char *out = apr_palloc(p, n * 4 + 1), *o = out;
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c >= 0x7f || c == '\\') {
            o += sprintf(o, "\\x%02x", c);
        }
        else {
            *o++ = (char)c;
        }
    }
    *o = '\0';
    return out;
}

static void check_one(apr_pool_t *p, const char *pattern,
                      const apigw_origin_pattern *op,
                      const apigw_origin_pattern *lop, const bytes *o)
{
    int want = ref_match(pattern, o->s, o->len);
    int got = apigw_cors_origin_matches(op, o->s, o->len);
    int lgot = apigw_cors_origin_matches(lop, o->s, o->len);

    CHECK(got == want, "pattern \"%s\", origin \"%s\": matches %d, want %d",
          show(p, pattern, strlen(pattern)), show(p, o->s, o->len), got, want);
    CHECK(lgot == want, "lower-cased pattern \"%s\", origin \"%s\": "
          "matches %d, want %d", show(p, lop->pattern, lop->len),
          show(p, o->s, o->len), lgot, want);
    if (strlen(o->s) == o->len) {
        int m = apigw_cors_origin_match(pattern, o->s);
        CHECK(m == want, "pattern \"%s\", origin \"%s\": match %d, want %d",
              show(p, pattern, strlen(pattern)), show(p, o->s, o->len), m,
              want);
    }
}

static bytes mk(apr_pool_t *p, const char *s, size_t n)
{
    bytes b;

    b.s = apr_pstrmemdup(p, s, n);
    b.len = n;
    return b;
}

static bytes mks(apr_pool_t *p, const char *s)
{
    return mk(p, s, strlen(s));
}

/* Origins derived from a valid pattern, matching or nearly. */
static int variants(apr_pool_t *p, const char *pattern, bytes *out)
{
    const char *sep = strstr(pattern, "://");
    int n = 0;

    out[n++] = mks(p, pattern);
    out[n++] = mks(p, apr_pstrcat(p, pattern, "/", NULL));
    out[n++] = mks(p, apr_pstrcat(p, pattern, ".", NULL));
    out[n++] = mks(p, apr_pstrcat(p, pattern, ":443", NULL));
    out[n++] = mks(p, apr_pstrcat(p, pattern, ".evil.com", NULL));
    out[n++] = mks(p, apr_pstrcat(p, pattern, "@evil.com", NULL));
    out[n++] = mk(p, apr_pstrcat(p, pattern, "#", NULL), strlen(pattern) + 1);
    ((char *)out[n - 1].s)[strlen(pattern)] = '\0';          /* NUL after */
    out[n++] = mks(p, apr_pstrcat(p, pattern, "\r\n", NULL));
    if (*pattern) {
        out[n++] = mk(p, pattern, strlen(pattern) - 1);
        out[n++] = mks(p, apr_pstrcat(p, "x", pattern, NULL));
    }
    {
        char *up = apr_pstrdup(p, pattern), *t;
        for (t = up; *t; t++) {
            if (*t >= 'a' && *t <= 'z') {
                *t = (char)(*t - 'a' + 'A');
            }
        }
        out[n++] = mks(p, up);
    }
    if (sep && strncmp(sep + 3, "*.", 2) == 0) {
        static const char *const LABELS[] = {
            "a", "a.b", "A-1", "", ".", "..", "a.", ".a", "a..b", "-",
            "x\0y", "a\r", "a\n", "a_b", "u@a", "evil.com/", "1.2.3", "*", NULL
        };
        size_t scheme_len = (size_t)(sep - pattern);
        const char *rest = sep + 4;                         /* ".H[:P]" */
        const char *colon = strchr(rest, ':');
        const char *host = colon ? apr_pstrmemdup(p, rest, (size_t)(colon - rest))
                                 : rest;
        int i;

        for (i = 0; LABELS[i]; i++) {
            size_t ll = i == 10 ? 3 : strlen(LABELS[i]);   /* "x\0y" */
            size_t rl = strlen(rest), vl = scheme_len + 3 + ll + rl;
            char *v = apr_palloc(p, vl + 1);

            memcpy(v, pattern, scheme_len + 3);
            memcpy(v + scheme_len + 3, LABELS[i], ll);
            memcpy(v + scheme_len + 3 + ll, rest, rl + 1);
            out[n].s = v;
            out[n++].len = vl;
        }
        /* the host alone, without and with another port */
        out[n++] = mks(p, apr_pstrcat(p, apr_pstrmemdup(p, pattern, scheme_len + 3),
                                      host + 1, colon ? colon : "", NULL));
        out[n++] = mks(p, apr_pstrcat(p, apr_pstrmemdup(p, pattern, scheme_len + 3),
                                      "a", host, colon ? "" : ":1", NULL));
        out[n++] = mks(p, apr_pstrcat(p, apr_pstrmemdup(p, pattern, scheme_len + 3),
                                      "a", host, ".evil.com", colon ? colon : "",
                                      NULL));
        out[n++] = mks(p, apr_pstrcat(p, apr_pstrmemdup(p, pattern, scheme_len + 3),
                                      "evil", host + 1, colon ? colon : "", NULL));
        out[n++] = mks(p, apr_pstrcat(p, "x", apr_pstrmemdup(p, pattern, scheme_len + 3),
                                      "a", rest, NULL));
        out[n++] = mks(p, apr_pstrcat(p, apr_pstrmemdup(p, pattern, scheme_len),
                                      "s://a", rest, NULL));
    }
    return n;
}

#define MAX_VARIANTS 48

static void check_validate(apr_pool_t *p, const char *const *pats, int npats,
                           int credentials)
{
    apigw_cors_policy c;
    const apigw_invalid *inv;
    int i, bad = -1, any = 0;

    memset(&c, 0, sizeof(c));
    c.enabled = 1;
    c.credentials = credentials ? 1 : -1;
    c.max_age = -1;
    c.private_network = -1;
    c.passthrough = -1;
    c.origins = apr_array_make(p, npats ? npats : 1, sizeof(const char *));
    for (i = 0; i < npats; i++) {
        APR_ARRAY_PUSH(c.origins, const char *) = pats[i];
        if (strcmp(pats[i], "*") == 0) {
            any = 1;
        }
        else if (bad < 0 && ref_check(pats[i])) {
            bad = i;
        }
    }
    c.any_origin = any;
    inv = apigw_cors_validate(p, &c);
    if (bad >= 0) {
        const char *field = apr_psprintf(p, "cors.allowOrigins[%d]", bad);
        const char *quoted = apr_psprintf(p, "'%s': ", pats[bad]);
        CHECK(inv != NULL, "list with refused \"%s\" validated",
              show(p, pats[bad], strlen(pats[bad])));
        CHECK(strcmp(inv->field, field) == 0, "field %s, want %s", inv->field,
              field);
        CHECK(strncmp(inv->problem, quoted, strlen(quoted)) == 0
              && strstr(inv->problem, ref_check(pats[bad])),
              "problem \"%s\" for \"%s\", want \"%s...%s\"", inv->problem,
              pats[bad], quoted, ref_check(pats[bad]));
        return;
    }
    if (any && credentials) {
        CHECK(inv && strcmp(inv->field, "cors.allowCredentials") == 0,
              "* with credentials: %s", inv ? inv->field : "accepted");
        return;
    }
    CHECK(inv == NULL, "valid list refused: %s: %s", inv->field, inv->problem);
}

static const char *decode_escapes(apr_pool_t *p, const char *s, size_t n,
                                  size_t *out_len)
{
    char *out = apr_palloc(p, n + 1);
    size_t i, o = 0;

    for (i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 1 < n) {
            char e = s[i + 1];
            if (e == '0' || e == 'r' || e == 'n' || e == '\\') {
                out[o++] = e == '0' ? '\0' : e == 'r' ? '\r'
                           : e == 'n' ? '\n' : '\\';
                i++;
                continue;
            }
        }
        out[o++] = s[i];
    }
    out[o] = '\0';
    *out_len = o;
    return out;
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
    const char *pats[MAX_PATTERNS];
    bytes origins[MAX_ORIGINS];
    int npats = 0, norigins = 0, credentials = 0, i, j;
    size_t pos = 0;

    if (apr_pool_create(&p, NULL) != APR_SUCCESS) {
        return 0;
    }
    while (pos < size) {
        const uint8_t *nl = memchr(data + pos, '\n', size - pos);
        size_t len = nl ? (size_t)(nl - (data + pos)) : size - pos;
        const char *line = (const char *)data + pos;

        pos += len + 1;
        if (len >= 1 && line[0] == 'p') {
            if (npats < MAX_PATTERNS) {
                pats[npats++] = apr_pstrmemdup(p, line + 1, len - 1);
            }
        }
        else if (len == 1 && line[0] == 'c') {
            credentials = 1;
        }
        else if (norigins < MAX_ORIGINS) {
            size_t skip = len >= 1 && line[0] == 'o' ? 1 : 0, olen;
            const char *o = decode_escapes(p, line + skip, len - skip, &olen);
            origins[norigins++] = mk(p, o, olen);
        }
    }

    check_validate(p, pats, npats, credentials);

    for (i = 0; i < npats; i++) {
        const char *pattern = pats[i];      /* cut at a NUL, as config is */
        const char *err = apigw_cors_origin_check(p, pattern);
        const char *want = ref_check(pattern);
        apigw_origin_pattern op, lop;
        bytes var[MAX_VARIANTS];
        int nvar;

        if (want) {
            CHECK(err && strstr(err, want), "\"%s\": check says \"%s\", want "
                  "a refusal saying \"%s\"", show(p, pattern, strlen(pattern)),
                  err ? err : "(valid)", want);
            /* only validated patterns are compiled (check_validate shows
             * a refused one never passes); still, compiling one must be
             * memory-safe */
            apigw_cors_origin_compile(&op, pattern);
            for (j = 0; j < norigins; j++) {
                (void)apigw_cors_origin_matches(&op, origins[j].s,
                                                origins[j].len);
            }
            continue;
        }
        CHECK(err == NULL, "\"%s\" refused: %s",
              show(p, pattern, strlen(pattern)), err);
        {
            const char *lower = lower_copy(p, pattern);
            CHECK(apigw_cors_origin_check(p, lower) == NULL,
                  "lower-cased \"%s\" refused", lower);
            apigw_cors_origin_compile(&op, pattern);
            apigw_cors_origin_compile(&lop, lower);
        }
        CHECK(op.pattern == pattern && op.len == strlen(pattern),
              "compile kept %p/%zu", (const void *)op.pattern, (size_t)op.len);

        for (j = 0; j < norigins; j++) {
            check_one(p, pattern, &op, &lop, &origins[j]);
        }
        for (j = 0; HOSTILE[j]; j++) {
            bytes b = mks(p, HOSTILE[j]);
            check_one(p, pattern, &op, &lop, &b);
        }
        nvar = variants(p, pattern, var);
        CHECK(nvar <= MAX_VARIANTS, "too many variants");
        for (j = 0; j < nvar; j++) {
            check_one(p, pattern, &op, &lop, &var[j]);
        }
        /* an exact pattern matches itself; a wildcard its first variant
         * with a plain label */
        CHECK(apigw_cors_origin_matches(&op, pattern, strlen(pattern))
              == (strstr(pattern, "://*.") == NULL),
              "\"%s\" vs itself", pattern);
    }
    apr_pool_destroy(p);
    return 0;
}
