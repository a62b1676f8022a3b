/* What the APR-based unit tests share: APR set up once per cmocka group
 * and, where a test file defines UNIT_POOL before including this, a fresh
 * pool per test (setup/teardown, and T(f) to register a test with them).
 * Each test_*.c is its own binary and includes this once, after cmocka.h. */
#ifndef UNIT_APR_H
#define UNIT_APR_H

#include <apr_general.h>
#include <apr_pools.h>

static int group_setup(void **state)
{
    (void)state;
    return apr_initialize() == APR_SUCCESS ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    apr_terminate();
    return 0;
}

#ifdef UNIT_POOL
static apr_pool_t *pool;

static int setup(void **state)
{
    (void)state;
    return apr_pool_create(&pool, NULL) == APR_SUCCESS ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    apr_pool_destroy(pool);
    pool = NULL;
    return 0;
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
#endif

#endif
