/* mod_apigw_auth's module record and log tags (AGW03000-03999), shared by
 * its files. */
#ifndef MOD_APIGW_AUTH_H
#define MOD_APIGW_AUTH_H

#include "httpd.h"
#include "http_config.h"
#include "apigw_module.h"
#include "apigw_log.h"

extern APIGW_MODULE_EXPORT module AP_MODULE_DECLARE_DATA apigw_auth_module;

#endif
