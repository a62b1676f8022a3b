/* Aggregating endpoints: their directives, create/merge, and the checks
 * made once an <ApiEndpoint> section has been read (see apigw_agg.h and
 * apigw_agg_conf.h); ApiStatic's arguments are read by apigw_static.c.
 * Each mistake is refused at configtest with the directive, and for
 * cross-directive checks the endpoint's file and line. */
#include "apigw_agg_conf.h"
#include "apigw_merge.h"
#include "apigw_parse.h"

#include "http_log.h"
#include "apr_strings.h"

struct apigw_agg_conf *apigw_agg_create(apr_pool_t *p)
{
    struct apigw_agg_conf *c = apr_pcalloc(p, sizeof(*c));
    c->sequential = -1;
    c->chunked_body = -1;
    return c;
}

/* Aggregation settings belong to one endpoint; a nested level only adds
 * what it sets itself. */
struct apigw_agg_conf *apigw_agg_merge(apr_pool_t *p,
                                       const struct apigw_agg_conf *base,
                                       const struct apigw_agg_conf *add)
{
    struct apigw_agg_conf *c = apr_pmemdup(p, add, sizeof(*c));

    if (!add->output_set) {
        c->output_set = base->output_set;
        c->output = base->output;
    }
    c->error_details = add->error_details ? add->error_details
                                          : base->error_details;
    if (!add->status_from) {
        c->status_from = base->status_from;
        c->status_headers = base->status_headers;
    }
    c->sequential = add->sequential != -1 ? add->sequential : base->sequential;
    c->concurrent_calls = add->concurrent_calls ? add->concurrent_calls
                                                : base->concurrent_calls;
    c->statics = add->statics ? add->statics : base->statics;
    if (!add->flatmaps) {
        c->flatmaps = base->flatmaps;
        c->flatmap = base->flatmap;
    }
    c->completed_header = add->completed_header ? add->completed_header
                                                : base->completed_header;
    if (!add->max_body_set) {
        c->max_body_set = base->max_body_set;
        c->max_body = base->max_body;
    }
    if (add->host_source == APIGW_HOST_NONE) {
        c->host_source = base->host_source;
        c->host_header = base->host_header;
        c->host_expr = base->host_expr;
    }
    c->host_allow = add->host_allow ? add->host_allow : base->host_allow;
    c->backend_ua = add->backend_ua ? add->backend_ua : base->backend_ua;
    c->chunked_body = add->chunked_body != -1 ? add->chunked_body
                                              : base->chunked_body;
    return c;
}

/* ---- helpers ---- */

static struct apigw_agg_conf *agg_of(void *dconf)
{
    return ((apigw_dir_conf *)dconf)->agg;
}

static const char *only_in_endpoint(const cmd_parms *cmd)
{
    return apigw_cmd_in_endpoint(cmd) ? NULL
           : apr_pstrcat(cmd->pool, cmd->cmd->name,
                         " is only allowed inside <ApiEndpoint>", NULL);
}

/* ---- directives ---- */

const char *apigw_agg_set_output(cmd_parms *cmd, void *dconf, const char *arg)
{
    struct apigw_agg_conf *c = agg_of(dconf);
    const char *err = only_in_endpoint(cmd);

    if (err) {
        return err;
    }
    if ((err = apigw_output_encoding_parse(arg, &c->output)) != NULL) {
        return apr_psprintf(cmd->pool, "ApiOutputEncoding %s: %s", arg, err);
    }
    c->output_set = 1;
    return NULL;
}

const char *apigw_agg_set_error_details(cmd_parms *cmd, void *dconf,
                                        const char *arg)
{
    const char *err = only_in_endpoint(cmd), *s;

    if (err) {
        return err;
    }
    for (s = arg; *s; s++) {
        if (!apr_isalnum(*s) && *s != '_' && *s != '-') {
            return apr_psprintf(cmd->pool, "ApiReturnErrorDetails %s: the "
                                "name may hold letters, digits, '_' and '-'",
                                arg);
        }
    }
    if (!*arg) {
        return "ApiReturnErrorDetails needs a name";
    }
    agg_of(dconf)->error_details = arg;
    return NULL;
}

const char *apigw_agg_set_status_from(cmd_parms *cmd, void *dconf,
                                      const char *args)
{
    struct apigw_agg_conf *c = agg_of(dconf);
    const char *err = only_in_endpoint(cmd), *word;

    if (err) {
        return err;
    }
    c->status_from = ap_getword_conf(cmd->pool, &args);
    if (!*c->status_from) {
        return "ApiStatusFrom needs a backend name (its name=, its group= "
               "or its position from 0)";
    }
    c->status_headers = apr_array_make(cmd->pool, 2, sizeof(const char *));
    while (*(word = ap_getword_conf(cmd->pool, &args))) {
        char *list, *name, *state;
        if (strncmp(word, "headers=", 8) != 0) {
            return apr_psprintf(cmd->pool, "ApiStatusFrom: unknown option "
                                "'%s' (headers=A,B)", word);
        }
        list = apr_pstrdup(cmd->pool, word + 8);
        for (name = apr_strtok(list, ",", &state); name;
             name = apr_strtok(NULL, ",", &state)) {
            if (!apigw_is_token(name)) {
                return apr_psprintf(cmd->pool, "ApiStatusFrom: '%s' is not "
                                    "a header name", name);
            }
            APR_ARRAY_PUSH(c->status_headers, const char *) = name;
        }
    }
    return NULL;
}

const char *apigw_agg_set_sequential(cmd_parms *cmd, void *dconf, int flag)
{
    const char *err = only_in_endpoint(cmd);
    if (!err) {
        agg_of(dconf)->sequential = flag;
    }
    return err;
}

const char *apigw_agg_set_concurrent(cmd_parms *cmd, void *dconf,
                                     const char *arg)
{
    const char *err = only_in_endpoint(cmd);
    char *end;
    long n;

    if (err) {
        return err;
    }
    n = strtol(arg, &end, 10);
    if (*end || end == arg || n < 1 || n > 10) {
        return apr_psprintf(cmd->pool, "ApiConcurrentCalls %s: a number from "
                            "1 to 10", arg);
    }
    agg_of(dconf)->concurrent_calls = (int)n;
    return NULL;
}

const char *apigw_agg_set_static(cmd_parms *cmd, void *dconf, const char *args)
{
    struct apigw_agg_conf *c = agg_of(dconf);
    const char *err = only_in_endpoint(cmd);
    apigw_static st;

    if (err) {
        return err;
    }
    if ((err = apigw_static_parse(cmd->pool, args, &st)) != NULL) {
        return err;
    }
    if (!c->statics) {
        c->statics = apr_array_make(cmd->pool, 1, sizeof(apigw_static));
    }
    APR_ARRAY_PUSH(c->statics, apigw_static) = st;
    return NULL;
}

/* ApiFlatmap [backend=N] OP PATH...: checked here; backend= is resolved
 * once the section is read (check_flatmaps). */
const char *apigw_agg_set_flatmap(cmd_parms *cmd, void *dconf,
                                  const char *args)
{
    struct apigw_agg_conf *c = agg_of(dconf);
    const char *err = only_in_endpoint(cmd), *word;
    apr_array_header_t *paths;
    apigw_agg_flatmap line;
    apigw_flatmap *ops;

    if (err) {
        return err;
    }
    memset(&line, 0, sizeof(line));
    line.file = cmd->directive->filename;
    line.line = (unsigned)cmd->directive->line_num;
    word = ap_getword_conf(cmd->pool, &args);
    if (strncmp(word, "backend=", 8) == 0) {
        if (!word[8]) {
            return "ApiFlatmap: backend= needs a backend's name or position";
        }
        line.backend = word + 8;
        word = ap_getword_conf(cmd->pool, &args);
    }
    if (!*word) {
        return "ApiFlatmap needs an operation: move FROM TO, del PATH... "
               "or append FROM TO";
    }
    paths = apr_array_make(cmd->temp_pool, 2, sizeof(const char *));
    for (;;) {
        while (apr_isspace(*args)) {
            args++;
        }
        if (!*args) {
            break;
        }
        APR_ARRAY_PUSH(paths, const char *) = ap_getword_conf(cmd->pool,
                                                              &args);
    }
    ops = apigw_flatmap_create(cmd->pool);
    err = apigw_flatmap_add(cmd->pool, ops, word, paths->nelts,
                            (const char *const *)paths->elts);
    if (err) {
        return apr_pstrcat(cmd->pool, "ApiFlatmap ", err, NULL);
    }
    line.ops = ops;
    if (!c->flatmaps) {
        c->flatmaps = apr_array_make(cmd->pool, 2, sizeof(apigw_agg_flatmap));
    }
    APR_ARRAY_PUSH(c->flatmaps, apigw_agg_flatmap) = line;
    if (!line.backend) {
        if (!c->flatmap) {
            c->flatmap = apigw_flatmap_create(cmd->pool);
        }
        apigw_flatmap_extend(c->flatmap, ops);
    }
    return NULL;
}

const char *apigw_agg_set_completed(cmd_parms *cmd, void *dconf,
                                    const char *arg)
{
    const char *name = arg;

    if (ap_cstr_casecmp(arg, "off") == 0) {
        name = "";
    }
    else if (!apigw_is_token(arg)) {
        return apr_psprintf(cmd->pool, "ApiCompletedHeader: '%s' is not a "
                            "header name", arg);
    }
    if (cmd->path) {
        if (!apigw_cmd_in_endpoint(cmd)) {
            return "ApiCompletedHeader belongs in the server config, a "
                   "<VirtualHost> or an <ApiEndpoint>";
        }
        agg_of(dconf)->completed_header = name;
    }
    else {
        apigw_server_conf *sc = ap_get_module_config(cmd->server->module_config,
                                                     &apigw_module);
        sc->completed_header = name;
    }
    return NULL;
}

/* Outside endpoints dconf is the server's (or virtual host's)
 * lookup_defaults, which httpd merges into its virtual hosts'. */
const char *apigw_agg_set_user_agent(cmd_parms *cmd, void *dconf,
                                     const char *arg)
{
    const char *s;

    if (cmd->path && !apigw_cmd_in_endpoint(cmd)) {
        return "ApiBackendUserAgent belongs in the server config, a "
               "<VirtualHost> or an <ApiEndpoint>";
    }
    if (ap_cstr_casecmp(arg, "off") == 0) {
        agg_of(dconf)->backend_ua = "";
        return NULL;
    }
    if (!*arg) {
        return "ApiBackendUserAgent needs a value, or off";
    }
    for (s = arg; *s; s++) {
        if (apr_iscntrl(*s)) {
            return "ApiBackendUserAgent: control characters cannot be "
                   "part of a header";
        }
    }
    agg_of(dconf)->backend_ua = arg;
    return NULL;
}

/* Kept where ApiBackendUserAgent is (see above). */
const char *apigw_agg_set_chunked_body(cmd_parms *cmd, void *dconf, int flag)
{
    if (cmd->path && !apigw_cmd_in_endpoint(cmd)) {
        return "ApiBackendChunkedBody belongs in the server config, a "
               "<VirtualHost> or an <ApiEndpoint>";
    }
    agg_of(dconf)->chunked_body = flag ? 1 : 0;
    return NULL;
}

const char *apigw_agg_set_max_body(cmd_parms *cmd, void *dconf,
                                   const char *arg)
{
    apr_off_t n;
    const char *err = apigw_parse_size(arg, &n);

    if (err) {
        return apr_psprintf(cmd->pool, "ApiMaxBackendBody %s: %s", arg, err);
    }
    if (n <= 0 || n > APR_INT32_MAX) {
        return "ApiMaxBackendBody must be from 1 byte to 2G";
    }
    if (cmd->path) {
        if (!apigw_cmd_in_endpoint(cmd)) {
            return "ApiMaxBackendBody belongs in the server config, a "
                   "<VirtualHost> or an <ApiEndpoint>";
        }
        agg_of(dconf)->max_body = n;
        agg_of(dconf)->max_body_set = 1;
    }
    else {
        apigw_server_conf *sc = ap_get_module_config(cmd->server->module_config,
                                                     &apigw_module);
        sc->max_backend_body = n;
        sc->max_backend_body_set = 1;
    }
    return NULL;
}

const char *apigw_agg_set_host(cmd_parms *cmd, void *dconf, const char *arg)
{
    struct apigw_agg_conf *c = agg_of(dconf);
    const char *err = only_in_endpoint(cmd);

    if (err) {
        return err;
    }
    if (strncmp(arg, "header:", 7) == 0 && apigw_is_token(arg + 7)) {
        c->host_source = APIGW_HOST_HEADER;
        c->host_header = arg + 7;
        return NULL;
    }
    if (strncmp(arg, "expr:", 5) == 0 && arg[5]) {
        c->host_expr = ap_expr_parse_cmd(cmd, arg + 5,
                                         AP_EXPR_FLAG_STRING_RESULT, &err,
                                         NULL);
        if (err) {
            return apr_psprintf(cmd->pool, "ApiBackendHost: cannot parse "
                                "the expression '%s': %s", arg + 5, err);
        }
        c->host_source = APIGW_HOST_EXPR;
        return NULL;
    }
    return apr_psprintf(cmd->pool, "ApiBackendHost %s: use header:NAME or "
                        "expr:EXPRESSION", arg);
}

/* host or host:port, lower case; [v6]:port too. */
static int is_host_port(const char *s)
{
    const char *colon;

    if (!*s || strpbrk(s, "/?#@ \t\\")) {
        return 0;
    }
    colon = *s == '[' ? strstr(s, "]:") : strrchr(s, ':');
    if (colon) {
        const char *d = colon + (*s == '[' ? 2 : 1);
        if (!*d || strspn(d, "0123456789") != strlen(d) || strlen(d) > 5) {
            return 0;
        }
    }
    return 1;
}

const char *apigw_agg_set_host_allow(cmd_parms *cmd, void *dconf,
                                     const char *arg)
{
    struct apigw_agg_conf *c = agg_of(dconf);
    const char *err = only_in_endpoint(cmd);

    if (err) {
        return err;
    }
    if (!is_host_port(arg)) {
        return apr_psprintf(cmd->pool, "ApiBackendHostAllow: '%s' is not a "
                            "host or host:port", arg);
    }
    if (!c->host_allow) {
        c->host_allow = apr_array_make(cmd->pool, 4, sizeof(const char *));
    }
    APR_ARRAY_PUSH(c->host_allow, const char *) =
        apr_pstrdup(cmd->pool, arg);
    ap_str_tolower(APR_ARRAY_IDX(c->host_allow, c->host_allow->nelts - 1,
                                 char *));
    return NULL;
}

/* ---- backend options ---- */

const char *apigw_agg_backend_option(apr_pool_t *p, apigw_backend *be,
                                     const char *key, const char *value)
{
    const char *err;

    if (strcmp(key, "name") == 0) {
        const char *s;
        if (!value || !*value) {
            return "name= needs a value";
        }
        for (s = value; *s; s++) {
            if (!apr_isalnum(*s) && *s != '_' && *s != '-') {
                return "name= may hold letters, digits, '_' and '-'";
            }
        }
        be->name = value;
        return "";
    }
    if (!apigw_shape_is_key(key)) {
        return NULL;
    }
    if (!be->shape) {
        be->shape = apigw_shape_create(p);
    }
    if ((err = apigw_shape_set(p, be->shape, key, value)) != NULL) {
        return err;
    }
    be->shaped = 1;
    return "";
}

int apigw_agg_is_resp_var(const char *name, int *index)
{
    const char *s = name + 4;
    int n = 0;

    if (strncmp(name, "resp", 4) != 0 || !apr_isdigit(*s)) {
        return 0;
    }
    for (; apr_isdigit(*s); s++) {
        if (n > 1000) {
            return 0;
        }
        n = n * 10 + (*s - '0');
    }
    if (*s != '_' || !s[1]) {
        return 0;
    }
    *index = n;
    return 1;
}

/* ---- after the section ---- */

static int wants_gateway_calls(const apigw_endpoint *ep,
                               const struct apigw_agg_conf *c)
{
    int i;

    if (ep->conf->backends->nelts > 1 || c->error_details || c->status_from
        || c->statics || c->flatmaps || c->host_source != APIGW_HOST_NONE
        || c->concurrent_calls > 1 || c->sequential == 1
        || (c->output_set && c->output != APIGW_OUT_NOOP)) {
        return 1;
    }
    for (i = 0; i < ep->conf->backends->nelts; i++) {
        if (APR_ARRAY_IDX(ep->conf->backends, i, apigw_backend *)->shaped) {
            return 1;
        }
    }
    return 0;
}

static const char *name_backends(apr_pool_t *p, apigw_endpoint *ep)
{
    apr_array_header_t *bes = ep->conf->backends;
    int i, j;

    for (i = 0; i < bes->nelts; i++) {
        apigw_backend *be = APR_ARRAY_IDX(bes, i, apigw_backend *);
        const char *err;
        be->index = i;
        if (!be->shape) {
            be->shape = apigw_shape_create(p);
        }
        if (!be->name && be->shape && apigw_shape_group(be->shape)) {
            be->name = apigw_shape_group(be->shape);
        }
        if (!be->name) {
            be->name = apr_itoa(p, i);
        }
        if (be->shape && (err = apigw_shape_check(p, be->shape)) != NULL) {
            return apr_psprintf(p, "ApiBackend %s (%s:%u): %s", be->url,
                                be->file, be->line, err);
        }
        for (j = 0; j < i; j++) {
            apigw_backend *o = APR_ARRAY_IDX(bes, j, apigw_backend *);
            if (strcmp(o->name, be->name) == 0) {
                return apr_psprintf(p, "ApiBackend %s (%s:%u): another "
                                    "backend of this endpoint (%s:%u) is "
                                    "already named '%s'; give one a name=",
                                    be->url, be->file, be->line, o->file,
                                    o->line, be->name);
            }
        }
    }
    return NULL;
}

static const char *check_backend(apr_pool_t *p,
                                 const struct apigw_agg_conf *c,
                                 const apigw_backend *be)
{
    const char *scheme = apigw_template_scheme(be->tpl);
    const apr_array_header_t *vars = apigw_template_vars(be->tpl);
    int i, n;

    if (be->websocket) {
        return apr_psprintf(p, "ApiBackend %s (%s:%u): a WebSocket backend "
                            "needs an endpoint of its own; the gateway calls "
                            "an aggregating endpoint's backends itself",
                            be->url, be->file, be->line);
    }
    if (strcmp(scheme, "http") && strcmp(scheme, "https")
        && strcmp(scheme, "balancer")) {
        return apr_psprintf(p, "ApiBackend %s (%s:%u): the gateway calls "
                            "this endpoint's backends itself, over http or "
                            "https (or a balancer:// of them), not %s",
                            be->url, be->file, be->line, scheme);
    }
    if (be->is_balancer && c->host_source != APIGW_HOST_NONE) {
        return apr_psprintf(p, "ApiBackend %s (%s:%u): ApiBackendHost "
                            "cannot choose the host of a balancer:// "
                            "backend", be->url, be->file, be->line);
    }
    for (i = 0; i < vars->nelts; i++) {
        const char *name = APR_ARRAY_IDX(vars, i, const char *);
        if (!apigw_agg_is_resp_var(name, &n)) {
            continue;
        }
        if (c->sequential != 1) {
            return apr_psprintf(p, "ApiBackend %s (%s:%u) uses {%s}, which "
                                "needs ApiSequential on", be->url, be->file,
                                be->line, name);
        }
        if (n >= be->index) {
            return apr_psprintf(p, "ApiBackend %s (%s:%u) uses {%s}, but "
                                "only earlier backends' responses can be "
                                "used (this one is number %d, from 0)",
                                be->url, be->file, be->line, name,
                                be->index);
        }
    }
    return NULL;
}

static const char *check_status_from(apr_pool_t *p, apigw_endpoint *ep,
                                     const struct apigw_agg_conf *c)
{
    int i;

    for (i = 0; i < ep->conf->backends->nelts; i++) {
        apigw_backend *be = APR_ARRAY_IDX(ep->conf->backends, i,
                                          apigw_backend *);
        if (strcmp(be->name, c->status_from) == 0) {
            ep->status_from = be->index;
            return NULL;
        }
    }
    return apr_psprintf(p, "<ApiEndpoint \"%s\"> (%s:%u): ApiStatusFrom %s "
                        "names no backend of this endpoint (backends are "
                        "named by name=, else group=, else their position "
                        "from 0)", ep->pattern, ep->file, ep->line,
                        c->status_from);
}

static int flatmap_step(const void *ops, json_t *doc, const char **err)
{
    return apigw_flatmap_apply(ops, doc, err);
}

/* The backend an ApiFlatmap backend= names: its name (name=, else group=,
 * else its position), else its position from 0; NULL if none. */
static apigw_backend *flatmap_backend(const apigw_endpoint *ep,
                                      const char *which)
{
    const apr_array_header_t *bes = ep->conf->backends;
    const char *s;
    int i, n = 0;

    for (i = 0; i < bes->nelts; i++) {
        apigw_backend *be = APR_ARRAY_IDX(bes, i, apigw_backend *);
        if (strcmp(be->name, which) == 0) {
            return be;
        }
    }
    for (s = which; apr_isdigit(*s) && n <= bes->nelts; s++) {
        n = n * 10 + (*s - '0');
    }
    if (*s || (which[0] == '0' && which[1]) || n >= bes->nelts) {
        return NULL;
    }
    return APR_ARRAY_IDX(bes, n, apigw_backend *);
}

/* ApiFlatmap lines against the backends; each backend's lines become the
 * operations its shape runs. */
static const char *check_flatmaps(apr_pool_t *p, apigw_endpoint *ep,
                                  const struct apigw_agg_conf *c)
{
    apr_size_t n = (apr_size_t)ep->conf->backends->nelts;
    apigw_flatmap **per = apr_pcalloc(p, sizeof(*per) * n);
    int i;

    for (i = 0; i < c->flatmaps->nelts; i++) {
        const apigw_agg_flatmap *l = &APR_ARRAY_IDX(c->flatmaps, i,
                                                    apigw_agg_flatmap);
        apigw_backend *be;

        if (c->output_set && c->output == APIGW_OUT_NOOP) {
            return apr_psprintf(p, "ApiFlatmap (%s:%u): ApiOutputEncoding "
                                "no-op passes the backend's answer through "
                                "untouched", l->file, l->line);
        }
        if (!l->backend) {
            continue;
        }
        if (!(be = flatmap_backend(ep, l->backend))) {
            return apr_psprintf(p, "ApiFlatmap backend=%s (%s:%u): "
                                "<ApiEndpoint \"%s\"> has no such backend "
                                "(a backend is named by name=, else group=, "
                                "else its position from 0)", l->backend,
                                l->file, l->line, ep->pattern);
        }
        if (apigw_shape_encoding(be->shape) == APIGW_IN_NOOP) {
            return apr_psprintf(p, "ApiFlatmap backend=%s (%s:%u): ApiBackend "
                                "%s (%s:%u) has encoding=no-op: its body is "
                                "passed through untouched", l->backend,
                                l->file, l->line, be->url, be->file, be->line);
        }
        if (apigw_shape_has_filters(be->shape)) {
            return apr_psprintf(p, "ApiFlatmap backend=%s (%s:%u): ApiBackend "
                                "%s (%s:%u) has allow=, deny= or mapping=, "
                                "which KrakenD ignores where a flatmap "
                                "applies: use one or the other", l->backend,
                                l->file, l->line, be->url, be->file, be->line);
        }
        if (!per[be->index]) {
            per[be->index] = apigw_flatmap_create(p);
            apigw_shape_set_ops(be->shape, flatmap_step, per[be->index]);
        }
        apigw_flatmap_extend(per[be->index], l->ops);
    }
    return NULL;
}

const char *apigw_agg_finish_endpoint(apr_pool_t *p, apigw_endpoint *ep)
{
    const struct apigw_agg_conf *c = ep->conf->agg;
    const char *err;
    int i;

    ep->status_from = -1;
    if ((err = name_backends(p, ep)) != NULL) {
        return err;
    }
    ep->aggregate = wants_gateway_calls(ep, c);
    if (!ep->aggregate) {
        return NULL;
    }
    if (c->output_set && c->output == APIGW_OUT_NOOP
        && ep->conf->backends->nelts > 1) {
        return apr_psprintf(p, "<ApiEndpoint \"%s\"> (%s:%u): "
                            "ApiOutputEncoding no-op passes one backend's "
                            "response through; this endpoint has %d backends",
                            ep->pattern, ep->file, ep->line,
                            ep->conf->backends->nelts);
    }
    if ((c->host_source != APIGW_HOST_NONE) != (c->host_allow != NULL)) {
        return apr_psprintf(p, "<ApiEndpoint \"%s\"> (%s:%u): ApiBackendHost "
                            "and ApiBackendHostAllow go together (the allowed "
                            "hosts keep the gateway from being an open proxy)",
                            ep->pattern, ep->file, ep->line);
    }
    for (i = 0; i < ep->conf->backends->nelts; i++) {
        err = check_backend(p, c, APR_ARRAY_IDX(ep->conf->backends, i,
                                                    apigw_backend *));
        if (err) {
            return err;
        }
    }
    if (c->status_from && (err = check_status_from(p, ep, c)) != NULL) {
        return err;
    }
    if (c->flatmaps && (err = check_flatmaps(p, ep, c)) != NULL) {
        return err;
    }
    return NULL;
}

void apigw_agg_resolve(apigw_endpoint *ep, const apigw_server_conf *sc)
{
    const struct apigw_agg_conf *c = ep->conf->agg;
    int shaped = 0, i;

    ep->completed_header = c->completed_header ? c->completed_header
                           : sc->completed_header ? sc->completed_header
                           : APIGW_DEFAULT_COMPLETED_HEADER;
    ep->max_backend_body = c->max_body_set ? (apr_size_t)c->max_body
                           : sc->max_backend_body_set
                             ? (apr_size_t)sc->max_backend_body
                             : APIGW_DEFAULT_MAX_BACKEND_BODY;
    for (i = 0; i < ep->conf->backends->nelts; i++) {
        shaped |= APR_ARRAY_IDX(ep->conf->backends, i, apigw_backend *)->shaped;
    }
    /* one backend taken as it is: pass it through unless asked otherwise */
    ep->output = c->output_set ? (int)c->output
                 : (ep->conf->backends->nelts == 1 && !shaped && !c->statics
                    && !c->flatmaps
                    && !c->error_details) ? (int)APIGW_OUT_NOOP
                 : (int)APIGW_OUT_JSON;
}
