/* Circuit breakers: the ApiCircuitBreaker directive, create/merge of the
 * per-directory and per-server config, the registry of every breaker of
 * this configuration, and the hooks of the cb half (the files that own
 * them are named in apigw_cb_config.h).
 *
 * A breaker's identity is the path of sections holding it (virtual host,
 * <Location>, <ApiEndpoint>... as written), its expression and its scope:
 * not its line number, so that its state in shared memory survives a
 * graceful restart after edits elsewhere in the configuration. */
#include "apigw_cb_config.h"
#include "apigw_cb_url.h"
#include "apigw_parse.h"

#include "http_log.h"
#include "apr_strings.h"

static apr_array_header_t *registry;    /* apigw_cb_breaker *, this pconf */

static const char *const options[] = {
    "check", "fallback", "recovery", "status", "min-requests",
    "fallback-backend", "scope", NULL
};

#define MAX_MIN_REQUESTS 1000000000ULL

/* ---- create / merge ---- */

struct apigw_cb_dir_conf *apigw_cb_create_dir_conf(apr_pool_t *p)
{
    return apr_pcalloc(p, sizeof(struct apigw_cb_dir_conf));
}

/* A section's own ApiCircuitBreaker (or off) replaces the inherited one. */
struct apigw_cb_dir_conf *apigw_cb_merge_dir_conf(apr_pool_t *p,
                                                  struct apigw_cb_dir_conf *base,
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

/* ---- options ---- */

static const char *set_duration(cmd_parms *cmd, const char *key,
                                const char *value, int zero_ok,
                                apr_interval_time_t *out)
{
    const char *err = apigw_parse_duration(value, out);

    if (err) {
        return apr_psprintf(cmd->pool, "ApiCircuitBreaker: %s=%s: %s", key,
                            value, err);
    }
    if (*out < 0 || (*out == 0 && !zero_ok)) {
        return apr_psprintf(cmd->pool, "ApiCircuitBreaker: %s= must be "
                            "greater than zero", key);
    }
    if (*out < apr_time_from_msec(1) && *out != 0) {
        return apr_psprintf(cmd->pool, "ApiCircuitBreaker: %s= must be at "
                            "least 1ms", key);
    }
    return NULL;
}

static const char *set_count(cmd_parms *cmd, const char *key,
                             const char *value, apr_uint64_t min,
                             apr_uint64_t max, apr_uint64_t *out)
{
    apr_uint64_t n = 0;
    const char *c;

    for (c = value; *c; c++) {
        if (*c < '0' || *c > '9') {
            break;
        }
        n = n * 10 + (apr_uint64_t)(*c - '0');
        if (n > max) {
            break;
        }
    }
    if (!*value || *c || n < min || n > max) {
        return apr_psprintf(cmd->pool, "ApiCircuitBreaker: %s=%s must be a "
                            "whole number from %" APR_UINT64_T_FMT " to %"
                            APR_UINT64_T_FMT, key, value, min, max);
    }
    *out = n;
    return NULL;
}

static const char *set_option(cmd_parms *cmd, apigw_cb_breaker *b,
                              const char *word, int *seen)
{
    const char *eq = strchr(word, '=');
    const char *key, *value, *err;
    apr_uint64_t n;
    int i;

    if (!eq || eq == word) {
        return apr_psprintf(cmd->pool, "ApiCircuitBreaker: options are "
                            "key=value, got '%s' (quote the expression if "
                            "it has spaces: ApiCircuitBreaker \"... > 0.5\")",
                            word);
    }
    key = apr_pstrmemdup(cmd->pool, word, (apr_size_t)(eq - word));
    value = eq + 1;
    for (i = 0; options[i] && strcmp(key, options[i]); i++) {
    }
    if (!options[i]) {
        return apr_psprintf(cmd->pool, "ApiCircuitBreaker: unknown option "
                            "'%s' (use check, fallback, recovery, status, "
                            "min-requests, fallback-backend or scope)", key);
    }
    if (seen[i]++) {
        return apr_psprintf(cmd->pool, "ApiCircuitBreaker: %s= given twice",
                            key);
    }
    switch (i) {
    case 0:
        return set_duration(cmd, key, value, 0, &b->timing.check);
    case 1:
        return set_duration(cmd, key, value, 0, &b->timing.fallback);
    case 2:
        return set_duration(cmd, key, value, 1, &b->timing.recovery);
    case 3:
        if ((err = set_count(cmd, key, value, 400, 599, &n)) != NULL) {
            return apr_psprintf(cmd->pool, "ApiCircuitBreaker: status=%s "
                                "must be an HTTP error status from 400 to "
                                "599", value);
        }
        b->status = (int)n;
        return NULL;
    case 4:
        return set_count(cmd, key, value, 0, MAX_MIN_REQUESTS,
                         &b->min_requests);
    case 5:
        err = apigw_cb_url_parse_fallback(cmd->pool, value,
                                          &b->fallback_origin,
                                          &b->fallback_prefix);
        if (err) {
            return apr_psprintf(cmd->pool, "ApiCircuitBreaker: "
                                "fallback-backend=%s %s", value, err);
        }
        b->fallback_url = value;
        return NULL;
    default:
        if (strcmp(value, "endpoint") == 0) {
            b->scope_backend = 0;
        }
        else if (strcmp(value, "backend") == 0) {
            b->scope_backend = 1;
        }
        else {
            return apr_psprintf(cmd->pool, "ApiCircuitBreaker: scope=%s: use "
                                "endpoint (one state for the section) or "
                                "backend (one per backend it proxies to)",
                                value);
        }
        return NULL;
    }
}

/* ---- the expression ---- */

static const char *set_expression(cmd_parms *cmd, apigw_cb_breaker *b,
                                  const char *written)
{
    const char *text = apigw_cb_expr_preset(written), *err;
    apr_size_t pos, len;

    b->written = written;
    if (text) {
        b->preset = written;
    }
    else {
        text = written;
        /* no operator and no call: a mistyped preset, most likely */
        if (!strpbrk(text, "<>=!&|()")) {
            return apr_psprintf(cmd->pool, "ApiCircuitBreaker: '%s' is "
                                "neither a preset (%s) nor an expression "
                                "like \"NetworkErrorRatio() > 0.5\"", text,
                                apigw_cb_expr_preset_names());
        }
    }
    err = apigw_cb_expr_parse(cmd->pool, text, &b->expr, &pos);
    if (!err) {
        return NULL;
    }
    len = strlen(text);
    if (pos >= len) {
        return apr_psprintf(cmd->pool, "ApiCircuitBreaker \"%s\": error at "
                            "position %" APR_SIZE_T_FMT " (the end): %s",
                            text, len + 1, err);
    }
    return apr_psprintf(cmd->pool, "ApiCircuitBreaker \"%s\": error at "
                        "position %" APR_SIZE_T_FMT " (at \"%.20s%s\"): %s",
                        text, pos + 1, text + pos,
                        len - pos > 20 ? "..." : "", err);
}

/* ---- ApiCircuitBreaker ---- */

/* The identity: section path, expression, scope; a second breaker with
 * the very same identity (two identical sections) gets "#2". */
static const char *identity(cmd_parms *cmd, const ap_directive_t *sec,
                            const apigw_cb_breaker *b)
{
    const char *base = apr_pstrcat(cmd->pool, section_path(cmd->pool, sec),
                                   "|", apigw_cb_expr_text(b->expr), "|",
                                   b->scope_backend ? "backend" : "endpoint",
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

const char *apigw_cb_set_breaker(cmd_parms *cmd, void *mconfig,
                                 const char *args)
{
    struct apigw_cb_dir_conf *c = ((apigw_br_dir_conf *)mconfig)->cb;
    const ap_directive_t *sec = NULL;
    apigw_cb_breaker *b;
    const char *word, *err;
    int seen[7] = { 0 };

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
    b = apr_pcalloc(cmd->pool, sizeof(*b));
    b->timing.check = APIGW_CB_DEFAULT_CHECK;
    b->timing.fallback = APIGW_CB_DEFAULT_FALLBACK;
    b->timing.recovery = APIGW_CB_DEFAULT_RECOVERY;
    b->status = APIGW_CB_DEFAULT_STATUS;
    b->min_requests = APIGW_CB_DEFAULT_MIN_REQUESTS;
    b->file = cmd->directive->filename;
    b->line = (unsigned)cmd->directive->line_num;
    b->section = section_text(cmd->pool, sec);
    {
        /* an unquoted expression falls apart into words */
        const char *rest = args, *next = ap_getword_conf(cmd->temp_pool,
                                                          &rest);
        if (*next && !strchr(next, '=')) {
            return apr_psprintf(cmd->pool, "ApiCircuitBreaker: put the "
                                "expression in quotes, like "
                                "ApiCircuitBreaker \"%s %s ...\" (options "
                                "are key=value, got '%s')", word, next, next);
        }
    }
    if ((err = set_expression(cmd, b, word)) != NULL) {
        return err;
    }
    while (*(word = ap_getword_conf(cmd->pool, &args))) {
        if ((err = set_option(cmd, b, word, seen)) != NULL) {
            return err;
        }
    }
    b->id = identity(cmd, sec, b);
    b->owner = apigw_cb_key(b->id, NULL);
    if (!registry) {
        registry = apr_array_make(cmd->pool, 8, sizeof(apigw_cb_breaker *));
    }
    APR_ARRAY_PUSH(registry, apigw_cb_breaker *) = b;
    c->set = 1;
    c->breaker = b;
    return NULL;
}

/* ---- hooks ---- */

static int cb_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                         apr_pool_t *ptemp)
{
    (void)plog;
    (void)ptemp;
    /* a new generation: the registry is read again into the new pconf */
    registry = apr_array_make(pconf, 8, sizeof(apigw_cb_breaker *));
    return OK;
}

/* Also run by configtest: a fallback backend mod_proxy cannot make a
 * worker for fails there. */
static int cb_check_config(apr_pool_t *pconf, apr_pool_t *plog,
                           apr_pool_t *ptemp, server_rec *s)
{
    (void)plog;
    (void)ptemp;
    return apigw_cb_request_check_config(pconf, s);
}

static int cb_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                          apr_pool_t *ptemp, server_rec *s)
{
    (void)plog;
    (void)ptemp;
    /* the first pass at startup only checks the configuration */
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK;
    }
    return apigw_cb_shm_post_config(pconf, s);
}

static void cb_child_init(apr_pool_t *pchild, server_rec *s)
{
    apigw_cb_request_child_init(pchild, s);
}

void apigw_cb_register_hooks(apr_pool_t *p)
{
    ap_hook_pre_config(cb_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_config(cb_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(cb_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(cb_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    apigw_cb_request_register_hooks(p);
    apigw_cb_status_register_hooks(p);
}
