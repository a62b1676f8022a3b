/* Backends of endpoints as mod_proxy sees them: pooled workers for direct
 * URLs, balancer lookups, and the mod_proxy hooks (registered by
 * mod_apigw.c) that apply an endpoint's worker and deadline to each
 * proxied request and check the backend's status line. */
#ifndef APIGW_BACKEND_H
#define APIGW_BACKEND_H

#include "apigw_config.h"

/* After the whole config is read (check_config): resolves each endpoint's
 * timeout (ep->timeout, the one place it is worked out), gives every direct backend a pooled worker and checks that every
 * balancer:// backend names a defined balancer. Logs and returns !OK on a
 * mistake, so configtest reports it. */
int apigw_backends_prepare(apr_pool_t *pconf, server_rec *s);

/* Initializes the workers' connection pools in a new child. */
void apigw_backends_child_init(apr_pool_t *pchild, server_rec *s);

/* proxy pre_request: an endpoint's own worker for a direct backend. */
int apigw_backend_pre_request(proxy_worker **worker, proxy_balancer **balancer,
                              request_rec *r, proxy_server_conf *conf,
                              char **url);

/* proxy create_req: the status-line check, and the backend connection's
 * timeout cut to what is left of the endpoint's deadline. */
int apigw_backend_create_req(request_rec *r, request_rec *rp);

apr_status_t apigw_status_line_filter(ap_filter_t *f, apr_bucket_brigade *bb,
                                      ap_input_mode_t mode,
                                      apr_read_type_e block,
                                      apr_off_t readbytes);
extern ap_filter_rec_t *apigw_status_line_filter_handle;

#endif
