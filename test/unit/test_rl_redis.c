/* sources: mod_apigw_ratelimit/apigw_rl_redis.c mod_apigw_ratelimit/apigw_rl_gcra.c common/apigw_parse.c */
/* libs: -lhiredis */
/* Unit tests for mod_apigw_ratelimit/apigw_rl_redis.c, the pure half of
 * cluster mode: ApiRateLimitStore URLs and options (and that no error
 * repeats a password), the bucket key, the script's arguments (rounded so
 * the limit never admits more than it says), and the decoding of script
 * replies read by hiredis's own protocol reader from RESP bytes, as they
 * come off the wire: good ones, errors, and malformed ones. */
#define UNIT_POOL
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "unit_apr.h"
#include "apigw_rl_redis.h"

#define MS ((apr_uint64_t)1000000)
#define SEC ((apr_uint64_t)1000000000)

/* ---- ApiRateLimitStore ---- */

static const char *parse(const char *url, const char *o1, const char *o2,
                         apigw_rl_redis_target *t)
{
    const char *opts[2] = { o1, o2 };
    return apigw_rl_redis_parse(pool, url, opts, o2 ? 2 : o1 ? 1 : 0, t);
}

static void test_parse_good(void **state)
{
    apigw_rl_redis_target t;
    (void)state;
    assert_null(parse("redis://127.0.0.1:6380/3", NULL, NULL, &t));
    assert_string_equal(t.host, "127.0.0.1");
    assert_int_equal(t.port, 6380);
    assert_int_equal(t.db, 3);
    assert_null(t.password);
    assert_int_equal(t.timeout, APIGW_RL_REDIS_DEFAULT_TIMEOUT);
    assert_string_equal(t.url, "redis://127.0.0.1:6380/3");

    assert_null(parse("redis://cache.internal", "timeout=30ms",
                      "password=s3cret", &t));
    assert_string_equal(t.host, "cache.internal");
    assert_int_equal(t.port, 6379);
    assert_int_equal(t.db, 0);
    assert_int_equal(t.timeout, apr_time_from_msec(30));
    assert_string_equal(t.password, "s3cret");
    assert_null(strstr(t.url, "s3cret"));   /* never in what is logged */

    assert_null(parse("redis://h/", NULL, NULL, &t));
    assert_int_equal(t.db, 0);
    assert_null(parse("redis://h:1/0", NULL, NULL, &t));
    assert_int_equal(t.port, 1);
}

static void bad(const char *url, const char *opt, const char *needle)
{
    apigw_rl_redis_target t;
    const char *err = parse(url, opt, NULL, &t);
    assert_non_null(err);
    if (!strstr(err, needle)) {
        fail_msg("'%s' lacks '%s'", err, needle);
    }
}

static void test_parse_bad(void **state)
{
    (void)state;
    bad("http://127.0.0.1:6379", NULL, "is not a redis:// URL");
    bad("redis://", NULL, "needs a host");
    bad("redis://:6379", NULL, "needs a host");
    bad("redis://user@h:6379", NULL, "needs a host");
    bad("redis://[::1]:6379", NULL, "needs a host");
    bad("redis://h:", NULL, "empty port");
    bad("redis://h:0", NULL, "port must be");
    bad("redis://h:65536", NULL, "port must be");
    bad("redis://h:99999999999999999999", NULL, "port must be");
    bad("redis://h:12a", NULL, "port must be");
    bad("redis://h:6379/x", NULL, "database must be");
    bad("redis://h:6379/-1", NULL, "database must be");
    bad("redis://h:6379/99999999", NULL, "database must be");
    bad("redis://h", "timeout=soon", "timeout=soon");
    bad("redis://h", "timeout=0s", "greater than zero");
    bad("redis://h", "password=", "password= is empty");
}

static void test_parse_never_echoes_options(void **state)
{
    apigw_rl_redis_target t;
    const char *err;
    (void)state;
    err = parse("redis://h", "pasword=hunter2", NULL, &t);
    assert_non_null(err);
    assert_null(strstr(err, "hunter2"));
    err = parse("redis://h", "password=hunter2", "password=hunter3", &t);
    assert_non_null(err);
    assert_null(strstr(err, "hunter"));
}

/* ---- key and arguments ---- */

static void test_key(void **state)
{
    apigw_rl_hash h = { 0x0123456789abcdefULL, 0xfULL };
    (void)state;
    assert_string_equal(apigw_rl_redis_key(pool, &h),
                        "apigw:rl:0123456789abcdef000000000000000f");
}

static void test_args(void **state)
{
    apigw_rl_rate rt;
    apigw_rl_redis_args a;
    (void)state;
    assert_null(apigw_rl_rate_init(&rt, 3, SEC, 5, 250 * MS + 1));
    apigw_rl_redis_make_args(pool, &rt, 1, &a);
    /* 333333334 ns a token: 333334 us, rounded up */
    assert_string_equal(a.interval_us, "333334");
    assert_string_equal(a.burst, "5");
    assert_string_equal(a.mode, "1");
    /* the wait is rounded down: never longer than delay= */
    assert_string_equal(a.delay_us, "250000");
    apigw_rl_redis_make_args(pool, &rt, 0, &a);
    assert_string_equal(a.mode, "0");
    assert_null(apigw_rl_rate_init(&rt, 10, SEC, 1, 0));
    apigw_rl_redis_make_args(pool, &rt, 1, &a);
    assert_string_equal(a.interval_us, "100000");
    assert_string_equal(a.delay_us, "0");
}

static void test_script_text(void **state)
{
    (void)state;
    /* what the store relies on: one key, the fifth element is the wait,
     * the undo mode, Redis's own clock */
    assert_non_null(strstr(apigw_rl_redis_script, "KEYS[1]"));
    assert_non_null(strstr(apigw_rl_redis_script, "ARGV[4]"));
    assert_non_null(strstr(apigw_rl_redis_script, "redis.call('TIME')"));
    assert_non_null(strstr(apigw_rl_redis_script, "return {1, rem, 0, debt, wait}"));
}

/* ---- replies ---- */

/* The reply hiredis makes of RESP bytes (freed by the caller). */
static redisReply *reply_of(const char *resp)
{
    redisReader *rd = redisReaderCreate();
    void *rep = NULL;
    assert_int_equal(redisReaderFeed(rd, resp, strlen(resp)), REDIS_OK);
    assert_int_equal(redisReaderGetReply(rd, &rep), REDIS_OK);
    assert_non_null(rep);
    redisReaderFree(rd);
    return rep;
}

static int decode(const char *resp, apigw_rl_decision *d, char *err)
{
    redisReply *rep = reply_of(resp);
    int ok;
    memset(d, 0x77, sizeof(*d));
    err[0] = '\0';
    ok = apigw_rl_redis_decode(rep, d, err, 64);
    freeReplyObject(rep);
    return ok;
}

static void test_decode_admitted(void **state)
{
    apigw_rl_decision d;
    char err[64];
    (void)state;
    assert_true(decode("*5\r\n:1\r\n:4\r\n:0\r\n:12000000\r\n:0\r\n", &d, err));
    assert_true(d.admitted);
    assert_int_equal(d.remaining, 4);
    assert_int_equal(d.retry_ns, 0);
    assert_int_equal(d.reset_ns, 12 * SEC);
    assert_int_equal(d.wait_ns, 0);
    /* admitted after a wait of 250 ms */
    assert_true(decode("*5\r\n:1\r\n:0\r\n:0\r\n:350000\r\n:250000\r\n", &d, err));
    assert_true(d.admitted);
    assert_int_equal(d.wait_ns, 250 * MS);
    /* four elements: a script from before delay= */
    assert_true(decode("*4\r\n:1\r\n:2\r\n:0\r\n:5\r\n", &d, err));
    assert_true(d.admitted);
    assert_int_equal(d.remaining, 2);
    assert_int_equal(d.reset_ns, 5000);
    assert_int_equal(d.wait_ns, 0);
}

static void test_decode_refused(void **state)
{
    apigw_rl_decision d;
    char err[64];
    (void)state;
    assert_true(decode("*5\r\n:0\r\n:0\r\n:9500000\r\n:60000000\r\n:0\r\n",
                       &d, err));
    assert_false(d.admitted);
    assert_int_equal(d.remaining, 0);
    assert_int_equal(d.retry_ns, 9500 * MS);
    assert_int_equal(d.reset_ns, 60 * SEC);
    /* a wait on a refusal means nothing */
    assert_true(decode("*5\r\n:0\r\n:0\r\n:1\r\n:1\r\n:7\r\n", &d, err));
    assert_int_equal(d.wait_ns, 0);
}

static void test_decode_errors(void **state)
{
    apigw_rl_decision d;
    char err[64];
    (void)state;
    assert_false(decode("-NOSCRIPT No matching script.\r\n", &d, err));
    assert_string_equal(err, "NOSCRIPT No matching script.");
    assert_false(decode("-ERR " "a very long error message that is longer "
                        "than the buffer it is copied into, cut short\r\n",
                        &d, err));
    assert_int_equal(strlen(err), 63);      /* cut, terminated */
    assert_false(apigw_rl_redis_decode(NULL, &d, err, sizeof(err)));
    assert_string_equal(err, "no reply");
    /* an empty message, and control characters bound for a log line */
    assert_false(decode("-\r\n", &d, err));
    assert_string_equal(err, "error reply without a message");
    assert_false(decode("$5\r\nx\ty\az\r\n", &d, err));   /* not an error */
    assert_string_equal(err, "unexpected script reply");
    {
        char out[8];
        apigw_rl_redis_error_text(out, sizeof(out), "a\nb\x7f\x01" "cdefgh", 10);
        assert_string_equal(out, "a?b??cd");
        apigw_rl_redis_error_text(out, sizeof(out), "\0abc", 4);
        assert_string_equal(out, "error r");
    }
}

static void test_decode_malformed(void **state)
{
    static const char *const bad_replies[] = {
        "+OK\r\n",                                    /* not an array */
        ":1\r\n",
        "$-1\r\n",                                    /* nil */
        "*3\r\n:1\r\n:1\r\n:1\r\n",                   /* too short */
        "*6\r\n:1\r\n:1\r\n:1\r\n:1\r\n:1\r\n:1\r\n", /* too long */
        "*5\r\n:1\r\n$1\r\n4\r\n:0\r\n:0\r\n:0\r\n",  /* a string */
        "*5\r\n:1\r\n:-4\r\n:0\r\n:0\r\n:0\r\n",      /* negative */
        "*5\r\n:2\r\n:0\r\n:0\r\n:0\r\n:0\r\n",       /* not 0 or 1 */
        "*5\r\n:1\r\n:0\r\n:0\r\n$-1\r\n:0\r\n",      /* nil element */
        "*5\r\n:1\r\n:0\r\n:0\r\n:0\r\n*0\r\n",       /* nested */
        "*5\r\n:1\r\n:0\r\n:0\r\n:9223372036854775807\r\n:0\r\n",
        "*-1\r\n",                                    /* nil array */
    };
    apigw_rl_decision d;
    char err[64];
    size_t i;
    (void)state;
    for (i = 0; i < sizeof(bad_replies) / sizeof(bad_replies[0]); i++) {
        if (decode(bad_replies[i], &d, err)) {
            fail_msg("reply %zu was accepted", i);
        }
        assert_true(err[0] != '\0');
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_parse_good),
        T(test_parse_bad),
        T(test_parse_never_echoes_options),
        T(test_key),
        T(test_args),
        T(test_script_text),
        T(test_decode_admitted),
        T(test_decode_refused),
        T(test_decode_errors),
        T(test_decode_malformed),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
