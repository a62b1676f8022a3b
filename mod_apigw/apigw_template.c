/* Backend URL templates (see apigw_template.h). A template is a list of
 * literal and variable parts; each variable part knows whether it sits in
 * the path or the query, which decides how its value is encoded. */
#include "apigw_template.h"
#include "apigw_route.h"

#include <apr_strings.h>
#include <string.h>

typedef struct {
    const char *literal;       /* NULL for a variable part */
    apr_size_t len;
    const char *var;           /* variable name, "*" for the wildcard tail */
    int in_query;
} tpl_part;

struct apigw_template {
    const char *scheme;
    const char *origin;
    apr_size_t origin_len;
    int has_query;
    apr_array_header_t *parts;  /* tpl_part */
    apr_array_header_t *vars;   /* const char * */
};

static int is_unreserved(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'
        || c == '~';
}

static int is_ctl(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

static void add_literal(apr_pool_t *p, apr_array_header_t *parts,
                        const char *s, apr_size_t len)
{
    tpl_part *part;

    if (len == 0) {
        return;
    }
    part = apr_array_push(parts);
    part->literal = apr_pstrmemdup(p, s, len);
    part->len = len;
    part->var = NULL;
    part->in_query = 0;
}

static void add_var_name(apigw_template *t, const char *name)
{
    int i;

    for (i = 0; i < t->vars->nelts; i++) {
        if (strcmp(APR_ARRAY_IDX(t->vars, i, const char *), name) == 0) {
            return;
        }
    }
    APR_ARRAY_PUSH(t->vars, const char *) = name;
}

const char *apigw_template_compile(apr_pool_t *p, const char *url,
                                   apigw_template **out)
{
    apigw_template *t = apr_pcalloc(p, sizeof(*t));
    const char *sep, *auth, *s, *lit;
    int in_query = 0;

    sep = url ? strstr(url, "://") : NULL;
    if (!sep || sep == url) {
        return "the backend must be a URL such as http://host:port/path";
    }
    for (s = url; s < sep; s++) {
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')
              || *s == '+' || *s == '-' || *s == '.')) {
            return "the backend URL's scheme must be lower case, "
                   "like http or balancer";
        }
    }
    for (s = url; *s; s++) {
        if (is_ctl((unsigned char)*s) || *s == ' ') {
            return "the backend URL contains a space or a control character";
        }
    }
    t->scheme = apr_pstrmemdup(p, url, (apr_size_t)(sep - url));
    auth = sep + 3;
    s = auth + strcspn(auth, "/?#");
    if (s == auth) {
        return "the backend URL has no host";
    }
    if (memchr(auth, '{', (apr_size_t)(s - auth))
        || memchr(auth, '}', (apr_size_t)(s - auth))) {
        return "variables are not allowed in the backend's host or port";
    }
    if (*s == '#') {
        return "the backend URL may not have a fragment (#)";
    }
    t->origin_len = (apr_size_t)(s - url);
    t->origin = apr_pstrmemdup(p, url, t->origin_len);
    t->parts = apr_array_make(p, 4, sizeof(tpl_part));
    t->vars = apr_array_make(p, 2, sizeof(const char *));
    if (*s != '/') {
        add_literal(p, t->parts, "/", 1);
    }
    lit = s;
    while (*s) {
        if (*s == '#') {
            return "the backend URL may not have a fragment (#)";
        }
        if (*s == '?' && !in_query) {
            in_query = 1;
            t->has_query = 1;
        }
        if (*s == '}') {
            return "'}' without a matching '{' in the backend URL";
        }
        if (*s == '{') {
            const char *close = strchr(s, '}');
            tpl_part *part;
            const char *name;

            if (!close) {
                return "'{' without a matching '}' in the backend URL";
            }
            name = apr_pstrmemdup(p, s + 1, (apr_size_t)(close - s - 1));
            if (!*name || strpbrk(name, "{/?&=")) {
                return "a backend URL variable must be {name} or {*}";
            }
            add_literal(p, t->parts, lit, (apr_size_t)(s - lit));
            part = apr_array_push(t->parts);
            part->literal = NULL;
            part->len = 0;
            part->var = name;
            part->in_query = in_query;
            add_var_name(t, name);
            s = lit = close + 1;
            continue;
        }
        s++;
    }
    add_literal(p, t->parts, lit, (apr_size_t)(s - lit));
    *out = t;
    return NULL;
}

const char *apigw_template_scheme(const apigw_template *t)
{
    return t->scheme;
}

const char *apigw_template_origin(const apigw_template *t)
{
    return t->origin;
}

const apr_array_header_t *apigw_template_vars(const apigw_template *t)
{
    return t->vars;
}

static const char *lookup(const apr_array_header_t *vars, const char *name)
{
    int i;

    for (i = 0; vars && i < vars->nelts; i++) {
        const apigw_route_var *v = &APR_ARRAY_IDX(vars, i, apigw_route_var);
        if (strcmp(v->name, name) == 0) {
            return v->value;
        }
    }
    return NULL;
}

/* Writes the encoding of [s, s+len) at out, returns the new end. */
static char *encode(char *out, const char *s, apr_size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    apr_size_t i;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (is_unreserved(c)) {
            *out++ = (char)c;
        }
        else {
            *out++ = '%';
            *out++ = hex[c >> 4];
            *out++ = hex[c & 0xf];
        }
    }
    return out;
}

static int dot_segment(const char *s, apr_size_t len)
{
    return (len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.');
}

/* Checks a value before it is written: one segment for {name} in the path,
 * segments joined by '/' for the wildcard tail, anything in the query. */
static apigw_expand_status check_value(const char *v, int tail, int in_query)
{
    const char *s = v, *seg = v;

    for (;; s++) {
        if (*s && is_ctl((unsigned char)*s)) {
            return APIGW_EXPAND_BAD_REQUEST;
        }
        if (in_query) {
            if (!*s) {
                return APIGW_EXPAND_OK;
            }
            continue;
        }
        if (*s == '/' || !*s) {
            if (dot_segment(seg, (apr_size_t)(s - seg))) {
                return APIGW_EXPAND_NOT_FOUND;
            }
            if (!*s) {
                return APIGW_EXPAND_OK;
            }
            if (!tail) {
                return APIGW_EXPAND_NOT_FOUND;
            }
            seg = s + 1;
        }
    }
}

/* Writes what goes between the expanded URL and the appended query: '?'
 * when the template has no query, nothing after the query's own '?' or
 * after a '&' (no empty pair), else '&'. Only the first '?' opens the
 * query (RFC 3986); a later one is data, so "?id?" still takes a '&'.
 * Values are percent-encoded, so the first '?' after the origin is the
 * template's own. */
static void append_separator(char **out, const char *path, int has_query)
{
    char *o = *out;

    *o = '\0';
    if (!has_query) {
        *o++ = '?';
    }
    else if (o[-1] != '&' && o - 1 != strchr(path, '?')) {
        *o++ = '&';
    }
    *out = o;
}

apigw_expand_status apigw_template_expand(const apigw_template *t,
                                          const apr_array_header_t *vars,
                                          const char *query, apr_pool_t *p,
                                          const char **url, const char **bad)
{
    apr_size_t size = t->origin_len + 2;
    const char **values;
    char *buf, *out;
    int i;

    values = apr_palloc(p, sizeof(char *) * (apr_size_t)(t->parts->nelts + 1));
    for (i = 0; i < t->parts->nelts; i++) {
        const tpl_part *part = &APR_ARRAY_IDX(t->parts, i, tpl_part);
        const char *v;
        apigw_expand_status st;

        if (part->literal) {
            size += part->len;
            continue;
        }
        v = lookup(vars, part->var);
        if (!v) {
            v = "";
        }
        st = check_value(v, strcmp(part->var, "*") == 0, part->in_query);
        if (st != APIGW_EXPAND_OK) {
            *bad = part->var;
            return st;
        }
        values[i] = v;
        size += strlen(v) * 3;
    }
    if (query && *query) {
        size += strlen(query) + 1;
    }
    out = buf = apr_palloc(p, size);
    memcpy(out, t->origin, t->origin_len);
    out += t->origin_len;
    for (i = 0; i < t->parts->nelts; i++) {
        const tpl_part *part = &APR_ARRAY_IDX(t->parts, i, tpl_part);

        if (part->literal) {
            memcpy(out, part->literal, part->len);
            out += part->len;
        }
        else if (!part->in_query && strcmp(part->var, "*") == 0) {
            /* the tail keeps its '/' separators; each segment is encoded */
            const char *seg = values[i], *slash;
            while ((slash = strchr(seg, '/')) != NULL) {
                out = encode(out, seg, (apr_size_t)(slash - seg));
                *out++ = '/';
                seg = slash + 1;
            }
            out = encode(out, seg, strlen(seg));
        }
        else {
            out = encode(out, values[i], strlen(values[i]));
        }
    }
    if (query && *query) {
        append_separator(&out, buf + t->origin_len, t->has_query);
        memcpy(out, query, strlen(query));
        out += strlen(query);
    }
    *out = '\0';
    *url = buf;
    return APIGW_EXPAND_OK;
}
