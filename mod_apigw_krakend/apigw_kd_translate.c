/* krakend.json → configuration lines (see apigw_kd_translate.h).
 *
 * The service's defaults are read first; then each endpoint is written
 * into lines of its own, which join the result only when nothing refused
 * the endpoint. Values are checked for their JSON type here; what they
 * mean (a duration, a header name, a dot path) is checked by the
 * directive they become, so a krakend.json value is held to exactly the
 * rules of the directive an operator would have written. */
#include "apigw_kd_translate.h"

#include <apr_strings.h>
#include <apr_hash.h>
#include <apr_lib.h>
#include <string.h>
#include <strings.h>

typedef struct {
    apr_pool_t *p;
    const apigw_kd_options *o;
    apigw_kd_result *r;
    /* the service's defaults */
    json_t *hosts;
    const char *timeout, *cache_ttl, *encoding;
    json_t *cors;              /* security/cors */
    json_t *bots;              /* security/bot-detector */
    json_t *sec_http;          /* security/http */
    const char *refuse_all;    /* a service-level component guards access */
    const char *refuse_all_ptr;
    int disable_rest;
    /* router: disable_redirect_fixed_path, disable_redirect_trailing_slash */
    const char *router_ptr;
    int no_fixed_path, no_trailing_slash;
    int return_error_msg;      /* router: ApiErrorFormat krakend messages */
    int no_health;             /* router: disable_health */
    const char *health_path;   /* router: health_path (/__health) */
    /* balancers: joined host list → name */
    apr_hash_t *balancers;
    int nbalancers;
    /* the endpoint being written */
    apr_array_header_t *pre;   /* its <Proxy> pools, before the block */
    apr_array_header_t *body;  /* inside the block */
    const char *refused;       /* why it is not served, when it is not */
    int breaker;               /* its ApiCircuitBreaker is written */
    int status_from;           /* its ApiStatusFrom is written */
    int cache;                 /* its ApiCache is written */
} kd_ctx;

static const char *const backend_encodings[] = {
    "json", "safejson", "xml", "rss", "string", "no-op", NULL
};
static const char *const output_encodings[] = {
    "json", "json-collection", "xml", "yaml", "string", "negotiate",
    "no-op", NULL
};

const char *apigw_kd_action_name(apigw_kd_action a)
{
    switch (a) {
    case APIGW_KD_SKIPPED:      return "skipped";
    case APIGW_KD_APPROXIMATED: return "approximated";
    default:                    return "endpoint refused";
    }
}

/* ---- small helpers ---- */

static const char *ptr_join(apr_pool_t *p, const char *base, const char *key)
{
    apr_size_t n = strlen(key), i;
    char *esc = apr_palloc(p, 2 * n + 1), *d = esc;

    for (i = 0; i < n; i++) {
        if (key[i] == '~') {
            *d++ = '~'; *d++ = '0';
        }
        else if (key[i] == '/') {
            *d++ = '~'; *d++ = '1';
        }
        else {
            *d++ = key[i];
        }
    }
    *d = '\0';
    return apr_pstrcat(p, base, "/", esc, NULL);
}

static const char *ptr_index(apr_pool_t *p, const char *base, size_t i)
{
    return apr_psprintf(p, "%s/%" APR_SIZE_T_FMT, base, (apr_size_t)i);
}

const char *apigw_kd_word(apr_pool_t *p, const char *s)
{
    const char *c;
    int quote = (*s == '\0');
    apr_size_t n = strlen(s);
    char *out, *d;

    for (c = s; *c; c++) {
        if (apr_iscntrl((unsigned char)*c)) {
            return NULL;
        }
        if (*c == '\\' && (c[1] == '"' || c[1] == '\0')) {
            return NULL;
        }
        if (*c == ' ' || *c == '"' || *c == '\'' || *c == '#'
            || *c == '<' || *c == '>' || *c == '\\') {
            quote = 1;
        }
    }
    if (!quote) {
        return s;
    }
    d = out = apr_palloc(p, 2 * n + 3);
    *d++ = '"';
    for (c = s; *c; c++) {
        if (*c == '"') {
            *d++ = '\\';
        }
        *d++ = *c;
    }
    *d++ = '"';
    *d = '\0';
    return out;
}

static int fail(kd_ctx *c, const char *ptr, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(kd_ctx *c, const char *ptr, const char *fmt, ...)
{
    va_list ap;

    if (!c->r->error) {
        va_start(ap, fmt);
        c->r->error = apr_pvsprintf(c->p, fmt, ap);
        va_end(ap);
        c->r->error_pointer = ptr;
    }
    return -1;
}

static void note(kd_ctx *c, const char *ptr, const char *component,
                 apigw_kd_action action, const char *why)
{
    apigw_kd_note *n = apr_array_push(c->r->notes);

    n->pointer = ptr;
    n->component = apr_pstrdup(c->p, component);  /* may be a JSON key */
    n->action = action;
    n->why = why;
    if (action == APIGW_KD_REFUSED && !c->refused) {
        c->refused = apr_pstrcat(c->p, component, ": ", why, NULL);
    }
}

static void emit(kd_ctx *c, apr_array_header_t *to, const char *ptr,
                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void emit(kd_ctx *c, apr_array_header_t *to, const char *ptr,
                 const char *fmt, ...)
{
    apigw_kd_line *l = apr_array_push(to);
    va_list ap;

    va_start(ap, fmt);
    l->text = apr_pvsprintf(c->p, fmt, ap);
    va_end(ap);
    l->pointer = ptr;
}

static const char *json_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:  return "an object";
    case JSON_ARRAY:   return "an array";
    case JSON_STRING:  return "a string";
    case JSON_INTEGER: return "a whole number";
    case JSON_REAL:    return "a number";
    case JSON_TRUE:
    case JSON_FALSE:   return "a boolean";
    default:           return "null";
    }
}

static int wrong_type(kd_ctx *c, const char *ptr, const json_t *v,
                      const char *want)
{
    return fail(c, ptr, "%s expected, found %s", want, json_type_name(v));
}

/* A configuration word for v at ptr, or -1 (error set). */
static int word_of(kd_ctx *c, const char *ptr, const char *s,
                   const char **out)
{
    *out = apigw_kd_word(c->p, s);
    if (!*out) {
        return fail(c, ptr, "\"%s\" cannot be written as a directive "
                    "argument (a control character, or a backslash before "
                    "a quote or at the end)", s);
    }
    return 0;
}

/* An optional string member: 0 absent, 1 present (*out set), -1 error. */
static int get_str(kd_ctx *c, json_t *obj, const char *key, const char *base,
                   const char **out)
{
    json_t *v = json_object_get(obj, key);

    if (!v) {
        return 0;
    }
    if (!json_is_string(v)) {
        return wrong_type(c, ptr_join(c->p, base, key), v, "a string");
    }
    *out = json_string_value(v);
    if (strlen(*out) != json_string_length(v)) {
        return fail(c, ptr_join(c->p, base, key), "a NUL character in a "
                    "string");
    }
    return 1;
}

/* A duration member: a Go duration string, or KrakenD's plain number of
 * nanoseconds... which KrakenD never documents, so only strings. */
static int get_duration(kd_ctx *c, json_t *obj, const char *key,
                        const char *base, const char **out)
{
    int rv = get_str(c, obj, key, base, out);

    if (rv == 1 && word_of(c, ptr_join(c->p, base, key), *out, out) < 0) {
        return -1;
    }
    return rv;
}

static int get_bool(kd_ctx *c, json_t *obj, const char *key,
                    const char *base, int *out)
{
    json_t *v = json_object_get(obj, key);

    if (!v) {
        return 0;
    }
    if (!json_is_boolean(v)) {
        return wrong_type(c, ptr_join(c->p, base, key), v, "true or false");
    }
    *out = json_is_true(v);
    return 1;
}

static int get_int(kd_ctx *c, json_t *obj, const char *key,
                   const char *base, apr_int64_t *out)
{
    json_t *v = json_object_get(obj, key);

    if (!v) {
        return 0;
    }
    if (json_is_real(v) && json_real_value(v) >= -9.0e15
        && json_real_value(v) <= 9.0e15
        && json_real_value(v) == (double)(apr_int64_t)json_real_value(v)) {
        *out = (apr_int64_t)json_real_value(v);
        return 1;
    }
    if (!json_is_integer(v)) {
        return wrong_type(c, ptr_join(c->p, base, key), v, "a whole number");
    }
    *out = (apr_int64_t)json_integer_value(v);
    return 1;
}

/* An array of strings joined by sep as configuration words (sep " ") or
 * as one word's comma list (sep ","): 0 absent, 1 present, -1 error.
 * Each element is checked to be a string. */
static int get_list(kd_ctx *c, json_t *obj, const char *key,
                    const char *base, const char *sep, const char **out,
                    int *count)
{
    json_t *v = json_object_get(obj, key), *e;
    const char *ptr = ptr_join(c->p, base, key);
    char *joined = "";
    size_t i;

    if (!v) {
        return 0;
    }
    if (!json_is_array(v)) {
        return wrong_type(c, ptr, v, "an array of strings");
    }
    json_array_foreach(v, i, e) {
        const char *s, *w;
        if (!json_is_string(e)) {
            return wrong_type(c, ptr_index(c->p, ptr, i), e, "a string");
        }
        s = json_string_value(e);
        if (strlen(s) != json_string_length(e)) {
            return fail(c, ptr_index(c->p, ptr, i), "a NUL character in a "
                        "string");
        }
        if (*sep == ',') {
            if (strchr(s, ',') || !*s) {
                return fail(c, ptr_index(c->p, ptr, i), "\"%s\": an empty "
                            "name or one holding a comma", s);
            }
            w = s;
        }
        else if (word_of(c, ptr_index(c->p, ptr, i), s, &w) < 0) {
            return -1;
        }
        joined = i ? apr_pstrcat(c->p, joined, sep, w, NULL)
                   : apr_pstrdup(c->p, w);
    }
    *out = joined;
    if (count) {
        *count = (int)json_array_size(v);
    }
    return 1;
}

static int one_of(const char *s, const char *const *set)
{
    for (; *set; set++) {
        if (strcmp(s, *set) == 0) {
            return 1;
        }
    }
    return 0;
}

static const char *set_list(apr_pool_t *p, const char *const *set)
{
    char *out = "";

    for (; *set; set++) {
        out = apr_pstrcat(p, out, *out ? ", " : "", *set, NULL);
    }
    return out;
}

/* ---- components: what is known, and what happens to the rest ---- */

/* Components that only export or record what happens: skipping them
 * never changes an answer. */
static int is_observability(const char *ns)
{
    return strncmp(ns, "telemetry/", 10) == 0
           || strncmp(ns, "documentation/", 14) == 0;
}

static void unknown_component(kd_ctx *c, const char *ptr, const char *ns,
                              int service_level)
{
    const char *why;

    if (is_observability(ns)) {
        note(c, ptr, ns, APIGW_KD_SKIPPED, "observability only: answers "
             "are the same without it");
        return;
    }
    if (strncmp(ns, "validation/", 11) == 0
        || strncmp(ns, "modifier/", 9) == 0
        || strncmp(ns, "auth/", 5) == 0
        || strncmp(ns, "security/", 9) == 0
        || strncmp(ns, "plugin/", 7) == 0) {
        why = strncmp(ns, "modifier/", 9) == 0
              ? "not supported, and answers would differ without it"
              : "not supported, and serving without it would be less safe";
    }
    else {
        why = "not supported; a component this gateway does not know may "
              "change answers or guard access, so it is not guessed";
    }
    if (service_level) {
        if (!c->refuse_all) {
            c->refuse_all = apr_pstrcat(c->p, ns, ": ", why, NULL);
            c->refuse_all_ptr = ptr;
        }
        note(c, ptr, ns, APIGW_KD_REFUSED, apr_pstrcat(c->p, why,
             " (every endpoint)", NULL));
        c->refused = NULL;      /* the endpoints are refused one by one */
        return;
    }
    note(c, ptr, ns, APIGW_KD_REFUSED, why);
}

/* ---- backends ---- */

static const char *host_url(apr_pool_t *p, const char *h)
{
    apr_size_t n;
    const char *u = strstr(h, "://") ? h : apr_pstrcat(p, "http://", h, NULL);

    n = strlen(u);
    while (n > 0 && u[n - 1] == '/') {
        n--;
    }
    return apr_pstrndup(p, u, n);
}

/* The URL prefix of a backend: its one host, or a balancer of its hosts
 * (declared once per distinct list). NULL on error. */
static const char *backend_origin(kd_ctx *c, json_t *hosts, const char *hptr)
{
    json_t *h;
    size_t i;
    const char *key = "", *name;

    if (!json_is_array(hosts)) {
        fail(c, hptr, "an array of hosts expected, found %s",
             json_type_name(hosts));
        return NULL;
    }
    if (json_array_size(hosts) == 0) {
        fail(c, hptr, "a backend needs at least one host");
        return NULL;
    }
    json_array_foreach(hosts, i, h) {
        const char *hs, *u;
        if (!json_is_string(h) || !*json_string_value(h)) {
            fail(c, ptr_index(c->p, hptr, i), "a host URL expected, found %s",
                 json_is_string(h) ? "an empty string" : json_type_name(h));
            return NULL;
        }
        hs = json_string_value(h);
        u = host_url(c->p, hs);
        if (strncmp(u, "http://", 7) && strncmp(u, "https://", 8)) {
            fail(c, ptr_index(c->p, hptr, i), "\"%s\": only http:// and "
                 "https:// hosts", hs);
            return NULL;
        }
        if (strchr(u + (u[4] == 's' ? 8 : 7), '/') || strpbrk(u, " \"\\{}")
            || apigw_kd_word(c->p, u) != u) {
            fail(c, ptr_index(c->p, hptr, i), "\"%s\": a host is "
                 "scheme://host[:port] with nothing after it", hs);
            return NULL;
        }
        if (json_array_size(hosts) == 1) {
            return u;
        }
        key = apr_pstrcat(c->p, key, " ", u, NULL);
    }
    if (!(c->o->have & APIGW_KD_HAVE_BALANCER)) {
        note(c, hptr, "several hosts", APIGW_KD_REFUSED, "needs "
             "mod_proxy_balancer (and an lbmethod module) loaded");
        return "http://unused";
    }
    name = apr_hash_get(c->balancers, key, APR_HASH_KEY_STRING);
    if (!name) {
        name = apr_psprintf(c->p, "balancer://%s-%d", c->o->prefix,
                            ++c->nbalancers);
        apr_hash_set(c->balancers, key, APR_HASH_KEY_STRING, name);
        emit(c, c->pre, hptr, "<Proxy \"%s\">", name);
        json_array_foreach(hosts, i, h) {
            emit(c, c->pre, ptr_index(c->p, hptr, i), "    BalancerMember %s",
                 host_url(c->p, json_string_value(h)));
        }
        emit(c, c->pre, hptr, "</Proxy>");
    }
    return name;
}

/* mapping {"old": "new"} → old:new,... */
static int backend_mapping(kd_ctx *c, json_t *m, const char *ptr,
                           const char **out)
{
    const char *k;
    json_t *v;
    char *s = "";

    if (!json_is_object(m)) {
        return wrong_type(c, ptr, m, "an object of renames");
    }
    json_object_foreach(m, k, v) {
        const char *kp = ptr_join(c->p, ptr, k);
        if (!json_is_string(v)) {
            return wrong_type(c, kp, v, "a string");
        }
        if (!*k || !*json_string_value(v) || strpbrk(k, ",:")
            || strpbrk(json_string_value(v), ",:")) {
            return fail(c, kp, "a mapping's names must be non-empty, "
                        "without ',' or ':'");
        }
        s = apr_pstrcat(c->p, s, *s ? "," : "", k, ":",
                        json_string_value(v), NULL);
    }
    *out = s;
    return *s ? 1 : 0;
}

/* flatmap_filter [{"type": "move", "args": ["a", "b"]}, ...] → one
 * ApiFlatmap line per operation; scope is "" (the merged answer) or
 * "backend=N " (that backend's response). */
static int flatmap_lines(kd_ctx *c, json_t *ops, const char *ptr,
                         const char *scope)
{
    json_t *op, *a;
    size_t i, j;

    if (!json_is_array(ops)) {
        return wrong_type(c, ptr, ops, "an array of operations");
    }
    json_array_foreach(ops, i, op) {
        const char *optr = ptr_index(c->p, ptr, i), *type, *w;
        char *line;
        json_t *args;
        if (!json_is_object(op)) {
            return wrong_type(c, optr, op, "an operation object");
        }
        if (get_str(c, op, "type", optr, &type) <= 0) {
            return c->r->error ? -1 : fail(c, optr, "an operation needs "
                                            "a \"type\"");
        }
        if (word_of(c, ptr_join(c->p, optr, "type"), type, &w) < 0) {
            return -1;
        }
        line = apr_pstrcat(c->p, "    ApiFlatmap ", scope, w, NULL);
        args = json_object_get(op, "args");
        if (args && !json_is_array(args)) {
            return wrong_type(c, ptr_join(c->p, optr, "args"), args,
                              "an array of paths");
        }
        json_array_foreach(args, j, a) {
            const char *aptr = ptr_index(c->p, ptr_join(c->p, optr, "args"), j);
            if (!json_is_string(a)) {
                return wrong_type(c, aptr, a, "a path");
            }
            if (word_of(c, aptr, json_string_value(a), &w) < 0) {
                return -1;
            }
            line = apr_pstrcat(c->p, line, " ", w, NULL);
        }
        emit(c, c->body, optr, "%s", line);
    }
    return 0;
}

static int backend_extra(kd_ctx *c, json_t *ec, const char *eptr,
                         const char **opts, int index)
{
    const char *ns;
    json_t *v;

    if (!json_is_object(ec)) {
        return wrong_type(c, eptr, ec, "an object");
    }
    json_object_foreach(ec, ns, v) {
        const char *ptr = ptr_join(c->p, eptr, ns);
        if (!json_is_object(v) && !json_is_array(v)) {
            return wrong_type(c, ptr, v, "an object");
        }
        if (strcmp(ns, "proxy") == 0) {
            const char *k;
            json_t *pv;
            if (!json_is_object(v)) {
                return wrong_type(c, ptr, v, "an object");
            }
            json_object_foreach(v, k, pv) {
                const char *kp = ptr_join(c->p, ptr, k);
                if (strcmp(k, "flatmap_filter") == 0) {
                    if (flatmap_lines(c, pv, kp, apr_psprintf(c->p,
                                      "backend=%d ", index)) < 0) {
                        return -1;
                    }
                }
                else {
                    note(c, kp, apr_pstrcat(c->p, "proxy/", k, NULL),
                         APIGW_KD_REFUSED, "not supported for a backend");
                }
            }
        }
        else if (strcmp(ns, "backend/http") == 0) {
            const char *det;
            int code = 0, rv;
            if ((rv = get_str(c, v, "return_error_details", ptr, &det)) < 0) {
                return -1;
            }
            if (rv == 1) {
                if (!*det || strpbrk(det, " \",=")) {
                    return fail(c, ptr_join(c->p, ptr,
                                "return_error_details"), "a name without "
                                "spaces, quotes, ',' or '='");
                }
                *opts = apr_pstrcat(c->p, *opts, " error-details=", det,
                                    NULL);
            }
            if (get_bool(c, v, "return_error_code", ptr, &code) < 0) {
                return -1;
            }
            if (code && !c->status_from) {
                emit(c, c->body, ptr_join(c->p, ptr, "return_error_code"),
                     "    ApiStatusFrom %d", index);
                c->status_from = 1;
                note(c, ptr_join(c->p, ptr, "return_error_code"),
                     "backend/http return_error_code", APIGW_KD_APPROXIMATED,
                     "the endpoint answers with this backend's status, "
                     "success statuses included (KrakenD copies error "
                     "statuses only); one backend per endpoint");
            }
            else if (code) {
                note(c, ptr_join(c->p, ptr, "return_error_code"),
                     "backend/http return_error_code", APIGW_KD_SKIPPED,
                     "an earlier backend of the endpoint gives its status");
            }
        }
        else if (strcmp(ns, "qos/circuit-breaker") == 0) {
            apr_int64_t max = 1, tmo = 5;
            if (get_int(c, v, "max_errors", ptr, &max) < 0
                || get_int(c, v, "timeout", ptr, &tmo) < 0) {
                return -1;
            }
            if (!(c->o->have & APIGW_KD_HAVE_BREAKER)) {
                note(c, ptr, ns, APIGW_KD_SKIPPED, "mod_apigw_breaker is "
                     "not loaded");
                continue;
            }
            if (max < 0 || max > 100000 || tmo < 1 || tmo > 86400) {
                return fail(c, ptr, "max_errors 0-100000 and timeout "
                            "1-86400 (seconds)");
            }
            if (!c->breaker) {
                /* one breaker per endpoint, one state per backend */
                emit(c, c->body, ptr, "    ApiCircuitBreaker errors-50 "
                     "scope=backend min-requests=%" APR_INT64_T_FMT
                     " fallback=%" APR_INT64_T_FMT "s", max, tmo);
                c->breaker = 1;
            }
            note(c, ptr, ns, APIGW_KD_APPROXIMATED, "KrakenD opens after "
                 "max_errors consecutive errors within interval; the "
                 "gateway's breaker (one per endpoint, a state per "
                 "backend, the endpoint's first settings) opens when more "
                 "than half of at least max_errors requests in a 10 s "
                 "window failed, for timeout seconds");
        }
        else if (strcmp(ns, "qos/http-cache") == 0) {
            if (!c->cache) {
                emit(c, c->body, ptr, "    ApiCache On");
                c->cache = 1;
            }
            note(c, ptr, ns, APIGW_KD_APPROXIMATED, "the gateway's shared "
                 "response cache keeps the endpoint's answers for its "
                 "ApiCacheTTL (KrakenD keeps the backend's by its "
                 "Cache-Control)");
        }
        else if (strcmp(ns, "qos/ratelimit/proxy") == 0) {
            apr_int64_t rate = 0, cap = 0;
            const char *every = "1s";
            if (get_int(c, v, "max_rate", ptr, &rate) < 0
                || get_int(c, v, "capacity", ptr, &cap) < 0
                || get_duration(c, v, "every", ptr, &every) < 0) {
                return -1;
            }
            if (!(c->o->have & APIGW_KD_HAVE_RATELIMIT)) {
                note(c, ptr, ns, APIGW_KD_SKIPPED, "mod_apigw_ratelimit is "
                     "not loaded");
                continue;
            }
            if (rate > 0) {
                emit(c, c->body, ptr, "    ApiRateLimit average=%"
                     APR_INT64_T_FMT " period=%s burst=%"
                     APR_INT64_T_FMT " status=503", rate, every,
                     cap > 0 ? cap : rate);
                note(c, ptr, ns, APIGW_KD_APPROXIMATED, "limits the "
                     "endpoint's requests (503 when exceeded) rather than "
                     "this backend's calls alone");
            }
        }
        else {
            unknown_component(c, ptr, ns, 0);
        }
    }
    return 0;
}

static int backend(kd_ctx *c, json_t *b, const char *bptr, int index,
                   int nbackends, const char *method)
{
    const char *origin, *pattern = "", *s, *opts = "", *list, *url;
    json_t *hosts, *v;
    int flag = 0, rv;

    if (!json_is_object(b)) {
        return wrong_type(c, bptr, b, "a backend object");
    }
    hosts = json_object_get(b, "host");
    if (!hosts || (json_is_array(hosts) && json_array_size(hosts) == 0)) {
        hosts = c->hosts;
    }
    if (!hosts) {
        return fail(c, ptr_join(c->p, bptr, "host"), "a backend without "
                    "host (and no service-level \"host\")");
    }
    origin = backend_origin(c, hosts, json_object_get(b, "host")
                            ? ptr_join(c->p, bptr, "host") : "/host");
    if (!origin) {
        return -1;
    }
    if ((rv = get_str(c, b, "url_pattern", bptr, &pattern)) < 0) {
        return -1;
    }
    if (rv == 0 || !*pattern) {
        pattern = "/";
    }
    url = apr_pstrcat(c->p, origin, *pattern == '/' ? "" : "/", pattern,
                      NULL);
    if (word_of(c, ptr_join(c->p, bptr, "url_pattern"), url, &url) < 0) {
        return -1;
    }
    if ((rv = get_str(c, b, "method", bptr, &s)) < 0) {
        return -1;
    }
    if (rv == 1 && strcasecmp(s, method)) {
        if (!*s || strpbrk(s, " \"\t")) {
            return fail(c, ptr_join(c->p, bptr, "method"), "\"%s\" is not "
                        "a method", s);
        }
        opts = apr_pstrcat(c->p, opts, " method=", s, NULL);
    }
    if ((rv = get_str(c, b, "encoding", bptr, &s)) < 0) {
        return -1;
    }
    if (rv == 1 && strcmp(s, "fast-json") == 0) {
        s = "json";
    }
    if (rv == 1 && !one_of(s, backend_encodings)) {
        return fail(c, ptr_join(c->p, bptr, "encoding"), "unknown encoding "
                    "\"%s\" (%s, fast-json)", s,
                    set_list(c->p, backend_encodings));
    }
    if (rv == 1 && strcmp(s, "json") != 0) {
        opts = apr_pstrcat(c->p, opts, " encoding=", s, NULL);
    }
    if ((rv = get_str(c, b, "group", bptr, &s)) < 0) {
        return -1;
    }
    if (rv == 1 && *s) {
        if (strpbrk(s, " \"=")) {
            return fail(c, ptr_join(c->p, bptr, "group"), "\"%s\": a group "
                        "name without spaces, quotes or '='", s);
        }
        opts = apr_pstrcat(c->p, opts, " group=", s, NULL);
    }
    if ((rv = get_str(c, b, "target", bptr, &s)) < 0) {
        return -1;
    }
    if (rv == 1 && *s) {
        if (strpbrk(s, " \"=")) {
            return fail(c, ptr_join(c->p, bptr, "target"), "\"%s\": a dot "
                        "path without spaces, quotes or '='", s);
        }
        opts = apr_pstrcat(c->p, opts, " target=", s, NULL);
    }
    if ((rv = get_list(c, b, "allow", bptr, ",", &list, NULL)) < 0) {
        return -1;
    }
    if (rv == 1 && *list) {
        opts = apr_pstrcat(c->p, opts, " ", apigw_kd_word(c->p,
                           apr_pstrcat(c->p, "allow=", list, NULL)), NULL);
    }
    if ((rv = get_list(c, b, "deny", bptr, ",", &list, NULL)) < 0) {
        return -1;
    }
    if (rv == 1 && *list) {
        opts = apr_pstrcat(c->p, opts, " ", apigw_kd_word(c->p,
                           apr_pstrcat(c->p, "deny=", list, NULL)), NULL);
    }
    if ((v = json_object_get(b, "mapping")) != NULL) {
        if ((rv = backend_mapping(c, v, ptr_join(c->p, bptr, "mapping"),
                                  &list)) < 0) {
            return -1;
        }
        if (rv == 1) {
            opts = apr_pstrcat(c->p, opts, " ", apigw_kd_word(c->p,
                               apr_pstrcat(c->p, "mapping=", list, NULL)),
                               NULL);
        }
    }
    if (get_bool(c, b, "is_collection", bptr, &flag) < 0) {
        return -1;
    }
    if (flag) {
        opts = apr_pstrcat(c->p, opts, " collection", NULL);
    }
    if ((v = json_object_get(b, "sd")) != NULL
        && !(json_is_string(v) && strcmp(json_string_value(v), "static") == 0)) {
        note(c, ptr_join(c->p, bptr, "sd"), "sd (service discovery)",
             APIGW_KD_REFUSED, "only \"static\" hosts; use a <Proxy "
             "balancer://> pool for others");
    }
    if (json_object_get(b, "timeout")) {
        note(c, ptr_join(c->p, bptr, "timeout"), "backend timeout",
             APIGW_KD_SKIPPED, "the endpoint's timeout bounds every backend "
             "call");
    }
    if ((v = json_object_get(b, "extra_config")) != NULL
        && backend_extra(c, v, ptr_join(c->p, bptr, "extra_config"), &opts,
                         index) < 0) {
        return -1;
    }
    (void)nbackends;
    emit(c, c->body, bptr, "    ApiBackend %s%s", url, opts);
    return 0;
}

/* ---- endpoint-level components ---- */

/* A list member written as one directive of its words, "    DIRECTIVE a
 * b", when it is present and not empty: 0, or -1 on a wrong type. */
static int list_line(kd_ctx *c, json_t *obj, const char *key,
                     const char *base, const char *directive)
{
    const char *list;
    int n = 0, rv = get_list(c, obj, key, base, " ", &list, &n);

    if (rv < 0) {
        return -1;
    }
    if (rv == 1 && n > 0) {
        emit(c, c->body, ptr_join(c->p, base, key), "    %s %s", directive,
             list);
    }
    return 0;
}

static int cors_lines(kd_ctx *c, json_t *v, const char *ptr)
{
    const char *s;
    int flag = 0, rv;

    if (!json_is_object(v)) {
        return wrong_type(c, ptr, v, "an object");
    }
    emit(c, c->body, ptr, "    ApiCors On");
    if (list_line(c, v, "allow_origins", ptr, "ApiCorsAllowOrigins") < 0) {
        return -1;
    }
    if (list_line(c, v, "allow_methods", ptr, "ApiCorsAllowMethods") < 0) {
        return -1;
    }
    if (list_line(c, v, "allow_headers", ptr, "ApiCorsAllowHeaders") < 0) {
        return -1;
    }
    if (list_line(c, v, "expose_headers", ptr, "ApiCorsExposeHeaders") < 0) {
        return -1;
    }
    if (get_bool(c, v, "allow_credentials", ptr, &flag) < 0) {
        return -1;
    }
    if (flag) {
        emit(c, c->body, ptr_join(c->p, ptr, "allow_credentials"),
             "    ApiCorsAllowCredentials On");
    }
    if ((rv = get_duration(c, v, "max_age", ptr, &s)) < 0) {
        return -1;
    }
    if (rv == 1) {
        emit(c, c->body, ptr_join(c->p, ptr, "max_age"),
             "    ApiCorsMaxAge %s", s);
    }
    return 0;
}

static int bot_lines(kd_ctx *c, json_t *v, const char *ptr)
{
    int flag = 0;

    if (!json_is_object(v)) {
        return wrong_type(c, ptr, v, "an object");
    }
    if (list_line(c, v, "allow", ptr, "ApiBotAllow") < 0) {
        return -1;
    }
    if (list_line(c, v, "deny", ptr, "ApiBotDeny") < 0) {
        return -1;
    }
    if (list_line(c, v, "patterns", ptr, "ApiBotPatterns") < 0) {
        return -1;
    }
    if (get_bool(c, v, "empty_user_agent_is_bot", ptr, &flag) < 0) {
        return -1;
    }
    if (flag) {
        emit(c, c->body, ptr_join(c->p, ptr, "empty_user_agent_is_bot"),
             "    ApiBotEmptyUserAgent deny");
    }
    return 0;
}

/* security/http: the response headers it sets; host and TLS checks are
 * httpd's own business (ServerName/ServerAlias, mod_ssl). */
static int sec_http_lines(kd_ctx *c, json_t *v, const char *ptr)
{
    const char *s, *w;
    apr_int64_t sts = 0;
    int flag = 0, rv;

    if (!json_is_object(v)) {
        return wrong_type(c, ptr, v, "an object");
    }
    if (get_bool(c, v, "frame_deny", ptr, &flag) < 0) {
        return -1;
    }
    if (flag) {
        emit(c, c->body, ptr, "    ApiResponseHeader set X-Frame-Options "
             "DENY");
    }
    flag = 0;
    if (get_bool(c, v, "content_type_nosniff", ptr, &flag) < 0) {
        return -1;
    }
    if (flag) {
        emit(c, c->body, ptr, "    ApiResponseHeader set "
             "X-Content-Type-Options nosniff");
    }
    flag = 0;
    if (get_bool(c, v, "browser_xss_filter", ptr, &flag) < 0) {
        return -1;
    }
    if (flag) {
        emit(c, c->body, ptr, "    ApiResponseHeader set X-XSS-Protection "
             "\"1; mode=block\"");
    }
    if ((rv = get_int(c, v, "sts_seconds", ptr, &sts)) < 0) {
        return -1;
    }
    if (rv == 1 && sts > 0) {
        emit(c, c->body, ptr, "    ApiResponseHeader set "
             "Strict-Transport-Security max-age=%" APR_INT64_T_FMT, sts);
    }
    if ((rv = get_str(c, v, "content_security_policy", ptr, &s)) < 0) {
        return -1;
    }
    if (rv == 1 && *s) {
        if (word_of(c, ptr_join(c->p, ptr, "content_security_policy"), s,
                    &w) < 0) {
            return -1;
        }
        emit(c, c->body, ptr, "    ApiResponseHeader set "
             "Content-Security-Policy %s", w);
    }
    if ((rv = get_str(c, v, "referrer_policy", ptr, &s)) < 0) {
        return -1;
    }
    if (rv == 1 && *s) {
        if (word_of(c, ptr_join(c->p, ptr, "referrer_policy"), s, &w) < 0) {
            return -1;
        }
        emit(c, c->body, ptr, "    ApiResponseHeader set Referrer-Policy %s",
             w);
    }
    if (json_object_get(v, "allowed_hosts")
        || json_object_get(v, "ssl_redirect")
        || json_object_get(v, "ssl_host")) {
        note(c, ptr, "security/http allowed_hosts, ssl_*",
             APIGW_KD_SKIPPED, "httpd's virtual hosts (ServerName, "
             "ServerAlias) and mod_ssl do this");
    }
    return 0;
}

/* auth/validator → AuthType jwt */
static int jwt_lines(kd_ctx *c, json_t *v, const char *ptr)
{
    static const char *const known[] = {
        "alg", "jwk_url", "jwk_local_path", "audience", "issuer",
        "roles_key", "roles", "scopes_key", "scopes", "scopes_matcher",
        "cookie_key", "disable_jwk_security", "cache", "cache_duration",
        "propagate_claims", "operation_debug", "leeway", NULL
    };
    const char *alg = NULL, *s, *list, *key;
    json_t *e, *pc;
    int insecure = 0, rv, n = 0;
    size_t i;

    if (!json_is_object(v)) {
        return wrong_type(c, ptr, v, "an object");
    }
    json_object_foreach(v, key, e) {
        if (!one_of(key, known)) {
            note(c, ptr_join(c->p, ptr, key), apr_pstrcat(c->p,
                 "auth/validator ", key, NULL), APIGW_KD_REFUSED,
                 "not supported, and serving without it would be less safe");
        }
    }
    if (!(c->o->have & APIGW_KD_HAVE_AUTH)) {
        note(c, ptr, "auth/validator", APIGW_KD_REFUSED, "needs "
             "mod_apigw_auth loaded");
        return 0;
    }
    if (get_str(c, v, "alg", ptr, &alg) < 0
        || get_bool(c, v, "disable_jwk_security", ptr, &insecure) < 0) {
        return -1;
    }
    emit(c, c->body, ptr, "    AuthType jwt");
    emit(c, c->body, ptr, "    AuthName krakend");
    if ((rv = get_str(c, v, "jwk_url", ptr, &s)) < 0) {
        return -1;
    }
    if (rv == 1) {
        const char *w;
        if (word_of(c, ptr_join(c->p, ptr, "jwk_url"), s, &w) < 0) {
            return -1;
        }
        emit(c, c->body, ptr_join(c->p, ptr, "jwk_url"),
             "    ApiJwtKeys %s%s%s", w,
             insecure && strncmp(s, "http://", 7) == 0 ? " insecure" : "",
             alg && strncmp(alg, "HS", 2) == 0 ? " symmetric" : "");
    }
    else if ((rv = get_str(c, v, "jwk_local_path", ptr, &s)) == 1) {
        const char *w;
        if (word_of(c, ptr_join(c->p, ptr, "jwk_local_path"),
                    apr_pstrcat(c->p, "file:", s, NULL), &w) < 0) {
            return -1;
        }
        emit(c, c->body, ptr_join(c->p, ptr, "jwk_local_path"),
             "    ApiJwtKeys %s", w);
    }
    else if (rv < 0) {
        return -1;
    }
    else {
        return fail(c, ptr, "auth/validator needs jwk_url or "
                    "jwk_local_path");
    }
    if (alg) {
        const char *w;
        if (word_of(c, ptr_join(c->p, ptr, "alg"), alg, &w) < 0) {
            return -1;
        }
        emit(c, c->body, ptr_join(c->p, ptr, "alg"),
             "    ApiJwtAlgorithms %s", w);
    }
    if (json_is_string(json_object_get(v, "issuer"))) {
        /* KrakenD takes one issuer as a string */
        if (get_str(c, v, "issuer", ptr, &s) < 0
            || word_of(c, ptr_join(c->p, ptr, "issuer"), s, &list) < 0) {
            return -1;
        }
        rv = n = 1;
    }
    else if ((rv = get_list(c, v, "issuer", ptr, " ", &list, &n)) < 0) {
        return -1;
    }
    if (rv == 1 && n > 0) {
        emit(c, c->body, ptr_join(c->p, ptr, "issuer"),
             "    ApiJwtIssuer %s", list);
    }
    if ((rv = get_list(c, v, "audience", ptr, " ", &list, &n)) < 0) {
        return -1;
    }
    if (rv == 1 && n > 0) {
        emit(c, c->body, ptr_join(c->p, ptr, "audience"),
             "    ApiJwtAudience %s", list);
    }
    if ((rv = get_str(c, v, "roles_key", ptr, &s)) < 0) {
        return -1;
    }
    if (rv == 1 && *s) {
        const char *w;
        if (word_of(c, ptr_join(c->p, ptr, "roles_key"), s, &w) < 0) {
            return -1;
        }
        emit(c, c->body, ptr_join(c->p, ptr, "roles_key"),
             "    ApiJwtRolesClaim %s", w);
    }
    if ((rv = get_str(c, v, "cookie_key", ptr, &s)) < 0) {
        return -1;
    }
    if (rv == 1 && *s) {
        const char *w;
        if (word_of(c, ptr_join(c->p, ptr, "cookie_key"), s, &w) < 0) {
            return -1;
        }
        emit(c, c->body, ptr_join(c->p, ptr, "cookie_key"),
             "    ApiJwtCookie %s", w);
    }
    if ((pc = json_object_get(v, "propagate_claims")) != NULL) {
        const char *pp = ptr_join(c->p, ptr, "propagate_claims");
        if (!json_is_array(pc)) {
            return wrong_type(c, pp, pc, "an array of [claim, header]");
        }
        json_array_foreach(pc, i, e) {
            const char *cw, *hw, *ep = ptr_index(c->p, pp, i);
            if (!json_is_array(e) || json_array_size(e) != 2
                || !json_is_string(json_array_get(e, 0))
                || !json_is_string(json_array_get(e, 1))) {
                return fail(c, ep, "[claim, header] expected");
            }
            if (word_of(c, ep, json_string_value(json_array_get(e, 0)),
                        &cw) < 0
                || word_of(c, ep, json_string_value(json_array_get(e, 1)),
                           &hw) < 0) {
                return -1;
            }
            emit(c, c->body, ep, "    ApiJwtPropagate %s %s", cw, hw);
        }
    }
    /* Require: roles (any of them), scopes (any, or all) */
    if ((rv = get_list(c, v, "roles", ptr, " ", &list, &n)) < 0) {
        return -1;
    }
    {
        const char *roles = (rv == 1 && n > 0) ? list : NULL, *scopes = NULL;
        const char *matcher = "any";
        int ns = 0;
        if ((rv = get_list(c, v, "scopes", ptr, " ", &list, &ns)) < 0
            || get_str(c, v, "scopes_matcher", ptr, &matcher) < 0) {
            return -1;
        }
        if (rv == 1 && ns > 0) {
            scopes = list;
        }
        if ((rv = get_str(c, v, "scopes_key", ptr, &s)) < 0) {
            return -1;
        }
        if (scopes && rv == 1 && strcmp(s, "scope") && strcmp(s, "scp")) {
            note(c, ptr_join(c->p, ptr, "scopes_key"),
                 "auth/validator scopes_key", APIGW_KD_REFUSED,
                 "scopes are read from the scope or scp claim only");
        }
        if (!roles && !scopes) {
            emit(c, c->body, ptr, "    Require valid-user");
        }
        else {
            emit(c, c->body, ptr, "    <RequireAll>");
            if (roles) {
                emit(c, c->body, ptr_join(c->p, ptr, "roles"),
                     "        Require jwt-role %s", roles);
            }
            if (scopes && strcmp(matcher, "all") == 0) {
                json_t *sa = json_object_get(v, "scopes");
                json_array_foreach(sa, i, e) {
                    emit(c, c->body, ptr_join(c->p, ptr, "scopes"),
                         "        Require jwt-scope %s",
                         apigw_kd_word(c->p, json_string_value(e)));
                }
            }
            else if (scopes) {
                emit(c, c->body, ptr_join(c->p, ptr, "scopes"),
                     "        Require jwt-scope %s", scopes);
            }
            emit(c, c->body, ptr, "    </RequireAll>");
        }
    }
    return 0;
}

static int ratelimit_router(kd_ctx *c, json_t *v, const char *ptr)
{
    apr_int64_t rate = 0, cap = 0, crate = 0, ccap = 0;
    const char *every = "1s", *strategy = "ip", *key = NULL, *by;

    if (!json_is_object(v)) {
        return wrong_type(c, ptr, v, "an object");
    }
    if (get_int(c, v, "max_rate", ptr, &rate) < 0
        || get_int(c, v, "capacity", ptr, &cap) < 0
        || get_int(c, v, "client_max_rate", ptr, &crate) < 0
        || get_int(c, v, "client_capacity", ptr, &ccap) < 0
        || get_duration(c, v, "every", ptr, &every) < 0
        || get_str(c, v, "strategy", ptr, &strategy) < 0
        || get_str(c, v, "key", ptr, &key) < 0) {
        return -1;
    }
    if (!(c->o->have & APIGW_KD_HAVE_RATELIMIT)) {
        note(c, ptr, "qos/ratelimit/router", APIGW_KD_SKIPPED,
             "mod_apigw_ratelimit is not loaded");
        return 0;
    }
    if (rate > 0) {
        emit(c, c->body, ptr_join(c->p, ptr, "max_rate"),
             "    ApiRateLimit average=%" APR_INT64_T_FMT " period=%s "
             "burst=%" APR_INT64_T_FMT " status=503", rate, every,
             cap > 0 ? cap : rate);
    }
    if (crate > 0) {
        if (strcmp(strategy, "ip") == 0) {
            by = "ip";
        }
        else if (strcmp(strategy, "header") == 0 && key && *key
                 && !strpbrk(key, " \",")) {
            by = apr_pstrcat(c->p, "header:", key, NULL);
        }
        else {
            return fail(c, ptr_join(c->p, ptr, "strategy"), "strategy \"ip\", "
                        "or \"header\" with a \"key\" naming the header");
        }
        emit(c, c->body, ptr_join(c->p, ptr, "client_max_rate"),
             "    ApiRateLimit average=%" APR_INT64_T_FMT " period=%s "
             "burst=%" APR_INT64_T_FMT " by=%s", crate, every,
             ccap > 0 ? ccap : crate, by);
    }
    return 0;
}

/* validation/json-schema: the schema as ApiRequestSchema's JSON, which
 * the directive compiles at configtest (a keyword it does not implement,
 * a remote $ref... fail there, at this pointer: KrakenD would serve the
 * endpoint unchecked). Keys keep their order: it decides which mismatch
 * is reported first. */
static int json_schema_line(kd_ctx *c, json_t *v, const char *ptr)
{
    char *dump;

    if (!json_is_object(v) && !json_is_boolean(v)) {
        return wrong_type(c, ptr, v, "a JSON Schema (an object)");
    }
    dump = json_dumps(v, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_ENCODE_ANY);
    if (!dump) {
        return fail(c, ptr, "the schema cannot be written");
    }
    emit(c, c->body, ptr, "    ApiRequestSchema %s", dump);
    free(dump);
    return 0;
}

static int proxy_component(kd_ctx *c, json_t *v, const char *ptr)
{
    const char *k;
    json_t *e;

    if (!json_is_object(v)) {
        return wrong_type(c, ptr, v, "an object");
    }
    json_object_foreach(v, k, e) {
        const char *kp = ptr_join(c->p, ptr, k);
        if (strcmp(k, "sequential") == 0) {
            if (!json_is_boolean(e)) {
                return wrong_type(c, kp, e, "true or false");
            }
            if (json_is_true(e)) {
                emit(c, c->body, kp, "    ApiSequential On");
            }
        }
        else if (strcmp(k, "static") == 0) {
            const char *strategy = "always";
            json_t *data;
            char *dump;
            if (!json_is_object(e)) {
                return wrong_type(c, kp, e, "an object");
            }
            if (get_str(c, e, "strategy", kp, &strategy) < 0) {
                return -1;
            }
            data = json_object_get(e, "data");
            if (!data || !json_is_object(data)) {
                return fail(c, ptr_join(c->p, kp, "data"), "an object of "
                            "static data expected");
            }
            if (strpbrk(strategy, " \"")) {
                return fail(c, ptr_join(c->p, kp, "strategy"), "unknown "
                            "strategy \"%s\"", strategy);
            }
            dump = json_dumps(data, JSON_COMPACT | JSON_SORT_KEYS
                                    | JSON_ENSURE_ASCII);
            if (!dump) {
                return fail(c, kp, "static data cannot be written");
            }
            emit(c, c->body, kp, "    ApiStatic strategy=%s %s", strategy,
                 dump);
            free(dump);
        }
        else if (strcmp(k, "flatmap_filter") == 0) {
            if (flatmap_lines(c, e, kp, "") < 0) {
                return -1;
            }
        }
        else if (strcmp(k, "shadow") == 0 || strcmp(k, "combiner") == 0) {
            note(c, kp, apr_pstrcat(c->p, "proxy/", k, NULL),
                 APIGW_KD_REFUSED, "not supported");
        }
        else {
            note(c, kp, apr_pstrcat(c->p, "proxy/", k, NULL),
                 APIGW_KD_SKIPPED, "unknown option");
        }
    }
    return 0;
}

static int endpoint_extra(kd_ctx *c, json_t *ec, const char *eptr,
                          int *has_cors, int *has_bots, int *has_sec)
{
    const char *ns;
    json_t *v;

    if (!json_is_object(ec)) {
        return wrong_type(c, eptr, ec, "an object");
    }
    json_object_foreach(ec, ns, v) {
        const char *ptr = ptr_join(c->p, eptr, ns);
        int rv = 0;
        if (strcmp(ns, "proxy") == 0) {
            rv = proxy_component(c, v, ptr);
        }
        else if (strcmp(ns, "auth/validator") == 0) {
            rv = jwt_lines(c, v, ptr);
        }
        else if (strcmp(ns, "qos/ratelimit/router") == 0) {
            rv = ratelimit_router(c, v, ptr);
        }
        else if (strcmp(ns, "security/cors") == 0) {
            *has_cors = 1;
            rv = cors_lines(c, v, ptr);
        }
        else if (strcmp(ns, "security/bot-detector") == 0) {
            *has_bots = 1;
            rv = bot_lines(c, v, ptr);
        }
        else if (strcmp(ns, "security/http") == 0) {
            *has_sec = 1;
            rv = sec_http_lines(c, v, ptr);
        }
        else if (strcmp(ns, "validation/json-schema") == 0) {
            rv = json_schema_line(c, v, ptr);
        }
        else {
            unknown_component(c, ptr, ns, 0);
        }
        if (rv < 0) {
            return -1;
        }
    }
    return 0;
}

/* ---- endpoints ---- */

static void flush_endpoint(kd_ctx *c, const char *head, const char *eptr)
{
    int i;

    if (c->refused) {
        c->r->refused++;
        return;
    }
    apr_array_cat(c->r->lines, c->pre);
    emit(c, c->r->lines, eptr, "%s", head);
    for (i = 0; i < c->body->nelts; i++) {
        APR_ARRAY_PUSH(c->r->lines, apigw_kd_line) =
            APR_ARRAY_IDX(c->body, i, apigw_kd_line);
    }
    emit(c, c->r->lines, eptr, "</ApiEndpoint>");
    c->r->endpoints++;
}

static int endpoint(kd_ctx *c, json_t *e, const char *eptr)
{
    static const char *const methods[] = {
        "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", NULL
    };
    const char *path, *method = "GET", *s, *list, *encoding, *pw;
    json_t *bs, *b, *v;
    int rv, n = 0, has_cors = 0, has_bots = 0, has_sec = 0;
    size_t i;

    if (!json_is_object(e)) {
        return wrong_type(c, eptr, e, "an endpoint object");
    }
    c->pre = apr_array_make(c->p, 4, sizeof(apigw_kd_line));
    c->body = apr_array_make(c->p, 16, sizeof(apigw_kd_line));
    c->refused = NULL;
    c->breaker = c->cache = c->status_from = 0;
    if ((rv = get_str(c, e, "endpoint", eptr, &path)) < 0) {
        return -1;
    }
    if (rv == 0 || *path != '/') {
        return fail(c, ptr_join(c->p, eptr, "endpoint"), "an endpoint path "
                    "starting with '/' expected");
    }
    if (word_of(c, ptr_join(c->p, eptr, "endpoint"), path, &pw) < 0) {
        return -1;
    }
    if (get_str(c, e, "method", eptr, &method) < 0) {
        return -1;
    }
    {
        char *m = apr_pstrdup(c->p, method), *d;
        for (d = m; *d; d++) {
            *d = (char)apr_toupper(*d);
        }
        if (!one_of(m, methods)) {
            return fail(c, ptr_join(c->p, eptr, "method"), "unknown method "
                        "\"%s\" (%s)", method, set_list(c->p, methods));
        }
        method = m;
    }
    if (c->refuse_all) {
        note(c, eptr, "service extra_config", APIGW_KD_REFUSED,
             apr_pstrcat(c->p, "refused by ", c->refuse_all_ptr, NULL));
    }
    encoding = c->encoding;
    if ((rv = get_str(c, e, "output_encoding", eptr, &s)) < 0) {
        return -1;
    }
    if (rv == 1) {
        encoding = s;
    }
    if (strcmp(encoding, "fast-json") == 0) {
        encoding = "json";
    }
    if (!one_of(encoding, output_encodings)) {
        return fail(c, ptr_join(c->p, eptr, "output_encoding"), "unknown "
                    "output encoding \"%s\" (%s, fast-json)", encoding,
                    set_list(c->p, output_encodings));
    }
    /* every endpoint is an aggregating one, as in KrakenD: its answer is
     * decoded and written again, even with one backend */
    emit(c, c->body, eptr, "    ApiOutputEncoding %s", encoding);
    emit(c, c->body, eptr, "    ApiCompletedHeader X-Krakend-Completed");
    /* KrakenD's Go client sends the client's body, of unknown length to
     * it, chunked */
    emit(c, c->body, eptr, "    ApiBackendChunkedBody On");
    if ((rv = get_duration(c, e, "timeout", eptr, &s)) < 0) {
        return -1;
    }
    if (rv == 1 || c->timeout) {
        emit(c, c->body, rv == 1 ? ptr_join(c->p, eptr, "timeout")
                                 : "/timeout", "    ApiTimeout %s",
             rv == 1 ? s : c->timeout);
    }
    if ((rv = get_duration(c, e, "cache_ttl", eptr, &s)) < 0) {
        return -1;
    }
    if ((rv == 1 || c->cache_ttl) && strcmp(encoding, "no-op") != 0) {
        emit(c, c->body, rv == 1 ? ptr_join(c->p, eptr, "cache_ttl")
                                 : "/cache_ttl", "    ApiCacheTTL %s",
             rv == 1 ? s : c->cache_ttl);
    }
    {
        apr_int64_t calls = 0;
        if ((rv = get_int(c, e, "concurrent_calls", eptr, &calls)) < 0) {
            return -1;
        }
        if (rv == 1 && calls > 1) {
            emit(c, c->body, ptr_join(c->p, eptr, "concurrent_calls"),
                 "    ApiConcurrentCalls %" APR_INT64_T_FMT, calls);
        }
    }
    if ((rv = get_list(c, e, "input_headers", eptr, " ", &list, &n)) < 0) {
        return -1;
    }
    if (rv == 1 && n > 0) {
        emit(c, c->body, ptr_join(c->p, eptr, "input_headers"),
             "    ApiInputHeaders %s", list);
    }
    if ((rv = get_list(c, e, "input_query_strings", eptr, " ", &list,
                       &n)) < 0) {
        return -1;
    }
    if (rv == 1 && n > 0) {
        emit(c, c->body, ptr_join(c->p, eptr, "input_query_strings"),
             "    ApiInputQueryStrings %s", list);
    }
    if (c->disable_rest) {
        emit(c, c->body, "/disable_rest", "    ApiDisableRest On");
    }
    if ((v = json_object_get(e, "extra_config")) != NULL
        && endpoint_extra(c, v, ptr_join(c->p, eptr, "extra_config"),
                          &has_cors, &has_bots, &has_sec) < 0) {
        return -1;
    }
    if (!has_cors && c->cors && cors_lines(c, c->cors,
                                           "/extra_config/security~1cors") < 0) {
        return -1;
    }
    if (!has_bots && c->bots
        && bot_lines(c, c->bots, "/extra_config/security~1bot-detector") < 0) {
        return -1;
    }
    if (!has_sec && c->sec_http
        && sec_http_lines(c, c->sec_http, "/extra_config/security~1http") < 0) {
        return -1;
    }
    bs = json_object_get(e, "backend");
    if (!bs || !json_is_array(bs) || json_array_size(bs) == 0) {
        return bs && !json_is_array(bs)
               ? wrong_type(c, ptr_join(c->p, eptr, "backend"), bs,
                            "an array of backends")
               : fail(c, ptr_join(c->p, eptr, "backend"), "an endpoint "
                      "needs at least one backend");
    }
    if (strcmp(encoding, "no-op") == 0 && json_array_size(bs) > 1) {
        return fail(c, ptr_join(c->p, eptr, "backend"), "a no-op endpoint "
                    "has exactly one backend");
    }
    json_array_foreach(bs, i, b) {
        if (backend(c, b, ptr_index(c->p, ptr_join(c->p, eptr, "backend"), i),
                    (int)i, (int)json_array_size(bs), method) < 0) {
            return -1;
        }
    }
    flush_endpoint(c, apr_psprintf(c->p, "<ApiEndpoint %s %s>", pw, method),
                   eptr);
    return 0;
}

/* ---- the service ---- */

static void service_field_notes(kd_ctx *c, json_t *root)
{
    static const char *const handled[] = {
        "version", "$schema", "name", "endpoints", "extra_config", "host",
        "timeout", "cache_ttl", "output_encoding", "disable_rest", NULL
    };
    static const char *const httpd_owned[] = {
        "port", "address", "listen_ip", "read_timeout", "write_timeout",
        "idle_timeout", "read_header_timeout", "max_header_bytes", "tls",
        "client_tls", "max_idle_connections", "max_idle_connections_per_host",
        "idle_connection_timeout", "response_header_timeout",
        "expect_continue_timeout", "dialer_timeout", "dialer_keep_alive",
        "dialer_fallback_delay", "disable_keep_alives",
        "disable_compression", "dns_cache_ttl", "use_h2c",
        "sequential_start", "debug_endpoint", "echo_endpoint", NULL
    };
    const char *k;
    json_t *v;

    json_object_foreach(root, k, v) {
        const char *ptr = ptr_join(c->p, "", k);
        if (one_of(k, handled)) {
            continue;
        }
        if (one_of(k, httpd_owned)) {
            note(c, ptr, apr_pstrcat(c->p, "field ", k, NULL),
                 APIGW_KD_SKIPPED, "a server setting: httpd's own "
                 "(Listen, Timeout, KeepAlive, mod_ssl, ProxyTimeout...)");
        }
        else if (strcmp(k, "plugin") == 0 || strcmp(k, "async_agent") == 0) {
            note(c, ptr, k, APIGW_KD_SKIPPED, "not supported (plugins' "
                 "components are refused where endpoints use them)");
        }
        else {
            note(c, ptr, apr_pstrcat(c->p, "field ", k, NULL),
                 APIGW_KD_SKIPPED, "unknown field");
        }
    }
}

/* The router's redirect switches; 1 when it has other options too (they
 * are httpd's business), 0 when not, -1 on a wrong type. */
static int router_redirects(kd_ctx *c, json_t *v, const char *ptr)
{
    const char *k;
    json_t *o;
    int others = 0;

    c->router_ptr = ptr;
    if (get_bool(c, v, "disable_redirect_fixed_path", ptr,
                 &c->no_fixed_path) < 0
        || get_bool(c, v, "disable_redirect_trailing_slash", ptr,
                    &c->no_trailing_slash) < 0
        || get_bool(c, v, "disable_health", ptr, &c->no_health) < 0
        || get_str(c, v, "health_path", ptr, &c->health_path) < 0) {
        return -1;
    }
    if (*c->health_path != '/'
        || word_of(c, ptr_join(c->p, ptr, "health_path"), c->health_path,
                   &c->health_path) < 0) {
        return c->r->error ? -1 : fail(c, ptr_join(c->p, ptr, "health_path"),
                                       "a path starting with '/' expected");
    }
    json_object_foreach(v, k, o) {
        others |= strcmp(k, "disable_redirect_fixed_path") != 0
                  && strcmp(k, "disable_redirect_trailing_slash") != 0;
    }
    return others;
}

/* Service-level lines, outside any section: Gin's redirects, which
 * KrakenD's router does unless told not to. */
static void service_lines(kd_ctx *c)
{
    const char *ptr = c->router_ptr ? c->router_ptr : "";

    /* KrakenD's own answers (404, 405, refusals, failed backends), with
     * the failure's text when its router returns error messages */
    if (c->return_error_msg) {
        emit(c, c->r->lines, ptr_join(c->p, ptr, "return_error_msg"),
             "ApiErrorFormat krakend messages");
    }
    else {
        emit(c, c->r->lines, "", "ApiErrorFormat krakend");
    }

    if (!c->no_fixed_path) {
        emit(c, c->r->lines, ptr, "ApiRedirectFixedPath On");
    }
    if (!c->no_trailing_slash) {
        emit(c, c->r->lines, ptr, "ApiRedirectTrailingSlash On");
    }
    /* KrakenD's /__health: the gateway's liveness */
    if (!c->no_health) {
        emit(c, c->r->lines, ptr, "<Location %s>", c->health_path);
        emit(c, c->r->lines, ptr, "    SetHandler apigw-health");
        emit(c, c->r->lines, ptr, "</Location>");
    }
}

/* The router's other options: return_error_msg is ApiErrorFormat's
 * messages (service_lines); each one still not honoured is a note. The
 * redirect switches are router_redirects'. 0, or -1 on a wrong type. */
static int router_options(kd_ctx *c, json_t *v, const char *ptr)
{
    static const struct {
        const char *name;
        const char *why;            /* NULL: honoured, no note */
    } known[] = {
        { "return_error_msg", NULL },
        { "disable_redirect_fixed_path", NULL },
        { "disable_redirect_trailing_slash", NULL },
        { "hide_version_header", NULL },   /* the gateway sends none */
        { "disable_health", NULL },        /* service_lines */
        { "health_path", NULL },
        { "disable_handle_method_not_allowed", "a path's other methods are "
          "answered 405 with Allow, never 404" },
        { "auto_options", "OPTIONS is answered where an endpoint declares "
          "it, or by CORS preflights" },
        { "disable_path_decoding", "encoded path variables are escaped for "
          "the backend, never refused with 400" },
        { "remove_extra_slash", "httpd's MergeSlashes cleans the path" },
        { "forwarded_by_client_ip", "the client address is httpd's "
          "(mod_remoteip)" },
        { "remote_ip_headers", "the client address is httpd's "
          "(mod_remoteip)" },
        { "trusted_proxies", "the client address is httpd's (mod_remoteip)" },
        { "app_engine", "the client address is httpd's (mod_remoteip)" },
        { "disable_access_log", "observability only: httpd's CustomLog "
          "decides" },
        { "logger_skip_paths", "observability only: httpd's CustomLog "
          "decides" },
        { "max_multipart_memory", "bodies are passed on as they are" },
        { "use_h2c", "httpd's own (Protocols h2c)" },
        { NULL, NULL }
    };
    const char *k;
    json_t *o;
    int i;

    if (get_bool(c, v, "return_error_msg", ptr, &c->return_error_msg) < 0) {
        return -1;
    }
    json_object_foreach(v, k, o) {
        const char *why = "unknown option: not supported";

        for (i = 0; known[i].name; i++) {
            if (strcmp(k, known[i].name) == 0) {
                why = known[i].why;
                break;
            }
        }
        if (why) {
            note(c, ptr_join(c->p, ptr, k), apr_pstrcat(c->p, "router ", k,
                 NULL), APIGW_KD_SKIPPED, why);
        }
    }
    return 0;
}

static int service_extra(kd_ctx *c, json_t *ec)
{
    const char *ns;
    json_t *v;
    int others;

    if (!json_is_object(ec)) {
        return wrong_type(c, "/extra_config", ec, "an object");
    }
    json_object_foreach(ec, ns, v) {
        const char *ptr = ptr_join(c->p, "/extra_config", ns);
        if (strcmp(ns, "security/cors") == 0) {
            c->cors = v;
        }
        else if (strcmp(ns, "security/bot-detector") == 0) {
            c->bots = v;
        }
        else if (strcmp(ns, "security/http") == 0) {
            c->sec_http = v;
        }
        else if (strcmp(ns, "router") == 0) {
            if (!json_is_object(v)) {
                return wrong_type(c, ptr, v, "an object");
            }
            if ((others = router_redirects(c, v, ptr)) < 0) {
                return -1;
            }
            if (others && router_options(c, v, ptr) < 0) {
                return -1;
            }
        }
        else {
            unknown_component(c, ptr, ns, 1);
        }
    }
    return 0;
}

const char *apigw_kd_translate(apr_pool_t *p, json_t *root,
                               const apigw_kd_options *opts,
                               apigw_kd_result *out)
{
    kd_ctx ctx, *c = &ctx;
    apr_int64_t version = 0;
    json_t *eps, *e;
    size_t i;

    memset(out, 0, sizeof(*out));
    out->lines = apr_array_make(p, 64, sizeof(apigw_kd_line));
    out->notes = apr_array_make(p, 8, sizeof(apigw_kd_note));
    memset(c, 0, sizeof(*c));
    c->p = p;
    c->o = opts;
    c->r = out;
    c->encoding = "json";
    c->health_path = "/__health";
    c->balancers = apr_hash_make(p);

    if (!json_is_object(root)) {
        wrong_type(c, "", root, "a KrakenD configuration object");
        return out->error;
    }
    if (get_int(c, root, "version", "", &version) < 0) {
        return out->error;
    }
    if (version != 3) {
        fail(c, "/version", "only version 3 files are read (KrakenD 2.x); "
             "found %s", json_object_get(root, "version") ? "another" : "none");
        return out->error;
    }
    c->hosts = json_object_get(root, "host");
    if (get_duration(c, root, "timeout", "", &c->timeout) < 0
        || get_duration(c, root, "cache_ttl", "", &c->cache_ttl) < 0
        || get_str(c, root, "output_encoding", "", &c->encoding) < 0
        || get_bool(c, root, "disable_rest", "", &c->disable_rest) < 0) {
        return out->error;
    }
    if (c->hosts && !json_is_array(c->hosts)) {
        wrong_type(c, "/host", c->hosts, "an array of hosts");
        return out->error;
    }
    service_field_notes(c, root);
    if ((e = json_object_get(root, "extra_config")) != NULL
        && service_extra(c, e) < 0) {
        return out->error;
    }
    /* KrakenD passes a trace to its backends only with its OpenTelemetry
     * component; without it, neither does the import (a service-level
     * line: before any section) */
    if (!(e && json_object_get(e, "telemetry/opentelemetry"))) {
        emit(c, c->r->lines, "", "ApiTraceContext Off");
    }
    service_lines(c);
    eps = json_object_get(root, "endpoints");
    if (eps && !json_is_array(eps)) {
        wrong_type(c, "/endpoints", eps, "an array of endpoints");
        return out->error;
    }
    json_array_foreach(eps, i, e) {     /* no "endpoints": none served */
        if (endpoint(c, e, ptr_index(p, "/endpoints", i)) < 0) {
            return out->error;
        }
    }
    if (opts->strict && out->notes->nelts > 0) {
        const apigw_kd_note *n = &APR_ARRAY_IDX(out->notes, 0, apigw_kd_note);
        fail(c, n->pointer, "strict: %d component(s) or field(s) cannot be "
             "loaded as they are, the first: %s (%s: %s)",
             out->notes->nelts, n->component,
             apigw_kd_action_name(n->action), n->why);
        return out->error;
    }
    return NULL;
}
