/* mod_apigw_ratelimit configuration: ApiRateLimit, ApiRateLimitTier,
 * ApiRateLimitHeaders, ApiRateLimitHeadersAdmitted, ApiRateLimitZone,
 * ApiRateLimitMaxDelayed, ApiRateLimitStore, ApiRateLimitStoreFailure,
 * the create/merge functions and the list of every limit read. Every
 * mistake is refused at configtest with a message naming the directive;
 * what only the whole configuration shows is checked in check_config and
 * logged with the file:line of the line at fault. */
#include "apigw_rl_config.h"
#include "apigw_rl_headers.h"
#include "apigw_parse.h"
#include "apigw_log.h"

#include "http_log.h"
#include "apr_lib.h"
#include "apr_strings.h"

APLOG_USE_MODULE(apigw_ratelimit);

#define MAX_AVERAGE 1000000000ULL
#define MAX_BURST 1000000000ULL
#define MAX_DELAYED 100000

/* every limit of the configuration being read (pconf); see pre_config */
static apr_array_header_t *all_limits;

/* ---- create / merge ---- */

void *apigw_rl_create_dir_conf(apr_pool_t *p, char *dir)
{
    apigw_rl_dir_conf *c = apr_pcalloc(p, sizeof(*c));
    (void)dir;
    c->limits = apr_array_make(p, 1, sizeof(apigw_rl_limit *));
    c->headers = APIGW_RL_HEADERS_UNSET;
    c->headers_admitted = -1;
    return c;
}

static int replaced_by(const apigw_rl_limit *l, const apr_array_header_t *add)
{
    int i;

    if (!l->name) {
        return 0;
    }
    for (i = 0; i < add->nelts; i++) {
        const apigw_rl_limit *a = APR_ARRAY_IDX(add, i, apigw_rl_limit *);
        if (a->name && strcmp(a->name, l->name) == 0) {
            return 1;
        }
    }
    return 0;
}

/* A nested context keeps the outer limits and adds its own; its own limit
 * of the same name= replaces the outer one; "ApiRateLimit off" keeps only
 * its own. The header settings are inherited unless set. */
void *apigw_rl_merge_dir_conf(apr_pool_t *p, void *basev, void *addv)
{
    const apigw_rl_dir_conf *base = basev, *add = addv;
    apigw_rl_dir_conf *c = apr_pcalloc(p, sizeof(*c));
    int i;

    c->off = add->off;
    c->headers = add->headers != APIGW_RL_HEADERS_UNSET ? add->headers
                                                         : base->headers;
    c->headers_admitted = add->headers_admitted != -1 ? add->headers_admitted
                                                      : base->headers_admitted;
    /* runs per request for every matching <Location>: share the arrays
     * (read-only once the configuration is read) when one side is empty */
    if (add->off || base->limits->nelts == 0) {
        c->limits = add->limits;
        return c;
    }
    if (add->limits->nelts == 0) {
        c->limits = base->limits;
        return c;
    }
    c->limits = apr_array_make(p, base->limits->nelts + add->limits->nelts,
                               sizeof(apigw_rl_limit *));
    for (i = 0; i < base->limits->nelts; i++) {
        apigw_rl_limit *l = APR_ARRAY_IDX(base->limits, i, apigw_rl_limit *);
        if (!replaced_by(l, add->limits)) {
            APR_ARRAY_PUSH(c->limits, apigw_rl_limit *) = l;
        }
    }
    for (i = 0; i < add->limits->nelts; i++) {
        APR_ARRAY_PUSH(c->limits, apigw_rl_limit *) =
            APR_ARRAY_IDX(add->limits, i, apigw_rl_limit *);
    }
    return c;
}

apigw_rl_headers_mode apigw_rl_headers(const apigw_rl_dir_conf *dc)
{
    return dc->headers == APIGW_RL_HEADERS_UNSET ? APIGW_RL_HEADERS_LEGACY
                                                 : dc->headers;
}

int apigw_rl_headers_admitted(const apigw_rl_dir_conf *dc)
{
    return dc->headers_admitted != 0;
}

void *apigw_rl_create_server_conf(apr_pool_t *p, server_rec *s)
{
    apigw_rl_server_conf *c = apr_pcalloc(p, sizeof(*c));
    (void)s;
    c->max_delayed = -1;
    return c;
}

/* A virtual host inherits the main server's store and failure mode unless
 * it sets its own; the zone and the delay cap are global. */
void *apigw_rl_merge_server_conf(apr_pool_t *p, void *basev, void *addv)
{
    const apigw_rl_server_conf *base = basev, *add = addv;
    apigw_rl_server_conf *c = apr_pmemdup(p, add, sizeof(*c));

    c->zone_size = add->zone_size ? add->zone_size : base->zone_size;
    c->store = add->store ? add->store : base->store;
    c->max_delayed = add->max_delayed >= 0 ? add->max_delayed
                                           : base->max_delayed;
    if (!add->failure_set) {
        c->failure_closed = base->failure_closed;
        c->failure_set = base->failure_set;
    }
    return c;
}

/* ---- the list of every limit ---- */

int apigw_rl_config_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                               apr_pool_t *ptemp)
{
    (void)plog;
    (void)ptemp;
    all_limits = apr_array_make(pconf, 16, sizeof(apigw_rl_limit *));
    return OK;
}

apr_array_header_t *apigw_rl_config_limits(void)
{
    return all_limits;
}

const apigw_rl_policy *apigw_rl_tier_policy(const apigw_rl_limit *l,
                                            const char *value)
{
    const apigw_rl_policy *t = NULL;

    if (value && l->tier_of) {
        t = apr_hash_get(l->tier_of, value, APR_HASH_KEY_STRING);
    }
    return t ? t : &l->base;
}

int apigw_rl_config_check(apr_pool_t *pconf, apr_pool_t *plog,
                          apr_pool_t *ptemp, server_rec *s)
{
    int i, rv = OK;

    (void)pconf;
    (void)plog;
    (void)ptemp;
    for (i = 0; all_limits && i < all_limits->nelts; i++) {
        const apigw_rl_limit *l = APR_ARRAY_IDX(all_limits, i,
                                                apigw_rl_limit *);
        if (l->tier_by && l->tiers->nelts == 0) {
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_CRIT, 0, s,
                         APIGW_LOGNO(01010) "ApiRateLimit name=%s (%s:%u) "
                         "has tier= but no ApiRateLimitTier %s line follows "
                         "it in its context", l->name, l->file, l->line,
                         l->name);
            rv = !OK;
        }
    }
    return rv;
}

/* ---- numbers ---- */

static const char *parse_count(apr_pool_t *p, const char *dir,
                               const char *key, const char *value,
                               apr_uint64_t min, apr_uint64_t max,
                               apr_uint64_t *out)
{
    apr_uint64_t n = 0;
    const char *c;

    if (!*value) {
        return apr_psprintf(p, "%s: %s= needs a number", dir, key);
    }
    for (c = value; *c; c++) {
        if (*c < '0' || *c > '9') {
            return apr_psprintf(p, "%s: %s=%s is not a whole number", dir,
                                key, value);
        }
        n = n * 10 + (apr_uint64_t)(*c - '0');
        if (n > max) {
            break;
        }
    }
    if (n < min || n > max) {
        return apr_psprintf(p, "%s: %s=%s is out of range "
                            "(%" APR_UINT64_T_FMT " to %" APR_UINT64_T_FMT ")",
                            dir, key, value, min, max);
    }
    *out = n;
    return NULL;
}

static const char *parse_period(apr_pool_t *p, const char *dir,
                                const char *value, apr_interval_time_t *out)
{
    const char *err = apigw_parse_duration(value, out);

    if (err) {
        return apr_psprintf(p, "%s: period=%s: %s", dir, value, err);
    }
    if (*out <= 0) {
        return apr_psprintf(p, "%s: period= must be greater than zero", dir);
    }
    return NULL;
}

static const char *parse_delay(apr_pool_t *p, const char *dir,
                               const char *value, apr_interval_time_t *out)
{
    const char *err = apigw_parse_duration(value, out);

    if (err) {
        return apr_psprintf(p, "%s: delay=%s: %s", dir, value, err);
    }
    if (*out > APIGW_RL_MAX_DELAY) {
        return apr_psprintf(p, "%s: delay=%s is longer than the %d s a "
                            "request may wait", dir, value,
                            (int)apr_time_sec(APIGW_RL_MAX_DELAY));
    }
    return NULL;
}

/* ---- keys: by= and tier= ---- */

#define KEY_KINDS "ip, header:NAME, cookie:NAME, env:NAME or expr:EXPRESSION"

/* One key part; text is "ip", "header:X-Key", "expr:%{...}"... */
static const char *parse_key_part(cmd_parms *cmd, const char *opt,
                                  const char *text, int allow_endpoint,
                                  apigw_rl_by *out)
{
    apr_pool_t *p = cmd->pool;
    const char *colon = strchr(text, ':');
    const char *kind = colon ? apr_pstrmemdup(p, text,
                                              (apr_size_t)(colon - text))
                             : text;
    const char *err = NULL;

    memset(out, 0, sizeof(*out));
    if (ap_cstr_casecmp(kind, "endpoint") == 0 && !colon && allow_endpoint) {
        out->kind = APIGW_RL_BY_ENDPOINT;
        return NULL;
    }
    if (ap_cstr_casecmp(kind, "ip") == 0 && !colon) {
        out->kind = APIGW_RL_BY_IP;
        return NULL;
    }
    if (ap_cstr_casecmp(kind, "header") == 0) {
        out->kind = APIGW_RL_BY_HEADER;
    }
    else if (ap_cstr_casecmp(kind, "cookie") == 0) {
        out->kind = APIGW_RL_BY_COOKIE;
    }
    else if (ap_cstr_casecmp(kind, "env") == 0) {
        out->kind = APIGW_RL_BY_ENV;
    }
    else if (ap_cstr_casecmp(kind, "expr") == 0) {
        out->kind = APIGW_RL_BY_EXPR;
    }
    else {
        return apr_psprintf(p, "ApiRateLimit: unknown key '%s' in %s= "
                            "(use %s" KEY_KINDS ")", text, opt,
                            allow_endpoint ? "endpoint, " : "");
    }
    if (!colon || !colon[1]) {
        return apr_psprintf(p, "ApiRateLimit: key '%s' in %s= needs %s, "
                            "like %s", text, opt,
                            out->kind == APIGW_RL_BY_EXPR ? "an expression"
                                                          : "a name",
                            out->kind == APIGW_RL_BY_EXPR
                                ? "expr:%{REMOTE_USER}"
                                : apr_pstrcat(p, kind, ":X-Api-Key", NULL));
    }
    out->name = apr_pstrdup(p, colon + 1);
    if (out->kind == APIGW_RL_BY_EXPR) {
        /* DONT_VARY: a limit's key must not add Vary to the response */
        out->expr = ap_expr_parse_cmd(cmd, out->name,
                                      AP_EXPR_FLAG_STRING_RESULT
                                      | AP_EXPR_FLAG_DONT_VARY, &err, NULL);
        if (err) {
            return apr_psprintf(p, "ApiRateLimit: %s=expr:%s: cannot parse "
                                "the expression: %s", opt, out->name, err);
        }
    }
    return NULL;
}

/* by=KEY[,KEY...]: an expr: part takes the rest of the value, commas and
 * all, so it comes last. */
static const char *parse_by(cmd_parms *cmd, apigw_rl_limit *l,
                            const char *value)
{
    apr_pool_t *p = cmd->pool;
    const char *part = value, *err;

    if (!*value) {
        return "ApiRateLimit: by= needs a key: endpoint, " KEY_KINDS;
    }
    for (;;) {
        const char *comma = strchr(part, ',');
        const char *text;
        apigw_rl_by by;

        if (ap_cstr_casecmpn(part, "expr:", 5) == 0) {
            comma = NULL;
        }
        text = comma ? apr_pstrmemdup(p, part, (apr_size_t)(comma - part))
                     : part;
        if (!*text) {
            return apr_psprintf(p, "ApiRateLimit: by=%s has an empty key",
                                value);
        }
        if ((err = parse_key_part(cmd, "by", text, 1, &by)) != NULL) {
            return err;
        }
        if (by.kind != APIGW_RL_BY_ENDPOINT) {
            APR_ARRAY_PUSH(l->by, apigw_rl_by) = by;
        }
        if (!comma) {
            return NULL;
        }
        part = comma + 1;
    }
}

static const char *parse_tier_key(cmd_parms *cmd, apigw_rl_limit *l,
                                  const char *value)
{
    apigw_rl_by *by = apr_pcalloc(cmd->pool, sizeof(*by));
    const char *err;

    if (!*value) {
        return "ApiRateLimit: tier= needs a key: " KEY_KINDS;
    }
    if (ap_cstr_casecmpn(value, "expr:", 5) != 0 && strchr(value, ',')) {
        return "ApiRateLimit: tier= takes one key (combine values with "
               "tier=expr:...)";
    }
    if ((err = parse_key_part(cmd, "tier", value, 0, by)) != NULL) {
        return err;
    }
    l->tier_by = by;
    return NULL;
}

static const char *parse_name(apr_pool_t *p, const char *value,
                              const char **out)
{
    const char *c;

    /* names appear in JSON and in RateLimit-Policy's quoted strings */
    for (c = value; *c; c++) {
        if (!apr_isalnum(*c) && !strchr("._:-", *c)) {
            break;
        }
    }
    if (!*value || *c) {
        return apr_psprintf(p, "ApiRateLimit: name=%s is not a valid name "
                            "(letters, digits and . _ : -)", value);
    }
    *out = value;
    return NULL;
}

static const char *parse_status(apr_pool_t *p, const char *value, int *out)
{
    apr_uint64_t n;

    if (parse_count(p, "ApiRateLimit", "status", value, 400, 599, &n)) {
        return apr_psprintf(p, "ApiRateLimit: status=%s must be an HTTP error "
                            "status from 400 to 599", value);
    }
    *out = (int)n;
    return NULL;
}

/* ---- policies ---- */

/* Fills in what follows from a policy's numbers: its rate, identity and
 * hashes. owner: the limit's name, or its file:line. */
static const char *finish_policy(apr_pool_t *p, const char *dir,
                                 apigw_rl_policy *pol, const char *owner)
{
    const char *err;

    if ((err = apigw_rl_rate_init(&pol->rate, pol->average,
                                  (apr_uint64_t)pol->period * 1000,
                                  pol->burst,
                                  (apr_uint64_t)pol->delay * 1000)) != NULL) {
        return apr_pstrcat(p, dir, ": ", err, NULL);
    }
    pol->ident = apr_psprintf(p, "%s%s%s|%" APR_UINT64_T_FMT "|%"
                              APR_TIME_T_FMT "|%" APR_UINT64_T_FMT, owner,
                              pol->tier ? "|tier=" : "",
                              pol->tier ? pol->tier : "", pol->average,
                              pol->period, pol->burst);
    apigw_rl_hash_init(&pol->seed);
    apigw_rl_hash_add(&pol->seed, pol->ident, strlen(pol->ident));
    pol->ident_hash = pol->seed;
    apigw_rl_hash_final(&pol->ident_hash);
    pol->average_text = apr_psprintf(p, "%" APR_UINT64_T_FMT, pol->average);
    pol->quota_params = apigw_rl_quota_params(p, pol->average,
                                              (apr_uint64_t)pol->period
                                              * 1000);
    return NULL;
}

/* ---- ApiRateLimit ---- */

enum {
    OPT_AVERAGE, OPT_PERIOD, OPT_BURST, OPT_BY, OPT_NAME, OPT_STATUS,
    OPT_DELAY, OPT_TIER, OPT_COUNT
};

static const char *const limit_options[] = {
    "average", "period", "burst", "by", "name", "status", "delay", "tier",
    NULL
};

static const char *set_option(cmd_parms *cmd, apigw_rl_limit *l,
                              const char *word, int *seen)
{
    apr_pool_t *p = cmd->pool;
    const char *eq = strchr(word, '=');
    const char *key, *value;
    apr_uint64_t n;
    const char *err;
    int i;

    if (!eq || eq == word) {
        return apr_psprintf(p, "ApiRateLimit: options are key=value, got '%s' "
                            "(or use 'ApiRateLimit off')", word);
    }
    key = apr_pstrmemdup(p, word, (apr_size_t)(eq - word));
    value = eq + 1;
    for (i = 0; limit_options[i] && strcmp(key, limit_options[i]); i++) {
    }
    if (!limit_options[i]) {
        return apr_psprintf(p, "ApiRateLimit: unknown option '%s' (use average, "
                            "period, burst, by, name, status, delay or tier)",
                            key);
    }
    if (seen[i]++) {
        return apr_psprintf(p, "ApiRateLimit: %s= given twice", key);
    }
    switch (i) {
    case OPT_AVERAGE:
        return parse_count(p, "ApiRateLimit", "average", value, 0, MAX_AVERAGE,
                           &l->base.average);
    case OPT_PERIOD:
        return parse_period(p, "ApiRateLimit", value, &l->base.period);
    case OPT_BURST:
        err = parse_count(p, "ApiRateLimit", "burst", value, 1, MAX_BURST, &n);
        l->base.burst = n;
        return err;
    case OPT_BY:
        return parse_by(cmd, l, value);
    case OPT_NAME:
        return parse_name(p, value, &l->name);
    case OPT_STATUS:
        return parse_status(p, value, &l->status);
    case OPT_DELAY:
        return parse_delay(p, "ApiRateLimit", value, &l->base.delay);
    default:
        return parse_tier_key(cmd, l, value);
    }
}

static const char *set_rate_limit(cmd_parms *cmd, void *dconf, const char *args)
{
    apigw_rl_dir_conf *c = dconf;
    apigw_rl_limit *l;
    const char *word, *err;
    int seen[OPT_COUNT] = { 0 }, i;

    word = ap_getword_conf(cmd->temp_pool, &args);
    if (ap_cstr_casecmp(word, "off") == 0) {
        if (*ap_getword_conf(cmd->temp_pool, &args)) {
            return "ApiRateLimit off takes no options";
        }
        c->off = 1;
        return NULL;
    }
    if (!*word) {
        return "ApiRateLimit needs average=N period=DURATION [burst=B] "
               "[by=KEY,...] [name=NAME] [status=CODE] [delay=DURATION] "
               "[tier=KEY], or off";
    }
    l = apr_pcalloc(cmd->pool, sizeof(*l));
    l->base.burst = 1;
    l->status = HTTP_TOO_MANY_REQUESTS;
    l->by = apr_array_make(cmd->pool, 2, sizeof(apigw_rl_by));
    l->tiers = apr_array_make(cmd->pool, 2, sizeof(apigw_rl_policy *));
    l->file = l->base.file = cmd->directive->filename;
    l->line = l->base.line = (unsigned)cmd->directive->line_num;
    for (; *word; word = ap_getword_conf(cmd->pool, &args)) {
        if ((err = set_option(cmd, l, word, seen)) != NULL) {
            return err;
        }
    }
    if (!seen[OPT_AVERAGE] || !seen[OPT_PERIOD]) {
        return apr_psprintf(cmd->pool, "ApiRateLimit needs %s (e.g. "
                            "average=100 period=1m)",
                            !seen[OPT_AVERAGE] ? "average=N"
                                               : "period=DURATION");
    }
    if (l->tier_by && !l->name) {
        return "ApiRateLimit: tier= needs name= (ApiRateLimitTier lines "
               "name the limit they belong to)";
    }
    if ((err = finish_policy(cmd->pool, "ApiRateLimit", &l->base,
                             l->name ? l->name
                                     : apr_psprintf(cmd->pool, "%s:%u",
                                                    l->file, l->line)))) {
        return err;
    }
    for (i = 0; l->name && i < c->limits->nelts; i++) {
        const apigw_rl_limit *o = APR_ARRAY_IDX(c->limits, i, apigw_rl_limit *);
        if (o->name && strcmp(o->name, l->name) == 0) {
            return apr_psprintf(cmd->pool, "ApiRateLimit: name=%s is already "
                                "used in this context (%s:%u)", l->name,
                                o->file, o->line);
        }
    }
    APR_ARRAY_PUSH(c->limits, apigw_rl_limit *) = l;
    if (all_limits) {
        APR_ARRAY_PUSH(all_limits, apigw_rl_limit *) = l;
    }
    return NULL;
}

/* ---- ApiRateLimitTier NAME VALUE... average=N [period=] [burst=]
 *      [delay=] ---- */

static const char *set_tier_option(cmd_parms *cmd, apigw_rl_policy *t,
                                   const char *word, int *seen)
{
    static const char *const names[] = { "average", "period", "burst",
                                         "delay", NULL };
    apr_pool_t *p = cmd->pool;
    const char *eq = strchr(word, '=');
    const char *key = apr_pstrmemdup(p, word, (apr_size_t)(eq - word));
    const char *value = eq + 1;
    apr_uint64_t n;
    const char *err;
    int i;

    for (i = 0; names[i] && strcmp(key, names[i]); i++) {
    }
    if (!names[i]) {
        return apr_psprintf(p, "ApiRateLimitTier: unknown option '%s' (use "
                            "average, period, burst or delay)", key);
    }
    if (seen[i]++) {
        return apr_psprintf(p, "ApiRateLimitTier: %s= given twice", key);
    }
    switch (i) {
    case 0:
        return parse_count(p, "ApiRateLimitTier", "average", value, 0,
                           MAX_AVERAGE, &t->average);
    case 1:
        return parse_period(p, "ApiRateLimitTier", value, &t->period);
    case 2:
        err = parse_count(p, "ApiRateLimitTier", "burst", value, 1,
                          MAX_BURST, &n);
        t->burst = n;
        return err;
    default:
        return parse_delay(p, "ApiRateLimitTier", value, &t->delay);
    }
}

static apigw_rl_limit *context_limit(const apigw_rl_dir_conf *c,
                                     const char *name)
{
    int i;

    for (i = 0; i < c->limits->nelts; i++) {
        apigw_rl_limit *l = APR_ARRAY_IDX(c->limits, i, apigw_rl_limit *);
        if (l->name && strcmp(l->name, name) == 0) {
            return l;
        }
    }
    return NULL;
}

static const char *set_tier(cmd_parms *cmd, void *dconf, const char *args)
{
    apigw_rl_dir_conf *c = dconf;
    apr_pool_t *p = cmd->pool;
    apr_array_header_t *values = apr_array_make(cmd->temp_pool, 2,
                                                sizeof(const char *));
    const char *name, *word, *err;
    apigw_rl_limit *l;
    apigw_rl_policy *t;
    int seen[4] = { 0 }, i;

    name = ap_getword_conf(p, &args);
    if (!*name || strchr(name, '=')) {
        return "ApiRateLimitTier needs NAME VALUE [VALUE...] average=N "
               "[period=DURATION] [burst=B] [delay=DURATION]";
    }
    l = context_limit(c, name);
    if (!l) {
        return apr_psprintf(p, "ApiRateLimitTier %s: no ApiRateLimit "
                            "name=%s above it in this context", name, name);
    }
    if (!l->tier_by) {
        return apr_psprintf(p, "ApiRateLimitTier %s: ApiRateLimit name=%s "
                            "(%s:%u) has no tier= saying what selects a tier",
                            name, name, l->file, l->line);
    }
    t = apr_pcalloc(p, sizeof(*t));
    t->period = l->base.period;         /* the limit's, unless given */
    t->burst = l->base.burst;
    t->delay = l->base.delay;
    t->file = cmd->directive->filename;
    t->line = (unsigned)cmd->directive->line_num;
    while (*(word = ap_getword_conf(p, &args))) {
        if (!strchr(word, '=')) {
            APR_ARRAY_PUSH(values, const char *) = word;
        }
        else if ((err = set_tier_option(cmd, t, word, seen)) != NULL) {
            return err;
        }
    }
    if (values->nelts == 0) {
        return apr_psprintf(p, "ApiRateLimitTier %s: name at least one "
                            "value of the tier key (e.g. gold)", name);
    }
    if (!seen[0]) {
        return apr_psprintf(p, "ApiRateLimitTier %s: needs average=N", name);
    }
    t->tier = APR_ARRAY_IDX(values, 0, const char *);
    if ((err = finish_policy(p, "ApiRateLimitTier", t, l->name)) != NULL) {
        return err;
    }
    if (!l->tier_of) {
        l->tier_of = apr_hash_make(p);
    }
    for (i = 0; i < values->nelts; i++) {
        const char *v = APR_ARRAY_IDX(values, i, const char *);
        const apigw_rl_policy *o = apr_hash_get(l->tier_of, v,
                                                APR_HASH_KEY_STRING);
        if (o) {
            return apr_psprintf(p, "ApiRateLimitTier %s: value '%s' already "
                                "has a tier (%s:%u)", name, v, o->file,
                                o->line);
        }
        apr_hash_set(l->tier_of, v, APR_HASH_KEY_STRING, t);
    }
    APR_ARRAY_PUSH(l->tiers, apigw_rl_policy *) = t;
    return NULL;
}

/* ---- ApiRateLimitHeaders, ApiRateLimitHeadersAdmitted ---- */

static const char *set_headers(cmd_parms *cmd, void *dconf, const char *arg)
{
    apigw_rl_dir_conf *c = dconf;

    if (ap_cstr_casecmp(arg, "legacy") == 0) {
        c->headers = APIGW_RL_HEADERS_LEGACY;
    }
    else if (ap_cstr_casecmp(arg, "draft") == 0) {
        c->headers = APIGW_RL_HEADERS_DRAFT;
    }
    else if (ap_cstr_casecmp(arg, "both") == 0) {
        c->headers = APIGW_RL_HEADERS_BOTH;
    }
    else if (ap_cstr_casecmp(arg, "off") == 0) {
        c->headers = APIGW_RL_HEADERS_OFF;
    }
    else {
        return apr_psprintf(cmd->pool, "ApiRateLimitHeaders %s: use legacy "
                            "(RateLimit-Limit, -Remaining, -Reset), draft "
                            "(RateLimit-Policy and RateLimit), both or off",
                            arg);
    }
    return NULL;
}

static const char *set_headers_admitted(cmd_parms *cmd, void *dconf, int on)
{
    apigw_rl_dir_conf *c = dconf;
    (void)cmd;
    c->headers_admitted = on;
    return NULL;
}

/* ---- ApiRateLimitZone, ApiRateLimitMaxDelayed ---- */

static apigw_rl_server_conf *server_conf(cmd_parms *cmd)
{
    return ap_get_module_config(cmd->server->module_config,
                                &apigw_ratelimit_module);
}

static const char *set_zone(cmd_parms *cmd, void *dconf, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    apr_off_t size;

    (void)dconf;
    if (err) {
        return err;
    }
    if ((err = apigw_parse_size(arg, &size)) != NULL) {
        return apr_psprintf(cmd->pool, "ApiRateLimitZone %s: %s", arg, err);
    }
    if (size < 4096) {
        return "ApiRateLimitZone must be at least 4k";
    }
    server_conf(cmd)->zone_size = size;
    return NULL;
}

static const char *set_max_delayed(cmd_parms *cmd, void *dconf,
                                   const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    apr_uint64_t n;

    (void)dconf;
    if (err) {
        return err;
    }
    if (parse_count(cmd->pool, "ApiRateLimitMaxDelayed", "N", arg, 0,
                    MAX_DELAYED, &n)) {
        return apr_psprintf(cmd->pool, "ApiRateLimitMaxDelayed %s: give a "
                            "number of requests from 0 to %d", arg,
                            MAX_DELAYED);
    }
    server_conf(cmd)->max_delayed = (int)n;
    return NULL;
}

/* ---- ApiRateLimitStore, ApiRateLimitStoreFailure ---- */

static const char *set_store(cmd_parms *cmd, void *dconf, const char *args)
{
    apigw_rl_server_conf *sc = server_conf(cmd);
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);
    apr_array_header_t *opts = apr_array_make(cmd->temp_pool, 2,
                                              sizeof(const char *));
    const char *url, *w;

    (void)dconf;
    if (err) {
        return err;
    }
    url = ap_getword_conf(cmd->pool, &args);
    if (!*url) {
        return "ApiRateLimitStore needs redis://HOST:PORT[/DB] "
               "[password=SECRET] [timeout=DURATION]";
    }
    while (*(w = ap_getword_conf(cmd->pool, &args))) {
        APR_ARRAY_PUSH(opts, const char *) = w;
    }
    if (sc->store) {
        return "ApiRateLimitStore given twice for this server";
    }
    return apigw_rl_store_parse(cmd->pool, url,
                                (const char *const *)opts->elts, opts->nelts,
                                &sc->store);
}

static const char *set_store_failure(cmd_parms *cmd, void *dconf,
                                     const char *arg)
{
    apigw_rl_server_conf *sc = server_conf(cmd);
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);

    (void)dconf;
    if (err) {
        return err;
    }
    if (ap_cstr_casecmp(arg, "open") == 0) {
        sc->failure_closed = 0;
    }
    else if (ap_cstr_casecmp(arg, "closed") == 0) {
        sc->failure_closed = 1;
    }
    else {
        return apr_psprintf(cmd->pool, "ApiRateLimitStoreFailure %s: use "
                            "open (admit) or closed (refuse with 503)", arg);
    }
    sc->failure_set = 1;
    return NULL;
}

const command_rec apigw_rl_cmds[] = {
    AP_INIT_RAW_ARGS("ApiRateLimit", set_rate_limit, NULL,
        RSRC_CONF | ACCESS_CONF,
        "ApiRateLimit average=N period=DURATION [burst=B] [by=KEY,...] "
        "[name=NAME] [status=CODE] [delay=DURATION] [tier=KEY], or off"),
    AP_INIT_RAW_ARGS("ApiRateLimitTier", set_tier, NULL,
        RSRC_CONF | ACCESS_CONF,
        "ApiRateLimitTier NAME VALUE [VALUE...] average=N [period=DURATION] "
        "[burst=B] [delay=DURATION]: other numbers for the limit NAME when "
        "its tier= key has one of the VALUEs"),
    AP_INIT_TAKE1("ApiRateLimitHeaders", set_headers, NULL,
        RSRC_CONF | ACCESS_CONF,
        "legacy (RateLimit-Limit/-Remaining/-Reset, the default), draft "
        "(RateLimit-Policy and RateLimit), both, or off"),
    AP_INIT_FLAG("ApiRateLimitHeadersAdmitted", set_headers_admitted, NULL,
        RSRC_CONF | ACCESS_CONF,
        "On (default): admitted responses carry the rate-limit headers too; "
        "Off: only refusals do"),
    AP_INIT_TAKE1("ApiRateLimitZone", set_zone, NULL, RSRC_CONF,
        "shared memory for rate-limit buckets, e.g. 1M (32 bytes a key)"),
    AP_INIT_TAKE1("ApiRateLimitMaxDelayed", set_max_delayed, NULL, RSRC_CONF,
        "at most this many requests per child process wait for a token "
        "(delay=) at once; default a quarter of ThreadsPerChild"),
    AP_INIT_RAW_ARGS("ApiRateLimitStore", set_store, NULL, RSRC_CONF,
        "ApiRateLimitStore redis://HOST:PORT[/DB] [password=SECRET] "
        "[timeout=DURATION]: keep the buckets on Redis, shared by gateways"),
    AP_INIT_TAKE1("ApiRateLimitStoreFailure", set_store_failure, NULL,
        RSRC_CONF, "open (default: admit) or closed (refuse with 503) when "
        "the rate-limit store cannot be reached"),
    { NULL }
};
