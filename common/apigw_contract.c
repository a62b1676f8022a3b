/* The cross-module contract's few functions (see apigw_contract.h). */
#include "apigw_contract.h"

#include "http_config.h"
#include "http_request.h"
#include "apr_strings.h"

#define REFUSED_NOTE "apigw-refused"

void apigw_refuse(request_rec *r, int status)
{
    if (!apr_table_get(r->notes, REFUSED_NOTE)) {
        apr_table_setn(r->notes, REFUSED_NOTE,
                       apr_itoa(r->pool, status));
    }
}

int apigw_refused(const request_rec *r)
{
    const char *v;

    for (; r; r = r->main) {
        if ((v = apr_table_get(r->notes, REFUSED_NOTE)) != NULL) {
            return atoi(v);
        }
    }
    return 0;
}

int apigw_proxy_handler_run(request_rec *r)
{
    const char *handler = r->handler;
    int status;

    r->handler = "proxy-server";
    status = ap_run_handler(r);
    r->handler = handler;
    return status;
}

typedef struct {
    apr_socket_t *sock;
    apr_interval_time_t saved;
} timeout_restore;

static apr_status_t restore_timeout(void *data)
{
    timeout_restore *tr = data;

    apr_socket_timeout_set(tr->sock, tr->saved);
    return APR_SUCCESS;
}

void apigw_socket_timeout_scoped(apr_pool_t *p, apr_socket_t *sock,
                                 apr_interval_time_t t,
                                 apr_interval_time_t saved)
{
    timeout_restore *tr = apr_palloc(p, sizeof(*tr));

    tr->sock = sock;
    tr->saved = saved;
    apr_socket_timeout_set(sock, t);
    apr_pool_cleanup_register(p, tr, restore_timeout, apr_pool_cleanup_null);
}
