/* Runtime routes, the model (see apigw_rt_model.h): defaults, validation
 * through the same functions the directives call (plus the rules only a
 * route needs: environment, target URL safety, ranges of the JSON
 * numbers), identifiers and times. The JSON codec and the store's row are
 * in apigw_rt_model_json.c. */
#include "apigw_rt_model.h"
#include "apigw_policy_validate.h"
#include "apigw_policy_rewrite.h"
#include "apigw_route.h"
#include "apigw_template.h"
#include "apigw_parse.h"

#include <string.h>

#include <apr_cstr.h>
#include <apr_general.h>
#include <apr_lib.h>
#include <apr_strings.h>

#define MAX_URL_LEN 2048
#define MAX_DURATION apr_time_from_sec((apr_time_t)366 * 24 * 3600)
#define MAX_BYTES ((apr_off_t)1 << 50)       /* as apigw_parse_size */
/* mirrors of mod_apigw_ratelimit's limits (apigw_rl_spec.h, gcra) */
#define RL_MAX_AVERAGE APR_UINT64_C(1000000000)
#define RL_MAX_BURST APR_UINT64_C(1000000000)
#define RL_MAX_SPAN_NS (APR_UINT64_C(1) << 62)
/* mirror of mod_apigw_breaker's (apigw_cb_expr.h) */
#define CB_MAX_EXPR_LEN 1024

static const char *const breaker_presets[] = {
    "errors-50", "errors-30", "5xx", "high-latency", NULL
};

/* ---- making ---- */

void apigw_rt_rate_limit_defaults(apigw_rt_rate_limit *rl)
{
    memset(rl, 0, sizeof(*rl));
    rl->burst = 1;
}

void apigw_rt_breaker_defaults(apigw_rt_breaker *cb)
{
    memset(cb, 0, sizeof(*cb));
    cb->check = apr_time_from_msec(100);
    cb->fallback = apr_time_from_sec(10);
    cb->recovery = apr_time_from_sec(10);
}

apigw_rt_route *apigw_rt_route_make(apr_pool_t *p)
{
    apigw_rt_route *r = apr_pcalloc(p, sizeof(*r));

    r->environment = "default";
    r->methods = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(r->methods, const char *) = apigw_method_known("GET", 1);
    r->enabled = 1;
    r->cors.enabled = -1;
    r->cors.credentials = -1;
    r->cors.max_age = -1;
    r->cors.private_network = -1;
    r->cors.passthrough = -1;
    r->request_body_limit = -1;
    r->response_body_limit = -1;
    return r;
}

/* ---- errors ---- */

static const apigw_rt_error *rt_error(apr_pool_t *p, const char *field,
                                      const char *message)
{
    apigw_rt_error *e = apr_palloc(p, sizeof(*e));

    e->field = field;
    e->message = message;
    return e;
}

static const apigw_rt_error *from_invalid(apr_pool_t *p,
                                          const apigw_invalid *inv)
{
    /* the validators name fields as the API's JSON does */
    return inv ? rt_error(p, inv->field, inv->problem) : NULL;
}

static int has_ctl(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f) {
            return 1;
        }
    }
    return 0;
}

/* ---- identity, path, target, methods ---- */

const apigw_rt_error *apigw_rt_environment_check(apr_pool_t *p,
                                                const char *e)
{
    const char *c;

    if (!e || !*e || strlen(e) > 64) {
        return rt_error(p, "environment", "must be 1 to 64 characters");
    }
    for (c = e; *c; c++) {
        if (!apr_isalnum(*c) && !strchr("._-", *c)) {
            return rt_error(p, "environment", "may hold letters, digits, "
                            "'.', '_' and '-' only");
        }
    }
    return NULL;
}

static int dot_segment(const char *s, apr_size_t len)
{
    return (len == 1 && s[0] == '.') || (len == 2 && !strncmp(s, "..", 2));
}

/* The path's variable names (const char *), "*" for a trailing wildcard;
 * path is valid. */
static apr_array_header_t *path_vars(apr_pool_t *p, const char *path)
{
    apr_array_header_t *vars = apr_array_make(p, 4, sizeof(const char *));
    const char *s = path, *close;

    while ((s = strchr(s, '{')) != NULL && (close = strchr(s, '}'))) {
        APR_ARRAY_PUSH(vars, const char *) =
            apr_pstrmemdup(p, s + 1, (apr_size_t)(close - s - 1));
        s = close + 1;
    }
    if (strlen(path) >= 2 && !strcmp(path + strlen(path) - 2, "/*")) {
        APR_ARRAY_PUSH(vars, const char *) = "*";
    }
    return vars;
}

static const apigw_rt_error *check_path(apr_pool_t *p, const char *path)
{
    const char *err, *s;

    if (!path || !*path) {
        return rt_error(p, "path", "is required");
    }
    if (strlen(path) > MAX_URL_LEN) {
        return rt_error(p, "path", "is longer than 2048 characters");
    }
    if ((err = apigw_route_check(p, path, 0)) != NULL) {
        return rt_error(p, "path", err);
    }
    for (s = path; *s; ) {
        apr_size_t len;

        s++;
        len = strcspn(s, "/");
        if (dot_segment(s, len)) {
            return rt_error(p, "path", "'.' and '..' segments are not "
                            "allowed (request paths are normalized, so "
                            "they would never match)");
        }
        s += len;
    }
    return NULL;
}

/* A "." or ".." segment, also percent-encoded (%2e). */
static int encoded_dot_segment(const char *s, apr_size_t len)
{
    apr_size_t i = 0, dots = 0;

    while (i < len) {
        if (s[i] == '.') {
            i++;
        }
        else if (len - i >= 3 && s[i] == '%' && s[i + 1] == '2'
                 && (s[i + 2] == 'e' || s[i + 2] == 'E')) {
            i += 3;
        }
        else {
            return 0;
        }
        dots++;
    }
    return dots == 1 || dots == 2;
}

/* host[:port], or a balancer's name */
static const char *authority_problem(const char *scheme, const char *a,
                                     apr_size_t len)
{
    apr_size_t i = 0, host_end;

    if (memchr(a, '@', len)) {
        return "userinfo (user@) is not allowed in the target URL";
    }
    if (!strcmp(scheme, "balancer")) {
        for (i = 0; i < len; i++) {
            if (!apr_isalnum(a[i]) && !strchr("._-", a[i])) {
                return "a balancer name may hold letters, digits, '.', '_' "
                       "and '-' only";
            }
        }
        return NULL;
    }
    if (a[0] == '[') {
        while (i < len && a[i] != ']') {
            if (i > 0 && !apr_isxdigit(a[i]) && a[i] != ':' && a[i] != '.') {
                return "the target URL's host is not valid";
            }
            i++;
        }
        if (i == len || i == 1) {
            return "the target URL's host is not valid";
        }
        host_end = ++i;
    }
    else {
        while (i < len && (apr_isalnum(a[i]) || strchr(".-_", a[i]))) {
            i++;
        }
        host_end = i;
    }
    if (host_end == 0 || (host_end < len && a[host_end] != ':')) {
        return "the target URL's host is not valid";
    }
    if (host_end < len) {
        apr_size_t digits = len - host_end - 1;
        apr_int64_t port = 0;

        if (digits == 0 || digits > 5) {
            return "the target URL's port is not valid";
        }
        for (i = host_end + 1; i < len; i++) {
            if (!apr_isdigit(a[i])) {
                return "the target URL's port is not valid";
            }
            port = port * 10 + (a[i] - '0');
        }
        if (port < 1 || port > 65535) {
            return "the target URL's port is not valid";
        }
    }
    return NULL;
}

static const char *target_path_problem(const char *s)
{
    while (*s && *s != '?') {
        apr_size_t len;

        s++;
        len = strcspn(s, "/?");
        if (encoded_dot_segment(s, len)) {
            return "'.' and '..' segments are not allowed in the target URL";
        }
        s += len;
    }
    return NULL;
}

static const apigw_rt_error *check_target(apr_pool_t *p, const char *url,
                                          const char *path)
{
    const apr_array_header_t *tvars, *pvars;
    apigw_template *t;
    const char *err, *auth, *end, *scheme;
    int i, j;

    if (!url || !*url) {
        return rt_error(p, "targetUrl", "is required");
    }
    if (strlen(url) > MAX_URL_LEN) {
        return rt_error(p, "targetUrl", "is longer than 2048 characters");
    }
    if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8)
        && strncmp(url, "ws://", 5) && strncmp(url, "wss://", 6)
        && strncmp(url, "balancer://", 11)) {
        return rt_error(p, "targetUrl", "must be an http://, https://, ws://, "
                        "wss:// or balancer:// URL");
    }
    if (has_ctl(url) || strchr(url, '\\')) {
        return rt_error(p, "targetUrl", "control characters (CR, LF...) and "
                        "'\\' are not allowed");
    }
    if ((err = apigw_template_compile(p, url, &t)) != NULL) {
        return rt_error(p, "targetUrl", err);
    }
    scheme = apigw_template_scheme(t);
    auth = strstr(url, "://") + 3;
    end = auth + strcspn(auth, "/?#");
    if ((err = authority_problem(scheme, auth, (apr_size_t)(end - auth)))
        || (err = target_path_problem(end))) {
        return rt_error(p, "targetUrl", err);
    }
    tvars = apigw_template_vars(t);
    pvars = path_vars(p, path);
    for (i = 0; i < tvars->nelts; i++) {
        const char *v = APR_ARRAY_IDX(tvars, i, const char *);

        for (j = 0; j < pvars->nelts
                    && strcmp(v, APR_ARRAY_IDX(pvars, j, const char *)); j++) {
        }
        if (j == pvars->nelts) {
            return rt_error(p, "targetUrl", apr_psprintf(p,
                            "{%s} is not a variable of the path", v));
        }
    }
    return NULL;
}

static const apigw_rt_error *check_methods(apr_pool_t *p,
                                           const apr_array_header_t *m)
{
    int i, j;

    if (!m || m->nelts == 0) {
        return rt_error(p, "methods", "needs at least one method");
    }
    for (i = 0; i < m->nelts; i++) {
        const char *name = APR_ARRAY_IDX(m, i, const char *);
        const char *field = apr_psprintf(p, "methods[%d]", i);

        if (!apigw_method_known(name, 1)) {
            return rt_error(p, field, "unknown method (GET, HEAD, POST, PUT, "
                            "PATCH, DELETE, OPTIONS; upper case)");
        }
        for (j = 0; j < i; j++) {
            if (!strcmp(name, APR_ARRAY_IDX(m, j, const char *))) {
                return rt_error(p, field, apr_psprintf(p, "%s is listed "
                                "twice", name));
            }
        }
    }
    return NULL;
}

/* ---- policy groups ---- */

static const apigw_rt_error *check_cors(apr_pool_t *p,
                                        const apigw_cors_policy *c)
{
    if (c->enabled != 1) {
        return NULL;
    }
    if (c->max_age > apr_time_sec(MAX_DURATION)) {
        return rt_error(p, "cors.maxAgeSeconds", "is longer than 366 days");
    }
    return from_invalid(p, apigw_cors_validate(p, c));
}

static const apigw_rt_error *check_rewrite(apr_pool_t *p,
                                           const apigw_rt_rewrite *rw)
{
    static const char *const kinds[] = { "strip-prefix", "add-prefix",
                                         "regex" };
    apigw_rewrite_rule *rule;
    apr_pool_t *tmp;
    const char *err;

    if (!rw) {
        return NULL;
    }
    if ((unsigned)rw->kind > APIGW_REWRITE_REGEX) {
        return rt_error(p, "pathRewrite.type", "must be stripPrefix, "
                        "addPrefix or regex");
    }
    if (!rw->value || !*rw->value) {
        return rt_error(p, "pathRewrite.value", "is required");
    }
    if ((rw->kind == APIGW_REWRITE_REGEX) != (rw->replacement != NULL)) {
        return rt_error(p, "pathRewrite.replacement",
                        rw->replacement ? "is for type regex only"
                                        : "is required with type regex");
    }
    /* compiled to be judged, then let go: the serving side compiles its
     * own into its pool */
    apr_pool_create(&tmp, p);
    err = apigw_rewrite_compile(tmp, kinds[rw->kind], rw->value,
                                rw->replacement, &rule);
    err = err ? apr_pstrdup(p, err) : NULL;
    apr_pool_destroy(tmp);
    if (err) {
        return rt_error(p, strncmp(err, "replacement", 11)
                           ? "pathRewrite.value" : "pathRewrite.replacement",
                        err);
    }
    return NULL;
}

static const apigw_rt_error *check_query(apr_pool_t *p,
                                         const apigw_rt_route *r)
{
    const apigw_invalid *inv;
    int i;

    if (r->query_mode == APIGW_RT_QUERY_NONE
        || r->query_mode == APIGW_RT_QUERY_ALL) {
        return r->query_names && r->query_names->nelts
               ? rt_error(p, "queryPolicy.names", "only modes allow and "
                          "deny take names")
               : NULL;
    }
    if (r->query_mode != APIGW_RT_QUERY_ALLOW
        && r->query_mode != APIGW_RT_QUERY_DENY) {
        return rt_error(p, "queryPolicy.mode", "must be all, allow or deny");
    }
    if (!r->query_names || r->query_names->nelts == 0) {
        return rt_error(p, "queryPolicy.names", "needs at least one name");
    }
    for (i = 0; i < r->query_names->nelts; i++) {
        if (has_ctl(APR_ARRAY_IDX(r->query_names, i, const char *))) {
            return rt_error(p, apr_psprintf(p, "queryPolicy.names[%d]", i),
                            "control characters are not allowed");
        }
    }
    /* one rule for allow- and deny-list names */
    inv = apigw_query_deny_validate(p, r->query_names);
    return from_invalid(p, inv);
}

static const apigw_rt_error *check_body_limits(apr_pool_t *p,
                                               const apigw_rt_route *r)
{
    const apigw_invalid *inv;

    if ((inv = apigw_body_limit_validate(p, "bodyLimits.requestBytes",
                                         r->request_body_limit)) != NULL
        || (inv = apigw_body_limit_validate(p, "bodyLimits.responseBytes",
                                            r->response_body_limit))) {
        return from_invalid(p, inv);
    }
    if (r->request_body_limit > MAX_BYTES) {
        return rt_error(p, "bodyLimits.requestBytes", "is more than 1 PiB");
    }
    if (r->response_body_limit > MAX_BYTES) {
        return rt_error(p, "bodyLimits.responseBytes", "is more than 1 PiB");
    }
    return NULL;
}

static const apigw_rt_error *check_timeout(apr_pool_t *p,
                                           apr_interval_time_t t)
{
    if (t == 0) {
        return NULL;           /* the server's */
    }
    if (t < apr_time_from_sec(1)
        || t > apr_time_from_sec(APIGW_RT_MAX_TIMEOUT)) {
        return rt_error(p, "timeoutSeconds", "timeout must be between 1 and "
                        "300 seconds");
    }
    return from_invalid(p, apigw_timeout_validate(p, t));
}

static const apigw_rt_error *check_cache(apr_pool_t *p, apr_interval_time_t t)
{
    if (t > MAX_DURATION) {
        return rt_error(p, "cacheTtlSeconds", "is longer than 366 days");
    }
    return from_invalid(p, apigw_cache_ttl_validate(p, t));
}

/* The rate limiter's checks, mirrored (apigw_rl_limit_validate). */
static const char *rl_key_problem(apr_pool_t *p, const char *by)
{
    static const char *const kinds[] = { "endpoint", "ip", "header",
                                         "cookie", "env", "expr", NULL };
    const char *colon = strchr(by, ':');
    apr_size_t klen = colon ? (apr_size_t)(colon - by) : strlen(by);
    int i;

    for (i = 0; kinds[i]; i++) {
        if (strlen(kinds[i]) == klen
            && !apr_cstr_casecmpn(by, kinds[i], klen)) {
            break;
        }
    }
    if (!kinds[i]) {
        return apr_psprintf(p, "unknown key '%s' (use endpoint, ip, "
                            "header:NAME, cookie:NAME, env:NAME or "
                            "expr:EXPRESSION)", by);
    }
    if (i < 2) {
        return colon ? apr_psprintf(p, "key '%s' takes no name (use %s)", by,
                                    kinds[i]) : NULL;
    }
    if (!colon || !colon[1]) {
        return apr_psprintf(p, "key '%s' needs %s, like %s:X-Api-Key", by,
                            i == 5 ? "an expression" : "a name", kinds[i]);
    }
    return has_ctl(by) ? "control characters are not allowed" : NULL;
}

static const apigw_rt_error *check_rate_limit(apr_pool_t *p,
                                              const apigw_rt_rate_limit *rl)
{
    apr_uint64_t period_ns, interval;
    const char *err;

    if (!rl) {
        return NULL;
    }
    if (rl->average > RL_MAX_AVERAGE) {
        return rt_error(p, "rateLimit.average", "must be from 0 to "
                        "1000000000");
    }
    if (rl->period <= 0 || rl->period > MAX_DURATION) {
        return rt_error(p, "rateLimit.period", "must be more than zero and "
                        "at most 366 days");
    }
    if (rl->burst < 1 || rl->burst > RL_MAX_BURST) {
        return rt_error(p, "rateLimit.burst", "must be from 1 to "
                        "1000000000");
    }
    period_ns = (apr_uint64_t)rl->period * 1000;
    if (rl->average) {
        interval = period_ns / rl->average + (period_ns % rl->average != 0);
        if (interval > RL_MAX_SPAN_NS / rl->burst) {
            return rt_error(p, "rateLimit.burst", "burst * period / average "
                            "is too long");
        }
    }
    if (rl->by && (err = rl_key_problem(p, rl->by)) != NULL) {
        return rt_error(p, "rateLimit.by", err);
    }
    return NULL;
}

static const char *duration_problem(apr_interval_time_t d, int zero_ok)
{
    if (d < 0 || (d == 0 && !zero_ok)) {
        return zero_ok ? "must be zero or more" : "must be more than zero";
    }
    if (d != 0 && d < apr_time_from_msec(1)) {
        return "must be at least 0.001 (1 ms)";
    }
    return d > MAX_DURATION ? "is longer than 366 days" : NULL;
}

/* The breaker's checks that need no expression parser, mirrored
 * (apigw_cb_breaker_validate). */
static const apigw_rt_error *check_breaker(apr_pool_t *p,
                                           const apigw_rt_breaker *cb)
{
    const char *err;
    int i;

    if (!cb) {
        return NULL;
    }
    if (!cb->preset == !cb->expression) {
        return rt_error(p, "circuitBreaker", "give either a preset "
                        "(errors-50, errors-30, 5xx, high-latency) or an "
                        "expression");
    }
    if (cb->preset) {
        for (i = 0; breaker_presets[i]
                    && strcmp(breaker_presets[i], cb->preset); i++) {
        }
        if (!breaker_presets[i]) {
            return rt_error(p, "circuitBreaker.preset", "unknown preset "
                            "(errors-50, errors-30, 5xx, high-latency)");
        }
    }
    else if (!*cb->expression || strlen(cb->expression) > CB_MAX_EXPR_LEN
             || has_ctl(cb->expression)
             || !strpbrk(cb->expression, "<>=!&|()")) {
        return rt_error(p, "circuitBreaker.expression", "must be an "
                        "expression of at most 1024 characters, like "
                        "\"NetworkErrorRatio() > 0.5\"");
    }
    if ((err = duration_problem(cb->check, 0)) != NULL) {
        return rt_error(p, "circuitBreaker.checkSeconds", err);
    }
    if ((err = duration_problem(cb->fallback, 0)) != NULL) {
        return rt_error(p, "circuitBreaker.fallbackSeconds", err);
    }
    if ((err = duration_problem(cb->recovery, 1)) != NULL) {
        return rt_error(p, "circuitBreaker.recoverySeconds", err);
    }
    return NULL;
}

static const apigw_rt_error *check_together(apr_pool_t *p,
                                            const apigw_rt_route *r)
{
    apigw_policy_conf eff;

    memset(&eff, 0, sizeof(eff));
    eff.cors = r->cors;
    eff.security_headers = -1;
    eff.request_body_limit = r->request_body_limit;
    eff.response_body_limit = r->response_body_limit;
    eff.query_deny = r->query_mode == APIGW_RT_QUERY_DENY ? r->query_names
                                                          : NULL;
    eff.cache.enabled = r->cache_ttl > 0 ? 1 : -1;
    eff.cache.flags = -1;
    return from_invalid(p, apigw_policy_validate_endpoint(p, &eff,
                        r->query_mode == APIGW_RT_QUERY_ALLOW
                        || r->query_mode == APIGW_RT_QUERY_ALL,
                        r->cache_ttl));
}

const apigw_rt_error *apigw_rt_outside_error(apr_pool_t *p,
                                             const char *group,
                                             const char *msg)
{
    apr_size_t n = strlen(group);
    const char *colon;

    if (strncmp(msg, group, n) == 0 && (msg[n] == '.' || msg[n] == ':')
        && (colon = strstr(msg, ": ")) != NULL) {
        return rt_error(p, apr_pstrmemdup(p, msg, (apr_size_t)(colon - msg)),
                        colon + 2);
    }
    return rt_error(p, group, msg);
}

static const apigw_rt_error *check_values(apr_pool_t *p, const char *group,
                                          const apr_array_header_t *rules,
                                          const apigw_rt_checks *checks)
{
    const char *err;
    int i;

    for (i = 0; rules && i < rules->nelts; i++) {
        const char *v = APR_ARRAY_IDX(rules, i, apigw_header_rule).value;

        if (v && (strchr(v, '%') || strchr(v, '\\'))
            && (err = checks->header_value(p, v)) != NULL) {
            return rt_error(p, apr_psprintf(p, "%s[%d].value", group, i), err);
        }
    }
    return NULL;
}

static const apigw_rt_error *check_others(apr_pool_t *p,
                                          const apigw_rt_route *r,
                                          const apigw_rt_checks *checks)
{
    const apigw_rt_error *e;
    const char *err;

    if (!checks) {
        return NULL;
    }
    if (checks->header_value
        && ((e = check_values(p, "requestHeaders", r->request_headers, checks))
            || (e = check_values(p, "responseHeaders", r->response_headers,
                                 checks)))) {
        return e;
    }
    if (r->rate_limit && checks->rate_limit
        && (err = checks->rate_limit(p, r->rate_limit)) != NULL) {
        return apigw_rt_outside_error(p, "rateLimit", err);
    }
    if (r->breaker && checks->breaker
        && (err = checks->breaker(p, r->breaker)) != NULL) {
        return apigw_rt_outside_error(p, "circuitBreaker", err);
    }
    return NULL;
}

const apigw_rt_error *apigw_rt_route_validate(apr_pool_t *p,
                                              const apigw_rt_route *r,
                                              const apigw_rt_checks *checks)
{
    const apigw_rt_error *e;

    if (r->id && !apigw_rt_is_uuid(r->id)) {
        return rt_error(p, "id", "must be a lower-case UUID");
    }
    if ((e = apigw_rt_environment_check(p, r->environment))
        || (e = check_path(p, r->path))
        || (e = check_target(p, r->target_url, r->path))
        || (e = check_methods(p, r->methods))
        || (e = check_cors(p, &r->cors))
        || (e = check_rate_limit(p, r->rate_limit))
        || (e = from_invalid(p, apigw_header_rules_validate(p,
                             "requestHeaders", r->request_headers)))
        || (e = from_invalid(p, apigw_header_rules_validate(p,
                             "responseHeaders", r->response_headers)))
        || (e = check_rewrite(p, r->path_rewrite))
        || (e = check_query(p, r))
        || (e = check_body_limits(p, r))
        || (e = check_timeout(p, r->timeout))
        || (e = check_breaker(p, r->breaker))
        || (e = check_cache(p, r->cache_ttl))
        || (e = check_together(p, r))) {
        return e;
    }
    return check_others(p, r, checks);
}

/* ---- identifiers and times ---- */

const char *apigw_rt_uuid(apr_pool_t *p)
{
    unsigned char b[16];

    if (apr_generate_random_bytes(b, sizeof(b)) != APR_SUCCESS) {
        return NULL;
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);   /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);   /* RFC 4122 variant */
    return apr_psprintf(p, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
                        "%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3],
                        b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
                        b[12], b[13], b[14], b[15]);
}

int apigw_rt_is_uuid(const char *s)
{
    int i;

    for (i = 0; i < 36; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;

        if (dash ? s[i] != '-'
                 : !((s[i] >= '0' && s[i] <= '9')
                     || (s[i] >= 'a' && s[i] <= 'f'))) {
            return 0;
        }
    }
    return s[36] == '\0';
}

const char *apigw_rt_time_text(apr_pool_t *p, apr_time_t t)
{
    apr_time_exp_t x;

    if (apr_time_exp_gmt(&x, t) != APR_SUCCESS) {
        return NULL;
    }
    return apr_psprintf(p, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                        x.tm_year + 1900, x.tm_mon + 1, x.tm_mday, x.tm_hour,
                        x.tm_min, x.tm_sec, x.tm_usec / 1000);
}
