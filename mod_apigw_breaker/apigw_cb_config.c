/* Circuit breakers: the ApiCircuitBreaker directive (its options read
 * into an apigw_cb_settings, checked by apigw_cb_breaker_validate),
 * ApiRouteBreakerSlots (the runtime routes' states), create/merge of the
 * per-directory and per-server config, and the registry of every breaker
 * of this configuration.
 *
 * A breaker's identity is the path of sections holding it (virtual host,
 * <Location>, <ApiEndpoint>... as written), its expression and its scope:
 * not its line number, so that its state in shared memory survives a
 * graceful restart after edits elsewhere in the configuration. */
#include "apigw_cb_config.h"
#include "apigw_cb_route.h"
#include "apigw_cb_url.h"
#include "apigw_parse.h"

#include "http_log.h"
#include "apr_strings.h"

static apr_array_header_t *registry;    /* apigw_cb_breaker *, this pconf */

/* ---- create / merge ---- */

struct apigw_cb_dir_conf *apigw_cb_create_dir_conf(apr_pool_t *p)
{
    return apr_pcalloc(p, sizeof(struct apigw_cb_dir_conf));
}

/* A section's own ApiCircuitBreaker (or off) replaces the inherited one. */
struct apigw_cb_dir_conf *apigw_cb_merge_dir_conf(
    apr_pool_t *p, struct apigw_cb_dir_conf *base,
    struct apigw_cb_dir_conf *add)
{
    (void)p;
    return add->set ? add : base;
}

struct apigw_cb_server_conf *apigw_cb_create_server_conf(apr_pool_t *p,
                                                         server_rec *s)
{
    (void)s;
    return apr_pcalloc(p, sizeof(struct apigw_cb_server_conf));
}

struct apigw_cb_server_conf *apigw_cb_merge_server_conf(
    apr_pool_t *p, struct apigw_cb_server_conf *base,
    struct apigw_cb_server_conf *add)
{
    (void)p;
    (void)base;
    return add;
}

apr_array_header_t *apigw_cb_breakers(void)
{
    return registry;
}

/* ---- where the directive is ---- */

static int is_conditional(const char *name)
{
    return ap_cstr_casecmpn(name, "<If", 3) == 0
        || ap_cstr_casecmpn(name, "<Else", 5) == 0;
}

static int is_breaker_section(const char *name)
{
    return ap_cstr_casecmp(name, "<Location") == 0
        || ap_cstr_casecmp(name, "<LocationMatch") == 0
        || ap_cstr_casecmp(name, "<Proxy") == 0
        || ap_cstr_casecmp(name, "<ProxyMatch") == 0
        || ap_cstr_casecmp(name, "<ApiEndpoint") == 0;
}

/* "<Location "/x">" as written. */
static const char *section_text(apr_pool_t *p, const ap_directive_t *d)
{
    return apr_pstrcat(p, d->directive, *d->args ? " " : "", d->args, NULL);
}

/* The nearest section around the directive, skipping conditionals, must
 * be one a breaker belongs to. */
static const char *check_section(cmd_parms *cmd, const ap_directive_t **sec)
{
    const ap_directive_t *d;

    for (d = cmd->directive->parent; d && is_conditional(d->directive);
         d = d->parent) {
    }
    if (!d || !is_breaker_section(d->directive)) {
        return apr_psprintf(cmd->pool, "ApiCircuitBreaker belongs in "
                            "<ApiEndpoint>, <Location> or <Proxy>%s%s",
                            d ? ", not in " : "",
                            d ? d->directive + 1 : "");
    }
    *sec = d;
    return NULL;
}

/* Every section from the outermost down, as written: the identity's
 * first part. */
static const char *section_path(apr_pool_t *p, const ap_directive_t *d)
{
    const char *path = "";

    for (; d; d = d->parent) {
        path = apr_pstrcat(p, section_text(p, d), *path ? " / " : "", path,
                           NULL);
    }
    return path;
}

/* ---- options ----
 *
 * Each reads its value into the settings, or says why it cannot; what
 * the value may be is apigw_cb_breaker_validate's to say. */

typedef const char *(*option_fn)(apr_pool_t *p, const char *value,
                                 apigw_cb_settings *s);

static const char *duration(apr_pool_t *p, const char *key,
                            const char *value, apr_interval_time_t *out)
{
    const char *err = apigw_parse_duration(value, out);

    return err ? apr_psprintf(p, "%s=%s: %s", key, value, err) : NULL;
}

/* A whole number (digits only) into *out; 0 when it is not one. */
static int whole_number(const char *value, apr_uint64_t *out)
{
    apr_uint64_t n = 0;
    const char *c;

    for (c = value; *c >= '0' && *c <= '9'; c++) {
        if (n > (APR_UINT64_MAX - 9) / 10) {
            return 0;
        }
        n = n * 10 + (apr_uint64_t)(*c - '0');
    }
    *out = n;
    return *value && !*c;
}

static const char *set_check(apr_pool_t *p, const char *value,
                             apigw_cb_settings *s)
{
    return duration(p, "check", value, &s->timing.check);
}

static const char *set_fallback(apr_pool_t *p, const char *value,
                                apigw_cb_settings *s)
{
    return duration(p, "fallback", value, &s->timing.fallback);
}

static const char *set_recovery(apr_pool_t *p, const char *value,
                                apigw_cb_settings *s)
{
    return duration(p, "recovery", value, &s->timing.recovery);
}

static const char *set_status(apr_pool_t *p, const char *value,
                              apigw_cb_settings *s)
{
    apr_uint64_t n;

    /* the range is validate's; beyond 999 is no status at all */
    if (!whole_number(value, &n) || n > 999) {
        return apr_psprintf(p, "status=%s must be an HTTP error status from "
                            "400 to 599", value);
    }
    s->status = (int)n;
    return NULL;
}

static const char *set_min_requests(apr_pool_t *p, const char *value,
                                    apigw_cb_settings *s)
{
    if (!whole_number(value, &s->min_requests)) {
        return apr_psprintf(p, "min-requests=%s must be a whole number from "
                            "0 to %" APR_UINT64_T_FMT, value,
                            APIGW_CB_MAX_MIN_REQUESTS);
    }
    return NULL;
}

static const char *set_fallback_backend(apr_pool_t *p, const char *value,
                                        apigw_cb_settings *s)
{
    (void)p;
    s->fallback_backend = value;
    return NULL;
}

static const char *set_scope(apr_pool_t *p, const char *value,
                             apigw_cb_settings *s)
{
    if (strcmp(value, "endpoint") == 0) {
        s->scope_backend = 0;
    }
    else if (strcmp(value, "backend") == 0) {
        s->scope_backend = 1;
    }
    else {
        return apr_psprintf(p, "scope=%s: use endpoint (one state for the "
                            "section) or backend (one per backend it "
                            "proxies to)", value);
    }
    return NULL;
}

static const struct {
    const char *key;
    option_fn set;
} options[] = {
    { "check", set_check },
    { "fallback", set_fallback },
    { "recovery", set_recovery },
    { "status", set_status },
    { "min-requests", set_min_requests },
    { "fallback-backend", set_fallback_backend },
    { "scope", set_scope },
};

#define NOPTIONS (sizeof(options) / sizeof(options[0]))

/* One key=value word; seen[] counts the keys given so far. */
static const char *set_option(apr_pool_t *p, const char *word,
                              apigw_cb_settings *s, int *seen)
{
    const char *eq = strchr(word, '=');
    const char *key;
    apr_size_t i;

    if (!eq || eq == word) {
        return apr_psprintf(p, "options are key=value, got '%s' (quote the "
                            "expression if it has spaces: "
                            "ApiCircuitBreaker \"... > 0.5\")", word);
    }
    key = apr_pstrmemdup(p, word, (apr_size_t)(eq - word));
    for (i = 0; i < NOPTIONS && strcmp(key, options[i].key); i++) {
    }
    if (i == NOPTIONS) {
        return apr_psprintf(p, "unknown option '%s' (use check, fallback, "
                            "recovery, status, min-requests, fallback-backend "
                            "or scope)", key);
    }
    if (seen[i]++) {
        return apr_psprintf(p, "%s= given twice", key);
    }
    return options[i].set(p, eq + 1, s);
}

/* ---- ApiCircuitBreaker ---- */

/* The identity: section path, expression, scope; a second breaker with
 * the very same identity (two identical sections) gets "#2". */
static const char *identity(cmd_parms *cmd, const ap_directive_t *sec,
                            const apigw_cb_breaker *b)
{
    const char *base = apr_pstrcat(cmd->pool, section_path(cmd->pool, sec),
                                   "|", apigw_cb_expr_text(b->expr), "|",
                                   b->set.scope_backend ? "backend"
                                                        : "endpoint",
                                   NULL);
    const char *id = base;
    int i, n = 1;

    for (i = 0; registry && i < registry->nelts; i++) {
        const apigw_cb_breaker *o = APR_ARRAY_IDX(registry, i,
                                                  apigw_cb_breaker *);
        if (strcmp(o->id, id) == 0) {
            id = apr_psprintf(cmd->pool, "%s#%d", base, ++n);
            i = -1;                     /* look again for the new one */
        }
    }
    return id;
}

/* The expression and the options after it, into s. */
static const char *read_settings(cmd_parms *cmd, const char *expression,
                                 const char *args, apigw_cb_settings *s)
{
    const char *word, *err;
    int seen[NOPTIONS] = { 0 };

    {
        /* an unquoted expression falls apart into words */
        const char *rest = args, *next = ap_getword_conf(cmd->temp_pool,
                                                          &rest);
        if (*next && !strchr(next, '=')) {
            return apr_psprintf(cmd->pool, "put the expression in quotes, "
                                "like ApiCircuitBreaker \"%s %s ...\" "
                                "(options are key=value, got '%s')",
                                expression, next, next);
        }
    }
    apigw_cb_settings_defaults(s);
    s->expression = expression;
    while (*(word = ap_getword_conf(cmd->pool, &args))) {
        if ((err = set_option(cmd->pool, word, s, seen)) != NULL) {
            return err;
        }
    }
    return NULL;
}

/* The breaker valid settings s describe, in sec, at the directive. */
static const char *make_breaker(cmd_parms *cmd, const ap_directive_t *sec,
                                const apigw_cb_settings *s,
                                apigw_cb_breaker **out)
{
    apigw_cb_breaker *b = apr_pcalloc(cmd->pool, sizeof(*b));
    const char *err;
    apr_size_t pos;

    b->set = *s;
    b->preset = apigw_cb_expr_preset(s->expression) ? s->expression : NULL;
    /* validated: neither fails here */
    err = apigw_cb_expr_parse(cmd->pool, apigw_cb_settings_text(s), &b->expr,
                              &pos);
    if (!err && s->fallback_backend) {
        err = apigw_cb_url_parse_fallback(cmd->pool, s->fallback_backend,
                                          &b->fallback_origin,
                                          &b->fallback_prefix);
    }
    if (err) {
        return err;
    }
    b->file = cmd->directive->filename;
    b->line = (unsigned)cmd->directive->line_num;
    b->section = section_text(cmd->pool, sec);
    b->id = identity(cmd, sec, b);
    b->owner = apigw_cb_key(b->id, NULL);
    *out = b;
    return NULL;
}

const char *apigw_cb_set_breaker(cmd_parms *cmd, void *mconfig,
                                 const char *args)
{
    struct apigw_cb_dir_conf *c = ((apigw_br_dir_conf *)mconfig)->cb;
    const ap_directive_t *sec = NULL;
    apigw_cb_settings s;
    apigw_cb_breaker *b;
    const char *word, *err;

    if ((err = check_section(cmd, &sec)) != NULL) {
        return err;
    }
    if (c->set) {
        return apr_psprintf(cmd->pool, "ApiCircuitBreaker given twice in this "
                            "section (first at %s:%u); one breaker per "
                            "section", c->file, c->line);
    }
    word = ap_getword_conf(cmd->pool, &args);
    if (!*word) {
        return "ApiCircuitBreaker needs an expression in quotes, like "
               "ApiCircuitBreaker \"NetworkErrorRatio() > 0.5\", a preset "
               "(errors-50, errors-30, 5xx, high-latency), or off";
    }
    c->file = cmd->directive->filename;
    c->line = (unsigned)cmd->directive->line_num;
    if (ap_cstr_casecmp(word, "off") == 0) {
        if (*ap_getword_conf(cmd->temp_pool, &args)) {
            return "ApiCircuitBreaker off takes no options";
        }
        c->set = 1;
        c->breaker = NULL;
        return NULL;
    }
    if ((err = read_settings(cmd, word, args, &s)) != NULL
        || (err = apigw_cb_breaker_validate(cmd->temp_pool, &s)) != NULL
        || (err = make_breaker(cmd, sec, &s, &b)) != NULL) {
        return apr_pstrcat(cmd->pool, "ApiCircuitBreaker: ", err, NULL);
    }
    if (!registry) {
        registry = apr_array_make(cmd->pool, 8, sizeof(apigw_cb_breaker *));
    }
    APR_ARRAY_PUSH(registry, apigw_cb_breaker *) = b;
    c->set = 1;
    c->breaker = b;
    return NULL;
}

/* ---- ApiRouteBreakerSlots ---- */

static struct apigw_cb_server_conf *server_conf(server_rec *s)
{
    apigw_br_server_conf *c = ap_get_module_config(s->module_config,
                                                   &apigw_breaker_module);
    return c->cb;
}

const char *apigw_cb_set_route_slots(cmd_parms *cmd, void *mconfig,
                                     const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    apr_uint64_t n;

    (void)mconfig;
    if (err) {
        return err;
    }
    if (!whole_number(arg, &n) || n < APIGW_CB_ROUTE_MIN_SLOTS
        || n > APIGW_CB_ROUTE_MAX_SLOTS) {
        return apr_psprintf(cmd->pool, "ApiRouteBreakerSlots %s: give a "
                            "number of states from %d to %d", arg,
                            APIGW_CB_ROUTE_MIN_SLOTS,
                            APIGW_CB_ROUTE_MAX_SLOTS);
    }
    server_conf(cmd->server)->route_slots = (int)n;
    return NULL;
}

int apigw_cb_route_slots(server_rec *s)
{
    int n = server_conf(s)->route_slots;

    return n ? n : APIGW_CB_ROUTE_DEFAULT_SLOTS;
}

int apigw_cb_config_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                               apr_pool_t *ptemp)
{
    (void)plog;
    (void)ptemp;
    registry = apr_array_make(pconf, 8, sizeof(apigw_cb_breaker *));
    return OK;
}
