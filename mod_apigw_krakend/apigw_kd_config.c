/* ApiImportKrakenD (see apigw_kd_config.h).
 *
 * The file is parsed with jansson, translated into configuration lines
 * (apigw_kd_translate.c), and the lines are read by httpd's own
 * ap_build_config through a configuration "file" of our own, then walked
 * in the directive's server or virtual host. Each line's directive is
 * named "PATH at POINTER" with the line of the file where that value
 * starts, so httpd's own message for a refused value reads
 * "Syntax error on line 42 of /etc/krakend.json at /endpoints/3/backend/0:". */
#include "apigw_kd_config.h"
#include "apigw_kd_translate.h"
#include "apigw_kd_lines.h"
#include "mod_apigw_krakend.h"
#include "apigw_log.h"

#include "http_log.h"
#include "apr_strings.h"
#include "apr_file_io.h"

#include <jansson.h>
#include <string.h>

APLOG_USE_MODULE(apigw_krakend);

#define KD_MAX_FILE (16 * 1024 * 1024)

static unsigned import_count;    /* balancer name prefixes, per read */

int apigw_kd_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                        apr_pool_t *ptemp)
{
    (void)pconf; (void)plog; (void)ptemp;
    import_count = 0;
    return OK;
}

/* ---- the generated lines as a configuration file ---- */

typedef struct {
    apr_pool_t *p;
    const char *path;
    const apr_array_header_t *lines;
    apr_hash_t *where;          /* pointer → line in the file */
    int next;
    ap_configfile_t *cfp;
} kd_source;

static apr_status_t kd_getstr(void *buf, apr_size_t bufsiz, void *param)
{
    kd_source *src = param;
    const apigw_kd_line *l;
    apr_size_t n;
    unsigned line;

    if (src->next >= src->lines->nelts) {
        return APR_EOF;
    }
    l = &APR_ARRAY_IDX(src->lines, src->next, apigw_kd_line);
    src->next++;
    n = strlen(l->text);
    if (n + 2 > bufsiz) {
        return APR_ENOSPC;
    }
    memcpy(buf, l->text, n);
    ((char *)buf)[n] = '\n';
    ((char *)buf)[n + 1] = '\0';
    /* httpd names the directive after cfp->name and cfp->line_number as
     * they are once the line is read */
    src->cfp->name = apr_pstrcat(src->p, src->path, " at ",
                                 *l->pointer ? l->pointer : "/", NULL);
    line = apigw_kd_line_of(src->where, src->p, l->pointer);
    src->cfp->line_number = line;
    return APR_SUCCESS;
}

/* ---- reading ---- */

static const char *read_file(cmd_parms *cmd, const char *path, char **text,
                             apr_size_t *len)
{
    apr_file_t *f;
    apr_finfo_t fi;
    apr_status_t rv;
    char err[128];

    rv = apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY,
                       APR_OS_DEFAULT, cmd->temp_pool);
    if (rv == APR_SUCCESS) {
        rv = apr_file_info_get(&fi, APR_FINFO_SIZE, f);
    }
    if (rv != APR_SUCCESS) {
        return apr_psprintf(cmd->pool, "ApiImportKrakenD: cannot read %s: "
                            "%s", path, apr_strerror(rv, err, sizeof(err)));
    }
    if (fi.size > KD_MAX_FILE) {
        apr_file_close(f);
        return apr_psprintf(cmd->pool, "ApiImportKrakenD: %s is over %d MiB",
                            path, KD_MAX_FILE / (1024 * 1024));
    }
    *len = (apr_size_t)fi.size;
    *text = apr_palloc(cmd->temp_pool, *len + 1);
    rv = *len ? apr_file_read_full(f, *text, *len, NULL) : APR_SUCCESS;
    apr_file_close(f);
    if (rv != APR_SUCCESS) {
        return apr_psprintf(cmd->pool, "ApiImportKrakenD: cannot read %s: "
                            "%s", path, apr_strerror(rv, err, sizeof(err)));
    }
    (*text)[*len] = '\0';
    return NULL;
}

static json_t *parse(cmd_parms *cmd, const char *path, const char *text,
                     apr_size_t len, const char **err)
{
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);

    if (!root) {
        *err = apr_psprintf(cmd->pool, "ApiImportKrakenD: %s:%d:%d: %s%s",
                            path, je.line, je.column, je.text,
                            strstr(text, "{{")
                            ? " (the file holds {{ }}: KrakenD's flexible "
                              "configuration templates are not read; load "
                              "the file they render to)" : "");
    }
    return root;
}

static unsigned loaded(const char *name)
{
    return ap_find_linked_module(name) != NULL;
}

static void report(cmd_parms *cmd, const char *path, apr_hash_t *where,
                   const apigw_kd_result *res)
{
    int i;

    for (i = 0; i < res->notes->nelts; i++) {
        const apigw_kd_note *n = &APR_ARRAY_IDX(res->notes, i, apigw_kd_note);
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, cmd->server,
                     APIGW_LOGNO(04001) "%s:%u %s: %s - %s (%s)", path,
                     apigw_kd_line_of(where, cmd->temp_pool, n->pointer),
                     *n->pointer ? n->pointer : "/", n->component,
                     apigw_kd_action_name(n->action), n->why);
    }
    ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, cmd->server,
                 APIGW_LOGNO(04002) "ApiImportKrakenD %s: %d endpoint(s) "
                 "served, %d refused, %d note(s)", path, res->endpoints,
                 res->refused, res->notes->nelts);
    for (i = 0; i < res->lines->nelts; i++) {
        const apigw_kd_line *l = &APR_ARRAY_IDX(res->lines, i, apigw_kd_line);
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, cmd->server,
                     APIGW_LOGNO(04003) "%s", l->text);
    }
}

/* ---- the directive ---- */

static const char *walk(cmd_parms *cmd, const char *path, apr_hash_t *where,
                        const apigw_kd_result *res)
{
    ap_configfile_t *saved_file = cmd->config_file;
    ap_directive_t *saved_dir = cmd->directive, *tree = NULL;
    kd_source *src = apr_pcalloc(cmd->temp_pool, sizeof(*src));
    const char *err;

    src->p = cmd->pool;
    src->path = path;
    src->lines = res->lines;
    src->where = where;
    src->cfp = ap_pcfg_open_custom(cmd->temp_pool, path, src, NULL,
                                   kd_getstr, NULL);
    cmd->config_file = src->cfp;
    err = ap_build_config(cmd, cmd->pool, cmd->temp_pool, &tree);
    cmd->config_file = saved_file;
    if (err) {
        cmd->directive = saved_dir;
        return apr_psprintf(cmd->pool, "ApiImportKrakenD: %s: %s",
                            src->cfp->name, err);
    }
    err = tree ? ap_walk_config(tree, cmd, cmd->context) : NULL;
    cmd->directive = saved_dir;
    return err;
}

const char *apigw_kd_import(cmd_parms *cmd, void *dconf, int argc,
                            char *const argv[])
{
    const char *err, *path;
    apigw_kd_options opts;
    apigw_kd_result res;
    apr_hash_t *where;
    apr_size_t len = 0;
    json_t *root;
    char *text = NULL;
    int i;

    (void)dconf;
    if ((err = ap_check_cmd_context(cmd, NOT_IN_DIR_LOC_FILE)) != NULL) {
        return err;
    }
    if (argc < 1) {
        return "ApiImportKrakenD needs the path of a krakend.json";
    }
    memset(&opts, 0, sizeof(opts));
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "strict") == 0) {
            opts.strict = 1;
        }
        else {
            return apr_psprintf(cmd->pool, "ApiImportKrakenD: unknown "
                                "option '%s' (strict)", argv[i]);
        }
    }
    if (!loaded("mod_apigw.c")) {
        return "ApiImportKrakenD needs mod_apigw (LoadModule apigw_module "
               "before this line)";
    }
    path = ap_server_root_relative(cmd->pool, argv[0]);
    if (!path) {
        return apr_psprintf(cmd->pool, "ApiImportKrakenD: bad path %s",
                            argv[0]);
    }
    if ((err = read_file(cmd, path, &text, &len)) != NULL) {
        return err;
    }
    if (!(root = parse(cmd, path, text, len, &err))) {
        return err;
    }
    where = apigw_kd_lines(cmd->temp_pool, text, len);
    opts.have = (loaded("mod_apigw_ratelimit.c") ? APIGW_KD_HAVE_RATELIMIT : 0)
              | (loaded("mod_apigw_breaker.c") ? APIGW_KD_HAVE_BREAKER : 0)
              | (loaded("mod_apigw_auth.c") ? APIGW_KD_HAVE_AUTH : 0)
              | (loaded("mod_proxy_balancer.c") ? APIGW_KD_HAVE_BALANCER : 0);
    opts.prefix = apr_psprintf(cmd->pool, "krakend%u", ++import_count);
    err = apigw_kd_translate(cmd->pool, root, &opts, &res);
    json_decref(root);
    if (err) {
        return apr_psprintf(cmd->pool, "ApiImportKrakenD: %s:%u at %s: %s",
                            path, apigw_kd_line_of(where, cmd->temp_pool,
                                                   res.error_pointer),
                            *res.error_pointer ? res.error_pointer : "/",
                            err);
    }
    report(cmd, path, where, &res);
    return walk(cmd, path, where, &res);
}
