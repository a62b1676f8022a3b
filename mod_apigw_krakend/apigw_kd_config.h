/* ApiImportKrakenD: a krakend.json read, translated and fed to httpd's
 * own configuration walk, as if its endpoints were written in place. */
#ifndef APIGW_KD_CONFIG_H
#define APIGW_KD_CONFIG_H

#include "httpd.h"
#include "http_config.h"

/* ApiImportKrakenD PATH [strict] */
const char *apigw_kd_import(cmd_parms *cmd, void *dconf, int argc,
                            char *const argv[]);

/* pre_config: the balancer names start again at each configuration read */
int apigw_kd_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                        apr_pool_t *ptemp);

#endif
