/* sources: mod_apigw_breaker/apigw_sus_codes.c */
/* libFuzzer target for mod_apigw_breaker/apigw_sus_codes.c. Parses the
 * input as an error-code list and checks it against a reference parser
 * written differently (one pass over characters, a table of accepted
 * words): both accept or refuse the same lists and agree on every
 * transport bit and status; an accepted list's canonical form parses back
 * to the same list; a refusal leaves the list empty and names a token that
 * is in the input. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "apigw_sus_codes.h"

#define FUZZ_TARGET "fuzz_sus_codes"
#include "fuzz_check.h"

typedef struct {
    unsigned transport;
    unsigned char status[600];
} ref_list;

static const struct { const char *word; unsigned bits; } words[] = {
    { "connect-refused", 0x01 }, { "connect-timeout", 0x02 },
    { "read-timeout", 0x04 }, { "closed", 0x08 }, { "tls", 0x10 },
    { "dns", 0x20 },
    { "101000", 0x08 }, { "101001", 0x08 }, { "101500", 0x08 },
    { "101501", 0x08 }, { "101503", 0x31 }, { "101504", 0x04 },
    { "101505", 0x08 }, { "101506", 0x08 }, { "101507", 0x01 },
    { "101508", 0x02 }, { "101509", 0x08 }, { "101510", 0x08 },
};

static int three_digit_status(const char *s, size_t n)
{
    if (n != 3 || s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9'
        || s[2] < '0' || s[2] > '9') {
        return -1;
    }
    {
        int v = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
        return v >= 100 && v <= 599 ? v : -1;
    }
}

/* 1 if the token is accepted (and applied to out) */
static int ref_token(const char *t, size_t n, ref_list *out)
{
    size_t i;
    int lo, hi, v;
    const char *dash;

    for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        if (strlen(words[i].word) == n && strncasecmp(words[i].word, t, n) == 0) {
            out->transport |= words[i].bits;
            return 1;
        }
    }
    if (n == 3 && t[0] >= '1' && t[0] <= '5' && (t[1] | 0x20) == 'x'
        && (t[2] | 0x20) == 'x') {
        for (v = (t[0] - '0') * 100; v < (t[0] - '0') * 100 + 100; v++) {
            out->status[v] = 1;
        }
        return 1;
    }
    if ((v = three_digit_status(t, n)) >= 0) {
        out->status[v] = 1;
        return 1;
    }
    dash = memchr(t, '-', n);
    if (dash && (lo = three_digit_status(t, (size_t)(dash - t))) >= 0
        && (hi = three_digit_status(dash + 1, n - (size_t)(dash - t) - 1)) >= 0
        && lo <= hi) {
        for (v = lo; v <= hi; v++) {
            out->status[v] = 1;
        }
        return 1;
    }
    return 0;
}

static int ref_parse(const char *s, ref_list *out)
{
    int tokens = 0;

    memset(out, 0, sizeof(*out));
    while (*s) {
        size_t n;
        if (*s == ',' || *s == ' ' || *s == '\t') {
            s++;
            continue;
        }
        n = strcspn(s, ", \t");
        if (!ref_token(s, n, out)) {
            return 0;
        }
        tokens++;
        s += n;
    }
    return tokens > 0;
}

static void same(const apigw_sus_codes *c, const ref_list *ref, const char *in)
{
    int s;
    CHECK(c->transport == ref->transport, "transport %x vs %x for '%s'",
          c->transport, ref->transport, in);
    for (s = 0; s < 600; s++) {
        CHECK(apigw_sus_codes_has_status(c, s) == (s >= 100 && ref->status[s]),
              "status %d differs for '%s'", s, in);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static apr_pool_t *pool;
    apigw_sus_codes c, again;
    ref_list ref;
    const char *err;
    char *in;
    int ok;

    if (!pool) {
        apr_initialize();
        apr_pool_create(&pool, NULL);
    }
    in = apr_pstrmemdup(pool, (const char *)data, size);
    if (strlen(in) != size) {
        apr_pool_clear(pool);
        return 0;                   /* config words have no NUL */
    }
    err = apigw_sus_codes_parse(pool, in, &c);
    ok = ref_parse(in, &ref);
    CHECK(ok == (err == NULL), "'%s': reference %s, parser %s", in,
          ok ? "accepts" : "refuses", err ? err : "accepts");
    if (err) {
        CHECK(apigw_sus_codes_is_empty(&c), "refused list not empty: '%s'", in);
        CHECK(strlen(err) < 600, "message too long for '%s'", in);
    }
    else {
        const char *f = apigw_sus_codes_format(pool, &c);
        same(&c, &ref, in);
        CHECK(!apigw_sus_codes_is_empty(&c), "accepted empty list '%s'", in);
        CHECK(apigw_sus_codes_parse(pool, f, &again) == NULL,
              "canonical form '%s' of '%s' refused", f, in);
        CHECK(memcmp(&c, &again, sizeof(c)) == 0,
              "canonical form '%s' of '%s' differs", f, in);
    }
    apr_pool_clear(pool);
    return 0;
}
