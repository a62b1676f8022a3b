/* Runtime routes, the codec (see apigw_rt_model.h): the API's JSON into a
 * route and back, guarded before jansson sees it (size, nesting), every
 * member typed and named in its error; PATCH over an existing route; and
 * the store's row, whose policies column is the groups' JSON. */
#include "apigw_rt_model.h"
#include "apigw_parse.h"

#include <stdlib.h>
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>
#include <jansson.h>

#define MAX_ITEMS 64                /* entries of any list */
#define MAX_NAME 256                /* a header, method, origin, name */
#define MAX_TEXT 8192               /* a header value, a regex, a URL */
#define MAX_SECONDS ((json_int_t)366 * 24 * 3600)
#define MAX_BYTES ((json_int_t)1 << 50)
#define DUMP_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15))

typedef const apigw_rt_error *(*member_fn)(apr_pool_t *p, json_t *v,
                                           apigw_rt_route *r);

/* ---- errors ---- */

static const apigw_rt_error *bad(apr_pool_t *p, const char *field,
                                 const char *message)
{
    apigw_rt_error *e = apr_palloc(p, sizeof(*e));

    e->field = field;
    e->message = message;
    return e;
}

/* Text from the client, fit to be quoted in a message or a log: at most
 * max bytes, anything but printable ASCII as '?'. */
static const char *printable(apr_pool_t *p, const char *s, apr_size_t max)
{
    apr_size_t n = strlen(s), i;
    char *out = apr_pstrmemdup(p, s, n > max ? max : n);

    for (i = 0; out[i]; i++) {
        if ((unsigned char)out[i] < 0x20 || (unsigned char)out[i] >= 0x7f) {
            out[i] = '?';
        }
    }
    return n > max ? apr_pstrcat(p, out, "...", NULL) : out;
}

static const char *member(apr_pool_t *p, const char *group, const char *key)
{
    key = printable(p, key, 64);
    return group ? apr_pstrcat(p, group, ".", key, NULL) : key;
}

static const char *item(apr_pool_t *p, const char *field, size_t i)
{
    return apr_psprintf(p, "%s[%" APR_SIZE_T_FMT "]", field, (apr_size_t)i);
}

/* ---- typed members ---- */

static const apigw_rt_error *known_keys(apr_pool_t *p, json_t *obj,
                                        const char *group,
                                        const char *const *keys)
{
    const char *key;
    json_t *v;
    int i;

    if (!json_is_object(obj)) {
        return bad(p, group, "must be an object");
    }
    json_object_foreach(obj, key, v) {
        for (i = 0; keys[i] && strcmp(keys[i], key); i++) {
        }
        if (!keys[i]) {
            return bad(p, member(p, group, key), "unknown field");
        }
    }
    return NULL;
}

static const apigw_rt_error *get_string(apr_pool_t *p, json_t *v,
                                        const char *field, apr_size_t max,
                                        int tab_ok, const char **out)
{
    const char *s;
    apr_size_t n, i;

    if (!json_is_string(v)) {
        return bad(p, field, "must be a string");
    }
    s = json_string_value(v);
    n = json_string_length(v);
    if (n > max) {
        return bad(p, field, apr_psprintf(p, "is longer than %" APR_SIZE_T_FMT
                                          " characters", max));
    }
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if ((c < 0x20 && !(tab_ok && c == '\t')) || c == 0x7f) {
            return bad(p, field, "control characters (CR, LF, NUL...) are "
                       "not allowed");
        }
    }
    *out = apr_pstrmemdup(p, s, n);
    return NULL;
}

static const apigw_rt_error *get_int(apr_pool_t *p, json_t *v,
                                     const char *field, json_int_t min,
                                     json_int_t max, const char *range,
                                     json_int_t *out)
{
    if (!json_is_integer(v)) {
        return bad(p, field, "must be a whole number");
    }
    *out = json_integer_value(v);
    if (*out < min || *out > max) {
        return bad(p, field, range ? range : apr_psprintf(p, "must be from %"
                   APR_INT64_T_FMT " to %" APR_INT64_T_FMT, (apr_int64_t)min,
                   (apr_int64_t)max));
    }
    return NULL;
}

/* Seconds as a JSON number, to whole milliseconds. */
static const apigw_rt_error *get_seconds(apr_pool_t *p, json_t *v,
                                         const char *field,
                                         apr_interval_time_t *out)
{
    double d;

    if (!json_is_number(v)) {
        return bad(p, field, "must be a number of seconds");
    }
    d = json_number_value(v);
    if (!(d >= 0 && d <= (double)MAX_SECONDS)) {
        return bad(p, field, "must be from 0 to 31622400 (366 days)");
    }
    *out = apr_time_from_msec((apr_interval_time_t)(d * 1000 + 0.5));
    return NULL;
}

static const apigw_rt_error *get_bool(apr_pool_t *p, json_t *v,
                                      const char *field, int *out)
{
    if (!json_is_boolean(v)) {
        return bad(p, field, "must be true or false");
    }
    *out = json_is_true(v);
    return NULL;
}

/* A non-empty list of strings. */
static const apigw_rt_error *get_strings(apr_pool_t *p, json_t *v,
                                         const char *field,
                                         apr_array_header_t **out)
{
    const apigw_rt_error *e;
    json_t *x;
    size_t i;

    if (!json_is_array(v)) {
        return bad(p, field, "must be an array of strings");
    }
    if (json_array_size(v) == 0 || json_array_size(v) > MAX_ITEMS) {
        return bad(p, field, "must list 1 to 64 entries (leave it out for "
                   "the default)");
    }
    *out = apr_array_make(p, (int)json_array_size(v), sizeof(const char *));
    json_array_foreach(v, i, x) {
        const char **s = apr_array_push(*out);

        if ((e = get_string(p, x, item(p, field, i), MAX_NAME, 0, s))) {
            return e;
        }
    }
    return NULL;
}

/* ---- top-level fields ---- */

static const apigw_rt_error *set_environment(apr_pool_t *p, json_t *v,
                                             apigw_rt_route *r)
{
    return get_string(p, v, "environment", 64, 0, &r->environment);
}

static const apigw_rt_error *set_path(apr_pool_t *p, json_t *v,
                                      apigw_rt_route *r)
{
    return get_string(p, v, "path", MAX_TEXT, 0, &r->path);
}

static const apigw_rt_error *set_target(apr_pool_t *p, json_t *v,
                                        apigw_rt_route *r)
{
    return get_string(p, v, "targetUrl", MAX_TEXT, 0, &r->target_url);
}

static const apigw_rt_error *set_methods(apr_pool_t *p, json_t *v,
                                         apigw_rt_route *r)
{
    const apigw_rt_error *e = get_strings(p, v, "methods", &r->methods);
    int i;

    for (i = 0; !e && i < r->methods->nelts; i++) {
        const char **m = &APR_ARRAY_IDX(r->methods, i, const char *);
        const char *known = apigw_method_known(*m, 1);

        *m = known ? known : *m;   /* the validation refuses the rest */
    }
    return e;
}

static const apigw_rt_error *set_enabled(apr_pool_t *p, json_t *v,
                                         apigw_rt_route *r)
{
    return get_bool(p, v, "enabled", &r->enabled);
}

/* ---- groups ---- */

static const apigw_rt_error *set_cors(apr_pool_t *p, json_t *v,
                                      apigw_rt_route *r)
{
    static const char *const keys[] = { "allowOrigins", "allowMethods",
        "allowHeaders", "exposeHeaders", "allowCredentials",
        "maxAgeSeconds", NULL };
    apigw_cors_policy *c = &r->cors;
    const apigw_rt_error *e;
    json_t *x;
    json_int_t age;
    int i;

    memset(c, 0, sizeof(*c));
    c->enabled = c->credentials = c->private_network = c->passthrough = -1;
    c->max_age = -1;
    if (json_is_null(v)) {
        return NULL;
    }
    if ((e = known_keys(p, v, "cors", keys))) {
        return e;
    }
    c->enabled = 1;
    if ((x = json_object_get(v, "allowOrigins"))) {
        if ((e = get_strings(p, x, "cors.allowOrigins", &c->origins))) {
            return e;
        }
        for (i = 0; i < c->origins->nelts; i++) {
            char *o = APR_ARRAY_IDX(c->origins, i, char *);

            c->any_origin |= !strcmp(o, "*");
            for (; *o; o++) {
                *o = (char)apr_tolower(*o);     /* as the directive keeps */
            }
        }
    }
    if ((x = json_object_get(v, "allowMethods"))
        && (e = get_strings(p, x, "cors.allowMethods", &c->methods))) {
        return e;
    }
    if ((x = json_object_get(v, "allowHeaders"))) {
        if ((e = get_strings(p, x, "cors.allowHeaders", &c->headers))) {
            return e;
        }
        for (i = 0; i < c->headers->nelts; i++) {
            c->any_header |= !strcmp(APR_ARRAY_IDX(c->headers, i,
                                                   const char *), "*");
        }
    }
    if ((x = json_object_get(v, "exposeHeaders"))
        && (e = get_strings(p, x, "cors.exposeHeaders", &c->expose))) {
        return e;
    }
    if ((x = json_object_get(v, "allowCredentials"))
        && (e = get_bool(p, x, "cors.allowCredentials", &c->credentials))) {
        return e;
    }
    if ((x = json_object_get(v, "maxAgeSeconds"))) {
        if ((e = get_int(p, x, "cors.maxAgeSeconds", 0, MAX_SECONDS, NULL,
                         &age))) {
            return e;
        }
        c->max_age = age;
    }
    return NULL;
}

static const apigw_rt_error *set_rate_limit(apr_pool_t *p, json_t *v,
                                            apigw_rt_route *r)
{
    static const char *const keys[] = { "average", "period", "burst", "by",
                                        NULL };
    apigw_rt_rate_limit *rl;
    const apigw_rt_error *e;
    const char *period, *err;
    json_int_t n;
    json_t *x;

    r->rate_limit = NULL;
    if (json_is_null(v)) {
        return NULL;
    }
    if ((e = known_keys(p, v, "rateLimit", keys))) {
        return e;
    }
    rl = apr_palloc(p, sizeof(*rl));
    apigw_rt_rate_limit_defaults(rl);
    if (!(x = json_object_get(v, "average"))) {
        return bad(p, "rateLimit.average", "is required");
    }
    if ((e = get_int(p, x, "rateLimit.average", 0, 1000000000, NULL, &n))) {
        return e;
    }
    rl->average = (apr_uint64_t)n;
    if (!(x = json_object_get(v, "period"))) {
        return bad(p, "rateLimit.period", "is required, like \"1s\" or "
                   "\"1m\"");
    }
    if ((e = get_string(p, x, "rateLimit.period", 64, 0, &period))) {
        return e;
    }
    if ((err = apigw_parse_duration(period, &rl->period)) != NULL) {
        return bad(p, "rateLimit.period", err);
    }
    if ((x = json_object_get(v, "burst"))) {
        if ((e = get_int(p, x, "rateLimit.burst", 1, 1000000000, NULL, &n))) {
            return e;
        }
        rl->burst = (apr_uint64_t)n;
    }
    if ((x = json_object_get(v, "by"))
        && (e = get_string(p, x, "rateLimit.by", MAX_TEXT, 0, &rl->by))) {
        return e;
    }
    r->rate_limit = rl;
    return NULL;
}

static const apigw_rt_error *header_rule(apr_pool_t *p, json_t *v,
                                         const char *field,
                                         apigw_header_rule *rule)
{
    static const char *const keys[] = { "action", "name", "value", NULL };
    const apigw_rt_error *e;
    const char *action;
    json_t *x;

    memset(rule, 0, sizeof(*rule));
    if ((e = known_keys(p, v, field, keys))) {
        return e;
    }
    if (!(x = json_object_get(v, "action"))) {
        return bad(p, member(p, field, "action"), "is required (set, add or "
                   "unset)");
    }
    if ((e = get_string(p, x, member(p, field, "action"), 16, 0, &action))) {
        return e;
    }
    if (!strcmp(action, "set") || !strcmp(action, "add")
        || !strcmp(action, "unset")) {
        rule->action = action[0] == 's' ? APIGW_HDR_SET
                     : action[0] == 'a' ? APIGW_HDR_ADD : APIGW_HDR_UNSET;
    }
    else {
        return bad(p, member(p, field, "action"), "must be set, add or "
                   "unset");
    }
    if (!(x = json_object_get(v, "name"))) {
        return bad(p, member(p, field, "name"), "is required");
    }
    if ((e = get_string(p, x, member(p, field, "name"), MAX_NAME, 0,
                        &rule->name))) {
        return e;
    }
    if ((x = json_object_get(v, "value"))
        && (e = get_string(p, x, member(p, field, "value"), MAX_TEXT, 1,
                           &rule->value))) {
        return e;
    }
    return NULL;
}

static const apigw_rt_error *header_rules(apr_pool_t *p, json_t *v,
                                          const char *field,
                                          apr_array_header_t **out)
{
    const apigw_rt_error *e;
    json_t *x;
    size_t i;

    *out = NULL;
    if (json_is_null(v)) {
        return NULL;
    }
    if (!json_is_array(v)) {
        return bad(p, field, "must be an array of {action, name, value}");
    }
    if (json_array_size(v) > MAX_ITEMS) {
        return bad(p, field, "holds more than 64 rules");
    }
    if (json_array_size(v) == 0) {
        return NULL;
    }
    *out = apr_array_make(p, (int)json_array_size(v),
                          sizeof(apigw_header_rule));
    json_array_foreach(v, i, x) {
        if ((e = header_rule(p, x, item(p, field, i), apr_array_push(*out)))) {
            return e;
        }
    }
    return NULL;
}

static const apigw_rt_error *set_request_headers(apr_pool_t *p, json_t *v,
                                                 apigw_rt_route *r)
{
    return header_rules(p, v, "requestHeaders", &r->request_headers);
}

static const apigw_rt_error *set_response_headers(apr_pool_t *p, json_t *v,
                                                  apigw_rt_route *r)
{
    return header_rules(p, v, "responseHeaders", &r->response_headers);
}

static const apigw_rt_error *set_path_rewrite(apr_pool_t *p, json_t *v,
                                              apigw_rt_route *r)
{
    static const char *const keys[] = { "type", "value", "replacement",
                                        NULL };
    static const char *const types[] = { "stripPrefix", "addPrefix", "regex",
                                         NULL };
    apigw_rt_rewrite *rw;
    const apigw_rt_error *e;
    const char *type;
    json_t *x;
    int i;

    r->path_rewrite = NULL;
    if (json_is_null(v)) {
        return NULL;
    }
    if ((e = known_keys(p, v, "pathRewrite", keys))) {
        return e;
    }
    rw = apr_pcalloc(p, sizeof(*rw));
    if (!(x = json_object_get(v, "type"))) {
        return bad(p, "pathRewrite.type", "is required (stripPrefix, "
                   "addPrefix or regex)");
    }
    if ((e = get_string(p, x, "pathRewrite.type", 16, 0, &type))) {
        return e;
    }
    for (i = 0; types[i] && strcmp(types[i], type); i++) {
    }
    if (!types[i]) {
        return bad(p, "pathRewrite.type", "must be stripPrefix, addPrefix "
                   "or regex");
    }
    rw->kind = (apigw_rewrite_kind)i;
    if ((x = json_object_get(v, "value"))
        && (e = get_string(p, x, "pathRewrite.value", MAX_TEXT, 0,
                           &rw->value))) {
        return e;
    }
    if ((x = json_object_get(v, "replacement"))
        && (e = get_string(p, x, "pathRewrite.replacement", MAX_TEXT, 0,
                           &rw->replacement))) {
        return e;
    }
    r->path_rewrite = rw;
    return NULL;
}

static const apigw_rt_error *set_query_policy(apr_pool_t *p, json_t *v,
                                              apigw_rt_route *r)
{
    static const char *const keys[] = { "mode", "names", NULL };
    static const char *const modes[] = { "", "all", "allow", "deny", NULL };
    const apigw_rt_error *e;
    const char *mode;
    json_t *x;
    int i;

    r->query_mode = APIGW_RT_QUERY_NONE;
    r->query_names = NULL;
    if (json_is_null(v)) {
        return NULL;
    }
    if ((e = known_keys(p, v, "queryPolicy", keys))) {
        return e;
    }
    if (!(x = json_object_get(v, "mode"))) {
        return bad(p, "queryPolicy.mode", "is required (all, allow or deny)");
    }
    if ((e = get_string(p, x, "queryPolicy.mode", 16, 0, &mode))) {
        return e;
    }
    for (i = 1; modes[i] && strcmp(modes[i], mode); i++) {
    }
    if (!modes[i]) {
        return bad(p, "queryPolicy.mode", "must be all, allow or deny");
    }
    r->query_mode = (apigw_rt_query_mode)i;
    if ((x = json_object_get(v, "names"))
        && (e = get_strings(p, x, "queryPolicy.names", &r->query_names))) {
        return e;
    }
    return NULL;
}

static const apigw_rt_error *set_body_limits(apr_pool_t *p, json_t *v,
                                             apigw_rt_route *r)
{
    static const char *const keys[] = { "requestBytes", "responseBytes",
                                        NULL };
    const apigw_rt_error *e;
    json_int_t n;
    json_t *x;

    r->request_body_limit = r->response_body_limit = -1;
    if (json_is_null(v)) {
        return NULL;
    }
    if ((e = known_keys(p, v, "bodyLimits", keys))) {
        return e;
    }
    if ((x = json_object_get(v, "requestBytes"))) {
        if ((e = get_int(p, x, "bodyLimits.requestBytes", 1, MAX_BYTES, NULL,
                         &n))) {
            return e;
        }
        r->request_body_limit = (apr_off_t)n;
    }
    if ((x = json_object_get(v, "responseBytes"))) {
        if ((e = get_int(p, x, "bodyLimits.responseBytes", 1, MAX_BYTES,
                         NULL, &n))) {
            return e;
        }
        r->response_body_limit = (apr_off_t)n;
    }
    return NULL;
}

static const apigw_rt_error *set_timeout(apr_pool_t *p, json_t *v,
                                         apigw_rt_route *r)
{
    const apigw_rt_error *e;
    json_int_t n;

    r->timeout = 0;
    if (json_is_null(v)) {
        return NULL;
    }
    e = get_int(p, v, "timeoutSeconds", 1, APIGW_RT_MAX_TIMEOUT,
                "timeout must be between 1 and 300 seconds", &n);
    if (!e) {
        r->timeout = apr_time_from_sec(n);
    }
    return e;
}

static const apigw_rt_error *set_breaker(apr_pool_t *p, json_t *v,
                                         apigw_rt_route *r)
{
    static const char *const keys[] = { "preset", "expression",
        "checkSeconds", "fallbackSeconds", "recoverySeconds", NULL };
    apigw_rt_breaker *cb;
    const apigw_rt_error *e;
    json_t *x;

    r->breaker = NULL;
    if (json_is_null(v)) {
        return NULL;
    }
    if ((e = known_keys(p, v, "circuitBreaker", keys))) {
        return e;
    }
    cb = apr_palloc(p, sizeof(*cb));
    apigw_rt_breaker_defaults(cb);
    if (((x = json_object_get(v, "preset"))
         && (e = get_string(p, x, "circuitBreaker.preset", 32, 0,
                            &cb->preset)))
        || ((x = json_object_get(v, "expression"))
            && (e = get_string(p, x, "circuitBreaker.expression", MAX_TEXT,
                               0, &cb->expression)))
        || ((x = json_object_get(v, "checkSeconds"))
            && (e = get_seconds(p, x, "circuitBreaker.checkSeconds",
                                &cb->check)))
        || ((x = json_object_get(v, "fallbackSeconds"))
            && (e = get_seconds(p, x, "circuitBreaker.fallbackSeconds",
                                &cb->fallback)))
        || ((x = json_object_get(v, "recoverySeconds"))
            && (e = get_seconds(p, x, "circuitBreaker.recoverySeconds",
                                &cb->recovery)))) {
        return e;
    }
    r->breaker = cb;
    return NULL;
}

static const apigw_rt_error *set_cache_ttl(apr_pool_t *p, json_t *v,
                                           apigw_rt_route *r)
{
    const apigw_rt_error *e;
    json_int_t n;

    r->cache_ttl = 0;
    if (json_is_null(v)) {
        return NULL;
    }
    e = get_int(p, v, "cacheTtlSeconds", 0, MAX_SECONDS, NULL, &n);
    if (!e) {
        r->cache_ttl = apr_time_from_sec(n);
    }
    return e;
}

/* ---- the members of a route ---- */

typedef enum {
    FIELD,                     /* a column of its own in the store */
    GROUP,                     /* a policy group: in the policies column */
    OUTPUT                     /* the gateway's to set: refused as input */
} member_kind;

typedef struct {
    const char *name;
    member_kind kind;
    member_fn set;
} member_def;

static const member_def members[] = {
    { "id", OUTPUT, NULL },
    { "createdAt", OUTPUT, NULL },
    { "updatedAt", OUTPUT, NULL },
    { "environment", FIELD, set_environment },
    { "path", FIELD, set_path },
    { "targetUrl", FIELD, set_target },
    { "methods", FIELD, set_methods },
    { "enabled", FIELD, set_enabled },
    { "cors", GROUP, set_cors },
    { "rateLimit", GROUP, set_rate_limit },
    { "requestHeaders", GROUP, set_request_headers },
    { "responseHeaders", GROUP, set_response_headers },
    { "pathRewrite", GROUP, set_path_rewrite },
    { "queryPolicy", GROUP, set_query_policy },
    { "bodyLimits", GROUP, set_body_limits },
    { "timeoutSeconds", GROUP, set_timeout },
    { "circuitBreaker", GROUP, set_breaker },
    { "cacheTtlSeconds", GROUP, set_cache_ttl },
    { NULL, FIELD, NULL }
};

/* Applies each member of obj over r; groups_only: the policies column. */
static const apigw_rt_error *apply(apr_pool_t *p, json_t *obj,
                                   apigw_rt_route *r, int groups_only)
{
    const apigw_rt_error *e;
    const char *key;
    json_t *v;
    int i;

    json_object_foreach(obj, key, v) {
        for (i = 0; members[i].name && strcmp(members[i].name, key); i++) {
        }
        if (!members[i].name || (groups_only && members[i].kind != GROUP)) {
            return bad(p, member(p, NULL, key), "unknown field");
        }
        if (members[i].kind == OUTPUT) {
            return bad(p, members[i].name, "is set by the gateway and "
                       "cannot be given");
        }
        if (members[i].kind == FIELD && json_is_null(v)) {
            return bad(p, members[i].name, "cannot be null");
        }
        if ((e = members[i].set(p, v, r))) {
            return e;
        }
    }
    return NULL;
}

/* ---- parsing, guarded ---- */

/* Deeper than max levels of arrays and objects? Counted on the bytes, so
 * jansson never recurses into a hostile body. */
static int too_deep(const char *s, apr_size_t len, int max)
{
    int depth = 0, in_string = 0;
    apr_size_t i;

    for (i = 0; i < len; i++) {
        if (in_string) {
            if (s[i] == '\\') {
                i++;
            }
            else if (s[i] == '"') {
                in_string = 0;
            }
        }
        else if (s[i] == '"') {
            in_string = 1;
        }
        else if (s[i] == '[' || s[i] == '{') {
            if (++depth > max) {
                return 1;
            }
        }
        else if (s[i] == ']' || s[i] == '}') {
            depth--;
        }
    }
    return 0;
}

static const apigw_rt_error *parse_object(apr_pool_t *p, const char *json,
                                          apr_size_t len, const char *field,
                                          json_t **out)
{
    json_error_t je;

    *out = NULL;
    if (!json || len == 0) {
        return bad(p, field, "the body is empty: send a JSON object");
    }
    if (len > APIGW_RT_MAX_BODY) {
        return bad(p, field, "the body is larger than 1 MiB");
    }
    if (too_deep(json, len, APIGW_RT_MAX_DEPTH)) {
        return bad(p, field, "the JSON is nested deeper than 32 levels");
    }
    /* no JSON_ALLOW_NUL: "\u0000" is refused in strings and keys */
    *out = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!*out) {
        return bad(p, field, apr_psprintf(p, "not valid JSON: %s (line %d, "
                   "column %d)", printable(p, je.text, 120), je.line,
                   je.column));
    }
    if (!json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        return bad(p, field, "must be a JSON object");
    }
    return NULL;
}

static const apigw_rt_error *apply_text(apr_pool_t *p, const char *json,
                                        apr_size_t len,
                                        const apigw_rt_checks *checks,
                                        apigw_rt_route *r)
{
    const apigw_rt_error *e;
    json_t *obj;

    if ((e = parse_object(p, json, len, "", &obj))) {
        return e;
    }
    e = apply(p, obj, r, 0);
    json_decref(obj);
    return e ? e : apigw_rt_route_validate(p, r, checks);
}

const apigw_rt_error *apigw_rt_route_decode(apr_pool_t *p, const char *json,
                                            apr_size_t len,
                                            const apigw_rt_checks *checks,
                                            apigw_rt_route **out)
{
    apigw_rt_route *r = apigw_rt_route_make(p);
    const apigw_rt_error *e = apply_text(p, json, len, checks, r);

    *out = e ? NULL : r;
    return e;
}

const apigw_rt_error *apigw_rt_route_patch(apr_pool_t *p,
                                           const apigw_rt_route *base,
                                           const char *json, apr_size_t len,
                                           const apigw_rt_checks *checks,
                                           apigw_rt_route **out)
{
    apigw_rt_route *r = apr_pmemdup(p, base, sizeof(*base));
    const apigw_rt_error *e;

    /* members are replaced, never edited in place: base stays as it is */
    e = apply_text(p, json, len, checks, r);
    *out = e ? NULL : r;
    return e;
}

/* ---- encoding ---- */

static json_t *strings_json(const apr_array_header_t *a)
{
    json_t *arr = json_array();
    int i;

    for (i = 0; a && i < a->nelts; i++) {
        json_array_append_new(arr, json_string(APR_ARRAY_IDX(a, i,
                                                             const char *)));
    }
    return arr;
}

/* A duration as apigw_parse_duration reads it: "1m", "1500ms". */
static const char *duration_text(apr_pool_t *p, apr_interval_time_t us)
{
    static const struct { apr_interval_time_t us; const char *unit; }
    units[] = {
        { APR_INT64_C(3600000000), "h" }, { APR_INT64_C(60000000), "m" },
        { APR_INT64_C(1000000), "s" }, { 1000, "ms" }, { 1, "us" }
    };
    int i;

    for (i = 0; us % units[i].us; i++) {
    }
    return apr_psprintf(p, "%" APR_INT64_T_FMT "%s", us / units[i].us,
                        units[i].unit);
}

static json_t *seconds_json(apr_interval_time_t us)
{
    if (us % APR_USEC_PER_SEC == 0) {
        return json_integer(apr_time_sec(us));
    }
    return json_real((double)apr_time_as_msec(us) / 1000);
}

static void set_new(json_t *o, const char *key, json_t *v)
{
    json_object_set_new(o, key, v);
}

static json_t *cors_json(const apigw_cors_policy *c)
{
    json_t *o = json_object();

    if (c->origins) {
        set_new(o, "allowOrigins", strings_json(c->origins));
    }
    if (c->methods) {
        set_new(o, "allowMethods", strings_json(c->methods));
    }
    if (c->headers) {
        set_new(o, "allowHeaders", strings_json(c->headers));
    }
    if (c->expose) {
        set_new(o, "exposeHeaders", strings_json(c->expose));
    }
    if (c->credentials != -1) {
        set_new(o, "allowCredentials", json_boolean(c->credentials));
    }
    if (c->max_age != -1) {
        set_new(o, "maxAgeSeconds", json_integer(c->max_age));
    }
    return o;
}

static json_t *header_rules_json(const apr_array_header_t *rules)
{
    static const char *const actions[] = { "set", "add", "unset" };
    json_t *arr = json_array();
    int i;

    for (i = 0; i < rules->nelts; i++) {
        const apigw_header_rule *h = &APR_ARRAY_IDX(rules, i,
                                                    apigw_header_rule);
        json_t *o = json_object();

        set_new(o, "action", json_string(actions[h->action]));
        set_new(o, "name", json_string(h->name));
        if (h->value) {
            set_new(o, "value", json_string(h->value));
        }
        json_array_append_new(arr, o);
    }
    return arr;
}

static json_t *rate_limit_json(apr_pool_t *p, const apigw_rt_rate_limit *rl)
{
    json_t *o = json_object();

    set_new(o, "average", json_integer((json_int_t)rl->average));
    set_new(o, "period", json_string(duration_text(p, rl->period)));
    set_new(o, "burst", json_integer((json_int_t)rl->burst));
    if (rl->by) {
        set_new(o, "by", json_string(rl->by));
    }
    return o;
}

static json_t *rewrite_json(const apigw_rt_rewrite *rw)
{
    static const char *const types[] = { "stripPrefix", "addPrefix",
                                         "regex" };
    json_t *o = json_object();

    set_new(o, "type", json_string(types[rw->kind]));
    set_new(o, "value", json_string(rw->value));
    if (rw->replacement) {
        set_new(o, "replacement", json_string(rw->replacement));
    }
    return o;
}

static json_t *query_json(const apigw_rt_route *r)
{
    static const char *const modes[] = { "", "all", "allow", "deny" };
    json_t *o = json_object();

    set_new(o, "mode", json_string(modes[r->query_mode]));
    if (r->query_names) {
        set_new(o, "names", strings_json(r->query_names));
    }
    return o;
}

static json_t *body_limits_json(const apigw_rt_route *r)
{
    json_t *o = json_object();

    if (r->request_body_limit != -1) {
        set_new(o, "requestBytes", json_integer(r->request_body_limit));
    }
    if (r->response_body_limit != -1) {
        set_new(o, "responseBytes", json_integer(r->response_body_limit));
    }
    return o;
}

static json_t *breaker_json(const apigw_rt_breaker *cb)
{
    json_t *o = json_object();

    if (cb->preset) {
        set_new(o, "preset", json_string(cb->preset));
    }
    if (cb->expression) {
        set_new(o, "expression", json_string(cb->expression));
    }
    set_new(o, "checkSeconds", seconds_json(cb->check));
    set_new(o, "fallbackSeconds", seconds_json(cb->fallback));
    set_new(o, "recoverySeconds", seconds_json(cb->recovery));
    return o;
}

/* The policy groups r has, into o. */
static void groups_json(apr_pool_t *p, const apigw_rt_route *r, json_t *o)
{
    if (r->cors.enabled == 1) {
        set_new(o, "cors", cors_json(&r->cors));
    }
    if (r->rate_limit) {
        set_new(o, "rateLimit", rate_limit_json(p, r->rate_limit));
    }
    if (r->request_headers && r->request_headers->nelts) {
        set_new(o, "requestHeaders", header_rules_json(r->request_headers));
    }
    if (r->response_headers && r->response_headers->nelts) {
        set_new(o, "responseHeaders", header_rules_json(r->response_headers));
    }
    if (r->path_rewrite) {
        set_new(o, "pathRewrite", rewrite_json(r->path_rewrite));
    }
    if (r->query_mode != APIGW_RT_QUERY_NONE) {
        set_new(o, "queryPolicy", query_json(r));
    }
    if (r->request_body_limit != -1 || r->response_body_limit != -1) {
        set_new(o, "bodyLimits", body_limits_json(r));
    }
    if (r->timeout) {
        set_new(o, "timeoutSeconds", json_integer(apr_time_sec(r->timeout)));
    }
    if (r->breaker) {
        set_new(o, "circuitBreaker", breaker_json(r->breaker));
    }
    if (r->cache_ttl) {
        set_new(o, "cacheTtlSeconds",
                json_integer(apr_time_sec(r->cache_ttl)));
    }
}

/* o as text from p; o is released. */
static char *dump(apr_pool_t *p, json_t *o)
{
    char *text = json_dumps(o, DUMP_FLAGS), *out;

    json_decref(o);
    if (!text) {
        return NULL;
    }
    out = apr_pstrdup(p, text);
    free(text);
    return out;
}

json_t *apigw_rt_route_json(apr_pool_t *p, const apigw_rt_route *r)
{
    json_t *o = json_object();

    if (r->id) {
        set_new(o, "id", json_string(r->id));
    }
    set_new(o, "environment", json_string(r->environment));
    set_new(o, "path", json_string(r->path));
    set_new(o, "targetUrl", json_string(r->target_url));
    set_new(o, "methods", strings_json(r->methods));
    set_new(o, "enabled", json_boolean(r->enabled));
    if (r->created_at) {
        set_new(o, "createdAt",
                json_string(apigw_rt_time_text(p, r->created_at)));
    }
    if (r->updated_at) {
        set_new(o, "updatedAt",
                json_string(apigw_rt_time_text(p, r->updated_at)));
    }
    groups_json(p, r, o);
    return o;
}

char *apigw_rt_route_encode(apr_pool_t *p, const apigw_rt_route *r)
{
    return dump(p, apigw_rt_route_json(p, r));
}

/* ---- the store's row ---- */

void apigw_rt_route_to_record(apr_pool_t *p, const apigw_rt_route *r,
                              apigw_route_record *rec)
{
    json_t *o = json_object();
    char *methods = "";
    int i;

    for (i = 0; r->methods && i < r->methods->nelts; i++) {
        methods = apr_pstrcat(p, methods, i ? "," : "",
                              APR_ARRAY_IDX(r->methods, i, const char *),
                              NULL);
    }
    rec->id = r->id;
    rec->environment = r->environment;
    rec->path = r->path;
    rec->target_url = r->target_url;
    rec->methods = methods;
    rec->enabled = r->enabled ? 1 : 0;
    rec->created_at = r->created_at;
    rec->updated_at = r->updated_at;
    groups_json(p, r, o);
    rec->policies = dump(p, o);
}

static apr_array_header_t *split_methods(apr_pool_t *p, const char *list)
{
    apr_array_header_t *a = apr_array_make(p, 4, sizeof(const char *));
    char *copy = apr_pstrdup(p, list), *m, *last;

    for (m = apr_strtok(copy, ",", &last); m;
         m = apr_strtok(NULL, ",", &last)) {
        const char *known = apigw_method_known(m, 1);

        APR_ARRAY_PUSH(a, const char *) = known ? known : m;
    }
    return a;
}

const apigw_rt_error *apigw_rt_route_from_record(apr_pool_t *p,
                                                 apr_pool_t *scratch,
                                                 const apigw_route_record *rec,
                                                 const apigw_rt_checks *checks,
                                                 apigw_rt_route **out)
{
    apigw_rt_route *r = apigw_rt_route_make(p);
    const apigw_rt_error *e;
    apr_pool_t *own = NULL;
    json_t *obj;

    *out = NULL;
    if (!rec->id || !apigw_rt_is_uuid(rec->id)) {
        return bad(p, "id", "the stored route has no valid id");
    }
    if (!rec->environment || !rec->path || !rec->target_url || !rec->methods
        || (rec->enabled != 0 && rec->enabled != 1)) {
        return bad(p, "", "the stored route is incomplete");
    }
    r->id = apr_pstrdup(p, rec->id);
    r->environment = apr_pstrdup(p, rec->environment);
    r->path = apr_pstrdup(p, rec->path);
    r->target_url = apr_pstrdup(p, rec->target_url);
    r->methods = split_methods(p, rec->methods);
    r->enabled = rec->enabled;
    r->created_at = rec->created_at;
    r->updated_at = rec->updated_at;
    if (rec->policies) {
        if ((e = parse_object(p, rec->policies, strlen(rec->policies),
                              "policies",
                              &obj))) {
            return e;
        }
        e = apply(p, obj, r, 1);
        json_decref(obj);
        if (e) {
            return e;
        }
    }
    /* what validation compiles is thrown away at once: a list of a
     * thousand routes keeps its memory to the routes themselves */
    if (!scratch) {
        if (apr_pool_create(&own, p) != APR_SUCCESS) {
            return bad(p, "", "out of memory");
        }
        scratch = own;
    }
    if ((e = apigw_rt_route_validate(scratch, r, checks))) {
        e = bad(p, apr_pstrdup(p, e->field ? e->field : ""),
                apr_pstrdup(p, e->message));
    }
    if (own) {
        apr_pool_destroy(own);
    }
    if (e) {
        return e;
    }
    *out = r;
    return NULL;
}
