/* mod_apigw_ratelimit configuration: the directives ApiRateLimit,
 * ApiRateLimitTier, ApiRateLimitHeaders, ApiRateLimitHeadersAdmitted,
 * ApiRateLimitZone, ApiRateLimitMaxDelayed, ApiRateLimitStore and
 * ApiRateLimitStoreFailure, one handler each, and the create/merge
 * functions. An ApiRateLimit or ApiRateLimitTier line is read in three
 * steps: its words into the plain settings (a mistake of syntax is
 * refused here), the settings checked by apigw_rl_limit_validate or
 * apigw_rl_tier_validate (what the admin API calls too), then built
 * into a limit ready for requests (expressions parsed, policies hashed by
 * apigw_rl_policy_build, which runtime routes' limits share).
 * Every mistake is refused at configtest, prefixed with the directive's
 * name; httpd adds the file and line. */
#include "apigw_rl_config.h"
#include "apigw_rl_limits.h"
#include "apigw_rl_route.h"
#include "apigw_parse.h"

#include "http_log.h"
#include "apr_strings.h"

#include <limits.h>

/* ap_expr_parse_cmd() names the module of an expression by it */
APLOG_USE_MODULE(apigw_ratelimit);

#define MAX_DELAYED 100000

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

/* The limit called name among limits (of apigw_rl_limit *), or NULL. */
static apigw_rl_limit *named_limit(const apr_array_header_t *limits,
                                   const char *name)
{
    int i;

    for (i = 0; i < limits->nelts; i++) {
        apigw_rl_limit *l = APR_ARRAY_IDX(limits, i, apigw_rl_limit *);
        if (l->spec.name && strcmp(l->spec.name, name) == 0) {
            return l;
        }
    }
    return NULL;
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
        if (!l->spec.name || !named_limit(add->limits, l->spec.name)) {
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


/* ---- words: the syntax of the settings ---- */

/* A whole number of at most max. */
static const char *parse_whole(apr_pool_t *p, const char *key,
                               const char *value, apr_uint64_t max,
                               apr_uint64_t *out)
{
    apr_uint64_t n = 0;
    const char *c;

    if (!*value) {
        return apr_psprintf(p, "%s= needs a number", key);
    }
    for (c = value; *c; c++) {
        apr_uint64_t digit;

        if (*c < '0' || *c > '9') {
            return apr_psprintf(p, "%s=%s is not a whole number", key, value);
        }
        digit = (apr_uint64_t)(*c - '0');
        if (n > (max - digit) / 10) {
            return apr_psprintf(p, "%s=%s is too large a number", key, value);
        }
        n = n * 10 + digit;
    }
    *out = n;
    return NULL;
}

static const char *parse_time(apr_pool_t *p, const char *key,
                              const char *value, apr_interval_time_t *out)
{
    const char *err = apigw_parse_duration(value, out);

    return err ? apr_psprintf(p, "%s=%s: %s", key, value, err) : NULL;
}

static int is_expr(const char *text)
{
    return ap_cstr_casecmpn(text, "expr:", 5) == 0;
}

/* by=KEY[,KEY...]: an expr: part takes the rest of the value, commas and
 * all, so it comes last. */
static const char *parse_by(apr_pool_t *p, apigw_rl_limit_spec *l,
                            const char *value)
{
    const char *part = value, *err;

    if (!*value) {
        return apr_pstrcat(p, "by= needs a key: ", apigw_rl_key_kinds("by"),
                           NULL);
    }
    for (;;) {
        const char *comma = is_expr(part) ? NULL : strchr(part, ',');
        const char *text = comma ? apr_pstrmemdup(p, part,
                                                  (apr_size_t)(comma - part))
                                 : part;

        if (!*text) {
            return apr_psprintf(p, "by=%s has an empty key", value);
        }
        err = apigw_rl_key_parse(p, "by", text,
                                 (apigw_rl_key *)apr_array_push(l->by));
        if (err) {
            return err;
        }
        if (!comma) {
            return NULL;
        }
        part = comma + 1;
    }
}

static const char *parse_tier_key(apr_pool_t *p, apigw_rl_limit_spec *l,
                                  const char *value)
{
    apigw_rl_key *k = apr_pcalloc(p, sizeof(*k));
    const char *err;

    if (!*value) {
        return apr_pstrcat(p, "tier= needs a key: ",
                           apigw_rl_key_kinds("tier"), NULL);
    }
    if (!is_expr(value) && strchr(value, ',')) {
        return "tier= takes one key (combine values with tier=expr:...)";
    }
    if ((err = apigw_rl_key_parse(p, "tier", value, k)) != NULL) {
        return err;
    }
    l->tier = k;
    return NULL;
}

/* ---- options: key=value words ---- */

/* What the options of one line fill. */
typedef struct {
    apigw_rl_numbers *numbers;
    apigw_rl_limit_spec *limit;     /* ApiRateLimit's; NULL on a tier */
} rl_fill;

typedef const char *(*rl_option_fn)(apr_pool_t *p, rl_fill *f,
                                    const char *value);

typedef struct {
    const char *name;
    rl_option_fn set;
} rl_option;

static const char *opt_average(apr_pool_t *p, rl_fill *f, const char *v)
{
    return parse_whole(p, "average", v, APR_UINT64_MAX, &f->numbers->average);
}

static const char *opt_period(apr_pool_t *p, rl_fill *f, const char *v)
{
    return parse_time(p, "period", v, &f->numbers->period);
}

static const char *opt_burst(apr_pool_t *p, rl_fill *f, const char *v)
{
    return parse_whole(p, "burst", v, APR_UINT64_MAX, &f->numbers->burst);
}

static const char *opt_delay(apr_pool_t *p, rl_fill *f, const char *v)
{
    return parse_time(p, "delay", v, &f->numbers->delay);
}

static const char *opt_by(apr_pool_t *p, rl_fill *f, const char *v)
{
    return parse_by(p, f->limit, v);
}

static const char *opt_name(apr_pool_t *p, rl_fill *f, const char *v)
{
    (void)p;
    f->limit->name = v;
    return NULL;
}

static const char *opt_status(apr_pool_t *p, rl_fill *f, const char *v)
{
    apr_uint64_t n;
    const char *err = parse_whole(p, "status", v, INT_MAX, &n);

    if (!err) {
        f->limit->status = (int)n;
    }
    return err;
}

static const char *opt_tier(apr_pool_t *p, rl_fill *f, const char *v)
{
    return parse_tier_key(p, f->limit, v);
}

/* Both tables begin with average and period: what the lines require. */
#define OPT_AVERAGE 0
#define OPT_PERIOD 1
#define MAX_OPTIONS 8

static const rl_option limit_options[MAX_OPTIONS + 1] = {
    { "average", opt_average }, { "period", opt_period },
    { "burst", opt_burst }, { "by", opt_by }, { "name", opt_name },
    { "status", opt_status }, { "delay", opt_delay }, { "tier", opt_tier },
    { NULL, NULL }
};

static const rl_option tier_options[MAX_OPTIONS + 1] = {
    { "average", opt_average }, { "period", opt_period },
    { "burst", opt_burst }, { "delay", opt_delay }, { NULL, NULL }
};

/* "average, period, burst or delay" */
static const char *option_names(apr_pool_t *p, const rl_option *opts)
{
    const char *s = opts[0].name;
    int i;

    for (i = 1; opts[i].name; i++) {
        s = apr_pstrcat(p, s, opts[i + 1].name ? ", " : " or ", opts[i].name,
                        NULL);
    }
    return s;
}

/* One word key=value (eq: its '=') of directive dir. */
static const char *set_option(apr_pool_t *p, const char *dir,
                              const rl_option *opts, rl_fill *f,
                              const char *word, const char *eq, int *seen)
{
    const char *key = apr_pstrmemdup(p, word, (apr_size_t)(eq - word));
    const char *err;
    int i;

    for (i = 0; opts[i].name && strcmp(key, opts[i].name); i++) {
    }
    if (!opts[i].name) {
        return apr_psprintf(p, "%s: unknown option '%s' (use %s)", dir, key,
                            option_names(p, opts));
    }
    if (seen[i]++) {
        return apr_psprintf(p, "%s: %s= given twice", dir, key);
    }
    if ((err = opts[i].set(p, f, eq + 1)) != NULL) {
        return apr_pstrcat(p, dir, ": ", err, NULL);
    }
    return NULL;
}

/* ---- building: settings made ready for requests ---- */

/* A key part of field (by or tier) ready for requests. */
static const char *build_key(cmd_parms *cmd, const char *field,
                             const apigw_rl_key *k, apigw_rl_by *out)
{
    const char *err = NULL;

    out->key = *k;
    out->expr = NULL;
    if (k->kind != APIGW_RL_BY_EXPR) {
        return NULL;
    }
    /* DONT_VARY: a limit's key must not add Vary to the response */
    out->expr = ap_expr_parse_cmd(cmd, k->name, AP_EXPR_FLAG_STRING_RESULT
                                                | AP_EXPR_FLAG_DONT_VARY,
                                  &err, NULL);
    if (err) {
        return apr_psprintf(cmd->pool, "%s=expr:%s: cannot parse the "
                            "expression: %s", field, k->name, err);
    }
    return NULL;
}

/* l->spec, validated, made ready; l is the line cmd reads. */
static const char *build_limit(cmd_parms *cmd, apigw_rl_limit *l)
{
    apr_pool_t *p = cmd->pool;
    const apigw_rl_limit_spec *s = &l->spec;
    const char *err;
    int i;

    l->file = l->base.file = cmd->directive->filename;
    l->line = l->base.line = (unsigned)cmd->directive->line_num;
    l->tiers = apr_array_make(p, 2, sizeof(apigw_rl_policy *));
    l->by = apr_array_make(p, s->by->nelts + 1, sizeof(apigw_rl_by));
    for (i = 0; i < s->by->nelts; i++) {
        const apigw_rl_key *k = &APR_ARRAY_IDX(s->by, i, apigw_rl_key);

        if (k->kind == APIGW_RL_BY_ENDPOINT) {
            continue;           /* the limit itself: adds nothing */
        }
        if ((err = build_key(cmd, "by", k, apr_array_push(l->by))) != NULL) {
            return err;
        }
    }
    if (s->tier) {
        l->tier_by = apr_palloc(p, sizeof(*l->tier_by));
        if ((err = build_key(cmd, "tier", s->tier, l->tier_by)) != NULL) {
            return err;
        }
    }
    return apigw_rl_policy_build(p, &l->base, &s->numbers,
                                 s->name ? s->name
                                         : apr_psprintf(p, "%s:%u", l->file,
                                                        l->line));
}

/* ---- ApiRateLimit average=N period=DURATION [burst=B] [by=KEY,...]
 *      [name=NAME] [status=CODE] [delay=DURATION] [tier=KEY] | off ---- */

/* The words of the line, word the first one, into l. */
static const char *read_limit(apr_pool_t *p, apigw_rl_limit_spec *l,
                              const char *word, const char *args)
{
    rl_fill f = { &l->numbers, l };
    int seen[MAX_OPTIONS] = { 0 };
    const char *eq, *err;

    for (; *word; word = ap_getword_conf(p, &args)) {
        if (!(eq = strchr(word, '=')) || eq == word) {
            return apr_psprintf(p, "ApiRateLimit: options are key=value, got "
                                "'%s' (or use 'ApiRateLimit off')", word);
        }
        err = set_option(p, "ApiRateLimit", limit_options, &f, word, eq,
                         seen);
        if (err) {
            return err;
        }
    }
    if (!seen[OPT_AVERAGE] || !seen[OPT_PERIOD]) {
        return apr_psprintf(p, "ApiRateLimit needs %s (e.g. average=100 "
                            "period=1m)", !seen[OPT_AVERAGE]
                                          ? "average=N" : "period=DURATION");
    }
    return NULL;
}

static const char *set_rate_limit(cmd_parms *cmd, void *dconf,
                                  const char *args)
{
    apigw_rl_dir_conf *c = dconf;
    apr_pool_t *p = cmd->pool;
    const char *word = ap_getword_conf(p, &args), *err;
    const apigw_rl_limit *o;
    apigw_rl_limit *l;

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
    l = apr_pcalloc(p, sizeof(*l));
    apigw_rl_limit_defaults(p, &l->spec);
    if ((err = read_limit(p, &l->spec, word, args)) != NULL) {
        return err;
    }
    if ((err = apigw_rl_limit_validate(p, &l->spec)) != NULL) {
        return apr_pstrcat(p, "ApiRateLimit: ", err, NULL);
    }
    if (l->spec.name && (o = named_limit(c->limits, l->spec.name)) != NULL) {
        return apr_psprintf(p, "ApiRateLimit: name=%s is already used in "
                            "this context (%s:%u)", o->spec.name, o->file,
                            o->line);
    }
    if ((err = build_limit(cmd, l)) != NULL) {
        return apr_pstrcat(p, "ApiRateLimit: ", err, NULL);
    }
    APR_ARRAY_PUSH(c->limits, apigw_rl_limit *) = l;
    apigw_rl_limits_add(l);
    return NULL;
}

/* ---- ApiRateLimitTier NAME VALUE... average=N [period=] [burst=]
 *      [delay=] ---- */

/* The words after NAME into t: values, and key=value options. dir:
 * "ApiRateLimitTier NAME", for the messages. */
static const char *read_tier(apr_pool_t *p, const char *dir,
                             apigw_rl_tier_spec *t, const char *args)
{
    rl_fill f = { &t->numbers, NULL };
    int seen[MAX_OPTIONS] = { 0 };
    const char *word, *eq, *err;

    while (*(word = ap_getword_conf(p, &args))) {
        if (!(eq = strchr(word, '='))) {
            APR_ARRAY_PUSH(t->values, const char *) = word;
        }
        else if ((err = set_option(p, dir, tier_options, &f, word, eq,
                                   seen)) != NULL) {
            return err;
        }
    }
    if (!seen[OPT_AVERAGE]) {
        return apr_psprintf(p, "%s: needs average=N", dir);
    }
    return NULL;
}

/* Tier t of limit l, selected by values: none may have a tier already. */
static const char *add_tier(apr_pool_t *p, const char *dir,
                            apigw_rl_limit *l, apigw_rl_policy *t,
                            const apr_array_header_t *values)
{
    int i;

    if (!l->tier_of) {
        l->tier_of = apr_hash_make(p);
    }
    for (i = 0; i < values->nelts; i++) {
        const char *v = APR_ARRAY_IDX(values, i, const char *);
        const apigw_rl_policy *o = apr_hash_get(l->tier_of, v,
                                                APR_HASH_KEY_STRING);
        if (o) {
            return apr_psprintf(p, "%s: value '%s' already has a tier "
                                "(%s:%u)", dir, v, o->file, o->line);
        }
        apr_hash_set(l->tier_of, v, APR_HASH_KEY_STRING, t);
    }
    APR_ARRAY_PUSH(l->tiers, apigw_rl_policy *) = t;
    return NULL;
}

static const char *set_tier(cmd_parms *cmd, void *dconf, const char *args)
{
    apigw_rl_dir_conf *c = dconf;
    apr_pool_t *p = cmd->pool;
    const char *name = ap_getword_conf(p, &args), *dir, *err;
    apigw_rl_tier_spec ts;
    apigw_rl_policy *t;
    apigw_rl_limit *l;

    if (!*name || strchr(name, '=')) {
        return "ApiRateLimitTier needs NAME VALUE [VALUE...] average=N "
               "[period=DURATION] [burst=B] [delay=DURATION]";
    }
    dir = apr_pstrcat(p, "ApiRateLimitTier ", name, NULL);
    if (!(l = named_limit(c->limits, name))) {
        return apr_psprintf(p, "%s: no ApiRateLimit name=%s above it in this "
                            "context", dir, name);
    }
    if (!l->tier_by) {
        return apr_psprintf(p, "%s: ApiRateLimit name=%s (%s:%u) has no "
                            "tier= saying what selects a tier", dir, name,
                            l->file, l->line);
    }
    apigw_rl_tier_defaults(p, &ts, &l->spec);
    if ((err = read_tier(p, dir, &ts, args)) != NULL) {
        return err;
    }
    if ((err = apigw_rl_tier_validate(p, &ts)) != NULL) {
        return apr_pstrcat(p, dir, ": ", err, NULL);
    }
    t = apr_pcalloc(p, sizeof(*t));
    t->tier = APR_ARRAY_IDX(ts.values, 0, const char *);
    t->file = cmd->directive->filename;
    t->line = (unsigned)cmd->directive->line_num;
    if ((err = apigw_rl_policy_build(p, t, &ts.numbers, l->spec.name))
        != NULL) {
        return apr_pstrcat(p, dir, ": ", err, NULL);
    }
    return add_tier(p, dir, l, t, ts.values);
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
    if (parse_whole(cmd->pool, "N", arg, MAX_DELAYED, &n)) {
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
