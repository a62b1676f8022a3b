/* sources: mod_apigw/apigw_metrics_text.c */
/* libFuzzer target for apigw_mtext_wants_openmetrics (mod_apigw/
 * apigw_metrics_text.c), the Accept header of a scrape: no crash or
 * sanitizer report on any input, an answer of 0 or 1, and answers that
 * ranges with q=0 cannot change (they are not acceptable, RFC 9110): the
 * same answer with "text/plain;q=0" appended or
 * "application/openmetrics-text;q=0" put in front. The input is a
 * header value: a NUL ends it. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "apigw_metrics_text.h"

#define FUZZ_TARGET "fuzz_metrics_accept"
#include "fuzz_check.h"

static apr_pool_t *pool;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    apr_initialize();
    apr_pool_create(&pool, NULL);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *accept = apr_pstrmemdup(pool, (const char *)data, size);
    int got = apigw_mtext_wants_openmetrics(accept), again;

    CHECK(got == 0 || got == 1, "[%s]: %d", accept, got);
    if (strlen(accept) == size && size && accept[size - 1] != ','
        && !strchr(accept, '"')) {
        again = apigw_mtext_wants_openmetrics(
            apr_pstrcat(pool, accept, ",text/plain;q=0", NULL));
        CHECK(again == got, "[%s]: %d, with text/plain;q=0 after: %d",
              accept, got, again);
        again = apigw_mtext_wants_openmetrics(
            apr_pstrcat(pool, "application/openmetrics-text;q=0,", accept,
                        NULL));
        CHECK(again == got, "[%s]: %d, with openmetrics;q=0 before: %d",
              accept, got, again);
    }
    apr_pool_clear(pool);
    return 0;
}
