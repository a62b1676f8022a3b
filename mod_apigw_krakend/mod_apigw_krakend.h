/* mod_apigw_krakend's module record. */
#ifndef MOD_APIGW_KRAKEND_H
#define MOD_APIGW_KRAKEND_H

#include "httpd.h"
#include "http_config.h"
#include "apigw_module.h"

extern APIGW_MODULE_EXPORT module AP_MODULE_DECLARE_DATA apigw_krakend_module;

#endif
