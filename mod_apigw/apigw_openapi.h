/* The apigw-openapi handler: an OpenAPI 3.1 description of every endpoint
 * the virtual host serving the request has (docs/openapi.md). */
#ifndef APIGW_OPENAPI_H
#define APIGW_OPENAPI_H

#include "httpd.h"
#include "http_config.h"

/* `SetHandler apigw-openapi`: GET/HEAD answer 200 with the document as
 * application/json (keys sorted, indented: the same configuration and
 * routes give the same bytes); any other method 405. Static
 * <ApiEndpoint>s (the host's own, then the main server's it inherits),
 * imported ones, and the runtime routes of the host's ApiEnvironment. */
int apigw_openapi_handler(request_rec *r);

/* ApiOpenApiInfo TITLE VERSION: the document's info.title and
 * info.version (server config, virtual host; default "SERVERNAME API"
 * and "1.0.0"). */
const char *apigw_openapi_set_info(cmd_parms *cmd, void *dconf,
                                   const char *title, const char *version);

#define APIGW_OPENAPI_CMDS \
    AP_INIT_TAKE2("ApiOpenApiInfo", apigw_openapi_set_info, NULL, \
        RSRC_CONF, "the title and version of the apigw-openapi document " \
        "(default: \"SERVERNAME API\" 1.0.0)"),

#endif
