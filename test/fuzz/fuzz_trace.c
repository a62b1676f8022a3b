/* sources: mod_apigw/apigw_trace.c */
/* libFuzzer target for mod_apigw/apigw_trace.c (W3C Trace Context),
 * against references written here another way:
 *
 * - a traceparent is split on '-' into fields; it is valid exactly when
 *   there are four (version 00) or at least four (a later version, the
 *   fifth field and after anything but what a '-' cannot start), of 2,
 *   32, 16 and 2 characters from "0123456789abcdef", the version not
 *   "ff", neither id all '0'. What is accepted is written back as
 *   "00-" followed by the input's characters 3 to 54;
 * - a tracestate is valid exactly when a tokenizer that splits it on ','
 *   and trims spaces and tabs finds 1 to 32 non-empty members, each
 *   "key=value" split at the first '=', the key matching the grammar
 *   (checked character class by character class), the value 1 to 256
 *   bytes of 0x20-0x7e but ',' and '=', no key twice, and the whole at
 *   most 512 bytes; an accepted tracestate never holds a control byte.
 *
 * Input: the first line is the traceparent, the rest the tracestate. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "apigw_trace.h"

#define FUZZ_TARGET "fuzz_trace"
#include "fuzz_check.h"

static apr_pool_t *pool;

static int is_lhex(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (!s[i] || !strchr("0123456789abcdef", s[i])) {
            return 0;
        }
    }
    return 1;
}

static int all_char(const char *s, size_t n, char c)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (s[i] != c) {
            return 0;
        }
    }
    return 1;
}

static int ref_traceparent(const char *v)
{
    /* field boundaries at the first four '-' */
    const char *d1 = strchr(v, '-'), *d2, *d3, *rest;
    size_t f4;

    if (!d1 || d1 - v != 2 || !is_lhex(v, 2) || !strncmp(v, "ff", 2)) {
        return 0;
    }
    d2 = strchr(d1 + 1, '-');
    if (!d2 || d2 - d1 - 1 != 32 || !is_lhex(d1 + 1, 32)
        || all_char(d1 + 1, 32, '0')) {
        return 0;
    }
    d3 = strchr(d2 + 1, '-');
    if (!d3 || d3 - d2 - 1 != 16 || !is_lhex(d2 + 1, 16)
        || all_char(d2 + 1, 16, '0')) {
        return 0;
    }
    rest = strchr(d3 + 1, '-');
    f4 = rest ? (size_t)(rest - d3 - 1) : strlen(d3 + 1);
    if (f4 != 2 || !is_lhex(d3 + 1, 2)) {
        return 0;
    }
    /* version 00 has nothing more; a later one may */
    return !rest || strncmp(v, "00", 2) != 0;
}

static int key_class(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
           || (c && strchr("_-*/", c));
}

static int ref_key(const char *k, size_t n)
{
    const char *at = memchr(k, '@', n);
    size_t i;

    for (i = 0; i < n; i++) {
        if (k + i != at && !key_class(k[i])) {
            return 0;
        }
    }
    if (!at) {
        return n >= 1 && n <= 256 && k[0] >= 'a' && k[0] <= 'z';
    }
    if (memchr(at + 1, '@', n - (size_t)(at - k) - 1)) {
        return 0;
    }
    return at - k >= 1 && at - k <= 241
           && (size_t)(at - k) + 1 < n && n - (size_t)(at - k) - 1 <= 14
           && ((k[0] >= 'a' && k[0] <= 'z') || (k[0] >= '0' && k[0] <= '9'))
           && at[1] >= 'a' && at[1] <= 'z';
}

static int ref_tracestate(const char *v)
{
    char *copy = apr_pstrdup(pool, v), *tok;
    const char *keys[33];
    size_t klen[33];
    int n = 0, j, empty_list = 1;

    if (strlen(v) > 512) {
        return 0;
    }
    /* strtok would skip empty members; split by hand */
    tok = copy;
    for (;;) {
        char *comma = strchr(tok, ','), *b = tok, *e, *eq;

        if (comma) {
            *comma = '\0';
        }
        e = b + strlen(b);
        while (*b == ' ' || *b == '\t') {
            b++;
        }
        while (e > b && (e[-1] == ' ' || e[-1] == '\t')) {
            e--;
        }
        if (e > b) {
            size_t i, vl;

            empty_list = 0;
            eq = memchr(b, '=', (size_t)(e - b));
            if (!eq || n == 32 || !ref_key(b, (size_t)(eq - b))) {
                return 0;
            }
            vl = (size_t)(e - eq - 1);
            if (vl < 1 || vl > 256) {
                return 0;
            }
            for (i = 0; i < vl; i++) {
                unsigned char c = (unsigned char)eq[1 + i];

                if (c < 0x20 || c > 0x7e || c == ',' || c == '=') {
                    return 0;
                }
            }
            for (j = 0; j < n; j++) {
                if (klen[j] == (size_t)(eq - b)
                    && !memcmp(keys[j], b, klen[j])) {
                    return 0;
                }
            }
            keys[n] = b;
            klen[n++] = (size_t)(eq - b);
        }
        if (!comma) {
            break;
        }
        tok = comma + 1;
    }
    return !empty_list;
}

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
    char *in = apr_pstrmemdup(pool, (const char *)data, size);
    char *nl = memchr(in, '\n', size);
    const char *tp = in, *ts = nl ? nl + 1 : "";
    apigw_traceparent parsed;
    int got, want, i;

    if (nl) {
        *nl = '\0';
    }
    if (strlen(in) != (nl ? (size_t)(nl - in) : size)) {
        apr_pool_clear(pool);
        return 0;                        /* a NUL inside: not a header */
    }

    got = apigw_traceparent_parse(tp, &parsed);
    want = ref_traceparent(tp);
    CHECK(got == want, "traceparent [%s]: parse %d, reference %d", tp, got,
          want);
    if (got) {
        const char *back = apigw_traceparent_format(pool, parsed.trace_id,
                                                    parsed.parent_id,
                                                    parsed.flags);

        CHECK(strlen(back) == APIGW_TRACEPARENT_LEN
              && !strncmp(back, "00-", 3)
              && !strncmp(back + 3, tp + 3, APIGW_TRACEPARENT_LEN - 3),
              "[%s] written back as [%s]", tp, back);
    }

    got = apigw_tracestate_valid(ts);
    want = ref_tracestate(ts);
    CHECK(got == want, "tracestate [%s]: valid %d, reference %d", ts, got,
          want);
    if (got) {
        for (i = 0; ts[i]; i++) {
            CHECK((unsigned char)ts[i] >= 0x20 && (unsigned char)ts[i] < 0x7f
                  ? 1 : ts[i] == '\t',
                  "accepted tracestate holds byte 0x%02x",
                  (unsigned char)ts[i]);
        }
    }
    apr_pool_clear(pool);
    return 0;
}
