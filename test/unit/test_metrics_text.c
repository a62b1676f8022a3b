/* sources: mod_apigw/apigw_metrics_text.c */
/* Unit tests for mod_apigw/apigw_metrics_text.c: label escaping (and
 * invalid UTF-8), families and samples in both formats, histogram lines,
 * and the Accept header's choice of format. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#define UNIT_POOL
#include "unit_apr.h"

#include "apigw_metrics_text.h"

static const char *const bounds[] = { "0.005", "0.1", "1.0" };

static void escape_specials(void **state)
{
    (void)state;
    assert_string_equal(apigw_mtext_escape(pool, "a\\b\"c\nd"),
                        "a\\\\b\\\"c\\nd");
    assert_string_equal(apigw_mtext_escape(pool, NULL), "");
    assert_string_equal(apigw_mtext_escape(pool, "/users/{id}"),
                        "/users/{id}");
}

static void escape_utf8(void **state)
{
    (void)state;
    /* valid multi-byte sequences are kept */
    assert_string_equal(apigw_mtext_escape(pool, "/caf\xC3\xA9/\xF0\x9F\x98\x80"),
                        "/caf\xC3\xA9/\xF0\x9F\x98\x80");
    /* a lone continuation byte, an overlong form, a truncated sequence */
    assert_string_equal(apigw_mtext_escape(pool, "a\x80z"), "a\xEF\xBF\xBDz");
    assert_string_equal(apigw_mtext_escape(pool, "\xC0\xAF"),
                        "\xEF\xBF\xBD\xEF\xBF\xBD");
    assert_string_equal(apigw_mtext_escape(pool, "x\xE2\x82"),
                        "x\xEF\xBF\xBD\xEF\xBF\xBD");
    /* a surrogate encoded in UTF-8 */
    assert_string_equal(apigw_mtext_escape(pool, "\xED\xA0\x80"),
                        "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
}

static void labels_pairs(void **state)
{
    const char *names[] = { "endpoint", "method" };
    const char *values[] = { "/a\"b", "GET" };

    (void)state;
    assert_string_equal(apigw_mtext_labels(pool, names, values, 2),
                        "endpoint=\"/a\\\"b\",method=\"GET\"");
    assert_string_equal(apigw_mtext_labels(pool, names, values, 0), "");
}

static void prometheus_counter_gauge(void **state)
{
    apigw_mtext *t = apigw_mtext_create(pool, 0, 1); /* grows from 256 */
    apr_size_t len;
    const char *out;
    int i;

    (void)state;
    apigw_mtext_family(t, "apigw_requests", APIGW_MTYPE_COUNTER,
                       "Requests \\ by\nclass");
    apigw_mtext_counter(t, "apigw_requests", "endpoint=\"/a\"",
                        "code_class=\"2xx\"", 18446744073709551615ULL);
    apigw_mtext_counter(t, "apigw_requests", "", NULL, 0);
    apigw_mtext_family(t, "apigw_in_flight", APIGW_MTYPE_GAUGE, "Now");
    apigw_mtext_gauge(t, "apigw_in_flight", "", "x=\"1\"", -3);
    for (i = 0; i < 100; i++) {
        apigw_mtext_gauge(t, "apigw_in_flight", "a=\"b\"", NULL, i);
    }
    out = apigw_mtext_finish(t, &len);
    assert_int_equal(len, strlen(out));
    assert_non_null(strstr(out,
        "# HELP apigw_requests_total Requests \\\\ by\\nclass\n"
        "# TYPE apigw_requests_total counter\n"
        "apigw_requests_total{endpoint=\"/a\",code_class=\"2xx\"} "
        "18446744073709551615\n"
        "apigw_requests_total 0\n"
        "# HELP apigw_in_flight Now\n"
        "# TYPE apigw_in_flight gauge\n"
        "apigw_in_flight{x=\"1\"} -3\n"
        "apigw_in_flight{a=\"b\"} 0\n"));
    assert_non_null(strstr(out, "apigw_in_flight{a=\"b\"} 99\n"));
    assert_null(strstr(out, "# EOF"));
    assert_int_equal(out[len - 1], '\n');
}

static void openmetrics_counter(void **state)
{
    apigw_mtext *t = apigw_mtext_create(pool, 1, 0);
    apr_size_t len;
    const char *out;

    (void)state;
    apigw_mtext_family(t, "apigw_requests", APIGW_MTYPE_COUNTER, "say \"hi\"");
    apigw_mtext_counter(t, "apigw_requests", "m=\"GET\"", NULL, 7);
    out = apigw_mtext_finish(t, &len);
    assert_string_equal(out,
        "# HELP apigw_requests say \\\"hi\\\"\n"
        "# TYPE apigw_requests counter\n"
        "apigw_requests_total{m=\"GET\"} 7\n"
        "# EOF\n");
}

static void histogram_lines(void **state)
{
    apigw_mtext *t = apigw_mtext_create(pool, 0, 0);
    apr_uint64_t counts[] = { 1, 0, 2, 3 };
    apr_size_t len;
    const char *out;

    (void)state;
    apigw_mtext_family(t, "d_seconds", APIGW_MTYPE_HISTOGRAM, "h");
    apigw_mtext_histogram(t, "d_seconds", "e=\"/x\"", bounds, 3, counts,
                          12003456);
    apigw_mtext_histogram(t, "d_seconds", "", bounds, 3, counts, 7);
    out = apigw_mtext_finish(t, &len);
    assert_string_equal(out,
        "# HELP d_seconds h\n"
        "# TYPE d_seconds histogram\n"
        "d_seconds_bucket{e=\"/x\",le=\"0.005\"} 1\n"
        "d_seconds_bucket{e=\"/x\",le=\"0.1\"} 1\n"
        "d_seconds_bucket{e=\"/x\",le=\"1.0\"} 3\n"
        "d_seconds_bucket{e=\"/x\",le=\"+Inf\"} 6\n"
        "d_seconds_count{e=\"/x\"} 6\n"
        "d_seconds_sum{e=\"/x\"} 12.003456\n"
        "d_seconds_bucket{le=\"0.005\"} 1\n"
        "d_seconds_bucket{le=\"0.1\"} 1\n"
        "d_seconds_bucket{le=\"1.0\"} 3\n"
        "d_seconds_bucket{le=\"+Inf\"} 6\n"
        "d_seconds_count 6\n"
        "d_seconds_sum 0.000007\n");
}

static void accept_choice(void **state)
{
    (void)state;
    assert_false(apigw_mtext_wants_openmetrics(NULL));
    assert_false(apigw_mtext_wants_openmetrics(""));
    assert_false(apigw_mtext_wants_openmetrics("*/*"));
    assert_false(apigw_mtext_wants_openmetrics("text/plain;version=0.0.4"));
    assert_true(apigw_mtext_wants_openmetrics("application/openmetrics-text"));
    assert_true(apigw_mtext_wants_openmetrics(
        "Application/OpenMetrics-Text; version=\"1.0.0\""));
    /* what Prometheus sends */
    assert_true(apigw_mtext_wants_openmetrics(
        "application/openmetrics-text;version=1.0.0,application/openmetrics-"
        "text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"));
    /* another version only, q=0, or text preferred */
    assert_false(apigw_mtext_wants_openmetrics(
        "application/openmetrics-text;version=0.0.1"));
    assert_false(apigw_mtext_wants_openmetrics(
        "application/openmetrics-text;q=0, text/plain"));
    assert_false(apigw_mtext_wants_openmetrics(
        "application/openmetrics-text;q=0.4, text/plain;q=0.5"));
    assert_true(apigw_mtext_wants_openmetrics(
        "text/plain;q=0.999, application/openmetrics-text"));
    /* equal q: the first listed */
    assert_false(apigw_mtext_wants_openmetrics(
        "text/plain, application/openmetrics-text"));
    assert_true(apigw_mtext_wants_openmetrics(
        "application/openmetrics-text , text/plain"));
    /* malformed q values do not count; empty elements are ignored */
    assert_false(apigw_mtext_wants_openmetrics(
        "application/openmetrics-text;q=2"));
    assert_false(apigw_mtext_wants_openmetrics(
        "application/openmetrics-text;q=0.1234"));
    assert_true(apigw_mtext_wants_openmetrics(
        ",, application/openmetrics-text;q=1.000 ;foo, ;q=1"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(escape_specials),
        T(escape_utf8),
        T(labels_pairs),
        T(prometheus_counter_gauge),
        T(openmetrics_counter),
        T(histogram_lines),
        T(accept_choice),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
