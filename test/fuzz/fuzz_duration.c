/* sources: common/apigw_parse.c */
/* libFuzzer target for common/apigw_parse.c. Parses the input as a duration
 * and as a size and compares each answer with a reference parser: the same
 * grammar and error messages, but exact arithmetic (__int128, 17
 * fractional digits, the rest only rounding up), so a duration must land between the exact value
 * rounded up to a nanosecond per term and never below it, and a size must
 * be exact. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>

#include "apigw_parse.h"

#define FUZZ_TARGET "fuzz_duration"
#include "fuzz_check.h"

typedef __int128 i128;

#define MAX_NS ((i128)366 * 24 * 3600 * 1000000000)
#define SCALE ((i128)100000000000000000)        /* 1e17: fraction precision */

#define D_EMPTY  "empty duration"
#define D_NUMBER "duration must be a number followed by a unit " \
                 "(ns, us, ms, s, m, h), e.g. 2s or 1500ms"
#define D_NOUNIT "duration term without a unit"
#define D_UNIT   "unknown duration unit (use ns, us, ms, s, m or h)"
#define D_LONG   "duration too long (at most one year)"

static i128 ceil_div(i128 a, i128 b)
{
    return (a + b - 1) / b;
}

/* What the reference allows: the final message (NULL = success with out in
 * [lo_us, hi_us]), and whether "too long" is also acceptable because the
 * rounding could have tipped an intermediate total over a year. */
typedef struct {
    const char *err;
    int long_ok;
    i128 lo_us, hi_us;
} duration_ref;

static void ref_duration(const char *s, duration_ref *r)
{
    static const struct { const char *name; i128 ns; } units[] = {
        { "ns", 1 }, { "us", 1000 }, { "\xc2\xb5s", 1000 },
        { "\xce\xbcs", 1000 }, { "ms", 1000000 }, { "s", 1000000000 },
        { "m", (i128)60 * 1000000000 }, { "h", (i128)3600 * 1000000000 },
    };
    const char *p = s;
    i128 lo = 0, hi = 0;         /* nanoseconds, as the sums of ceilings */
    int terms = 0;

    r->long_ok = 0;
    r->err = NULL;
    if (!s || !*s) {
        r->err = D_EMPTY;
        return;
    }
    while (*p) {
        i128 whole = 0, frac = 0, unit_ns = 0, lo_t, hi_t;
        int ndig = 0, nfrac = 0, dropped = 0;
        size_t ulen = 0, i;

        while (*p >= '0' && *p <= '9') {
            if (whole < (i128)1e20) {
                whole = whole * 10 + (*p - '0');
            }
            ndig++;
            p++;
        }
        if (*p == '.') {
            p++;
            while (*p >= '0' && *p <= '9') {
                if (nfrac < 17) {
                    frac = frac * 10 + (*p - '0');
                    nfrac++;
                }
                else if (*p != '0') {
                    dropped = 1;
                }
                ndig++;
                p++;
            }
        }
        if (ndig == 0) {
            r->err = D_NUMBER;
            return;
        }
        if (*p == '\0') {
            if (terms > 0) {
                r->err = D_NOUNIT;
                return;
            }
            unit_ns = 1000000000;
        }
        else {
            for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
                size_t n = strlen(units[i].name);
                if (strncmp(p, units[i].name, n) == 0) {
                    unit_ns = units[i].ns;
                    ulen = n;
                    break;
                }
            }
            if (!unit_ns) {
                r->err = D_UNIT;
                return;
            }
        }
        p += ulen;
        if (whole * unit_ns > MAX_NS) {
            r->err = D_LONG;
            return;
        }
        for (i = (size_t)nfrac; i < 17; i++) {
            frac *= 10;
        }
        /* exact term in 1e-17 ns: whole*ns*1e17 + frac*ns (+ what the
         * dropped digits add: more than 0, at most ns) */
        lo_t = ceil_div(whole * unit_ns * SCALE + frac * unit_ns + dropped,
                        SCALE);
        hi_t = ceil_div(whole * unit_ns * SCALE + frac * unit_ns
                        + (dropped ? unit_ns : 0), SCALE);
        lo += lo_t;
        hi += hi_t;
        if (lo > MAX_NS) {
            r->err = D_LONG;
            return;
        }
        if (hi > MAX_NS) {
            r->long_ok = 1;
        }
        terms++;
    }
    r->lo_us = ceil_div(lo, 1000);
    r->hi_us = ceil_div(hi, 1000);
}

static const char *ref_size(const char *s, i128 *out)
{
    const i128 max = (i128)1 << 50;
    i128 value = 0, mult = 1;

    if (!s || !*s) {
        return "empty size";
    }
    if (*s < '0' || *s > '9') {
        return "size must be a number with an optional unit k, M or G";
    }
    while (*s >= '0' && *s <= '9') {
        value = value * 10 + (*s++ - '0');
        if (value > max) {
            return "size too large";
        }
    }
    switch (*s) {
    case 'k': case 'K': mult = 1024; s++; break;
    case 'm': case 'M': mult = 1024 * 1024; s++; break;
    case 'g': case 'G': mult = 1024 * 1024 * 1024; s++; break;
    case '\0': case 'b': case 'B': break;
    default: return "unknown size unit (use k, M or G)";
    }
    if (*s == 'b' || *s == 'B') {
        s++;
    }
    if (*s) {
        return "trailing characters after size";
    }
    if (value * mult > max) {
        return "size too large";
    }
    *out = value * mult;
    return NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    apr_initialize();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    apr_interval_time_t d = -7;
    apr_off_t z = -7;
    duration_ref ref;
    const char *err, *want;
    i128 want_size = 0;

    if (!s) {
        return 0;
    }
    memcpy(s, data, size);
    s[size] = '\0';

    err = apigw_parse_duration(s, &d);
    ref_duration(s, &ref);
    if (err && ref.long_ok && strcmp(err, D_LONG) == 0) {
        CHECK(d == -7, "out written on error");
    }
    else if (err || ref.err) {
        CHECK(err && ref.err && strcmp(err, ref.err) == 0,
              "duration \"%s\": \"%s\", want \"%s\"", s, err ? err : "OK",
              ref.err ? ref.err : "OK");
        CHECK(d == -7, "out written on error");
    }
    else {
        CHECK(d >= 0 && (i128)d >= ref.lo_us && (i128)d <= ref.hi_us,
              "duration \"%s\": %lld us, want %lld..%lld", s, (long long)d,
              (long long)ref.lo_us, (long long)ref.hi_us);
        CHECK((i128)d <= MAX_NS / 1000, "more than a year");
    }

    err = apigw_parse_size(s, &z);
    want = ref_size(s, &want_size);
    if (err || want) {
        CHECK(err && want && strcmp(err, want) == 0, "size \"%s\": \"%s\", "
              "want \"%s\"", s, err ? err : "OK", want ? want : "OK");
        CHECK(z == -7, "out written on error");
    }
    else {
        CHECK((i128)z == want_size, "size \"%s\": %lld, want %lld", s,
              (long long)z, (long long)want_size);
    }
    free(s);
    return 0;
}
