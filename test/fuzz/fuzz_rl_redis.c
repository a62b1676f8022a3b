/* sources: mod_apigw_ratelimit/apigw_rl_redis.c mod_apigw_ratelimit/apigw_rl_gcra.c common/apigw_parse.c */
/* libs: -lhiredis */
/* libFuzzer target for mod_apigw_ratelimit/apigw_rl_redis.c, the parts that
 * read what others write. The first byte picks one:
 *   even  the rest are bytes from Redis: hiredis's reader makes replies of
 *         them, each is decoded as a script reply; a decoded reply must be
 *         a sane decision (admitted 0/1, no wait unless admitted, times
 *         that fit), a refused one must say why, in text fit for a log
 *         line (no control characters);
 *   odd   the rest is an ApiRateLimitStore line (URL, then options, one a
 *         line): parsed or refused; a parse gives a usable host and port,
 *         and neither the URL it logs nor any error depends on what the
 *         password is (the line parsed again with other passwords of the
 *         same length must say the same). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "apigw_rl_redis.h"

#define FUZZ_TARGET "fuzz_rl_redis"
#include "fuzz_check.h"

static apr_pool_t *root;

/* hiredis's reader allocates an array reply's elements up front from the
 * count it declares ("*500000000" is 4 GB): that is the library's, and a
 * Redis server that sends it is not one to point a gateway at. Inputs
 * declaring more than 4096 elements are left out. */
static int huge_aggregate(const uint8_t *data, size_t size)
{
    size_t i;

    for (i = 0; i < size; i++) {
        if (data[i] == '*' || data[i] == '$') {
            unsigned long n = 0;
            size_t j;
            for (j = i + 1; j < size && j < i + 12 && data[j] >= '0'
                    && data[j] <= '9'; j++) {
                n = n * 10 + (unsigned long)(data[j] - '0');
            }
            if (n > 4096) {
                return 1;
            }
        }
    }
    return 0;
}

static void replies(const uint8_t *data, size_t size)
{
    redisReader *rd;
    void *rep;
    int n = 0;

    if (huge_aggregate(data, size)) {
        return;
    }
    rd = redisReaderCreate();
    if (redisReaderFeed(rd, (const char *)data, size) != REDIS_OK) {
        redisReaderFree(rd);
        return;
    }
    while (n++ < 64 && redisReaderGetReply(rd, &rep) == REDIS_OK && rep) {
        apigw_rl_decision d;
        char err[64];

        memset(&d, 0, sizeof(d));
        err[0] = '\0';
        if (apigw_rl_redis_decode(rep, &d, err, sizeof(err))) {
            CHECK(d.admitted == 0 || d.admitted == 1, "admitted %d", d.admitted);
            CHECK(d.admitted || d.wait_ns == 0, "a wait on a refusal");
            CHECK(d.retry_ns <= UINT64_MAX / 2 && d.reset_ns <= UINT64_MAX / 2
                  && d.wait_ns <= UINT64_MAX / 2, "times out of range");
        }
        else {
            const char *c;
            CHECK(err[0] != '\0', "no reason given");
            CHECK(strlen(err) < sizeof(err), "reason not terminated");
            for (c = err; *c; c++) {      /* it goes into a log line */
                CHECK((unsigned char)*c >= 0x20 && *c != 0x7f,
                      "control character in '%s'", err);
            }
        }
        freeReplyObject(rep);
    }
    redisReaderFree(rd);
}

/* opts with every password's value replaced by as many 'Q's */
static const char **other_passwords(apr_pool_t *p, const char **opts, int n)
{
    const char **out = apr_pmemdup(p, opts, sizeof(*opts) * (apr_size_t)n);
    int i;

    for (i = 0; i < n; i++) {
        if (strncmp(opts[i], "password=", 9) == 0) {
            char *o = apr_pstrdup(p, opts[i]);
            memset(o + 9, 'Q', strlen(o + 9));
            out[i] = o;
        }
    }
    return out;
}

static void store_line(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    char *text, *line, *last = NULL;
    const char *url = NULL, *opts[4], *err, *err2;
    apigw_rl_redis_target t, t2;
    int nopts = 0;

    apr_pool_create(&p, root);
    text = apr_pstrmemdup(p, (const char *)data, size);
    for (line = apr_strtok(text, "\n", &last); line;
         line = apr_strtok(NULL, "\n", &last)) {
        if (!url) {
            url = line;
        }
        else if (nopts < 4) {
            opts[nopts++] = line;
        }
    }
    if (!url) {
        apr_pool_destroy(p);
        return;
    }
    err = apigw_rl_redis_parse(p, url, opts, nopts, &t);
    /* the same line with other passwords of the same length: whatever is
     * logged (the error, or the URL) must not change, i.e. never shows a
     * password */
    err2 = apigw_rl_redis_parse(p, url, other_passwords(p, opts, nopts),
                                nopts, &t2);
    CHECK(!err == !err2, "a password decided whether the line parses");
    if (err) {
        CHECK(strcmp(err, err2) == 0, "error '%s' shows the password", err);
    }
    else {
        CHECK(t.port >= 1 && t.port <= 65535, "port %d", t.port);
        CHECK(t.host && *t.host && !strpbrk(t.host, "@[] \t"), "host '%s'",
              t.host);
        CHECK(t.db >= 0, "db %d", t.db);
        CHECK(t.timeout > 0, "timeout");
        CHECK(strncmp(t.url, "redis://", 8) == 0, "url '%s'", t.url);
        CHECK(strcmp(t.url, t2.url) == 0, "url '%s' shows the password",
              t.url);
    }
    apr_pool_destroy(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!root) {
        apr_initialize();
        apr_pool_create(&root, NULL);
    }
    if (size < 1) {
        return 0;
    }
    if (data[0] % 2 == 0) {
        replies(data + 1, size - 1);
    }
    else {
        store_line(data + 1, size - 1);
    }
    return 0;
}
