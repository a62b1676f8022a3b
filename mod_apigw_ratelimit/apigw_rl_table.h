/* The shared table of mod_apigw_ratelimit: a fixed number of slots over a
 * plain block of memory (the module puts it in shared memory; the unit
 * tests in a malloc'd block), one slot per (limit, key). Pure: APR atomics
 * only, no httpd, no lock.
 *
 * Layout of the block (every field a naturally aligned 64-bit word, one
 * slot = 32 bytes, two slots per 64-byte cache line):
 *
 *   offset 0   +-------------------------------------------------------+
 *              | header: magic | nslots | window | (reserved)         |
 *   32         +-------------------------------------------------------+
 *              | slot 0: key | check | tat | used                      |
 *   64         +-------------------------------------------------------+
 *              | slot 1: key | check | tat | used                      |
 *              |  ...                                                  |
 *              | slot nslots-1                                         |
 *              +-------------------------------------------------------+
 *
 *   key    0: empty (never used since the table was made);
 *          BUSY bit | second stamp: being claimed by one process;
 *          otherwise the first 63-bit hash of the key (never 0).
 *   check  a second, independent 64-bit hash of the key: two keys share a
 *          slot only if both hashes agree (odds ~2^-127).
 *   tat    the GCRA theoretical arrival time, ns since the epoch (0: full).
 *   used   when the slot was last used, ns since the epoch.
 *
 * A key lives in one of the `window` slots that follow slot h1 % nslots
 * (wrapping). Lookup reads them; a miss claims the first empty one, or,
 * when the window is full, evicts one: a slot whose bucket is full again
 * (tat <= now: forgetting it changes nothing) if there is one, else the
 * one used least recently. Eviction is by age, never by arrival order, so
 * a flood of new keys only displaces keys idle for longer than they. Claiming is
 * a compare-and-swap of key to BUSY, then check/tat/used are written, then
 * key goes from BUSY to h1 (another CAS); readers that meet BUSY wait for
 * it. A BUSY stamp older than APIGW_RL_BUSY_STALE_SEC (its claimer died in
 * those few instructions) may be evicted. The GCRA update itself is a CAS
 * loop on tat. The table never grows: a full table forgets its stalest
 * keys. */
#ifndef APIGW_RL_TABLE_H
#define APIGW_RL_TABLE_H

#include <apr.h>
#include "apigw_rl_gcra.h"

#define APIGW_RL_WINDOW 8
#define APIGW_RL_BUSY ((apr_uint64_t)1 << 63)
#define APIGW_RL_BUSY_STALE_SEC 5

typedef struct {
    volatile apr_uint64_t key;
    volatile apr_uint64_t check;
    volatile apr_uint64_t tat;
    volatile apr_uint64_t used;
} apigw_rl_slot;

typedef struct {
    apr_uint64_t magic;
    apr_uint64_t nslots;
    apr_uint64_t window;
    apr_uint64_t reserved;
    apigw_rl_slot slots[];
} apigw_rl_table;

/* The two hashes of a key, built from its parts. */
typedef struct {
    apr_uint64_t h1, h2;
} apigw_rl_hash;

void apigw_rl_hash_init(apigw_rl_hash *h);
/* Adds one part; parts are length-delimited, so ("ab","c") != ("a","bc"). */
void apigw_rl_hash_add(apigw_rl_hash *h, const void *data, apr_size_t len);
/* The same with a tag (what kind of part it is) mixed in with the length:
 * (1, "x") != (2, "x"). Parts shorter than 2^56 bytes. */
void apigw_rl_hash_add_tagged(apigw_rl_hash *h, unsigned char tag,
                              const void *data, apr_size_t len);
/* Finishes: h1 in 1 .. 2^63-1, h2 any value. */
void apigw_rl_hash_final(apigw_rl_hash *h);

/* Bytes a table of nslots takes; slots a block of bytes holds. */
apr_size_t apigw_rl_table_bytes(apr_size_t nslots);
apr_size_t apigw_rl_table_slots_for(apr_size_t bytes);

/* Formats mem (bytes long) as an empty table; NULL when it holds fewer
 * than APIGW_RL_WINDOW slots. */
apigw_rl_table *apigw_rl_table_init(void *mem, apr_size_t bytes);

/* The slot of key (h1, h2) at time now, found or claimed; NULL only when
 * every attempt lost a race (callers then let the request through). */
apigw_rl_slot *apigw_rl_table_find(apigw_rl_table *t, apr_uint64_t h1,
                                   apr_uint64_t h2, apr_uint64_t now);

/* One request against the slot's bucket: the GCRA decision, stored with a
 * CAS loop. */
void apigw_rl_slot_take(apigw_rl_slot *s, const apigw_rl_rate *rt,
                        apr_uint64_t now, apigw_rl_decision *d);

/* Gives back the token apigw_rl_slot_take took. */
void apigw_rl_slot_refund(apigw_rl_slot *s, const apigw_rl_rate *rt);

/* For the status page: slots holding a key, and of those the ones whose
 * bucket is not full (tat > now). Reads every slot; no lock. */
void apigw_rl_table_count(const apigw_rl_table *t, apr_uint64_t now,
                          apr_uint64_t *keys, apr_uint64_t *active);

#endif
