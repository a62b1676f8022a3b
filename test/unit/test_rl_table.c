/* sources: mod_apigw_ratelimit/apigw_rl_table.c mod_apigw_ratelimit/apigw_rl_gcra.c */
/* Unit tests for mod_apigw_ratelimit/apigw_rl_table.c: key hashing, the
 * slot table over a plain block (find, claim, collisions, eviction of a
 * full window: a bucket that is full again first, else the least recently
 * used, a full table that never grows, a flood of new keys that cannot
 * evict a busy one), counting for the status page, and the token
 * taking/refunding over a slot, also from several threads at once. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <apr_general.h>
#include <apr_thread_proc.h>

#include "apigw_rl_table.h"

#define SEC ((apr_uint64_t)1000000000)
#define T0 ((apr_uint64_t)1700000000 * SEC)
#define MS_ ((apr_uint64_t)1000000)

static int cmp_u64(const void *a, const void *b)
{
    apr_uint64_t x = *(const apr_uint64_t *)a, y = *(const apr_uint64_t *)b;
    return x < y ? -1 : x > y;
}

static apigw_rl_table *make_table(apr_size_t nslots, void **mem,
                                  apr_size_t *bytes)
{
    *bytes = apigw_rl_table_bytes(nslots);
    *mem = malloc(*bytes + 64);
    memset(*mem, 0xa5, *bytes + 64);              /* garbage before init */
    return apigw_rl_table_init(*mem, *bytes);
}

static apigw_rl_hash hash_of(const char *a, const char *b)
{
    apigw_rl_hash h;
    apigw_rl_hash_init(&h);
    apigw_rl_hash_add(&h, a, strlen(a));
    if (b) {
        apigw_rl_hash_add(&h, b, strlen(b));
    }
    apigw_rl_hash_final(&h);
    return h;
}

static void test_hash(void **state)
{
    apigw_rl_hash a = hash_of("ab", "c"), b = hash_of("a", "bc");
    apigw_rl_hash c = hash_of("ab", "c"), e = hash_of("", NULL);
    (void)state;
    assert_true(a.h1 != b.h1 && a.h2 != b.h2);   /* parts are delimited */
    assert_true(a.h1 == c.h1 && a.h2 == c.h2);
    assert_true(e.h1 != 0 && !(e.h1 & APIGW_RL_BUSY));
    assert_true(a.h1 != 0 && !(a.h1 & APIGW_RL_BUSY));
}

static void test_hash_tags_and_words(void **state)
{
    apigw_rl_hash a, b, c, d;
    (void)state;
    /* the tag tells parts of different kinds apart */
    apigw_rl_hash_init(&a);
    apigw_rl_hash_add_tagged(&a, 1, "x", 1);
    apigw_rl_hash_final(&a);
    apigw_rl_hash_init(&b);
    apigw_rl_hash_add_tagged(&b, 2, "x", 1);
    apigw_rl_hash_final(&b);
    assert_true(a.h1 != b.h1 && a.h2 != b.h2);
    /* a zero-padded last word is not the same as real zero bytes */
    apigw_rl_hash_init(&c);
    apigw_rl_hash_add(&c, "abc", 3);
    apigw_rl_hash_final(&c);
    apigw_rl_hash_init(&d);
    apigw_rl_hash_add(&d, "abc\0", 4);
    apigw_rl_hash_final(&d);
    assert_true(c.h1 != d.h1 && c.h2 != d.h2);
    /* every byte of a long key counts, across word boundaries */
    {
        char k1[] = "0123456789abcdefghij", k2[] = "0123456789abcdefghij";
        size_t i;
        for (i = 0; i < sizeof(k1) - 1; i++) {
            k2[i] ^= 1;
            apigw_rl_hash_init(&a);
            apigw_rl_hash_add(&a, k1, sizeof(k1) - 1);
            apigw_rl_hash_final(&a);
            apigw_rl_hash_init(&b);
            apigw_rl_hash_add(&b, k2, sizeof(k2) - 1);
            apigw_rl_hash_final(&b);
            assert_true(a.h1 != b.h1 && a.h2 != b.h2);
            k2[i] ^= 1;
        }
    }
}

/* The hashes of many similar keys (addresses) spread: no two of 100 000
 * share h1, nor h2, and they fill a table's start slots evenly. */
static void test_hash_spread(void **state)
{
    enum { N = 100000, SLOTS = 1024 };
    apr_uint64_t *h1 = malloc(N * sizeof(*h1)), *h2 = malloc(N * sizeof(*h2));
    int *bins = calloc(SLOTS, sizeof(*bins));
    int i, lo = N, hi = 0;
    (void)state;
    for (i = 0; i < N; i++) {
        char ip[32];
        apigw_rl_hash h;
        snprintf(ip, sizeof(ip), "10.%d.%d.%d", i >> 16, (i >> 8) & 255,
                 i & 255);
        apigw_rl_hash_init(&h);
        apigw_rl_hash_add_tagged(&h, 2, ip, strlen(ip));
        apigw_rl_hash_final(&h);
        h1[i] = h.h1;
        h2[i] = h.h2;
        bins[h.h1 % SLOTS]++;
    }
    for (i = 0; i < SLOTS; i++) {
        lo = bins[i] < lo ? bins[i] : lo;
        hi = bins[i] > hi ? bins[i] : hi;
    }
    /* about 98 a bin; a fair hash stays well within 60..140 */
    assert_true(lo > 60 && hi < 140);
    qsort(h1, N, sizeof(*h1), cmp_u64);
    qsort(h2, N, sizeof(*h2), cmp_u64);
    for (i = 1; i < N; i++) {
        assert_true(h1[i] != h1[i - 1]);
        assert_true(h2[i] != h2[i - 1]);
    }
    free(h1);
    free(h2);
    free(bins);
}

static void test_sizes(void **state)
{
    void *mem;
    apr_size_t bytes;
    apigw_rl_table *t;
    (void)state;
    assert_int_equal(sizeof(apigw_rl_slot), 32);
    assert_int_equal(apigw_rl_table_slots_for(1024 * 1024), 32767);
    assert_int_equal(apigw_rl_table_slots_for(10), 0);
    t = make_table(100, &mem, &bytes);
    assert_non_null(t);
    assert_int_equal(t->nslots, 100);
    /* too small for one window */
    assert_null(apigw_rl_table_init(mem, apigw_rl_table_bytes(7)));
    free(mem);
}

static void test_find_same_key_same_slot(void **state)
{
    void *mem;
    apr_size_t bytes;
    apigw_rl_table *t = make_table(64, &mem, &bytes);
    apigw_rl_hash a = hash_of("limit", "alice"), b = hash_of("limit", "bob");
    apigw_rl_slot *sa, *sb;
    (void)state;
    sa = apigw_rl_table_find(t, a.h1, a.h2, T0);
    sb = apigw_rl_table_find(t, b.h1, b.h2, T0);
    assert_non_null(sa);
    assert_non_null(sb);
    assert_ptr_not_equal(sa, sb);
    assert_ptr_equal(apigw_rl_table_find(t, a.h1, a.h2, T0 + 1), sa);
    assert_int_equal(sa->key, a.h1);
    assert_int_equal(sa->check, a.h2);
    free(mem);
}

static void test_collision_on_first_hash(void **state)
{
    void *mem;
    apr_size_t bytes;
    apigw_rl_table *t = make_table(64, &mem, &bytes);
    apigw_rl_slot *s1, *s2;
    (void)state;
    /* same h1, different h2: two keys, two slots */
    s1 = apigw_rl_table_find(t, 5, 111, T0);
    s2 = apigw_rl_table_find(t, 5, 222, T0);
    assert_ptr_not_equal(s1, s2);
    assert_ptr_equal(apigw_rl_table_find(t, 5, 111, T0), s1);
    assert_ptr_equal(apigw_rl_table_find(t, 5, 222, T0), s2);
    /* same start slot (h1 modulo size), different h1: neighbours */
    s1 = apigw_rl_table_find(t, 9, 1, T0);
    s2 = apigw_rl_table_find(t, 9 + 64, 1, T0);
    assert_ptr_not_equal(s1, s2);
    assert_true(s2 - s1 == 1);
    free(mem);
}

static void test_wraps_around(void **state)
{
    void *mem;
    apr_size_t bytes;
    apigw_rl_table *t = make_table(16, &mem, &bytes);
    int i;
    (void)state;
    for (i = 0; i < 8; i++) {                  /* all start at slot 15 */
        apigw_rl_slot *s = apigw_rl_table_find(t, 15 + 16 * (apr_uint64_t)i,
                                               7, T0);
        assert_ptr_equal(s, &t->slots[(15 + i) % 16]);
    }
    free(mem);
}

static void test_full_window_evicts_least_recently_used(void **state)
{
    void *mem;
    apr_size_t bytes;
    apigw_rl_table *t = make_table(64, &mem, &bytes);
    apigw_rl_slot *slots[8], *s;
    apigw_rl_rate rt;
    apigw_rl_decision d;
    int i;
    (void)state;
    assert_null(apigw_rl_rate_init(&rt, 1, 60 * SEC, 1, 0));
    /* eight keys fill the window of slot 3, claimed in order 0..7 */
    for (i = 0; i < 8; i++) {
        slots[i] = apigw_rl_table_find(t, 3 + 64 * (apr_uint64_t)i, 1,
                                       T0 + (apr_uint64_t)i);
        apigw_rl_slot_take(slots[i], &rt, T0 + (apr_uint64_t)i, &d);
    }
    /* key 0 arrived first but is used again: key 1 is now the stalest */
    apigw_rl_slot_take(apigw_rl_table_find(t, 3, 1, T0 + 100), &rt,
                       T0 + 100, &d);
    s = apigw_rl_table_find(t, 3 + 64 * 8, 1, T0 + 200);
    assert_ptr_equal(s, slots[1]);
    assert_int_equal(s->tat, 0);                  /* a fresh bucket */
    apigw_rl_slot_take(s, &rt, T0 + 200, &d);
    assert_true(d.admitted);
    /* key 0 kept its state: still refused */
    apigw_rl_slot_take(apigw_rl_table_find(t, 3, 1, T0 + 300), &rt,
                       T0 + 300, &d);
    assert_false(d.admitted);
    /* key 1 was forgotten: it comes back fresh, evicting key 2 */
    s = apigw_rl_table_find(t, 3 + 64, 1, T0 + 400);
    assert_ptr_equal(s, slots[2]);
    free(mem);
}

static void test_eviction_prefers_full_buckets(void **state)
{
    void *mem;
    apr_size_t bytes;
    apigw_rl_table *t = make_table(64, &mem, &bytes);
    apigw_rl_slot *slots[8], *s;
    apigw_rl_rate slow, fast;
    apigw_rl_decision d;
    int i;
    (void)state;
    assert_null(apigw_rl_rate_init(&slow, 1, 60 * SEC, 1, 0));
    assert_null(apigw_rl_rate_init(&fast, 1000, SEC, 1, 0));
    /* key 0 is the stalest but still owes a minute; key 5 (newer) is
     * full again 1 ms after its request */
    for (i = 0; i < 8; i++) {
        slots[i] = apigw_rl_table_find(t, 3 + 64 * (apr_uint64_t)i, 1,
                                       T0 + (apr_uint64_t)i);
        apigw_rl_slot_take(slots[i], i == 5 ? &fast : &slow,
                           T0 + (apr_uint64_t)i, &d);
    }
    s = apigw_rl_table_find(t, 3 + 64 * 8, 1, T0 + 10 * MS_);
    assert_ptr_equal(s, slots[5]);            /* forgetting it costs nothing */
    apigw_rl_slot_take(s, &slow, T0 + 10 * MS_, &d);
    /* now all seven others owe: the least recently used goes */
    s = apigw_rl_table_find(t, 3 + 64 * 9, 1, T0 + 20 * MS_);
    apigw_rl_slot_take(s, &slow, T0 + 20 * MS_, &d);
    assert_ptr_equal(s, slots[0]);
    free(mem);
}

/* A client that keeps using its key is never evicted by a flood of new
 * keys, however many: eviction is by age, not by arrival. */
static void test_flood_cannot_evict_a_busy_key(void **state)
{
    void *mem;
    apr_size_t bytes;
    apigw_rl_table *t = make_table(16, &mem, &bytes);
    apigw_rl_hash busy = hash_of("limit", "busy");
    apigw_rl_rate rt;
    apigw_rl_decision d;
    apr_uint64_t i, now = T0;
    (void)state;
    assert_null(apigw_rl_rate_init(&rt, 1, 3600 * SEC, 1, 0));
    apigw_rl_slot_take(apigw_rl_table_find(t, busy.h1, busy.h2, now), &rt,
                       now, &d);
    assert_true(d.admitted);
    for (i = 0; i < 5000; i++) {
        char key[32];
        apigw_rl_hash h;
        snprintf(key, sizeof(key), "flood-%llu", (unsigned long long)i);
        h = hash_of("limit", key);
        now += MS_;
        apigw_rl_slot_take(apigw_rl_table_find(t, h.h1, h.h2, now), &rt, now,
                           &d);
        assert_true(d.admitted);              /* each new key: a fresh bucket */
        if (i % 4 == 0) {                     /* the client keeps going */
            now += MS_;
            apigw_rl_slot_take(apigw_rl_table_find(t, busy.h1, busy.h2, now),
                               &rt, now, &d);
            assert_false(d.admitted);         /* its state was kept */
        }
    }
    free(mem);
}

static void test_count_keys(void **state)
{
    void *mem;
    apr_size_t bytes;
    apigw_rl_table *t = make_table(64, &mem, &bytes);
    apigw_rl_rate rt;
    apigw_rl_decision d;
    apr_uint64_t keys, active;
    int i;
    (void)state;
    assert_null(apigw_rl_rate_init(&rt, 1, SEC, 1, 0));
    apigw_rl_table_count(t, T0, &keys, &active);
    assert_int_equal(keys, 0);
    for (i = 0; i < 10; i++) {
        apigw_rl_hash h = hash_of("count", (char[]){ (char)('a' + i), 0 });
        apigw_rl_slot_take(apigw_rl_table_find(t, h.h1, h.h2, T0), &rt, T0,
                           &d);
    }
    apigw_rl_table_count(t, T0, &keys, &active);
    assert_int_equal(keys, 10);
    assert_int_equal(active, 10);
    apigw_rl_table_count(t, T0 + SEC, &keys, &active);   /* all full again */
    assert_int_equal(keys, 10);
    assert_int_equal(active, 0);
    free(mem);
}

static void test_full_table_never_grows(void **state)
{
    void *mem;
    apr_size_t bytes;
    apigw_rl_table *t = make_table(32, &mem, &bytes);
    unsigned char *tail = (unsigned char *)mem + bytes;
    apr_uint64_t i;
    int j, used = 0;
    (void)state;
    for (i = 0; i < 10000; i++) {
        apigw_rl_hash h;
        apigw_rl_slot *s;
        char key[32];
        snprintf(key, sizeof(key), "key-%llu", (unsigned long long)i);
        h = hash_of("limit", key);
        s = apigw_rl_table_find(t, h.h1, h.h2, T0 + i);
        assert_non_null(s);
        assert_true(s >= &t->slots[0] && s < &t->slots[32]);
        /* the newest key is always findable */
        assert_ptr_equal(apigw_rl_table_find(t, h.h1, h.h2, T0 + i), s);
    }
    for (j = 0; j < 64; j++) {                   /* nothing written past */
        assert_int_equal(tail[j], 0xa5);
    }
    for (j = 0; j < 32; j++) {
        used += t->slots[j].key != 0;
    }
    assert_int_equal(used, 32);
    assert_int_equal(t->nslots, 32);
    free(mem);
}

static void test_stale_claim_is_evictable(void **state)
{
    void *mem;
    apr_size_t bytes;
    apigw_rl_table *t = make_table(8, &mem, &bytes);
    apigw_rl_slot *s;
    int i;
    (void)state;
    /* a claimer died 10 s ago holding slot 0; the others are live keys */
    t->slots[0].key = APIGW_RL_BUSY | (T0 / SEC - 10);
    for (i = 1; i < 8; i++) {
        t->slots[i].key = 100 + (apr_uint64_t)i * 8;
        t->slots[i].used = T0;
    }
    s = apigw_rl_table_find(t, 8, 42, T0);
    assert_ptr_equal(s, &t->slots[0]);
    assert_int_equal(s->key, 8);
    free(mem);
}

/* ---- several threads on one key: exactly burst admissions ---- */

typedef struct {
    apigw_rl_table *t;
    apigw_rl_rate rate;
    volatile apr_uint32_t admitted;
} shared_run;

static void *APR_THREAD_FUNC hammer(apr_thread_t *th, void *data)
{
    shared_run *run = data;
    int i;

    for (i = 0; i < 2000; i++) {
        apigw_rl_hash h = hash_of("limit", (i & 1) ? "odd" : "even");
        apigw_rl_slot *s = apigw_rl_table_find(run->t, h.h1, h.h2, T0);
        apigw_rl_decision d;
        if (s) {
            apigw_rl_slot_take(s, &run->rate, T0, &d);
            if (d.admitted) {
                __sync_fetch_and_add(&run->admitted, 1);
            }
        }
    }
    (void)th;        /* returning ends the thread (no apr_thread_exit:
                        its pthread_exit upsets ASan) */
    return NULL;
}

static void test_threads_count_exactly(void **state)
{
    void *mem;
    apr_size_t bytes;
    apr_pool_t *pool;
    apr_thread_t *th[8];
    shared_run run;
    apr_status_t rv;
    int i;
    (void)state;
    apr_initialize();
    apr_pool_create(&pool, NULL);
    run.t = make_table(64, &mem, &bytes);
    run.admitted = 0;
    assert_null(apigw_rl_rate_init(&run.rate, 100, 3600 * SEC, 100, 0));
    for (i = 0; i < 8; i++) {
        assert_int_equal(apr_thread_create(&th[i], NULL, hammer, &run, pool),
                         APR_SUCCESS);
    }
    for (i = 0; i < 8; i++) {
        apr_thread_join(&rv, th[i]);
    }
    assert_int_equal(run.admitted, 200);          /* 100 per key, 2 keys */
    free(mem);
    apr_pool_destroy(pool);
    apr_terminate();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash),
        cmocka_unit_test(test_hash_tags_and_words),
        cmocka_unit_test(test_hash_spread),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_find_same_key_same_slot),
        cmocka_unit_test(test_collision_on_first_hash),
        cmocka_unit_test(test_wraps_around),
        cmocka_unit_test(test_full_window_evicts_least_recently_used),
        cmocka_unit_test(test_eviction_prefers_full_buckets),
        cmocka_unit_test(test_flood_cannot_evict_a_busy_key),
        cmocka_unit_test(test_count_keys),
        cmocka_unit_test(test_full_table_never_grows),
        cmocka_unit_test(test_stale_claim_is_evictable),
        cmocka_unit_test(test_threads_count_exactly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
