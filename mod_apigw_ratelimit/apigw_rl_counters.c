/* The per-limit counters; the layout is drawn in apigw_rl_counters.h. */
#include "apigw_rl_counters.h"

#include <string.h>
#include <apr_atomic.h>

#define COUNTERS_MAGIC ((apr_uint64_t)0x414757524c433031ULL)   /* "AGWRLC01" */

apr_size_t apigw_rl_counters_bytes(apr_size_t n)
{
    return sizeof(apigw_rl_counters) + n * sizeof(apigw_rl_counter);
}

apigw_rl_counters *apigw_rl_counters_init(void *mem, apr_size_t bytes)
{
    apigw_rl_counters *c = mem;
    apr_size_t n;

    if (bytes < apigw_rl_counters_bytes(1)) {
        return NULL;
    }
    n = (bytes - sizeof(apigw_rl_counters)) / sizeof(apigw_rl_counter);
    memset(mem, 0, apigw_rl_counters_bytes(n));
    c->nentries = n;
    c->magic = COUNTERS_MAGIC;
    return c;
}

apigw_rl_counter *apigw_rl_counters_find(apigw_rl_counters *c,
                                         const apigw_rl_hash *h)
{
    apr_uint64_t i;

    for (i = 0; i < c->nentries; i++) {
        apigw_rl_counter *e = &c->entries[i];
        if (e->key == h->h1 && e->check == h->h2) {
            return e;
        }
    }
    return NULL;
}

static void zero(apigw_rl_counter *e, const apigw_rl_hash *h)
{
    apr_atomic_set64(&e->admitted, 0);
    apr_atomic_set64(&e->rejected, 0);
    apr_atomic_set64(&e->delayed, 0);
    apr_atomic_set64(&e->errors, 0);
    e->check = h->h2;
    e->key = h->h1;
}

int apigw_rl_counters_assign(apigw_rl_counters *c, apr_pool_t *p,
                             const apigw_rl_hash *keys, apr_size_t n,
                             apigw_rl_counter **out)
{
    char *wanted = apr_pcalloc(p, c->nentries ? c->nentries : 1);
    apr_size_t i, needed = 0, spare = 0, j;
    apr_uint64_t e;

    /* first pass: which entries the keys keep, and how many are new */
    for (i = 0; i < n; i++) {
        apigw_rl_counter *found = apigw_rl_counters_find(c, &keys[i]);
        out[i] = found;
        if (found) {
            wanted[found - c->entries] = 1;
            continue;
        }
        for (j = 0; j < i; j++) {       /* a repeat of a new key */
            if (!out[j] && keys[j].h1 == keys[i].h1
                    && keys[j].h2 == keys[i].h2) {
                break;
            }
        }
        needed += j == i;
    }
    for (e = 0; e < c->nentries; e++) {
        spare += !wanted[e];
    }
    if (needed > spare) {
        for (i = 0; i < n; i++) {
            out[i] = NULL;
        }
        return -1;
    }
    /* second pass: new keys take free entries first, then stale ones */
    for (i = 0; i < n; i++) {
        apigw_rl_counter *take = NULL;
        int pass;

        if (out[i]) {
            continue;
        }
        if ((take = apigw_rl_counters_find(c, &keys[i])) != NULL) {
            out[i] = take;              /* claimed for an earlier repeat */
            continue;
        }
        for (pass = 0; pass < 2 && !take; pass++) {
            for (e = 0; e < c->nentries && !take; e++) {
                if (!wanted[e] && (pass == 1 || c->entries[e].key == 0)) {
                    take = &c->entries[e];
                    wanted[e] = 1;
                }
            }
        }
        zero(take, &keys[i]);
        out[i] = take;
    }
    return 0;
}

void apigw_rl_counters_carry(apigw_rl_counters *to, apigw_rl_counters *from,
                             const apigw_rl_hash *keys, apr_size_t n)
{
    apr_size_t i;

    for (i = 0; i < n; i++) {
        apigw_rl_counter *a = apigw_rl_counters_find(to, &keys[i]);
        apigw_rl_counter *b = apigw_rl_counters_find(from, &keys[i]);

        if (a && b && a != b) {
            apr_atomic_set64(&a->admitted, apr_atomic_read64(&b->admitted));
            apr_atomic_set64(&a->rejected, apr_atomic_read64(&b->rejected));
            apr_atomic_set64(&a->delayed, apr_atomic_read64(&b->delayed));
            apr_atomic_set64(&a->errors, apr_atomic_read64(&b->errors));
        }
    }
}
