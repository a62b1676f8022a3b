/* The per-limit counters of mod_apigw_ratelimit (admitted, rejected,
 * delayed, store errors) over a plain block of memory: the module puts it
 * in shared memory next to the bucket table, the unit tests in a malloc'd
 * block. Pure: APR atomics only, no httpd.
 *
 * One entry per policy (a limit's numbers, or one of its tiers), keyed by
 * the two hashes of the policy's identity, so limits that share a name
 * and numbers share counters, and counters carry over a graceful restart
 * that keeps the policy. Entries are assigned once per configuration, in
 * the parent, before any child exists; children only add to them.
 *
 *   offset 0   +-------------------------------------------------------+
 *              | header: magic | nentries | (reserved x6)             |
 *   64         +-------------------------------------------------------+
 *              | entry 0: key | check | admitted | rejected |          |
 *              |          delayed | errors | (reserved x2)             |
 *   128        +-------------------------------------------------------+
 *              | entry 1 ...                                           |
 *              +-------------------------------------------------------+
 *
 * Each entry fills one 64-byte cache line, so two busy limits never
 * share a line. key 0 marks a free entry. */
#ifndef APIGW_RL_COUNTERS_H
#define APIGW_RL_COUNTERS_H

#include <apr.h>
#include <apr_pools.h>

#include "apigw_rl_table.h"

typedef struct {
    volatile apr_uint64_t key;
    volatile apr_uint64_t check;
    volatile apr_uint64_t admitted;     /* admitted, delayed ones included */
    volatile apr_uint64_t rejected;     /* refused by this policy */
    volatile apr_uint64_t delayed;      /* admitted after a wait (delay=) */
    volatile apr_uint64_t errors;       /* store errors (Redis) */
    apr_uint64_t reserved[2];
} apigw_rl_counter;

typedef struct {
    apr_uint64_t magic;
    apr_uint64_t nentries;
    apr_uint64_t reserved[6];
    apigw_rl_counter entries[];
} apigw_rl_counters;

/* Bytes a block of n entries takes. */
apr_size_t apigw_rl_counters_bytes(apr_size_t n);

/* Formats mem (bytes long) as empty counters; NULL when it holds none. */
apigw_rl_counters *apigw_rl_counters_init(void *mem, apr_size_t bytes);

/* The entry of key h, or NULL. */
apigw_rl_counter *apigw_rl_counters_find(apigw_rl_counters *c,
                                         const apigw_rl_hash *h);

/* Gives each of the n keys an entry (keys may repeat: one entry each
 * distinct key) and stores it in out[i]. A key that has an entry keeps it
 * and its counts; a new key takes a free entry, or else one whose key is
 * not among the n (zeroed). Returns 0, or -1 when the keys do not fit
 * (nothing is changed then). p: scratch memory. */
int apigw_rl_counters_assign(apigw_rl_counters *c, apr_pool_t *p,
                             const apigw_rl_hash *keys, apr_size_t n,
                             apigw_rl_counter **out);

/* Copies the counts of from's entry for each key into to's (after both
 * were assigned those keys): used when the block is remade larger. */
void apigw_rl_counters_carry(apigw_rl_counters *to, apigw_rl_counters *from,
                             const apigw_rl_hash *keys, apr_size_t n);

#endif
