/* The shared slot table; the layout and the protocol are drawn in
 * apigw_rl_table.h. */
#include "apigw_rl_table.h"

#include <string.h>
#include <apr_atomic.h>
#include <apr_thread_proc.h>

#define TABLE_MAGIC ((apr_uint64_t)0x414757524c543031ULL)   /* "AGWRLT01" */
#define NS_PER_SEC ((apr_uint64_t)1000000000)
#define BUSY_WAIT_YIELDS 2000
#define CLAIM_ATTEMPTS 16

/* ---- hashing: two independent 64-bit hashes, finished with murmur3's
 * avalanche so that neighbouring keys land far apart ---- */

static apr_uint64_t fmix64(apr_uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return k;
}

void apigw_rl_hash_init(apigw_rl_hash *h)
{
    h->h1 = 0xcbf29ce484222325ULL;
    h->h2 = 0x9e3779b97f4a7c15ULL;
}

static apr_uint64_t rotl64(apr_uint64_t x, int r)
{
    return (x << r) | (x >> (64 - r));
}

/* one 64-bit word into both hashes, each its own multiply-rotate chain
 * (murmur3's block step for h1, a splitmix-like one for h2) */
static void mix_word(apigw_rl_hash *h, apr_uint64_t w)
{
    h->h1 ^= rotl64(w * 0x87c37b91114253d5ULL, 31) * 0x4cf5ad432745937fULL;
    h->h1 = rotl64(h->h1, 27) * 5 + 0x52dce729;
    h->h2 += w ^ (w >> 29);
    h->h2 = (h->h2 ^ (h->h2 >> 31)) * 0xbf58476d1ce4e5b9ULL;
}

/* Eight bytes at a time, read as little-endian on every host (the Redis
 * keys of gateways on different machines must agree); the length first,
 * and the last word zero-padded, so parts are delimited. */
void apigw_rl_hash_add(apigw_rl_hash *h, const void *data, apr_size_t len)
{
    apigw_rl_hash_add_tagged(h, 0, data, len);
}

void apigw_rl_hash_add_tagged(apigw_rl_hash *h, unsigned char tag,
                              const void *data, apr_size_t len)
{
    const unsigned char *p = data;
    apr_uint64_t w;

    mix_word(h, (apr_uint64_t)len | ((apr_uint64_t)tag << 56));
    for (; len >= 8; p += 8, len -= 8) {
        memcpy(&w, p, 8);
#if APR_IS_BIGENDIAN
        w = __builtin_bswap64(w);
#endif
        mix_word(h, w);
    }
    if (len) {
        w = 0;
        memcpy(&w, p, len);
#if APR_IS_BIGENDIAN
        w = __builtin_bswap64(w);
#endif
        mix_word(h, w);
    }
}

void apigw_rl_hash_final(apigw_rl_hash *h)
{
    h->h1 = fmix64(h->h1) & ~APIGW_RL_BUSY;
    if (h->h1 == 0) {
        h->h1 = 1;
    }
    h->h2 = fmix64(h->h2 ^ 0x5851f42d4c957f2dULL);
}

/* ---- the table ---- */

apr_size_t apigw_rl_table_bytes(apr_size_t nslots)
{
    return sizeof(apigw_rl_table) + nslots * sizeof(apigw_rl_slot);
}

apr_size_t apigw_rl_table_slots_for(apr_size_t bytes)
{
    if (bytes < sizeof(apigw_rl_table)) {
        return 0;
    }
    return (bytes - sizeof(apigw_rl_table)) / sizeof(apigw_rl_slot);
}

apigw_rl_table *apigw_rl_table_init(void *mem, apr_size_t bytes)
{
    apigw_rl_table *t = mem;
    apr_size_t n = apigw_rl_table_slots_for(bytes);

    if (n < APIGW_RL_WINDOW) {
        return NULL;
    }
    memset(mem, 0, apigw_rl_table_bytes(n));
    t->nslots = n;
    t->window = APIGW_RL_WINDOW;
    t->magic = TABLE_MAGIC;
    return t;
}

static int busy_is_stale(apr_uint64_t key, apr_uint64_t now)
{
    apr_uint64_t stamp = key & ~APIGW_RL_BUSY;
    apr_uint64_t sec = now / NS_PER_SEC;

    return sec > stamp && sec - stamp >= APIGW_RL_BUSY_STALE_SEC;
}

/* Reads a slot's key, waiting a little while another process claims it. */
static apr_uint64_t settled_key(apigw_rl_slot *s)
{
    apr_uint64_t k = apr_atomic_read64(&s->key);
    int i;

    for (i = 0; (k & APIGW_RL_BUSY) && i < BUSY_WAIT_YIELDS; i++) {
        apr_thread_yield();
        k = apr_atomic_read64(&s->key);
    }
    return k;
}

apigw_rl_slot *apigw_rl_table_find(apigw_rl_table *t, apr_uint64_t h1,
                                   apr_uint64_t h2, apr_uint64_t now)
{
    apr_uint64_t start = h1 % t->nslots;
    int attempt;

    for (attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
        apigw_rl_slot *empty = NULL, *victim = NULL, *target;
        apr_uint64_t victim_key = 0, victim_used = 0, expected, marker;
        int victim_full = 0;
        apr_uint64_t i;

        for (i = 0; i < t->window; i++) {
            apigw_rl_slot *s = &t->slots[(start + i) % t->nslots];
            apr_uint64_t k = settled_key(s), used;
            int full;

            if (k == h1 && apr_atomic_read64(&s->check) == h2) {
                return s;
            }
            if (k == 0) {
                if (!empty) {
                    empty = s;
                }
                continue;
            }
            if (k & APIGW_RL_BUSY) {
                if (!busy_is_stale(k, now)) {
                    continue;               /* someone else's claim */
                }
                used = 0;
                full = 1;
            }
            else {
                used = apr_atomic_read64(&s->used);
                /* a bucket that is full again holds nothing a fresh slot
                 * would not: forgetting it loses no state */
                full = apr_atomic_read64(&s->tat) <= now;
            }
            if (!victim || full > victim_full
                    || (full == victim_full && used < victim_used)) {
                victim = s;
                victim_key = k;
                victim_used = used;
                victim_full = full;
            }
        }
        target = empty ? empty : victim;
        expected = empty ? 0 : victim_key;
        if (!target) {
            continue;                       /* every slot being claimed */
        }
        marker = APIGW_RL_BUSY | ((now / NS_PER_SEC) & ~APIGW_RL_BUSY);
        if (apr_atomic_cas64(&target->key, marker, expected) != expected) {
            continue;                       /* lost the race: look again */
        }
        apr_atomic_set64(&target->check, h2);
        apr_atomic_set64(&target->tat, 0);
        apr_atomic_set64(&target->used, now);
        if (apr_atomic_cas64(&target->key, h1, marker) == marker) {
            return target;
        }
    }
    return NULL;
}

void apigw_rl_slot_take(apigw_rl_slot *s, const apigw_rl_rate *rt,
                        apr_uint64_t now, apigw_rl_decision *d)
{
    for (;;) {
        apr_uint64_t old = apr_atomic_read64(&s->tat);
        apr_uint64_t tat = apigw_rl_gcra(rt, old, now, d);

        if (tat == old || apr_atomic_cas64(&s->tat, tat, old) == old) {
            break;
        }
    }
    apr_atomic_set64(&s->used, now);
}

void apigw_rl_slot_refund(apigw_rl_slot *s, const apigw_rl_rate *rt)
{
    for (;;) {
        apr_uint64_t old = apr_atomic_read64(&s->tat);
        apr_uint64_t tat = apigw_rl_gcra_refund(rt, old);

        if (tat == old || apr_atomic_cas64(&s->tat, tat, old) == old) {
            break;
        }
    }
}

void apigw_rl_table_count(const apigw_rl_table *t, apr_uint64_t now,
                          apr_uint64_t *keys, apr_uint64_t *active)
{
    apr_uint64_t i, k = 0, a = 0;

    for (i = 0; i < t->nslots; i++) {
        apigw_rl_slot *s = (apigw_rl_slot *)&t->slots[i];
        apr_uint64_t key = apr_atomic_read64(&s->key);

        if (key == 0 || (key & APIGW_RL_BUSY)) {
            continue;
        }
        k++;
        if (apr_atomic_read64(&s->tat) > now) {
            a++;
        }
    }
    *keys = k;
    *active = a;
}
