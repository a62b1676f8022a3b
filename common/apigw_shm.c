/* Retained anonymous shared memory (see apigw_shm.h). */
#include "apigw_shm.h"

#include "http_config.h"

apr_shm_t **apigw_shm_retained(const char *key)
{
    apr_shm_t **slot = ap_retained_data_get(key);

    if (!slot) {
        /* zero-filled: no segment yet */
        slot = ap_retained_data_create(key, sizeof(*slot));
    }
    return slot;
}

apr_status_t apigw_shm_renew(apr_shm_t **slot, apr_size_t bytes,
                             server_rec *s)
{
    apr_status_t rv;

    if (*slot) {
        apr_shm_destroy(*slot);
        *slot = NULL;
    }
    rv = apr_shm_create(slot, bytes, NULL, s->process->pool);
    if (rv != APR_SUCCESS) {
        *slot = NULL;
    }
    return rv;
}
