/* %{NAME}J for mod_log_config: request notes and fields as JSON values
 * (apigw_log_json.c). */
#ifndef APIGW_LOG_JSON_H
#define APIGW_LOG_JSON_H

#include "httpd.h"

/* pre_config: registers %{NAME}J with mod_log_config, when it is loaded. */
void apigw_log_json_register(apr_pool_t *p);

#endif
