/* sources: mod_apigw_breaker/apigw_cb_expr.c mod_apigw_breaker/apigw_cb_window.c */
/* Unit tests for mod_apigw_breaker/apigw_cb_expr.c: the circuit-breaker
 * expression language. Valid expressions (Traefik's documented ones, the
 * presets, precedence, parentheses, every operator) with their canonical
 * text, terms and status ranges; evaluation over given term values and
 * over measured window totals (ratios with empty denominators, latency
 * quantiles); every syntax and type error with the position it reports;
 * the limits; locale-free number printing. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#define UNIT_POOL
#include "unit_apr.h"

#include <apr_strings.h>

#include "apigw_cb_expr.h"

static apigw_cb_expr *parse_ok(const char *text)
{
    apigw_cb_expr *e = NULL;
    apr_size_t pos = 99;
    const char *err = apigw_cb_expr_parse(pool, text, &e, &pos);

    if (err) {
        fail_msg("'%s' should parse, got at %zu: %s", text, (size_t)pos, err);
    }
    assert_non_null(e);
    return e;
}

static void test_traefik_examples(void **state)
{
    apigw_cb_expr *e;
    (void)state;

    e = parse_ok("NetworkErrorRatio() > 0.30");
    /* numbers print as written */
    assert_string_equal(apigw_cb_expr_text(e), "NetworkErrorRatio() > 0.30");
    assert_int_equal(apigw_cb_expr_nterms(e), 1);
    assert_int_equal(apigw_cb_expr_term(e, 0)->kind,
                     APIGW_CB_TERM_NETWORK_ERROR_RATIO);
    assert_int_equal(apigw_cb_expr_nranges(e), 0);
    assert_false(apigw_cb_expr_uses_latency(e));

    e = parse_ok("ResponseCodeRatio(500, 600, 0, 600) > 0.25");
    assert_string_equal(apigw_cb_expr_text(e),
                        "ResponseCodeRatio(500, 600, 0, 600) > 0.25");
    assert_int_equal(apigw_cb_expr_nranges(e), 2);
    assert_int_equal(apigw_cb_expr_ranges(e)[0].from, 500);
    assert_int_equal(apigw_cb_expr_ranges(e)[0].to, 600);
    assert_int_equal(apigw_cb_expr_ranges(e)[1].from, 0);
    assert_int_equal(apigw_cb_expr_ranges(e)[1].to, 600);
    assert_int_equal(apigw_cb_expr_term(e, 0)->range, 0);
    assert_int_equal(apigw_cb_expr_term(e, 0)->div_range, 1);

    e = parse_ok("LatencyAtQuantileMS(50.0) > 100");
    assert_true(apigw_cb_expr_uses_latency(e));
    assert_string_equal(apigw_cb_expr_term(e, 0)->text,
                        "LatencyAtQuantileMS(50.0)");
    assert_true(apigw_cb_expr_term(e, 0)->quantile == 50.0);

    e = parse_ok("NetworkErrorRatio() > 0.5 || "
                 "ResponseCodeRatio(500, 600, 0, 600) > 0.5 && "
                 "LatencyAtQuantileMS(99.9) > 2000");
    assert_int_equal(apigw_cb_expr_nterms(e), 3);
    assert_string_equal(apigw_cb_expr_term(e, 2)->text,
                        "LatencyAtQuantileMS(99.9)");
}

static void test_canonical_text_and_precedence(void **state)
{
    apigw_cb_expr *e;
    (void)state;

    /* && binds tighter than ||: no parentheses needed when printed */
    e = parse_ok("NetworkErrorRatio()>.5||NetworkErrorRatio()<0.1&&"
                 "LatencyAtQuantileMS(50)>=10");
    assert_string_equal(apigw_cb_expr_text(e),
                        "NetworkErrorRatio() > 0.5 || NetworkErrorRatio() < "
                        "0.1 && LatencyAtQuantileMS(50.0) >= 10");
    /* the same call twice is one term */
    assert_int_equal(apigw_cb_expr_nterms(e), 2);

    /* parentheses that change the meaning are kept, others dropped */
    e = parse_ok("(NetworkErrorRatio() > 0.5 || NetworkErrorRatio() < 0.1) "
                 "&& ((LatencyAtQuantileMS(50) > 10))");
    assert_string_equal(apigw_cb_expr_text(e),
                        "(NetworkErrorRatio() > 0.5 || NetworkErrorRatio() < "
                        "0.1) && LatencyAtQuantileMS(50.0) > 10");
    e = parse_ok("(0.5) < (NetworkErrorRatio())");
    assert_string_equal(apigw_cb_expr_text(e), "0.5 < NetworkErrorRatio()");
    e = parse_ok("LatencyAtQuantileMS(.5) > 0.0999999999999");
    assert_string_equal(apigw_cb_expr_text(e),
                        "LatencyAtQuantileMS(0.5) > 0.0999999999999");
    e = parse_ok(" \tNetworkErrorRatio ( ) != 0\n");
    assert_string_equal(apigw_cb_expr_text(e), "NetworkErrorRatio() != 0");
    e = parse_ok("NetworkErrorRatio() == 1 && NetworkErrorRatio() <= 1");
    assert_string_equal(apigw_cb_expr_text(e),
                        "NetworkErrorRatio() == 1 && NetworkErrorRatio() <= 1");
}

/* values: term values in order of first appearance */
static int holds(const char *text, double v0, double v1, double v2)
{
    double values[3] = { v0, v1, v2 };
    return apigw_cb_expr_eval(parse_ok(text), values);
}

static void test_eval_operators(void **state)
{
    (void)state;
    assert_true(holds("NetworkErrorRatio() > 0.5", 0.51, 0, 0));
    assert_false(holds("NetworkErrorRatio() > 0.5", 0.5, 0, 0));
    assert_true(holds("NetworkErrorRatio() >= 0.5", 0.5, 0, 0));
    assert_true(holds("NetworkErrorRatio() < 0.5", 0.49, 0, 0));
    assert_false(holds("NetworkErrorRatio() < 0.5", 0.5, 0, 0));
    assert_true(holds("NetworkErrorRatio() <= 0.5", 0.5, 0, 0));
    assert_true(holds("NetworkErrorRatio() == 0.25", 0.25, 0, 0));
    assert_false(holds("NetworkErrorRatio() != 0.25", 0.25, 0, 0));
    assert_true(holds("0.5 < NetworkErrorRatio()", 0.75, 0, 0));
    assert_true(holds("1 > 0.5", 0, 0, 0));
    /* precedence: a || (b && c) */
    assert_true(holds("NetworkErrorRatio() > 0.5 || "
                      "LatencyAtQuantileMS(50) > 100 && "
                      "ResponseCodeRatio(500, 600, 0, 600) > 0.5",
                      0.9, 0, 0));
    assert_false(holds("NetworkErrorRatio() > 0.5 || "
                       "LatencyAtQuantileMS(50) > 100 && "
                       "ResponseCodeRatio(500, 600, 0, 600) > 0.5",
                       0.1, 200, 0.1));
    assert_true(holds("NetworkErrorRatio() > 0.5 || "
                      "LatencyAtQuantileMS(50) > 100 && "
                      "ResponseCodeRatio(500, 600, 0, 600) > 0.5",
                      0.1, 200, 0.6));
    /* (a || b) && c */
    assert_false(holds("(NetworkErrorRatio() > 0.5 || "
                       "LatencyAtQuantileMS(50) > 100) && "
                       "ResponseCodeRatio(500, 600, 0, 600) > 0.5",
                       0.9, 0, 0));
}

static void test_presets(void **state)
{
    static const char *const names[] = { "errors-50", "errors-30", "5xx",
                                         "high-latency", NULL };
    apigw_cb_expr *e;
    int i;
    (void)state;

    for (i = 0; names[i]; i++) {
        const char *text = apigw_cb_expr_preset(names[i]);
        assert_non_null(text);
        e = parse_ok(text);
        assert_string_equal(apigw_cb_expr_text(e), text);
        assert_non_null(strstr(apigw_cb_expr_preset_names(), names[i]));
    }
    assert_null(apigw_cb_expr_preset("errors-40"));
    assert_null(apigw_cb_expr_preset("NetworkErrorRatio() > 0.5"));
    assert_true(holds(apigw_cb_expr_preset("errors-50"), 0.6, 0, 0));
    assert_true(holds(apigw_cb_expr_preset("errors-50"), 0.1, 0.6, 0));
    assert_false(holds(apigw_cb_expr_preset("errors-50"), 0.4, 0.4, 0));
    assert_true(holds(apigw_cb_expr_preset("errors-30"), 0.31, 0, 0));
    assert_true(holds(apigw_cb_expr_preset("5xx"), 0.26, 0, 0));
    assert_false(holds(apigw_cb_expr_preset("5xx"), 0.25, 0, 0));
    assert_true(holds(apigw_cb_expr_preset("high-latency"), 100.5, 0, 0));
}

static void record(apigw_cb_window *w, apr_time_t now, int status, int neterr,
                   apr_interval_time_t latency, const apigw_cb_expr *e)
{
    apigw_cb_sample s = { status, neterr, latency };
    assert_int_equal(apigw_cb_window_record(w, now, &s,
                                            apigw_cb_expr_ranges(e),
                                            apigw_cb_expr_nranges(e)), 1);
}

static void test_measure_over_a_window(void **state)
{
    apigw_cb_window *w = apr_pcalloc(pool, sizeof(*w));
    apr_time_t now = apr_time_from_sec(1700000000);
    apigw_cb_expr *e = parse_ok("NetworkErrorRatio() > 0.5 || "
                                "ResponseCodeRatio(500, 600, 0, 600) > 0.5 || "
                                "ResponseCodeRatio(500, 600, 200, 300) > 1 || "
                                "LatencyAtQuantileMS(50) > 100 || "
                                "LatencyAtQuantileMS(100) > 100");
    apigw_cb_totals t;
    double v[5];
    int i;
    (void)state;

    apigw_cb_window_clear(w);
    /* empty: every ratio 0, no quantile */
    apigw_cb_window_totals(w, now, 1, &t);
    apigw_cb_expr_measure(e, &t, v);
    for (i = 0; i < 5; i++) {
        assert_true(v[i] == 0);
    }
    assert_false(apigw_cb_expr_eval(e, v));

    /* 4 requests: 2 network errors (502, 504), one 500, one 200 */
    record(w, now, 502, 1, 1000, e);
    record(w, now, 504, 1, 3000000, e);
    record(w, now, 500, 0, 40000, e);
    record(w, now, 200, 0, 60000, e);
    apigw_cb_window_totals(w, now, 1, &t);
    apigw_cb_expr_measure(e, &t, v);
    assert_true(v[0] == 0.5);
    assert_true(v[1] == 0.75);
    assert_true(v[2] == 3.0);               /* 3 5xx over one 2xx */
    assert_in_range((long)v[3], 37, 43);    /* the 2nd of 4: 40ms, +-6.25% */
    assert_in_range((long)v[4], 2800, 3200);
    assert_true(apigw_cb_expr_eval(e, v));

    /* the histogram is skipped when not asked for: quantiles read 0 */
    apigw_cb_window_totals(w, now, 0, &t);
    apigw_cb_expr_measure(e, &t, v);
    assert_true(v[3] == 0 && v[4] == 0);

    /* a denominator range without requests: 0, not a division by 0 */
    apigw_cb_window_clear(w);
    record(w, now, 503, 0, 10, e);
    apigw_cb_window_totals(w, now, 1, &t);
    apigw_cb_expr_measure(e, &t, v);
    assert_true(v[2] == 0);
    assert_true(v[1] == 1);
}

typedef struct {
    const char *text;
    apr_size_t pos;             /* 0-based */
    const char *message;        /* a part of it */
} bad_case;

static const bad_case bad[] = {
    { "", 0, "empty expression" },
    { "   ", 0, "empty expression" },
    { "NetworkErrorRatio()", 0, "is a number, not a condition" },
    { "0.5", 0, "is a number, not a condition" },
    { "NetworkErrorRatio() > ", 22, "the expression ends where" },
    { "NetworkErrorRatio() >> 0.5", 21, "expected a number, a function or '('" },
    { "NetworkErrorRatio() = 0.5", 20, "use '==' to compare" },
    { "NetworkErrorRatio() > 0.5 & 1 > 0", 26, "use '&&'" },
    { "NetworkErrorRatio() > 0.5 | 1 > 0", 26, "use '||'" },
    { "!NetworkErrorRatio()", 0, "'!' is only known in '!='" },
    { "NetworkErrorRatio() > 0.5 $", 26, "unexpected character '$'" },
    { "NetworkErrorRatio() > 0.5 \x01", 26, "not printable" },
    { "NetworkErrorRatio() > 0.", 24, "needs digits after its '.'" },
    { "NetworkErrorRatio() > 0.5x", 25, "unexpected character after a number" },
    { "NetworkErrorRatio() > 1.2.3", 25, "unexpected character after a number" },
    { "NetworkErrorRatio() > 1234567890123456789012345", 22, "number too long" },
    { "NetworkErrorRatio > 0.5", 18, "expected '(' after NetworkErrorRatio" },
    { "NetworkErrorRatio(1) > 0.5", 18, "takes no arguments" },
    { "networkErrorRatio() > 0.5", 0, "unknown function 'networkErrorRatio'" },
    { "Foo() > 1", 0, "unknown function 'Foo'" },
    { "ResponseCodeRatio(500, 600, 0) > 0.5", 29,
      "expected ',' and the next of 4 arguments" },
    { "ResponseCodeRatio(500, 600, 0 600) > 0.5", 30,
      "expected ',' and the next of 4 arguments, found '600'" },
    { "ResponseCodeRatio(500, 600, 0, 600, 1) > 0.5", 34, "takes 4 arguments" },
    { "ResponseCodeRatio(500.5, 600, 0, 600) > 0.5", 18, "whole number" },
    { "ResponseCodeRatio(500, 6000, 0, 600) > 0.5", 23, "whole number" },
    { "ResponseCodeRatio(600, 500, 0, 600) > 0.5", 18, "from < to" },
    { "ResponseCodeRatio(500, 600, 600, 600) > 0.5", 18, "divFrom < divTo" },
    { "ResponseCodeRatio(a, 600, 0, 600) > 0.5", 18, "expected a status code" },
    { "ResponseCodeRatio(500, 600, 0, 600 > 0.5", 35,
      "expected ')' to close ResponseCodeRatio(" },
    { "LatencyAtQuantileMS() > 1", 20, "expected a quantile in percent" },
    { "LatencyAtQuantileMS(0) > 1", 20, "greater than 0, at most 100" },
    { "LatencyAtQuantileMS(100.5) > 1", 20, "greater than 0, at most 100" },
    { "LatencyAtQuantileMS(50, 1) > 1", 22, "takes one argument" },
    { "(NetworkErrorRatio() > 0.5", 26, "expected ')' to close the '(' at "
                                        "position 1" },
    { "NetworkErrorRatio() > 0.5)", 25, "unexpected ')'" },
    { "NetworkErrorRatio() > 0.5 NetworkErrorRatio()", 26,
      "unexpected 'NetworkErrorRatio'" },
    { "NetworkErrorRatio() > 0.1 > 0", 26, "cannot be chained" },
    { "(NetworkErrorRatio() > 0.1) > 0", 28, "its left side is a condition" },
    { "1 < (NetworkErrorRatio() > 0.1)", 4, "its right side is a condition" },
    { "NetworkErrorRatio() && 1 > 0", 20, "its left side is a number" },
    { "1 > 0 || NetworkErrorRatio()", 9, "its right side is a number" },
    { "()", 1, "expected a number, a function or '('" },
    { NULL, 0, NULL }
};

static void test_errors_and_positions(void **state)
{
    int i;
    (void)state;

    for (i = 0; bad[i].text; i++) {
        apigw_cb_expr *e = NULL;
        apr_size_t pos = 9999;
        const char *err = apigw_cb_expr_parse(pool, bad[i].text, &e, &pos);

        if (!err) {
            fail_msg("'%s' should not parse", bad[i].text);
        }
        if (!strstr(err, bad[i].message)) {
            fail_msg("'%s': message '%s' lacks '%s'", bad[i].text, err,
                     bad[i].message);
        }
        if (pos != bad[i].pos) {
            fail_msg("'%s': error at %zu, expected %zu (%s)", bad[i].text,
                     (size_t)pos, (size_t)bad[i].pos, err);
        }
    }
}

static void test_limits(void **state)
{
    apigw_cb_expr *e;
    apr_size_t pos;
    const char *err;
    char *text;
    int i;
    (void)state;

    /* length */
    text = apr_palloc(pool, APIGW_CB_EXPR_MAX_LEN + 2);
    memset(text, ' ', APIGW_CB_EXPR_MAX_LEN + 1);
    memcpy(text, "1 > 0", 5);
    text[APIGW_CB_EXPR_MAX_LEN + 1] = '\0';
    err = apigw_cb_expr_parse(pool, text, &e, &pos);
    assert_non_null(err);
    assert_non_null(strstr(err, "too long"));
    text[APIGW_CB_EXPR_MAX_LEN] = '\0';
    parse_ok(text);

    /* nesting */
    text = "";
    for (i = 0; i < APIGW_CB_EXPR_MAX_DEPTH; i++) {
        text = apr_pstrcat(pool, "(", text, NULL);
    }
    text = apr_pstrcat(pool, text, "1 > 0", NULL);
    for (i = 0; i < APIGW_CB_EXPR_MAX_DEPTH; i++) {
        text = apr_pstrcat(pool, text, ")", NULL);
    }
    parse_ok(text);
    err = apigw_cb_expr_parse(pool, apr_pstrcat(pool, "(", text, ")", NULL),
                              &e, &pos);
    assert_non_null(err);
    assert_non_null(strstr(err, "nested too deeply"));
    assert_int_equal(pos, APIGW_CB_EXPR_MAX_DEPTH);

    /* distinct terms */
    text = "1 > 0";
    for (i = 1; i <= APIGW_CB_EXPR_MAX_TERMS; i++) {
        text = apr_psprintf(pool, "%s || LatencyAtQuantileMS(%d) > 1", text, i);
    }
    parse_ok(text);
    err = apigw_cb_expr_parse(pool, apr_pstrcat(pool, text, " || "
                                                "NetworkErrorRatio() > 0",
                                                NULL), &e, &pos);
    assert_non_null(err);
    assert_non_null(strstr(err, "too many different function calls"));

    /* distinct ranges: 8 calls of 2 ranges each fill them */
    text = "1 > 0";
    for (i = 0; i < APIGW_CB_MAX_RANGES / 2; i++) {
        text = apr_psprintf(pool, "%s || ResponseCodeRatio(%d, %d, %d, %d) > 1",
                            text, 100 + i, 200 + i, 300 + i, 400 + i);
    }
    e = parse_ok(text);
    assert_int_equal(apigw_cb_expr_nranges(e), APIGW_CB_MAX_RANGES);
    err = apigw_cb_expr_parse(pool, apr_pstrcat(pool, text, " || "
                                                "ResponseCodeRatio(1, 2, 100, "
                                                "200) > 1", NULL), &e, &pos);
    assert_non_null(err);
    assert_non_null(strstr(err, "too many different status ranges"));

    /* nodes: a long chain of one term */
    text = "NetworkErrorRatio() > 0";
    for (i = 0; i < APIGW_CB_EXPR_MAX_NODES; i++) {
        text = apr_pstrcat(pool, text, " || 1 > 0", NULL);
    }
    err = apigw_cb_expr_parse(pool, text, &e, &pos);
    if (strlen(text) <= APIGW_CB_EXPR_MAX_LEN) {
        assert_non_null(err);
        assert_non_null(strstr(err, "too complex"));
    }
    else {
        assert_non_null(strstr(err, "too long"));
    }
}

static void test_num_text(void **state)
{
    (void)state;
    assert_string_equal(apigw_cb_num_text(pool, 0.5, 9), "0.5");
    assert_string_equal(apigw_cb_num_text(pool, 100, 9), "100");
    assert_string_equal(apigw_cb_num_text(pool, 0, 3), "0");
    assert_string_equal(apigw_cb_num_text(pool, 0.8, 3), "0.8");
    assert_string_equal(apigw_cb_num_text(pool, 2.0 / 3.0, 3), "0.667");
    assert_string_equal(apigw_cb_num_text(pool, 0.9996, 3), "1");
    assert_string_equal(apigw_cb_num_text(pool, 99.9, 6), "99.9");
    assert_string_equal(apigw_cb_num_text(pool, -1.25, 2), "-1.25");
    assert_string_equal(apigw_cb_num_text(pool, 1e16, 2), "10000000000000000");
    /* big values with many decimals: fewer decimals, never an overflow */
    assert_string_equal(apigw_cb_num_text(pool, 555555555555.0, 9),
                        "555555555555");
    assert_string_equal(apigw_cb_num_text(pool, 1e20, 9),
                        "100000000000000000000");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_traefik_examples),
        T(test_canonical_text_and_precedence),
        T(test_eval_operators),
        T(test_presets),
        T(test_measure_over_a_window),
        T(test_errors_and_positions),
        T(test_limits),
        T(test_num_text),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
