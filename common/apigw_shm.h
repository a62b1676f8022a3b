/* Shared memory that outlives a graceful restart: an anonymous apr_shm
 * made in the parent's process pool (inherited by every child through
 * fork()) whose handle is kept in ap_retained_data under a key, so the
 * module finds it again after httpd reloads it. What lives inside, and
 * when a segment is too small or of another layout, is the caller's. */
#ifndef APIGW_SHM_H
#define APIGW_SHM_H

#include "httpd.h"
#include "apr_shm.h"

/* The retained handle for key: *slot is NULL until a segment is made. */
apr_shm_t **apigw_shm_retained(const char *key);

/* Replaces *slot (destroying the segment it holds, if any; children of
 * the previous generation keep their own mapping) by a new segment of
 * bytes in s's process pool. On failure *slot is NULL and the error is
 * returned for the caller to log. */
apr_status_t apigw_shm_renew(apr_shm_t **slot, apr_size_t bytes,
                             server_rec *s);

#endif
