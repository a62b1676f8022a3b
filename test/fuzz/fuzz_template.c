/* sources: mod_apigw/apigw_template.c */
/* libFuzzer target for mod_apigw/apigw_template.c. Compiles a template
 * from the input and expands it with input-chosen and hostile variable
 * values, comparing the result with an independent reference expansion and
 * checking the safety properties directly: value bytes come out only as
 * unreserved characters, %XX (or the tail's '/'), decode back to the value,
 * and never form a "." or ".." path segment; nothing before the appended
 * query holds a space or control character.
 *
 * Input: line 1 is the template URL; line 2, when present, the query to
 * append; every further line "name=value" binds a variable ("*" is the
 * wildcard tail). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "apigw_route.h"
#include "apigw_template.h"

#define FUZZ_TARGET "fuzz_template"
#include "fuzz_check.h"

static const char *const MESSAGES[] = {
    "the backend must be a URL such as http://host:port/path",
    "the backend URL's scheme must be lower case, like http or balancer",
    "the backend URL contains a space or a control character",
    "the backend URL has no host",
    "variables are not allowed in the backend's host or port",
    "the backend URL may not have a fragment (#)",
    "'}' without a matching '{' in the backend URL",
    "'{' without a matching '}' in the backend URL",
    "a backend URL variable must be {name} or {*}",
    NULL
};

/* Values worth trying for every variable. */
static const char *const HOSTILE[] = {
    "", ".", "..", "...", "a/b", "../etc/passwd", "a/../b", "./", "/", "//",
    "a//b/", "%2e%2e", "%2F", "a b", "\x01", "x\x7f", "caf\xc3\xa9", "?#&=+",
    ".a/b./..c", "\xff\x80", NULL
};

static int unreserved(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'
        || c == '~';
}

static int upper_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

static int hexval(unsigned char c)
{
    return c <= '9' ? c - '0' : c - 'A' + 10;
}

/* ---- reference expansion ---- */

typedef struct {
    char *buf;          /* expected URL */
    int *mask;          /* per byte: 0 literal, else 1 + index of the part */
    size_t len, cap;
} outbuf;

static void put(apr_pool_t *p, outbuf *o, char c, int mark)
{
    if (o->len + 1 >= o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 256;
        char *b = apr_palloc(p, cap);
        int *m = apr_palloc(p, cap * sizeof(int));
        if (o->len) {
            memcpy(b, o->buf, o->len);
            memcpy(m, o->mask, o->len * sizeof(int));
        }
        o->buf = b;
        o->mask = m;
        o->cap = cap;
    }
    o->buf[o->len] = c;
    o->mask[o->len++] = mark;
    o->buf[o->len] = '\0';
}

static void put_encoded(apr_pool_t *p, outbuf *o, unsigned char c, int mark)
{
    static const char hex[] = "0123456789ABCDEF";

    if (unreserved(c)) {
        put(p, o, (char)c, mark);
    }
    else {
        put(p, o, '%', mark);
        put(p, o, hex[c >> 4], mark);
        put(p, o, hex[c & 15], mark);
    }
}

static const char *lookup(const apr_array_header_t *vars, const char *name)
{
    int i;

    for (i = 0; i < vars->nelts; i++) {
        const apigw_route_var *v = &APR_ARRAY_IDX(vars, i, apigw_route_var);
        if (strcmp(v->name, name) == 0) {
            return v->value;
        }
    }
    return "";
}

/* Validates one value the way the header describes: a control character
 * anywhere is a bad request; in the path, each '/'-separated piece must not
 * be "." or ".." and only the tail may have more than one piece. Pieces are
 * looked at in order, the characters of a piece before its dots. */
static apigw_expand_status ref_check(const char *v, int tail, int in_query)
{
    const char *piece = v;

    if (in_query) {
        for (; *v; v++) {
            if ((unsigned char)*v < 0x20 || *v == 0x7f) {
                return APIGW_EXPAND_BAD_REQUEST;
            }
        }
        return APIGW_EXPAND_OK;
    }
    for (;;) {
        size_t n = strcspn(piece, "/"), i;
        for (i = 0; i < n; i++) {
            if ((unsigned char)piece[i] < 0x20 || piece[i] == 0x7f) {
                return APIGW_EXPAND_BAD_REQUEST;
            }
        }
        if ((n == 1 && piece[0] == '.')
            || (n == 2 && piece[0] == '.' && piece[1] == '.')) {
            return APIGW_EXPAND_NOT_FOUND;
        }
        if (piece[n] == '\0') {
            return APIGW_EXPAND_OK;
        }
        if (!tail) {
            return APIGW_EXPAND_NOT_FOUND;
        }
        piece += n + 1;
    }
}

typedef struct {
    const char *name;
    const char *value;
    int in_query;
    int tail;           /* the {*} in the path: '/' kept */
} ref_part;

static apigw_expand_status ref_expand(apr_pool_t *p, const char *url,
                                      const apr_array_header_t *vars,
                                      const char *query, outbuf *o,
                                      ref_part *parts, int *nparts,
                                      const char **bad)
{
    const char *auth = strstr(url, "://") + 3;
    const char *s = auth + strcspn(auth, "/?#");
    const char *t;
    int in_query = 0, has_query = 0, pass;
    size_t opener = (size_t)-1;     /* where the query's own '?' was put */

    /* pass 0 checks every variable in order, pass 1 writes */
    for (pass = 0; pass < 2; pass++) {
        *nparts = 0;
        in_query = has_query = 0;
        if (pass == 1) {
            for (t = url; t < s; t++) {
                put(p, o, *t, 0);
            }
            if (*s != '/') {
                put(p, o, '/', 0);
            }
        }
        for (t = s; *t; ) {
            if (*t == '{') {
                const char *close = strchr(t, '}');
                ref_part *rp = &parts[*nparts];
                int mark = 1 + *nparts;
                const char *v;

                rp->name = apr_pstrmemdup(p, t + 1, (size_t)(close - t - 1));
                rp->value = lookup(vars, rp->name);
                rp->in_query = in_query;
                rp->tail = !in_query && strcmp(rp->name, "*") == 0;
                (*nparts)++;
                if (pass == 0) {
                    apigw_expand_status st = ref_check(rp->value, rp->tail,
                                                       in_query);
                    if (st != APIGW_EXPAND_OK) {
                        *bad = rp->name;
                        return st;
                    }
                }
                else {
                    for (v = rp->value; *v; v++) {
                        if (rp->tail && *v == '/') {
                            put(p, o, '/', mark);
                        }
                        else {
                            put_encoded(p, o, (unsigned char)*v, mark);
                        }
                    }
                }
                t = close + 1;
                continue;
            }
            if (*t == '?') {
                if (pass == 1 && !has_query) {
                    opener = o->len;
                }
                in_query = has_query = 1;
            }
            if (pass == 1) {
                put(p, o, *t, 0);
            }
            t++;
        }
    }
    if (query && *query) {
        /* RFC 3986: only the first '?' opens the query; the appended
         * parameters never make an empty pair, so no separator after the
         * opener itself or after a '&' */
        if (!has_query) {
            put(p, o, '?', 0);
        }
        else if (o->buf[o->len - 1] != '&' && o->len - 1 != opener) {
            put(p, o, '&', 0);
        }
        for (t = query; *t; t++) {
            put(p, o, *t, 0);
        }
    }
    return APIGW_EXPAND_OK;
}

/* ---- properties ---- */

static void check_expansion(apr_pool_t *p, const apigw_template *tpl,
                            const char *url_tpl,
                            const apr_array_header_t *vars, const char *query)
{
    const char *url = NULL, *bad = NULL, *want_bad = NULL;
    outbuf o = { NULL, NULL, 0, 0 };
    ref_part *parts = apr_palloc(p, sizeof(ref_part)
                                    * (strlen(url_tpl) / 2 + 1));
    int nparts = 0, i;
    apigw_expand_status st, want;
    size_t end, k, origin_len;

    st = apigw_template_expand(tpl, vars, query, p, &url, &bad);
    want = ref_expand(p, url_tpl, vars, query, &o, parts, &nparts, &want_bad);
    CHECK(st == want, "template %s: status %d, want %d", url_tpl, (int)st,
          (int)want);
    if (st != APIGW_EXPAND_OK) {
        CHECK(bad && strcmp(bad, want_bad) == 0, "template %s: bad {%s}, "
              "want {%s}", url_tpl, bad ? bad : "(null)", want_bad);
        return;
    }
    CHECK(url && strcmp(url, o.buf) == 0, "template %s:\n  got  %s\n  want %s",
          url_tpl, url ? url : "(null)", o.buf);

    origin_len = strlen(apigw_template_origin(tpl));
    CHECK(strncmp(url, apigw_template_origin(tpl), origin_len) == 0,
          "expansion does not start with the origin");
    CHECK(url[origin_len] == '/', "no '/' after the origin in %s", url);

    /* end of the template's own text: the appended query follows */
    end = o.len;
    if (query && *query) {
        end -= strlen(query);       /* the separator, if any, is checked */
    }
    for (k = 0; k < end; k++) {
        unsigned char c = (unsigned char)url[k];
        CHECK(c > 0x20 && c != 0x7f, "space or control byte at %zu in %s",
              k, url);
    }

    /* each value's bytes: allowed set, and they decode back to the value */
    for (i = 0; i < nparts; i++) {
        int mark = 1 + i;
        char *dec = apr_palloc(p, o.len + 1);
        size_t n = 0;

        for (k = 0; k < end; k++) {
            unsigned char c = (unsigned char)url[k];
            if (o.mask[k] != mark) {
                continue;
            }
            if (c == '%') {
                CHECK(k + 2 < end && o.mask[k + 1] == mark
                      && o.mask[k + 2] == mark && upper_hex(url[k + 1])
                      && upper_hex(url[k + 2]), "bad escape in %s", url);
                dec[n++] = (char)(hexval(url[k + 1]) * 16 + hexval(url[k + 2]));
                k += 2;
            }
            else {
                CHECK(unreserved(c) || (c == '/' && parts[i].tail),
                      "byte 0x%02x of {%s} not encoded in %s", c,
                      parts[i].name, url);
                dec[n++] = (char)c;
            }
        }
        dec[n] = '\0';
        CHECK(strcmp(dec, parts[i].value) == 0, "{%s} decodes to \"%s\", "
              "not \"%s\"", parts[i].name, dec, parts[i].value);
    }

    /* no "." or ".." path segment holding a value's bytes */
    {
        size_t seg = origin_len + 1;
        for (k = origin_len + 1; k <= end; k++) {
            int last = k == end || (url[k] == '?' && o.mask[k] == 0);
            if (last || url[k] == '/') {
                size_t n = k - seg, j;
                int from_value = 0;
                for (j = seg; j < k; j++) {
                    from_value |= o.mask[j] != 0;
                }
                if (from_value) {
                    CHECK(!((n == 1 && url[seg] == '.')
                            || (n == 2 && url[seg] == '.' && url[seg + 1] == '.')),
                          "dot segment from a value in %s", url);
                }
                seg = k + 1;
            }
            if (last) {
                break;
            }
        }
    }
}

static void check_compiled(const apigw_template *tpl, const char *url)
{
    const char *sep = strstr(url, "://");
    const char *scheme = apigw_template_scheme(tpl);
    const char *origin = apigw_template_origin(tpl);
    const apr_array_header_t *names = apigw_template_vars(tpl);
    size_t olen = strlen(origin);
    int i, j;

    CHECK(sep && (size_t)(sep - url) == strlen(scheme)
          && strncmp(url, scheme, strlen(scheme)) == 0, "scheme of %s", url);
    CHECK(strncmp(url, origin, olen) == 0 && olen > strlen(scheme) + 3,
          "origin of %s", url);
    CHECK(url[olen] == '\0' || url[olen] == '/' || url[olen] == '?',
          "origin of %s ends badly", url);
    CHECK(!strpbrk(origin + strlen(scheme) + 3, "{}/?#"), "origin %s", origin);
    for (i = 0; i < names->nelts; i++) {
        const char *n = APR_ARRAY_IDX(names, i, const char *);
        CHECK(*n && !strpbrk(n, "{}/?&="), "variable name \"%s\"", n);
        CHECK(strstr(url + olen, apr_pstrcat(names->pool, "{", n, "}", NULL)),
              "variable {%s} not in %s", n, url);
        for (j = 0; j < i; j++) {
            CHECK(strcmp(n, APR_ARRAY_IDX(names, j, const char *)) != 0,
                  "variable {%s} listed twice", n);
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
    apigw_template *tpl = NULL;
    apr_array_header_t *vars;
    const char *url = NULL, *query = NULL, *err;
    size_t pos = 0;
    int line = 0, i, h;

    if (size > 8192 || apr_pool_create(&p, NULL) != APR_SUCCESS) {
        return 0;
    }
    vars = apr_array_make(p, 8, sizeof(apigw_route_var));
    while (pos <= size) {
        const uint8_t *nl = memchr(data + pos, '\n', size - pos);
        size_t len = nl ? (size_t)(nl - (data + pos)) : size - pos;
        char *text = apr_pstrmemdup(p, (const char *)data + pos, len);

        if (line == 0) {
            url = text;
        }
        else if (line == 1) {
            query = text;
        }
        else {
            apigw_route_var *v = apr_array_push(vars);
            char *eq = strchr(text, '=');
            v->name = text;
            v->value = "";
            if (eq) {
                *eq = '\0';
                v->value = eq + 1;
            }
        }
        line++;
        pos += len + 1;
        if (!nl) {
            break;
        }
    }

    err = apigw_template_compile(p, url, &tpl);
    if (err) {
        for (i = 0; MESSAGES[i] && strcmp(MESSAGES[i], err) != 0; i++)
            ;
        CHECK(MESSAGES[i], "unknown message \"%s\" for %s", err, url);
        apr_pool_destroy(p);
        return 0;
    }
    check_compiled(tpl, url);
    check_expansion(p, tpl, url, vars, query);
    check_expansion(p, tpl, url, vars, NULL);
    /* every variable bound to each hostile value in turn */
    for (h = 0; HOSTILE[h]; h++) {
        const apr_array_header_t *names = apigw_template_vars(tpl);
        apr_array_header_t *hv = apr_array_make(p, 4, sizeof(apigw_route_var));
        for (i = 0; i < names->nelts; i++) {
            apigw_route_var *v = apr_array_push(hv);
            v->name = APR_ARRAY_IDX(names, i, const char *);
            v->value = HOSTILE[h];
        }
        check_expansion(p, tpl, url, hv, query);
    }
    apr_pool_destroy(p);
    return 0;
}
