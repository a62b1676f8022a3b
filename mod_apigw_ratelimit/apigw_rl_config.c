/* mod_apigw_ratelimit configuration: ApiRateLimit, ApiRateLimitZone,
 * ApiRateLimitStore, ApiRateLimitStoreFailure and the create/merge
 * functions. Every mistake is refused at configtest with
 * a message naming the directive. */
#include "apigw_rl_config.h"
#include "apigw_parse.h"

#include "apr_strings.h"

#define MAX_AVERAGE 1000000000ULL
#define MAX_BURST 1000000000ULL

static const char *const limit_options[] = {
    "average", "period", "burst", "by", "name", "status", NULL
};

/* ---- create / merge ---- */

void *apigw_rl_create_dir_conf(apr_pool_t *p, char *dir)
{
    apigw_rl_dir_conf *c = apr_pcalloc(p, sizeof(*c));
    (void)dir;
    c->limits = apr_array_make(p, 1, sizeof(apigw_rl_limit *));
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
 * its own. */
void *apigw_rl_merge_dir_conf(apr_pool_t *p, void *basev, void *addv)
{
    const apigw_rl_dir_conf *base = basev, *add = addv;
    apigw_rl_dir_conf *c = apr_pcalloc(p, sizeof(*c));
    int i;

    c->off = add->off;
    c->limits = apr_array_make(p, base->limits->nelts + add->limits->nelts,
                               sizeof(apigw_rl_limit *));
    for (i = 0; !add->off && i < base->limits->nelts; i++) {
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

void *apigw_rl_create_server_conf(apr_pool_t *p, server_rec *s)
{
    (void)s;
    return apr_pcalloc(p, sizeof(apigw_rl_server_conf));
}

/* A virtual host inherits the main server's store and failure mode unless
 * it sets its own; the zone is global. */
void *apigw_rl_merge_server_conf(apr_pool_t *p, void *basev, void *addv)
{
    const apigw_rl_server_conf *base = basev, *add = addv;
    apigw_rl_server_conf *c = apr_pmemdup(p, add, sizeof(*c));

    c->zone_size = add->zone_size ? add->zone_size : base->zone_size;
    c->store = add->store ? add->store : base->store;
    if (!add->failure_set) {
        c->failure_closed = base->failure_closed;
        c->failure_set = base->failure_set;
    }
    return c;
}

/* ---- ApiRateLimit ---- */

static const char *parse_count(apr_pool_t *p, const char *key,
                               const char *value, apr_uint64_t min,
                               apr_uint64_t max, apr_uint64_t *out)
{
    apr_uint64_t n = 0;
    const char *c;

    if (!*value) {
        return apr_psprintf(p, "ApiRateLimit: %s= needs a number", key);
    }
    for (c = value; *c; c++) {
        if (*c < '0' || *c > '9') {
            return apr_psprintf(p, "ApiRateLimit: %s=%s is not a whole number",
                                key, value);
        }
        n = n * 10 + (apr_uint64_t)(*c - '0');
        if (n > max) {
            break;
        }
    }
    if (n < min || n > max) {
        return apr_psprintf(p, "ApiRateLimit: %s=%s is out of range "
                            "(%" APR_UINT64_T_FMT " to %" APR_UINT64_T_FMT ")",
                            key, value, min, max);
    }
    *out = n;
    return NULL;
}

static const char *parse_by(apr_pool_t *p, apigw_rl_limit *l,
                            const char *value)
{
    char *list = apr_pstrdup(p, value), *last = NULL, *part;

    if (!*value) {
        return "ApiRateLimit: by= needs a key: endpoint, ip, header:NAME, "
               "cookie:NAME or env:NAME";
    }
    if (value[strlen(value) - 1] == ',' || *value == ',' || strstr(value, ",,")) {
        return apr_psprintf(p, "ApiRateLimit: by=%s has an empty key", value);
    }
    for (part = apr_strtok(list, ",", &last); part;
         part = apr_strtok(NULL, ",", &last)) {
        apigw_rl_by by = { APIGW_RL_BY_ENDPOINT, NULL };
        const char *colon = strchr(part, ':');
        const char *kind = colon ? apr_pstrmemdup(p, part,
                                                  (apr_size_t)(colon - part))
                                 : part;

        if (ap_cstr_casecmp(kind, "endpoint") == 0 && !colon) {
            continue;                   /* the limit itself: always a part */
        }
        if (ap_cstr_casecmp(kind, "ip") == 0 && !colon) {
            by.kind = APIGW_RL_BY_IP;
        }
        else if (ap_cstr_casecmp(kind, "header") == 0) {
            by.kind = APIGW_RL_BY_HEADER;
        }
        else if (ap_cstr_casecmp(kind, "cookie") == 0) {
            by.kind = APIGW_RL_BY_COOKIE;
        }
        else if (ap_cstr_casecmp(kind, "env") == 0) {
            by.kind = APIGW_RL_BY_ENV;
        }
        else {
            return apr_psprintf(p, "ApiRateLimit: unknown key '%s' in by= "
                                "(use endpoint, ip, header:NAME, cookie:NAME "
                                "or env:NAME)", part);
        }
        if (by.kind != APIGW_RL_BY_IP) {
            if (!colon || !colon[1]) {
                return apr_psprintf(p, "ApiRateLimit: key '%s' in by= needs "
                                    "a name, like %s:X-Api-Key", part, kind);
            }
            by.name = colon + 1;
        }
        APR_ARRAY_PUSH(l->by, apigw_rl_by) = by;
    }
    return NULL;
}

static const char *parse_status(apr_pool_t *p, const char *value, int *out)
{
    apr_uint64_t n;
    const char *err = parse_count(p, "status", value, 400, 599, &n);

    if (err) {
        return apr_psprintf(p, "ApiRateLimit: status=%s must be an HTTP error "
                            "status from 400 to 599", value);
    }
    *out = (int)n;
    return NULL;
}

static const char *set_option(cmd_parms *cmd, apigw_rl_limit *l,
                              const char *word, int *seen)
{
    apr_pool_t *p = cmd->pool;
    const char *eq = strchr(word, '=');
    const char *key, *value, *err;
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
                            "period, burst, by, name or status)", key);
    }
    if (seen[i]++) {
        return apr_psprintf(p, "ApiRateLimit: %s= given twice", key);
    }
    switch (i) {
    case 0:
        return parse_count(p, "average", value, 0, MAX_AVERAGE, &l->average);
    case 1:
        if ((err = apigw_parse_duration(value, &l->period)) != NULL) {
            return apr_psprintf(p, "ApiRateLimit: period=%s: %s", value, err);
        }
        if (l->period <= 0) {
            return "ApiRateLimit: period= must be greater than zero";
        }
        return NULL;
    case 2:
        return parse_count(p, "burst", value, 1, MAX_BURST, &l->burst);
    case 3:
        return parse_by(p, l, value);
    case 4:
        if (!*value || strpbrk(value, " \t\"")) {
            return apr_psprintf(p, "ApiRateLimit: name=%s is not a valid name",
                                value);
        }
        l->name = value;
        return NULL;
    default:
        return parse_status(p, value, &l->status);
    }
}

static const char *set_rate_limit(cmd_parms *cmd, void *dconf, const char *args)
{
    apigw_rl_dir_conf *c = dconf;
    apigw_rl_limit *l;
    const char *word, *err;
    int seen[6] = { 0 }, i;

    word = ap_getword_conf(cmd->temp_pool, &args);
    if (ap_cstr_casecmp(word, "off") == 0) {
        if (*ap_getword_conf(cmd->temp_pool, &args)) {
            return "ApiRateLimit off takes no options";
        }
        c->off = 1;
        return NULL;
    }
    l = apr_pcalloc(cmd->pool, sizeof(*l));
    l->burst = 1;
    l->status = HTTP_TOO_MANY_REQUESTS;
    l->by = apr_array_make(cmd->pool, 2, sizeof(apigw_rl_by));
    l->file = cmd->directive->filename;
    l->line = (unsigned)cmd->directive->line_num;
    if (!*word) {
        return "ApiRateLimit needs average=N period=DURATION [burst=B] "
               "[by=KEY,...] [name=NAME] [status=CODE], or off";
    }
    for (; *word; word = ap_getword_conf(cmd->pool, &args)) {
        if ((err = set_option(cmd, l, word, seen)) != NULL) {
            return err;
        }
    }
    if (!seen[0] || !seen[1]) {
        return apr_psprintf(cmd->pool, "ApiRateLimit needs %s (e.g. "
                            "average=100 period=1m)",
                            !seen[0] ? "average=N" : "period=DURATION");
    }
    if ((err = apigw_rl_rate_init(&l->rate, l->average,
                                  (apr_uint64_t)l->period * 1000,
                                  l->burst)) != NULL) {
        return apr_pstrcat(cmd->pool, "ApiRateLimit: ", err, NULL);
    }
    for (i = 0; l->name && i < c->limits->nelts; i++) {
        const apigw_rl_limit *o = APR_ARRAY_IDX(c->limits, i, apigw_rl_limit *);
        if (o->name && strcmp(o->name, l->name) == 0) {
            return apr_psprintf(cmd->pool, "ApiRateLimit: name=%s is already "
                                "used in this context (%s:%u)", l->name,
                                o->file, o->line);
        }
    }
    l->ident = apr_psprintf(cmd->pool, "%s|%" APR_UINT64_T_FMT "|%"
                            APR_TIME_T_FMT "|%" APR_UINT64_T_FMT,
                            l->name ? l->name
                                    : apr_psprintf(cmd->pool, "%s:%u",
                                                   l->file, l->line),
                            l->average, l->period, l->burst);
    APR_ARRAY_PUSH(c->limits, apigw_rl_limit *) = l;
    return NULL;
}

/* ---- ApiRateLimitZone ---- */

static const char *set_zone(cmd_parms *cmd, void *dconf, const char *arg)
{
    apigw_rl_server_conf *sc = ap_get_module_config(cmd->server->module_config,
                                                    &apigw_ratelimit_module);
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
    sc->zone_size = size;
    return NULL;
}

/* ---- ApiRateLimitStore, ApiRateLimitStoreFailure ---- */

static const char *set_store(cmd_parms *cmd, void *dconf, const char *args)
{
    apigw_rl_server_conf *sc = ap_get_module_config(cmd->server->module_config,
                                                    &apigw_ratelimit_module);
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
    apigw_rl_server_conf *sc = ap_get_module_config(cmd->server->module_config,
                                                    &apigw_ratelimit_module);
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
        "[name=NAME] [status=CODE], or off"),
    AP_INIT_TAKE1("ApiRateLimitZone", set_zone, NULL, RSRC_CONF,
        "shared memory for rate-limit counters, e.g. 1M (32 bytes a key)"),
    AP_INIT_RAW_ARGS("ApiRateLimitStore", set_store, NULL, RSRC_CONF,
        "ApiRateLimitStore redis://HOST:PORT[/DB] [password=SECRET] "
        "[timeout=DURATION]: keep the buckets on Redis, shared by gateways"),
    AP_INIT_TAKE1("ApiRateLimitStoreFailure", set_store_failure, NULL,
        RSRC_CONF, "open (default: admit) or closed (refuse with 503) when "
        "the rate-limit store cannot be reached"),
    { NULL }
};
