/* mod_apigw configuration: the <ApiEndpoint> section, the Api* directives
 * and the create/merge functions for server and directory config. Every
 * mistake a user can make here is refused at configtest with a message
 * naming the directive, and where it helps the file and line. */
#include "apigw_config.h"
#include "apigw_agg.h"
#include "apigw_parse.h"
#include "apigw_policy_validate.h"
#include "apigw_rt_model.h"
#include "apigw_stream.h"
#include "apigw_trace_request.h"
#include "apigw_openapi.h"
#include "apigw_metrics.h"
#include "apigw_reqschema.h"
#include "apigw_json_error.h"

#include "http_log.h"
#include "apr_strings.h"

/* ---- create / merge ---- */

void *apigw_create_dir_conf(apr_pool_t *p, char *dir)
{
    apigw_dir_conf *c = apr_pcalloc(p, sizeof(*c));
    (void)dir;
    c->backends = apr_array_make(p, 1, sizeof(apigw_backend *));
    c->disable_rest = -1;
    c->policy = apigw_policy_create(p);
    c->agg = apigw_agg_create(p);
    return c;
}

static apigw_allow_list merge_allow(apigw_allow_list base, apigw_allow_list add)
{
    return add.set ? add : base;
}

void *apigw_merge_dir_conf(apr_pool_t *p, void *basev, void *addv)
{
    const apigw_dir_conf *base = basev, *add = addv;
    apigw_dir_conf *c = apr_pcalloc(p, sizeof(*c));

    c->backends = add->backends->nelts ? add->backends : base->backends;
    c->input_headers = merge_allow(base->input_headers, add->input_headers);
    c->input_query = merge_allow(base->input_query, add->input_query);
    c->timeout_set = add->timeout_set || base->timeout_set;
    c->timeout = add->timeout_set ? add->timeout : base->timeout;
    c->cache_ttl_set = add->cache_ttl_set || base->cache_ttl_set;
    c->cache_ttl = add->cache_ttl_set ? add->cache_ttl : base->cache_ttl;
    c->disable_rest = add->disable_rest != -1 ? add->disable_rest
                                              : base->disable_rest;
    c->ws_idle = add->ws_idle ? add->ws_idle : base->ws_idle;
    c->stream_idle = add->stream_idle ? add->stream_idle : base->stream_idle;
    c->policy = apigw_policy_merge(p, base->policy, add->policy);
    c->agg = apigw_agg_merge(p, base->agg, add->agg);
    c->request_schema = add->request_schema ? add->request_schema
                                            : base->request_schema;
    c->gql_max_bytes = add->gql_max_bytes ? add->gql_max_bytes
                                          : base->gql_max_bytes;
    c->gql_max_depth = add->gql_max_depth ? add->gql_max_depth
                                          : base->gql_max_depth;
    c->gql_max_fields = add->gql_max_fields ? add->gql_max_fields
                                            : base->gql_max_fields;
    c->gql_max_aliases = add->gql_max_aliases ? add->gql_max_aliases
                                              : base->gql_max_aliases;
    c->error_format = add->error_format ? add->error_format
                                        : base->error_format;
    return c;
}

void *apigw_create_server_conf(apr_pool_t *p, server_rec *s)
{
    apigw_server_conf *c = apr_pcalloc(p, sizeof(*c));
    (void)s;
    c->endpoints = apr_array_make(p, 8, sizeof(apigw_endpoint *));
    c->routes = apigw_route_table_make(p);
    c->redirect_fixed_path = -1;
    c->redirect_trailing_slash = -1;
    c->trace_context = -1;
    c->trace_sample = -1;
    return c;
}

static int endpoint_route_flags(const apigw_endpoint *ep)
{
    return ep->conf->disable_rest == 1 ? APIGW_ROUTE_INNER_VARS : 0;
}

/* Adds every method of ep to t; extra_flags may ask to skip conflicts. */
static const char *add_routes(apr_pool_t *p, apigw_route_table *t,
                              apigw_endpoint *ep, int extra_flags)
{
    int i;

    for (i = 0; i < ep->methods->nelts; i++) {
        const char *method = APR_ARRAY_IDX(ep->methods, i, const char *);
        void *other = NULL;
        const char *why = apigw_route_add(t, ep->pattern, method, ep,
                                          endpoint_route_flags(ep) | extra_flags,
                                          &other);
        if (why && other) {
            const apigw_endpoint *o = other;
            return apr_psprintf(p, "<ApiEndpoint \"%s\" %s> (%s:%u) collides "
                                "with <ApiEndpoint \"%s\"> (%s:%u): %s",
                                ep->pattern, method, ep->file, ep->line,
                                o->pattern, o->file, o->line, why);
        }
        if (why) {
            return apr_psprintf(p, "<ApiEndpoint \"%s\">: %s", ep->pattern, why);
        }
    }
    return NULL;
}

/* A virtual host serves its own endpoints first, then the main server's
 * that do not collide with them. */
void *apigw_merge_server_conf(apr_pool_t *p, void *basev, void *addv)
{
    const apigw_server_conf *base = basev, *add = addv;
    apigw_server_conf *c = apr_pcalloc(p, sizeof(*c));
    int i;

    c->endpoints = add->endpoints;
    c->timeout_set = add->timeout_set || base->timeout_set;
    c->timeout = add->timeout_set ? add->timeout : base->timeout;
    c->completed_header = add->completed_header ? add->completed_header
                                                : base->completed_header;
    c->route_store = base->route_store;
    c->route_refresh = base->route_refresh;
    c->environment = add->environment ? add->environment : base->environment;
    c->max_backend_body_set = add->max_backend_body_set
                              || base->max_backend_body_set;
    c->max_backend_body = add->max_backend_body_set ? add->max_backend_body
                                                    : base->max_backend_body;
    c->ws_idle = add->ws_idle ? add->ws_idle : base->ws_idle;
    c->stream_idle = add->stream_idle ? add->stream_idle : base->stream_idle;
    c->ws_max_per_child = base->ws_max_per_child;
    c->error_format = add->error_format ? add->error_format
                                        : base->error_format;
    c->redirect_fixed_path = add->redirect_fixed_path != -1
                             ? add->redirect_fixed_path
                             : base->redirect_fixed_path;
    c->redirect_trailing_slash = add->redirect_trailing_slash != -1
                                 ? add->redirect_trailing_slash
                                 : base->redirect_trailing_slash;
    c->openapi_title = add->openapi_title ? add->openapi_title
                                          : base->openapi_title;
    c->openapi_version = add->openapi_version ? add->openapi_version
                                              : base->openapi_version;
    c->trace_context = add->trace_context != -1 ? add->trace_context
                                                : base->trace_context;
    c->trace_sample = add->trace_sample >= 0 ? add->trace_sample
                                             : base->trace_sample;
    c->routes = apigw_route_table_make(p);
    for (i = 0; i < add->endpoints->nelts; i++) {
        add_routes(p, c->routes, APR_ARRAY_IDX(add->endpoints, i,
                                               apigw_endpoint *), 0);
    }
    for (i = 0; i < base->endpoints->nelts; i++) {
        add_routes(p, c->routes, APR_ARRAY_IDX(base->endpoints, i,
                                               apigw_endpoint *),
                   APIGW_ROUTE_SKIP_CONFLICT);
    }
    return c;
}

apr_interval_time_t apigw_server_timeout(const apigw_server_conf *sc)
{
    return sc->timeout_set ? sc->timeout : APIGW_DEFAULT_TIMEOUT;
}

int apigw_allow_list_has(const apigw_allow_list *l, const char *name,
                         int nocase)
{
    int i;

    if (l->all) {
        return 1;
    }
    for (i = 0; l->names && i < l->names->nelts; i++) {
        const char *n = APR_ARRAY_IDX(l->names, i, const char *);
        if (nocase ? ap_cstr_casecmp(n, name) == 0 : strcmp(n, name) == 0) {
            return 1;
        }
    }
    return 0;
}

/* ---- helpers ---- */

int apigw_cmd_in_endpoint(const cmd_parms *cmd)
{
    const ap_directive_t *d;

    for (d = cmd->directive->parent; d; d = d->parent) {
        if (ap_cstr_casecmp(d->directive, "<ApiEndpoint") == 0) {
            return 1;
        }
    }
    return 0;
}

static const char *endpoint_only(const cmd_parms *cmd)
{
    if (!apigw_cmd_in_endpoint(cmd)) {
        return apr_pstrcat(cmd->pool, cmd->cmd->name,
                           " is only allowed inside <ApiEndpoint>", NULL);
    }
    return NULL;
}

/* ---- <ApiEndpoint> ---- */

static const char *check_backend_vars(apr_pool_t *p, apigw_endpoint *ep,
                                      const apigw_backend *be)
{
    const apr_array_header_t *names = apigw_template_vars(be->tpl);
    int i, has_wildcard = strstr(ep->pattern, "/*") != NULL
                          && ep->pattern[strlen(ep->pattern) - 1] == '*';

    for (i = 0; i < names->nelts; i++) {
        const char *name = APR_ARRAY_IDX(names, i, const char *);
        const char *braced = apr_pstrcat(p, "{", name, "}", NULL);
        int index;

        if (apigw_agg_is_resp_var(name, &index)) {
            continue;              /* an earlier response's field */
        }
        if (strncmp(name, APIGW_CLAIM_VAR_PREFIX,
                    sizeof(APIGW_CLAIM_VAR_PREFIX) - 1) == 0
            && name[sizeof(APIGW_CLAIM_VAR_PREFIX) - 1]) {
            ep->claim_vars = 1;
            continue;              /* a claim of the request's JWT */
        }
        if (strcmp(name, "*") == 0 ? !has_wildcard
                                   : !strstr(ep->pattern, braced)) {
            return apr_psprintf(p, "ApiBackend %s (%s:%u) uses %s, which "
                                "<ApiEndpoint \"%s\"> does not define",
                                be->url, be->file, be->line, braced,
                                ep->pattern);
        }
    }
    return NULL;
}

/* The part of an endpoint's section other modules configure (mod_headers'
 * Header, the breaker's ApiCircuitBreaker, ...), for merging into each
 * request's per-dir config (Require, LimitRequestBody, ...); NULL when
 * there is none. This module's own
 * slot is left out: it reads ep->conf directly, so merging it per request
 * would be work for nothing. */
static ap_conf_vector_t *foreign_section(apr_pool_t *p,
                                         ap_conf_vector_t *section)
{
    ap_conf_vector_t *foreign = NULL;
    module *m;

    for (m = ap_top_module; m; m = m->next) {
        void *conf;
        if (m == &apigw_module || !(conf = ap_get_module_config(section, m))) {
            continue;
        }
        if (!foreign) {
            foreign = ap_create_per_dir_config(p);
        }
        ap_set_module_config(foreign, m, conf);
    }
    return foreign;
}

static const char *finish_endpoint(cmd_parms *cmd, apigw_endpoint *ep)
{
    apigw_server_conf *sc = ap_get_module_config(cmd->server->module_config,
                                                 &apigw_module);
    const char *err;
    int i;

    if (!ep->conf || ep->conf->backends->nelts == 0) {
        return apr_psprintf(cmd->pool, "<ApiEndpoint \"%s\"> (%s:%u) has no "
                            "ApiBackend", ep->pattern, ep->file, ep->line);
    }
    err = apigw_route_check(cmd->pool, ep->pattern, endpoint_route_flags(ep));
    if (err) {
        return apr_psprintf(cmd->pool, "<ApiEndpoint \"%s\"> (%s:%u): %s",
                            ep->pattern, ep->file, ep->line, err);
    }
    for (i = 0; i < ep->conf->backends->nelts; i++) {
        err = check_backend_vars(cmd->pool, ep,
                                 APR_ARRAY_IDX(ep->conf->backends, i,
                                               apigw_backend *));
        if (err) {
            return err;
        }
    }
    if ((err = apigw_agg_finish_endpoint(cmd->pool, ep)) != NULL) {
        return err;
    }
    if (ep->conf->cache_ttl_set && ep->conf->cache_ttl > 0) {
        ep->cache_control = apr_psprintf(cmd->pool, "public, max-age=%"
                                         APR_TIME_T_FMT,
                                         apr_time_sec(ep->conf->cache_ttl));
    }
    ep->foreign_config = foreign_section(cmd->pool, ep->section_config);
    err = add_routes(cmd->pool, sc->routes, ep, 0);
    if (err) {
        return err;
    }
    APR_ARRAY_PUSH(sc->endpoints, apigw_endpoint *) = ep;
    return NULL;
}

static const char *endpoint_section(cmd_parms *cmd, void *mconfig,
                                    const char *arg)
{
    const char *endp = ap_strrchr_c(arg, '>');
    const char *args, *word, *old_path, *err;
    int old_override;
    apigw_endpoint *ep;

    (void)mconfig;
    if ((err = ap_check_cmd_context(cmd, NOT_IN_DIR_LOC_FILE)) != NULL) {
        return err;
    }
    if (cmd->path) {
        return "<ApiEndpoint> cannot be nested in another section";
    }
    if (!endp) {
        return "<ApiEndpoint> directive missing closing '>'";
    }
    args = apr_pstrndup(cmd->temp_pool, arg, (apr_size_t)(endp - arg));
    ep = apr_pcalloc(cmd->pool, sizeof(*ep));
    ep->pattern = ap_getword_conf(cmd->pool, &args);
    ep->file = cmd->directive->filename;
    ep->line = (unsigned)cmd->directive->line_num;
    if (!*ep->pattern) {
        return "<ApiEndpoint> needs a path, like "
               "<ApiEndpoint \"/v1/users/{user}\" GET>";
    }
    ep->methods = apr_array_make(cmd->pool, 2, sizeof(const char *));
    while (*(word = ap_getword_conf(cmd->temp_pool, &args))) {
        const char *m = apigw_method_known(word, 0);
        if (!m) {
            return apr_psprintf(cmd->pool, "<ApiEndpoint \"%s\">: unknown "
                                "method '%s' (use GET, HEAD, POST, PUT, PATCH, "
                                "DELETE or OPTIONS)", ep->pattern, word);
        }
        APR_ARRAY_PUSH(ep->methods, const char *) = m;
    }
    if (ep->methods->nelts == 0) {
        APR_ARRAY_PUSH(ep->methods, const char *) = "GET";
    }

    ep->section_config = ap_create_per_dir_config(cmd->pool);
    old_path = cmd->path;
    old_override = cmd->override;
    cmd->path = apr_pstrdup(cmd->pool, ep->pattern);
    cmd->override = OR_ALL | ACCESS_CONF;
    err = ap_walk_config(cmd->directive->first_child, cmd, ep->section_config);
    cmd->path = (char *)old_path;
    cmd->override = old_override;
    if (err) {
        return err;
    }
    ep->conf = ap_get_module_config(ep->section_config, &apigw_module);
    return finish_endpoint(cmd, ep);
}

/* ---- directives ---- */

/* One option of an ApiBackend line: key=value, or a bare flag
 * ("collection"). method= is read here; the aggregation options (name=,
 * group=, target=, allow=, deny=, mapping=, collection, encoding=,
 * error-details=) by apigw_agg_config.c and apigw_merge.c. */
static const char *set_backend_option(cmd_parms *cmd, apigw_backend *be,
                                      const char *word)
{
    const char *eq = strchr(word, '=');
    const char *key, *value, *err;

    if (eq == word) {
        return apr_psprintf(cmd->pool, "ApiBackend %s: an option needs a "
                            "name before '=', got '%s'", be->url, word);
    }
    key = eq ? apr_pstrmemdup(cmd->pool, word, (apr_size_t)(eq - word))
             : word;
    value = eq ? eq + 1 : NULL;
    if (strcmp(key, "upgrade") == 0) {
        const char *scheme = apigw_template_scheme(be->tpl);

        if (!value || ap_cstr_casecmp(value, "websocket") != 0) {
            return apr_psprintf(cmd->pool, "ApiBackend %s: upgrade=%s: only "
                                "upgrade=websocket is supported", be->url,
                                value ? value : "");
        }
        if (strcmp(scheme, "http") && strcmp(scheme, "https")
            && strcmp(scheme, "balancer")) {
            return apr_psprintf(cmd->pool, "ApiBackend %s: upgrade=websocket "
                                "is for http://, https:// and balancer:// "
                                "backends (ws:// needs none; an HTTP/2 "
                                "backend cannot carry a WebSocket)", be->url);
        }
        be->websocket = 1;
    }
    else if (strcmp(key, "method") == 0) {
        if (!value || !(be->method = apigw_method_known(value, 0))) {
            return apr_psprintf(cmd->pool, "ApiBackend %s: unknown method "
                                "'%s'", be->url, value ? value : "");
        }
    }
    else if ((err = apigw_agg_backend_option(cmd->pool, be, key, value))
             == NULL) {
        return apr_psprintf(cmd->pool, "ApiBackend %s: unknown option '%s' "
                            "(method, upgrade, name, group, target, allow, "
                            "deny, mapping, collection, encoding, "
                            "error-details)", be->url, key);
    }
    else if (*err) {
        return apr_psprintf(cmd->pool, "ApiBackend %s: %s=%s: %s", be->url,
                            key, value ? value : "", err);
    }
    apr_table_setn(be->options, key, value ? value : "");
    return NULL;
}

static const char *set_backend(cmd_parms *cmd, void *dconf, const char *args)
{
    apigw_dir_conf *c = dconf;
    apigw_backend *be;
    const char *err, *word, *scheme;

    if ((err = endpoint_only(cmd)) != NULL) {
        return err;
    }
    be = apr_pcalloc(cmd->pool, sizeof(*be));
    be->url = ap_getword_conf(cmd->pool, &args);
    be->file = cmd->directive->filename;
    be->line = (unsigned)cmd->directive->line_num;
    be->options = apr_table_make(cmd->pool, 2);
    if (!*be->url) {
        return "ApiBackend needs a URL, like http://127.0.0.1:9001/users/{user}";
    }
    if ((err = apigw_template_compile(cmd->pool, be->url, &be->tpl)) != NULL) {
        return apr_psprintf(cmd->pool, "ApiBackend %s: %s", be->url, err);
    }
    scheme = apigw_template_scheme(be->tpl);
    if (strcmp(scheme, "http") && strcmp(scheme, "https")
        && strcmp(scheme, "balancer") && strcmp(scheme, "h2c")
        && strcmp(scheme, "h2") && strcmp(scheme, "ws")
        && strcmp(scheme, "wss")) {
        return apr_psprintf(cmd->pool, "ApiBackend %s: scheme '%s' is not "
                            "supported (http, https, h2c, h2, ws, wss or "
                            "balancer)", be->url, scheme);
    }
    be->is_balancer = strcmp(scheme, "balancer") == 0;
    be->websocket = strcmp(scheme, "ws") == 0 || strcmp(scheme, "wss") == 0;
    while (*(word = ap_getword_conf(cmd->pool, &args))) {
        if ((err = set_backend_option(cmd, be, word)) != NULL) {
            return err;
        }
    }
    APR_ARRAY_PUSH(c->backends, apigw_backend *) = be;
    return NULL;
}

static const char *add_allow(cmd_parms *cmd, apigw_allow_list *l,
                             const char *name, int header)
{
    if (!l->names) {
        l->names = apr_array_make(cmd->pool, 4, sizeof(const char *));
    }
    l->set = 1;
    if (strcmp(name, "*") == 0) {
        l->all = 1;
        return NULL;
    }
    if (header ? !apigw_is_token(name) : (!*name || strpbrk(name, "&= \t"))) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not a valid %s name",
                            cmd->cmd->name, name,
                            header ? "header" : "query string");
    }
    APR_ARRAY_PUSH(l->names, const char *) = name;
    return NULL;
}

static const char *set_input_headers(cmd_parms *cmd, void *dconf,
                                     const char *name)
{
    const char *err = endpoint_only(cmd);
    return err ? err : add_allow(cmd, &((apigw_dir_conf *)dconf)->input_headers,
                                 name, 1);
}

static const char *set_input_query(cmd_parms *cmd, void *dconf,
                                   const char *name)
{
    const char *err = endpoint_only(cmd);
    return err ? err : add_allow(cmd, &((apigw_dir_conf *)dconf)->input_query,
                                 name, 0);
}

/* A duration for cmd, checked by validate (apigw_policy_validate.h, the
 * functions the admin API calls too). */
static const char *parse_duration(cmd_parms *cmd, const char *arg,
                                  apr_interval_time_t *out,
                                  const apigw_invalid *(*validate)(
                                      apr_pool_t *, apr_interval_time_t))
{
    const char *err = apigw_parse_duration(arg, out);
    const apigw_invalid *inv;

    if (err) {
        return apr_psprintf(cmd->pool, "%s %s: %s", cmd->cmd->name, arg, err);
    }
    if ((inv = validate(cmd->pool, *out)) != NULL) {
        return apr_psprintf(cmd->pool, "%s %s: %s", cmd->cmd->name, arg,
                            inv->problem);
    }
    return NULL;
}

static const char *set_timeout(cmd_parms *cmd, void *dconf, const char *arg)
{
    apr_interval_time_t t;
    const char *err;

    if (cmd->path && !apigw_cmd_in_endpoint(cmd)) {
        return "ApiTimeout belongs in the server config, a <VirtualHost> "
               "or an <ApiEndpoint>";
    }
    if ((err = parse_duration(cmd, arg, &t, apigw_timeout_validate)) != NULL) {
        return err;
    }
    if (cmd->path) {
        ((apigw_dir_conf *)dconf)->timeout = t;
        ((apigw_dir_conf *)dconf)->timeout_set = 1;
    }
    else {
        apigw_server_conf *sc = ap_get_module_config(cmd->server->module_config,
                                                     &apigw_module);
        sc->timeout = t;
        sc->timeout_set = 1;
    }
    return NULL;
}

static const char *set_cache_ttl(cmd_parms *cmd, void *dconf, const char *arg)
{
    apigw_dir_conf *c = dconf;
    const char *err = endpoint_only(cmd);

    if (err) {
        return err;
    }
    c->cache_ttl_set = 1;
    if (ap_cstr_casecmp(arg, "off") == 0 || strcmp(arg, "0") == 0) {
        c->cache_ttl = 0;
        return NULL;
    }
    return parse_duration(cmd, arg, &c->cache_ttl, apigw_cache_ttl_validate);
}

/* sqlite3:PATH (relative to ServerRoot) or pgsql:CONNINFO, the whole
 * line: pgsql:"host=db port=5432" (a conninfo holds spaces), or the whole
 * spec quoted; the store is opened by each child when the admin API first
 * needs it. */
static const char *set_route_store(cmd_parms *cmd, void *dconf,
                                   const char *raw)
{
    apigw_server_conf *sc = ap_get_module_config(cmd->server->module_config,
                                                 &apigw_module);
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    const char *arg;

    (void)dconf;
    if (err) {
        return err;
    }
    while (apr_isspace(*raw)) {
        raw++;
    }
    /* one quoted word, or the line as written */
    if (*raw == '"' || *raw == '\'') {
        arg = ap_getword_conf(cmd->pool, &raw);
        while (apr_isspace(*raw)) {
            raw++;
        }
        if (*raw) {
            return "ApiRouteStore takes one store: sqlite3:PATH or "
                   "pgsql:CONNINFO";
        }
    }
    else {
        char *copy = apr_pstrdup(cmd->pool, raw), *end;
        end = copy + strlen(copy);
        while (end > copy && apr_isspace(end[-1])) {
            *--end = '\0';
        }
        arg = copy;
    }
    if (strncmp(arg, "sqlite3:", 8) == 0 && arg[8]) {
        const char *path = arg + 8;
        apr_size_t n = strlen(path);
        if (n > 2 && path[0] == '"' && path[n - 1] == '"') {
            path = apr_pstrmemdup(cmd->pool, path + 1, n - 2);
        }
        path = ap_server_root_relative(cmd->pool, path);
        if (!path) {
            return apr_pstrcat(cmd->pool, "ApiRouteStore: invalid path ",
                               arg + 8, NULL);
        }
        sc->route_store = apr_pstrcat(cmd->pool, "sqlite3:", path, NULL);
        return NULL;
    }
    if (strncmp(arg, "pgsql:", 6) == 0 && arg[6]) {
        sc->route_store = arg;      /* the store strips pgsql:"...": quotes */
        return NULL;
    }
    return "ApiRouteStore: sqlite3:PATH or pgsql:CONNINFO";
}

apigw_server_conf *apigw_cmd_server_conf(cmd_parms *cmd, const char **err)
{
    if ((*err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT)) != NULL) {
        return NULL;
    }
    return ap_get_module_config(cmd->server->module_config, &apigw_module);
}

/* ApiEnvironment NAME: the environment whose runtime routes this server
 * or virtual host serves; checked as the admin API checks names. */
static const char *set_environment(cmd_parms *cmd, void *dconf,
                                   const char *name)
{
    const apigw_rt_error *e;
    const char *err;
    apigw_server_conf *sc = apigw_cmd_server_conf(cmd, &err);

    (void)dconf;
    if (!sc) {
        return err;
    }
    if ((e = apigw_rt_environment_check(cmd->pool, name)) != NULL) {
        return apr_psprintf(cmd->pool, "ApiEnvironment %s: %s", name,
                            e->message);
    }
    sc->environment = name;
    return NULL;
}

/* ApiRouteRefresh DURATION: how often the store is asked for changes
 * made by other gateways. */
static const char *set_route_refresh(cmd_parms *cmd, void *dconf,
                                     const char *arg)
{
    apigw_server_conf *sc = ap_get_module_config(cmd->server->module_config,
                                                 &apigw_module);
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    apr_interval_time_t t;

    (void)dconf;
    if (err) {
        return err;
    }
    if ((err = apigw_parse_duration(arg, &t)) != NULL) {
        return apr_psprintf(cmd->pool, "ApiRouteRefresh %s: %s", arg, err);
    }
    if (t < apr_time_from_msec(100) || t > apr_time_from_sec(3600)) {
        return apr_psprintf(cmd->pool, "ApiRouteRefresh %s: must be between "
                            "100ms and 1h", arg);
    }
    sc->route_refresh = t;
    return NULL;
}

/* ApiGraphQLMaxBytes SIZE, ApiGraphQLMaxDepth N, ApiGraphQLMaxFields N,
 * ApiGraphQLMaxAliases N: the bounds of one GraphQL request to the admin
 * API (cmd->info: which). */
static const char *set_graphql_bound(cmd_parms *cmd, void *dconf,
                                     const char *arg)
{
    apigw_dir_conf *c = dconf;
    const char *which = cmd->info;
    apr_off_t bytes;
    apr_int64_t n;
    char *end;

    if (strcmp(which, "bytes") == 0) {
        if (apigw_parse_size(arg, &bytes) != NULL || bytes < 1024
            || bytes > 1024 * 1024) {
            return apr_psprintf(cmd->pool, "%s %s: must be a size from 1K "
                                "to 1M", cmd->cmd->name, arg);
        }
        c->gql_max_bytes = (apr_size_t)bytes;
        return NULL;
    }
    n = apr_strtoi64(arg, &end, 10);
    if (!*arg || *end || n < 1 || n > 100000) {
        return apr_psprintf(cmd->pool, "%s %s: must be a whole number from "
                            "1 to 100000", cmd->cmd->name, arg);
    }
    if (strcmp(which, "depth") == 0) {
        /* the introspection queries of GraphQL clients nest 13 to 15
         * deep, fragments expanded */
        if (n < 16 || n > 64) {
            return apr_psprintf(cmd->pool, "%s %s: must be from 16 to 64 "
                                "(GraphQL clients' introspection needs 15)",
                                cmd->cmd->name, arg);
        }
        c->gql_max_depth = (unsigned)n;
    }
    else if (strcmp(which, "fields") == 0) {
        c->gql_max_fields = (unsigned)n;
    }
    else {
        c->gql_max_aliases = (unsigned)n;
    }
    return NULL;
}

/* ApiRedirectFixedPath On|Off, ApiRedirectTrailingSlash On|Off: whether
 * a request no endpoint serves is redirected to the path of one that
 * would (apigw_request.c); cmd->info: which. */
static const char *set_redirect(cmd_parms *cmd, void *dconf, int flag)
{
    const char *err;
    apigw_server_conf *sc = apigw_cmd_server_conf(cmd, &err);

    (void)dconf;
    if (!sc) {
        return err;
    }
    if (strcmp(cmd->info, "fixed-path") == 0) {
        sc->redirect_fixed_path = flag;
    }
    else {
        sc->redirect_trailing_slash = flag;
    }
    return NULL;
}

/* ApiErrorFormat json|krakend [messages]: the shape of the answers the
 * gateway gives itself (common/apigw_json_error.h), for a server or
 * virtual host, or one endpoint. */
static const char *set_error_format(cmd_parms *cmd, void *dconf,
                                    const char *format, const char *option)
{
    int f;

    if (cmd->path && !apigw_cmd_in_endpoint(cmd)) {
        return "ApiErrorFormat belongs in the server config, a <VirtualHost> "
               "or an <ApiEndpoint>";
    }
    if (ap_cstr_casecmp(format, "json") == 0) {
        if (option) {
            return apr_psprintf(cmd->pool, "ApiErrorFormat json: unknown "
                                "option '%s' (messages goes with krakend)",
                                option);
        }
        f = APIGW_ERRORS_JSON;
    }
    else if (ap_cstr_casecmp(format, "krakend") == 0) {
        if (option && ap_cstr_casecmp(option, "messages") != 0) {
            return apr_psprintf(cmd->pool, "ApiErrorFormat krakend: unknown "
                                "option '%s' (messages)", option);
        }
        f = option ? APIGW_ERRORS_KRAKEND_MESSAGES : APIGW_ERRORS_KRAKEND;
    }
    else {
        return apr_psprintf(cmd->pool, "ApiErrorFormat: unknown format '%s' "
                            "(json or krakend)", format);
    }
    if (cmd->path) {
        ((apigw_dir_conf *)dconf)->error_format = f;
    }
    else {
        apigw_server_conf *sc = ap_get_module_config(cmd->server->module_config,
                                                     &apigw_module);
        sc->error_format = f;
    }
    return NULL;
}

static const char *set_disable_rest(cmd_parms *cmd, void *dconf, int flag)
{
    const char *err = endpoint_only(cmd);
    if (!err) {
        ((apigw_dir_conf *)dconf)->disable_rest = flag;
    }
    return err;
}

const command_rec apigw_cmds[] = {
    AP_INIT_RAW_ARGS("<ApiEndpoint", endpoint_section, NULL, RSRC_CONF,
        "<ApiEndpoint \"/path/{var}\" [METHOD ...]> declares an API endpoint"),
    AP_INIT_RAW_ARGS("ApiBackend", set_backend, NULL, ACCESS_CONF,
        "ApiBackend URL [key=value ...]: the backend an endpoint maps to"),
    AP_INIT_ITERATE("ApiInputHeaders", set_input_headers, NULL, ACCESS_CONF,
        "request headers forwarded to the backend, or *"),
    AP_INIT_ITERATE("ApiInputQueryStrings", set_input_query, NULL, ACCESS_CONF,
        "query string parameters forwarded to the backend, or *"),
    AP_INIT_TAKE1("ApiTimeout", set_timeout, NULL, RSRC_CONF | ACCESS_CONF,
        "time allowed for the backend to answer, e.g. 2s or 1500ms"),
    AP_INIT_TAKE1("ApiCacheTTL", set_cache_ttl, NULL, ACCESS_CONF,
        "Cache-Control max-age for successful responses, e.g. 300s, or off"),
    AP_INIT_FLAG("ApiDisableRest", set_disable_rest, NULL, ACCESS_CONF,
        "On allows variables inside a segment, like /file.{ext}"),
    AP_INIT_RAW_ARGS("ApiRouteStore", set_route_store, NULL, RSRC_CONF,
        "where runtime routes are kept: sqlite3:PATH or pgsql:CONNINFO"),
    AP_INIT_TAKE1("ApiEnvironment", set_environment, NULL, RSRC_CONF,
        "the environment whose runtime routes this host serves (default: "
        "default)"),
    AP_INIT_TAKE1("ApiRouteRefresh", set_route_refresh, NULL, RSRC_CONF,
        "how often other gateways' route changes are looked for, e.g. 1s"),
    AP_INIT_FLAG("ApiRedirectFixedPath", set_redirect, "fixed-path",
        RSRC_CONF, "On redirects a request to the endpoint path it matches "
        "once cleaned and compared case-insensitively (default Off)"),
    AP_INIT_TAKE12("ApiErrorFormat", set_error_format, NULL,
        RSRC_CONF | ACCESS_CONF, "json (default) or krakend [messages]: the "
        "shape of the answers the gateway gives itself"),
    AP_INIT_FLAG("ApiRedirectTrailingSlash", set_redirect, "trailing-slash",
        RSRC_CONF, "On redirects a request to the endpoint path it matches "
        "with its trailing slash added or removed (default Off)"),
    AP_INIT_TAKE1("ApiGraphQLMaxBytes", set_graphql_bound, "bytes",
        ACCESS_CONF, "the largest GraphQL document the admin API takes "
        "(default 256K)"),
    AP_INIT_TAKE1("ApiGraphQLMaxDepth", set_graphql_bound, "depth",
        ACCESS_CONF, "the deepest nesting of a GraphQL request (default 20)"),
    AP_INIT_TAKE1("ApiGraphQLMaxFields", set_graphql_bound, "fields",
        ACCESS_CONF, "the most fields a GraphQL request selects, fragments "
        "expanded (default 1000)"),
    AP_INIT_TAKE1("ApiGraphQLMaxAliases", set_graphql_bound, "aliases",
        ACCESS_CONF, "the most aliases in a GraphQL request (default 100)"),
    APIGW_AGG_CMDS,
    APIGW_STREAM_CMDS
    APIGW_TRACE_CMDS
    APIGW_OPENAPI_CMDS
    APIGW_METRICS_CMDS
    APIGW_POLICY_CMDS
    APIGW_REQSCHEMA_CMDS
    { NULL }
};
