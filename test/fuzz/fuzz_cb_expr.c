/* sources: mod_apigw_breaker/apigw_cb_expr.c mod_apigw_breaker/apigw_cb_window.c */
/* libFuzzer target for mod_apigw_breaker/apigw_cb_expr.c, the circuit-
 * breaker expression parser. Any input either fails with a message and an
 * error position inside the text, or parses into an expression whose
 * canonical text parses again into the same canonical text, the same
 * terms and ranges, and the same truth value on every set of term values
 * tried (unless the canonical text grew past the length limit); measuring terms over arbitrary window totals never yields a
 * negative number or NaN. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "apigw_cb_expr.h"

#define FUZZ_TARGET "fuzz_cb_expr"
#include "fuzz_check.h"

static apr_pool_t *root;

static const double probes[] = { 0, 0.1, 0.25, 0.3, 0.5, 0.75, 1, 2, 99.9,
                                 100, 1000, 1e9 };
#define NPROBES (sizeof(probes) / sizeof(probes[0]))

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    apr_initialize();
    apr_pool_create(&root, NULL);
    return 0;
}

static void check_same(const apigw_cb_expr *a, const apigw_cb_expr *b,
                       const char *text, const uint8_t *data, size_t size)
{
    double values[APIGW_CB_EXPR_MAX_TERMS];
    int i, round, n = apigw_cb_expr_nterms(a);

    CHECK(n == apigw_cb_expr_nterms(b), "terms %d vs %d for '%s'", n,
          apigw_cb_expr_nterms(b), text);
    CHECK(apigw_cb_expr_nranges(a) == apigw_cb_expr_nranges(b),
          "ranges differ for '%s'", text);
    CHECK(apigw_cb_expr_uses_latency(a) == apigw_cb_expr_uses_latency(b),
          "latency use differs for '%s'", text);
    for (i = 0; i < n; i++) {
        CHECK(strcmp(apigw_cb_expr_term(a, i)->text,
                     apigw_cb_expr_term(b, i)->text) == 0,
              "term %d: '%s' vs '%s'", i, apigw_cb_expr_term(a, i)->text,
              apigw_cb_expr_term(b, i)->text);
    }
    for (i = 0; i < apigw_cb_expr_nranges(a); i++) {
        CHECK(apigw_cb_expr_ranges(a)[i].from < apigw_cb_expr_ranges(a)[i].to,
              "empty range in '%s'", text);
    }
    /* term values from the input bytes, and a few fixed sweeps */
    for (round = 0; round < 8; round++) {
        for (i = 0; i < n; i++) {
            unsigned char c = size ? data[(size_t)(i * 7 + round * 3) % size]
                                   : 0;
            values[i] = round < 4 ? probes[(c + round) % NPROBES]
                                  : probes[(size_t)(round + i) % NPROBES];
        }
        CHECK(apigw_cb_expr_eval(a, values) == apigw_cb_expr_eval(b, values),
              "'%s' and its canonical text disagree", text);
    }
}

static void check_measure(const apigw_cb_expr *e, const uint8_t *data,
                          size_t size)
{
    apigw_cb_totals t;
    double values[APIGW_CB_EXPR_MAX_TERMS];
    size_t i;
    int j;

    memset(&t, 0, sizeof(t));
    t.with_hist = 1;
    for (i = 0; i < size && i < 64; i++) {
        t.hist[(data[i] * 7u + (unsigned)i) % APIGW_CB_HIST_BINS] += data[i];
        t.ranges[i % APIGW_CB_MAX_RANGES] += data[i] % 5;
        t.total += data[i] % 3;
        t.neterr += (data[i] % 3) / 2;
    }
    apigw_cb_expr_measure(e, &t, values);
    for (j = 0; j < apigw_cb_expr_nterms(e); j++) {
        CHECK(values[j] == values[j] && values[j] >= 0,
              "term %d measured %g", j, values[j]);
    }
    (void)apigw_cb_expr_eval(e, values);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    apigw_cb_expr *e = NULL, *again = NULL;
    apr_size_t pos = 0, len;
    const char *err, *canon;
    char *text;

    if (size > 4096) {
        return 0;
    }
    apr_pool_create(&p, root);
    text = apr_pstrmemdup(p, (const char *)data, size);
    len = strlen(text);                     /* stops at an embedded NUL */
    err = apigw_cb_expr_parse(p, text, &e, &pos);
    if (err) {
        CHECK(*err, "empty message for '%s'", text);
        CHECK(pos <= len, "error position %zu beyond %zu in '%s'",
              (size_t)pos, (size_t)len, text);
        apr_pool_destroy(p);
        return 0;
    }
    CHECK(len <= APIGW_CB_EXPR_MAX_LEN, "accepted %zu characters",
          (size_t)len);
    canon = apigw_cb_expr_text(e);
    check_measure(e, data, size);
    if (strlen(canon) > APIGW_CB_EXPR_MAX_LEN) {
        /* spaces added around operators made it longer than users may
         * write: nothing to compare it with */
        apr_pool_destroy(p);
        return 0;
    }
    err = apigw_cb_expr_parse(p, canon, &again, &pos);
    CHECK(!err, "canonical '%s' of '%s' fails at %zu: %s", canon, text,
          (size_t)pos, err);
    CHECK(strcmp(apigw_cb_expr_text(again), canon) == 0,
          "canonical text not stable: '%s' -> '%s'", canon,
          apigw_cb_expr_text(again));
    check_same(e, again, text, data, size);
    apr_pool_destroy(p);
    return 0;
}
