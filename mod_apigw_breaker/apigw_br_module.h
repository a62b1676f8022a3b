/* mod_apigw_breaker's module record and its two halves' shared config
 * shape. The module has two independent concerns, each owning its files:
 *
 *   apigw_cb_*   circuit breakers (expressions, rolling windows, states)
 *   apigw_sus_*  balancer-member suspension, failover groups, retries
 *
 * Each half keeps its own per-directory and per-server config behind one
 * pointer here, with its own create/merge functions, so neither reaches
 * into the other's structs. */
#ifndef APIGW_BR_MODULE_H
#define APIGW_BR_MODULE_H

#include "httpd.h"
#include "http_config.h"

#include "apigw_module.h"

APIGW_MODULE_EXPORT extern module AP_MODULE_DECLARE_DATA apigw_breaker_module;

struct apigw_cb_dir_conf;
struct apigw_cb_server_conf;
struct apigw_sus_dir_conf;
struct apigw_sus_server_conf;

typedef struct {
    struct apigw_cb_dir_conf *cb;
    struct apigw_sus_dir_conf *sus;
} apigw_br_dir_conf;

typedef struct {
    struct apigw_cb_server_conf *cb;
    struct apigw_sus_server_conf *sus;
} apigw_br_server_conf;

#endif
