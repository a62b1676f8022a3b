/* Validation of the edge policies' settings (see apigw_policy_validate.h):
 * called by the directive handlers (apigw_policy_config.c), by the
 * effective policy of each endpoint (apigw_policy_effective.c) and by the
 * admin API for routes registered at run time. */
#include "apigw_policy_validate.h"
#include "apigw_parse.h"

#include "apr_strings.h"

static const apigw_invalid *invalid(apr_pool_t *p, const char *field,
                                    const char *problem)
{
    apigw_invalid *inv = apr_palloc(p, sizeof(*inv));

    inv->field = field;
    inv->problem = problem;
    return inv;
}

static const char *item(apr_pool_t *p, const char *list, int i)
{
    return apr_psprintf(p, "%s[%d]", list, i);
}

/* ---- CORS ---- */

static const apigw_invalid *cors_origins(apr_pool_t *p,
                                         const apigw_cors_policy *c)
{
    const char *err;
    int i;

    for (i = 0; c->origins && i < c->origins->nelts; i++) {
        const char *o = APR_ARRAY_IDX(c->origins, i, const char *);
        if (strcmp(o, "*") == 0) {
            continue;
        }
        if ((err = apigw_cors_origin_check(p, o)) != NULL) {
            return invalid(p, item(p, "cors.allowOrigins", i),
                           apr_psprintf(p, "'%s': %s", o, err));
        }
    }
    return NULL;
}

static const apigw_invalid *cors_names(apr_pool_t *p, const char *field,
                                       const apr_array_header_t *names,
                                       int star_allowed)
{
    int i;

    for (i = 0; names && i < names->nelts; i++) {
        const char *n = APR_ARRAY_IDX(names, i, const char *);
        if (star_allowed && strcmp(n, "*") == 0) {
            continue;
        }
        if (!apigw_is_token(n)) {
            return invalid(p, item(p, field, i), apr_psprintf(p,
                           "'%s' is not a valid header name", n));
        }
    }
    return NULL;
}

const apigw_invalid *apigw_cors_validate(apr_pool_t *p,
                                         const apigw_cors_policy *c)
{
    const apigw_invalid *inv;
    int i;

    if ((inv = cors_origins(p, c)) != NULL) {
        return inv;
    }
    for (i = 0; c->methods && i < c->methods->nelts; i++) {
        const char *m = APR_ARRAY_IDX(c->methods, i, const char *);
        if (!apigw_method_known(m, 1)) {
            return invalid(p, item(p, "cors.allowMethods", i), apr_psprintf(p,
                           "unknown method '%s' (GET, HEAD, POST, PUT, PATCH, "
                           "DELETE, OPTIONS; upper case)", m));
        }
    }
    if ((inv = cors_names(p, "cors.allowHeaders", c->headers, 1)) != NULL
        || (inv = cors_names(p, "cors.exposeHeaders", c->expose, 0)) != NULL) {
        return inv;
    }
    if (c->max_age < -1) {
        return invalid(p, "cors.maxAgeSeconds", "cannot be negative");
    }
    if (c->preflight_status != 0
        && (c->preflight_status < 200 || c->preflight_status > 299)) {
        return invalid(p, "cors.preflightStatus", apr_psprintf(p,
                       "%d: the status must be a 2xx code, like 204 or 200",
                       c->preflight_status));
    }
    if (c->any_origin && c->credentials == 1) {
        return invalid(p, "cors.allowCredentials", "any origin (*) cannot be "
                       "combined with credentials (browsers refuse it); "
                       "list the origins instead");
    }
    return NULL;
}

/* ---- header rules ---- */

static int ctl_byte(unsigned c)
{
    return (c < 0x20 && c != '\t') || c == 0x7f;
}

/* Control characters, and the escapes that turn into one: a value holding
 * '%' or '\' is an ap_expr string, whose lexer (httpd 2.4) makes "\n",
 * "\r", "\b", "\f" and an octal "\0".."\377" into bytes ("\t" is a tab,
 * "\\" a backslash followed by text, "\x0d" the text "x0d"). What a
 * %{variable} holds is checked when the value is set. */
static int bad_header_value(const char *v)
{
    const char *s;

    for (s = v; *s; s++) {
        unsigned n = 0;
        int k;

        if (ctl_byte((unsigned char)*s)) {
            return 1;
        }
        if (*s != '\\') {
            continue;
        }
        if (s[1] == 'r' || s[1] == 'n' || s[1] == 'b' || s[1] == 'f') {
            return 1;
        }
        for (k = 1; k <= 3 && s[k] >= '0' && s[k] <= '7'; k++) {
            n = n * 8 + (unsigned)(s[k] - '0');
        }
        if (k > 1) {
            if (ctl_byte(n)) {
                return 1;
            }
            s += k - 1;                 /* past the digits */
        }
        else if (s[1] == '\\') {
            s++;                        /* "\\": what follows is text */
        }
    }
    return 0;
}

static const char *header_rule_problem(apr_pool_t *p,
                                       const apigw_header_rule *rule)
{
    if (!rule->name || !apigw_is_token(rule->name)) {
        return apr_psprintf(p, "'%s' is not a valid header name",
                            rule->name ? rule->name : "");
    }
    if (rule->action == APIGW_HDR_UNSET) {
        return rule->value ? apr_psprintf(p, "unset %s takes no value",
                                          rule->name) : NULL;
    }
    if (rule->action != APIGW_HDR_SET && rule->action != APIGW_HDR_ADD) {
        return "unknown action (set, add or unset)";
    }
    if (!rule->value) {
        return apr_psprintf(p, "%s needs a value", rule->name);
    }
    if (bad_header_value(rule->value)) {
        return apr_psprintf(p, "%s: the value holds CR, LF or another "
                            "control character (or an escape such as \\r "
                            "that makes one), which cannot be part of a "
                            "header", rule->name);
    }
    return NULL;
}

const apigw_invalid *apigw_header_rules_validate(apr_pool_t *p,
                                                 const char *field,
                                                 const apr_array_header_t *rules)
{
    const char *problem;
    int i;

    for (i = 0; rules && i < rules->nelts; i++) {
        problem = header_rule_problem(p, &APR_ARRAY_IDX(rules, i,
                                                        apigw_header_rule));
        if (problem) {
            return invalid(p, item(p, field, i), problem);
        }
    }
    return NULL;
}

/* ---- bot detection ---- */

/* A User-Agent value as a directive writes it: what could never equal a
 * User-Agent httpd hands over (empty, a control character other than a
 * tab, whitespace at either end, which httpd strips), or NULL. Patterns
 * may hold what they like: PCRE2 says whether they compile. */
static const char *bot_value_problem(apr_pool_t *p, const char *v, int exact)
{
    const char *s;
    apr_size_t n;

    if (!v || !*v) {
        return "an empty value (a request without User-Agent is "
               "ApiBotEmptyUserAgent's)";
    }
    for (s = v; *s; s++) {
        if (ctl_byte((unsigned char)*s)) {
            return apr_psprintf(p, "'%s' holds CR, LF or another control "
                                "character, which no User-Agent holds", v);
        }
    }
    n = (apr_size_t)(s - v);
    if (exact && (v[0] == ' ' || v[0] == '\t' || v[n - 1] == ' '
                  || v[n - 1] == '\t')) {
        return apr_psprintf(p, "'%s' starts or ends with a space, which "
                            "httpd strips from a User-Agent: it could never "
                            "match", v);
    }
    return NULL;
}

static const apigw_invalid *bot_values(apr_pool_t *p, const char *field,
                                       const apr_array_header_t *values,
                                       int exact)
{
    const char *problem;
    int i;

    for (i = 0; values && i < values->nelts; i++) {
        problem = bot_value_problem(p, APR_ARRAY_IDX(values, i, const char *),
                                    exact);
        if (problem) {
            return invalid(p, item(p, field, i), problem);
        }
    }
    return NULL;
}

const apigw_invalid *apigw_bots_validate(apr_pool_t *p,
                                         const apigw_bot_policy *b)
{
    const apigw_invalid *inv;

    if ((inv = bot_values(p, "bots.allow", b->allow, 1)) != NULL
        || (inv = bot_values(p, "bots.deny", b->deny, 1)) != NULL
        || (inv = bot_values(p, "bots.patterns", b->patterns, 0)) != NULL) {
        return inv;
    }
    if (b->empty_ua < -1 || b->empty_ua > 1) {
        return invalid(p, "bots.emptyUserAgent", "allow or deny");
    }
    return NULL;
}

/* ---- query, limits, timeouts ---- */

const apigw_invalid *apigw_query_deny_validate(apr_pool_t *p,
                                               const apr_array_header_t *names)
{
    int i;

    for (i = 0; names && i < names->nelts; i++) {
        const char *n = APR_ARRAY_IDX(names, i, const char *);
        if (!*n || strpbrk(n, "&= \t")) {
            return invalid(p, item(p, "queryPolicy.names", i), apr_psprintf(p,
                           "'%s' is not a valid query string name", n));
        }
    }
    return NULL;
}

const apigw_invalid *apigw_body_limit_validate(apr_pool_t *p,
                                               const char *field,
                                               apr_off_t limit)
{
    return limit == -1 || limit > 0 ? NULL
           : invalid(p, field, "must be greater than zero");
}

const apigw_invalid *apigw_timeout_validate(apr_pool_t *p,
                                            apr_interval_time_t t)
{
    return t > 0 ? NULL : invalid(p, "timeoutSeconds", "must be greater than zero");
}

const apigw_invalid *apigw_cache_ttl_validate(apr_pool_t *p,
                                              apr_interval_time_t ttl)
{
    if (ttl < 0) {
        return invalid(p, "cacheTtlSeconds", "must be greater than zero");
    }
    if (ttl > 0 && ttl < apr_time_from_sec(1)) {
        return invalid(p, "cacheTtlSeconds", "must be at least 1s (Cache-Control "
                       "counts seconds)");
    }
    return NULL;
}

/* ---- an endpoint's policies together ---- */

const apigw_invalid *apigw_policy_validate_endpoint(apr_pool_t *p,
                                                    const apigw_policy_conf *eff,
                                                    int has_allow_list,
                                                    apr_interval_time_t cache_ttl)
{
    if (eff->cors.enabled == 1 && eff->cors.credentials == 1
        && (eff->cors.any_origin || !eff->cors.origins)) {
        return invalid(p, "cors.allowCredentials", "credentials need a list of "
                       "origins: every origin (*, or no list) with "
                       "credentials would let any site act as the user");
    }
    if (eff->query_deny && has_allow_list) {
        return invalid(p, "queryPolicy.names", "a deny-list and an allow-list "
                       "of query strings cannot both be used; an endpoint "
                       "forwards all, an allow-list or all but a deny-list");
    }
    if (eff->cache.enabled == 1 && cache_ttl <= 0) {
        return invalid(p, "cacheTtlSeconds", "the cache needs a TTL: it says how long "
                       "responses are kept");
    }
    return NULL;
}
