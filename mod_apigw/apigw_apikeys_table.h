/* The API keys a child serves from the route store (mod_apigw's side of
 * mod_apigw_auth's ApiKeyStore): key sets the child's builder thread
 * loads and publishes, and the lookup request threads make in the
 * current one without a lock, as they do with route tables
 * (apigw_rt_table.h): a request raises the reference count of the
 * current set's slot, checks that the slot is still current, looks the
 * key up, copies the key it found into its own pool and lets the slot
 * go. The builder frees a set once it is neither current nor held.
 *
 * A request holds a set only during its lookup, never for its whole
 * life: a long request (a WebSocket, a stream) keeps no old set alive,
 * the slots never run out for long, and a revoked key stops working at
 * the next publish.
 *
 * Pure: APR and the key table (common/apigw_apikey.h). */
#ifndef APIGW_APIKEYS_TABLE_H
#define APIGW_APIKEYS_TABLE_H

#include <apr_pools.h>

#include "apigw_apikey.h"

/* Sets published and not yet freed, the current one included. */
#define APIGW_APIKEYS_SLOTS 16

typedef struct apigw_apikeys apigw_apikeys;

/* The slots, from p; nothing is published yet. */
apigw_apikeys *apigw_apikeys_make(apr_pool_t *p);

/* Builder side (one thread at a time). Makes set current: set lives in
 * pool, which the table then owns and destroys once no request holds the
 * set and another is current (pool must be the builder's, used by no
 * other thread). 1 when published; 0 when every slot is still held (the
 * caller keeps pool and tries again later). */
int apigw_apikeys_publish(apigw_apikeys *t, apr_pool_t *pool,
                          const apigw_apikey_set *set);

/* Destroys the pools of the sets neither current nor held by a request;
 * returns how many sets remain (the current one included). */
int apigw_apikeys_sweep(apigw_apikeys *t);

/* Request side (any thread). Whether a set was ever published. */
int apigw_apikeys_published(apigw_apikeys *t);

/* The key of the current set whose SHA-256 is that of key[0..len)
 * (apigw_apikey_find), copied into p with its name and roles; NULL when
 * there is none or nothing was published yet. */
const apigw_apikey *apigw_apikeys_find(apigw_apikeys *t, apr_pool_t *p,
                                       const char *key, apr_size_t len);

#endif
