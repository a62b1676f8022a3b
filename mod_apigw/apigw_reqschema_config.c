/* ApiRequestSchema JSON-SCHEMA | file:PATH: the JSON Schema an
 * endpoint's request bodies must match, compiled here, at configtest
 * (apigw_schema.c), so a schema that does not parse, names a keyword
 * the validator does not implement, a remote $ref or a pattern that does
 * not compile fails configtest with the file and line of the directive.
 *
 * The schema is the rest of the line as written (as ApiStatic's data),
 * or a file (relative paths from ServerRoot, at most 1 MiB). */
#include "apigw_reqschema.h"
#include "apigw_config.h"
#include "apigw_schema.h"

#include "apr_file_io.h"
#include "apr_lib.h"
#include "apr_strings.h"

#define MAX_SCHEMA_FILE (1024 * 1024)

/* PATH's text into *text (cmd->temp_pool), or why not. */
static const char *read_schema_file(cmd_parms *cmd, const char *path,
                                    char **text, apr_size_t *len)
{
    apr_file_t *f;
    apr_finfo_t fi;
    apr_status_t rv;
    char ebuf[120];
    const char *why = NULL;

    rv = apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY,
                       APR_OS_DEFAULT, cmd->temp_pool);
    if (rv != APR_SUCCESS) {
        return apr_psprintf(cmd->pool, "ApiRequestSchema file:%s: cannot be "
                            "opened: %s", path,
                            apr_strerror(rv, ebuf, sizeof(ebuf)));
    }
    rv = apr_file_info_get(&fi, APR_FINFO_SIZE | APR_FINFO_TYPE, f);
    if (rv != APR_SUCCESS) {
        why = apr_strerror(rv, ebuf, sizeof(ebuf));
    }
    else if (fi.filetype != APR_REG) {
        why = "not a regular file";
    }
    else if (fi.size > MAX_SCHEMA_FILE) {
        why = "larger than 1 MiB";
    }
    else {
        *text = apr_palloc(cmd->temp_pool, (apr_size_t)fi.size + 1);
        rv = apr_file_read_full(f, *text, (apr_size_t)fi.size, len);
        if (rv != APR_SUCCESS && !(rv == APR_EOF && *len == 0)) {
            why = apr_strerror(rv, ebuf, sizeof(ebuf));
        }
    }
    apr_file_close(f);
    return why ? apr_psprintf(cmd->pool, "ApiRequestSchema file:%s: %s",
                              path, why)
               : NULL;
}

const char *apigw_reqschema_set(cmd_parms *cmd, void *dconf,
                                const char *args)
{
    apigw_dir_conf *c = dconf;
    const char *err, *origin = NULL;
    char *text = NULL;
    apr_size_t len = 0;
    apigw_schema *s;

    if (!apigw_cmd_in_endpoint(cmd)) {
        return "ApiRequestSchema is only allowed inside <ApiEndpoint>";
    }
    if (c->request_schema) {
        return "ApiRequestSchema is given twice in this endpoint (one "
               "schema per endpoint: combine them with allOf)";
    }
    while (apr_isspace(*args)) {
        args++;
    }
    if (!*args) {
        return "ApiRequestSchema needs a JSON Schema, like "
               "ApiRequestSchema {\"type\": \"object\"}, or file:PATH";
    }
    if (strncmp(args, "file:", 5) == 0) {
        const char *rest = args + 5;
        const char *word = ap_getword_conf(cmd->temp_pool, &rest);
        const char *path;

        while (apr_isspace(*rest)) {
            rest++;
        }
        if (!*word || *rest) {
            return "ApiRequestSchema file:PATH takes one path (quoted if it "
                   "holds spaces)";
        }
        if (!(path = ap_server_root_relative(cmd->temp_pool, word))) {
            return apr_psprintf(cmd->pool, "ApiRequestSchema file:%s: not "
                                "a valid path", word);
        }
        if ((err = read_schema_file(cmd, path, &text, &len)) != NULL) {
            return err;
        }
        origin = apr_pstrcat(cmd->temp_pool, " file:", path, NULL);
    }
    else {
        text = apr_pstrdup(cmd->temp_pool, args);
        len = strlen(text);
        while (len && apr_isspace(text[len - 1])) {
            text[--len] = '\0';
        }
    }
    if ((err = apigw_schema_compile(cmd->pool, text, len, &s)) != NULL) {
        return apr_psprintf(cmd->pool, "ApiRequestSchema%s: %s%s",
                            origin ? origin : "", err,
                            !origin && (*args == '\'' || *args == '"')
                            ? " (write the JSON as it is, without quotes "
                              "around it)" : "");
    }
    c->request_schema = s;
    return NULL;
}
