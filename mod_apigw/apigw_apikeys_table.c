/* The API key sets a child publishes (see apigw_apikeys_table.h): their
 * slots, the builder's publish and sweep, and the request's lookup that
 * copies the key it found out of the set it briefly holds. */
#include "apigw_apikeys_table.h"

#include <string.h>

#include <apr_atomic.h>
#include <apr_strings.h>

typedef struct {
    volatile apr_uint32_t refs;        /* lookups holding the slot's set */
    apr_pool_t *pool;                  /* the set's; NULL: free (builder) */
    const apigw_apikey_set *set;
} keys_slot;

struct apigw_apikeys {
    volatile apr_uint32_t current;     /* slot index + 1, 0 before the
                                        * first publish */
    keys_slot slots[APIGW_APIKEYS_SLOTS];
};

apigw_apikeys *apigw_apikeys_make(apr_pool_t *p)
{
    return apr_pcalloc(p, sizeof(apigw_apikeys));
}

/* ---- the builder's side ---- */

int apigw_apikeys_publish(apigw_apikeys *t, apr_pool_t *pool,
                          const apigw_apikey_set *set)
{
    int j;

    for (j = 0; j < APIGW_APIKEYS_SLOTS; j++) {
        if (!t->slots[j].pool) {
            break;
        }
    }
    if (j == APIGW_APIKEYS_SLOTS) {
        return 0;
    }
    t->slots[j].pool = pool;
    t->slots[j].set = set;
    /* a full barrier: the slot is complete before any request sees it */
    apr_atomic_xchg32(&t->current, (apr_uint32_t)j + 1);
    return 1;
}

int apigw_apikeys_sweep(apigw_apikeys *t)
{
    apr_uint32_t cur = apr_atomic_read32(&t->current);
    int j, held = 0;

    for (j = 0; j < APIGW_APIKEYS_SLOTS; j++) {
        keys_slot *slot = &t->slots[j];

        if (!slot->pool) {
            continue;
        }
        /* a lookup that raises refs after this read finds the slot no
         * longer current and never touches its set */
        if ((apr_uint32_t)j + 1 == cur
            || apr_atomic_read32(&slot->refs) != 0) {
            held++;
            continue;
        }
        apr_pool_destroy(slot->pool);
        slot->pool = NULL;
        slot->set = NULL;
    }
    return held;
}

/* ---- the request's side ---- */

int apigw_apikeys_published(apigw_apikeys *t)
{
    return apr_atomic_read32(&t->current) != 0;
}

/* The current slot, its count raised; NULL before the first publish. */
static keys_slot *slot_acquire(apigw_apikeys *t)
{
    for (;;) {
        apr_uint32_t cur = apr_atomic_read32(&t->current);
        keys_slot *slot;

        if (!cur) {
            return NULL;
        }
        slot = &t->slots[cur - 1];
        apr_atomic_inc32(&slot->refs);
        /* still current after the count went up: the builder frees only
         * a slot that is neither current nor counted */
        if (apr_atomic_read32(&t->current) == cur) {
            return slot;
        }
        apr_atomic_dec32(&slot->refs);
    }
}

/* k with its name and roles in p: it outlives the set it came from. */
static const apigw_apikey *key_copy(apr_pool_t *p, const apigw_apikey *k)
{
    apigw_apikey *c = apr_palloc(p, sizeof(*c));
    int n = k->roles ? k->roles->nelts : 0;
    int i;

    c->name = apr_pstrdup(p, k->name);
    memcpy(c->hash, k->hash, sizeof(c->hash));
    c->roles = apr_array_make(p, n > 0 ? n : 1, sizeof(const char *));
    for (i = 0; i < n; i++) {
        APR_ARRAY_PUSH(c->roles, const char *) =
            apr_pstrdup(p, APR_ARRAY_IDX(k->roles, i, const char *));
    }
    return c;
}

const apigw_apikey *apigw_apikeys_find(apigw_apikeys *t, apr_pool_t *p,
                                       const char *key, apr_size_t len)
{
    keys_slot *slot = slot_acquire(t);
    const apigw_apikey *k, *copy = NULL;

    if (!slot) {
        return NULL;
    }
    k = apigw_apikey_find(slot->set, key, len);
    if (k) {
        copy = key_copy(p, k);
    }
    apr_atomic_dec32(&slot->refs);
    return copy;
}
