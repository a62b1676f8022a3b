/* sources: mod_apigw_ratelimit/apigw_rl_counters.c mod_apigw_ratelimit/apigw_rl_table.c mod_apigw_ratelimit/apigw_rl_gcra.c */
/* Unit tests for mod_apigw_ratelimit/apigw_rl_counters.c: the per-policy
 * counters over a plain block, as post_config assigns them generation
 * after generation: a policy that stays keeps its counts (graceful
 * restart), repeats share one entry, new policies take free entries and
 * then stale ones, a configuration that does not fit changes nothing, and
 * counts carry over to a larger block. */
#define UNIT_POOL
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "unit_apr.h"
#include "apigw_rl_counters.h"

static apigw_rl_hash key(const char *ident)
{
    apigw_rl_hash h;
    apigw_rl_hash_init(&h);
    apigw_rl_hash_add(&h, ident, strlen(ident));
    apigw_rl_hash_final(&h);
    return h;
}

static apigw_rl_counters *make(apr_size_t n, void **mem)
{
    apr_size_t bytes = apigw_rl_counters_bytes(n);
    *mem = malloc(bytes);
    memset(*mem, 0x5a, bytes);
    return apigw_rl_counters_init(*mem, bytes);
}

static void test_layout(void **state)
{
    void *mem;
    apigw_rl_counters *c;
    (void)state;
    assert_int_equal(sizeof(apigw_rl_counter), 64);
    assert_int_equal(sizeof(apigw_rl_counters), 64);
    c = make(5, &mem);
    assert_non_null(c);
    assert_int_equal(c->nentries, 5);
    assert_int_equal(c->entries[4].key, 0);
    assert_null(apigw_rl_counters_init(mem, 64));     /* no room for one */
    free(mem);
}

static void test_assign_keeps_counts(void **state)
{
    void *mem;
    apigw_rl_counters *c = make(8, &mem);
    apigw_rl_hash k1[3] = { key("a|1|1000000|1"), key("b|5|60000000|5"),
                            key("a|1|1000000|1") };
    apigw_rl_hash k2[2] = { key("c|1|1000000|1"), key("b|5|60000000|5") };
    apigw_rl_counter *out[3];
    (void)state;
    assert_int_equal(apigw_rl_counters_assign(c, pool, k1, 3, out), 0);
    assert_ptr_equal(out[0], out[2]);         /* a repeat shares an entry */
    assert_ptr_not_equal(out[0], out[1]);
    out[1]->admitted = 7;
    out[1]->rejected = 3;
    out[0]->admitted = 1;
    /* the next generation: b stays (and keeps its counts), c is new */
    assert_int_equal(apigw_rl_counters_assign(c, pool, k2, 2, out), 0);
    assert_int_equal(out[1]->admitted, 7);
    assert_int_equal(out[1]->rejected, 3);
    assert_int_equal(out[0]->admitted, 0);
    assert_non_null(apigw_rl_counters_find(c, &k2[0]));
    free(mem);
}

static void test_stale_entries_are_reused(void **state)
{
    void *mem;
    apigw_rl_counters *c = make(2, &mem);
    apigw_rl_hash old[2] = { key("old1"), key("old2") };
    apigw_rl_hash now[2] = { key("old2"), key("new") };
    apigw_rl_hash many[3] = { key("x"), key("y"), key("z") };
    apigw_rl_counter *out[3];
    (void)state;
    assert_int_equal(apigw_rl_counters_assign(c, pool, old, 2, out), 0);
    out[0]->admitted = 11;
    out[1]->admitted = 22;
    assert_int_equal(apigw_rl_counters_assign(c, pool, now, 2, out), 0);
    assert_int_equal(out[0]->admitted, 22);   /* old2 kept */
    assert_int_equal(out[1]->admitted, 0);    /* new took old1's, zeroed */
    assert_null(apigw_rl_counters_find(c, &old[0]));
    /* three distinct keys do not fit in two entries: nothing changes */
    assert_int_equal(apigw_rl_counters_assign(c, pool, many, 3, out), -1);
    assert_null(out[0]);
    assert_non_null(apigw_rl_counters_find(c, &now[0]));
    assert_non_null(apigw_rl_counters_find(c, &now[1]));
    free(mem);
}

static void test_carry_to_a_larger_block(void **state)
{
    void *m1, *m2;
    apigw_rl_counters *small = make(2, &m1), *big = make(8, &m2);
    apigw_rl_hash k[3] = { key("p"), key("q"), key("r") };
    apigw_rl_counter *out[3];
    (void)state;
    assert_int_equal(apigw_rl_counters_assign(small, pool, k, 2, out), 0);
    out[0]->admitted = 5;
    out[0]->delayed = 2;
    out[1]->rejected = 9;
    out[1]->errors = 1;
    assert_int_equal(apigw_rl_counters_assign(small, pool, k, 3, out), -1);
    assert_int_equal(apigw_rl_counters_assign(big, pool, k, 3, out), 0);
    apigw_rl_counters_carry(big, small, k, 3);
    assert_int_equal(out[0]->admitted, 5);
    assert_int_equal(out[0]->delayed, 2);
    assert_int_equal(out[1]->rejected, 9);
    assert_int_equal(out[1]->errors, 1);
    assert_int_equal(out[2]->admitted, 0);
    free(m1);
    free(m2);
}

static void test_no_keys(void **state)
{
    void *mem;
    apigw_rl_counters *c = make(1, &mem);
    (void)state;
    assert_int_equal(apigw_rl_counters_assign(c, pool, NULL, 0, NULL), 0);
    free(mem);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_layout),
        T(test_assign_keeps_counts),
        T(test_stale_entries_are_reused),
        T(test_carry_to_a_larger_block),
        T(test_no_keys),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
