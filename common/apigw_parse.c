/* Parsing shared by the mod_apigw modules: durations, sizes, methods (see apigw_parse.h). */
#include "apigw_parse.h"

#include <string.h>
#include <apr_cstr.h>

/* Longest accepted duration: one year keeps every product below in range. */
#define APIGW_MAX_DURATION_US ((apr_int64_t)366 * 24 * 3600 * APR_USEC_PER_SEC)

/* Largest accepted size, 1 PiB, before and after the unit's multiple. */
#define APIGW_MAX_SIZE ((apr_int64_t)1 << 50)

typedef struct {
    const char *name;
    apr_int64_t ns;            /* nanoseconds per unit */
} duration_unit;

/* Longer names first so "ms" is not read as "m" followed by "s". */
static const duration_unit duration_units[] = {
    { "ns", 1 },
    { "us", 1000 },
    { "\xc2\xb5s", 1000 },     /* µs, MICRO SIGN */
    { "\xce\xbcs", 1000 },     /* μs, GREEK SMALL LETTER MU */
    { "ms", 1000000 },
    { "s", 1000000000 },
    { "m", (apr_int64_t)60 * 1000000000 },
    { "h", (apr_int64_t)3600 * 1000000000 },
    { NULL, 0 }
};

static const duration_unit seconds_unit = { "s", 1000000000 };

static const duration_unit *match_unit(const char *p, size_t *len)
{
    const duration_unit *u;

    for (u = duration_units; u->name; u++) {
        size_t n = strlen(u->name);
        if (strncmp(p, u->name, n) == 0) {
            /* "m" must not swallow the "m" of "ms" */
            if (n == 1 && p[0] == 'm' && p[1] == 's') {
                continue;
            }
            *len = n;
            return u;
        }
    }
    return NULL;
}

/* Fractional digits kept: 1e-17 of an hour is well below a nanosecond,
 * and frac * (ns / gcd) stays below 1e18 (see apigw_parse_duration). */
#define APIGW_MAX_FRAC_DIV ((apr_int64_t)100000000000000000)

static apr_int64_t gcd(apr_int64_t a, apr_int64_t b)
{
    while (b) {
        apr_int64_t r = a % b;
        a = b;
        b = r;
    }
    return a;
}

/* Reads digits with an optional fraction into whole and frac/frac_div;
 * *more is set when non-zero digits past 1e-17 were dropped. A whole part
 * too long for any unit stops growing (the caller then says so).
 * Returns the position after the number, or NULL if there is none. */
static const char *read_number(const char *p, apr_int64_t *whole,
                               apr_int64_t *frac, apr_int64_t *frac_div,
                               int *more)
{
    const char *start = p;

    *whole = 0;
    *frac = 0;
    *frac_div = 1;
    *more = 0;
    while (*p >= '0' && *p <= '9') {
        if (*whole <= APIGW_MAX_DURATION_US * 1000) {
            *whole = *whole * 10 + (*p - '0');
        }
        p++;
    }
    if (*p == '.') {
        p++;
        while (*p >= '0' && *p <= '9') {
            if (*frac_div < APIGW_MAX_FRAC_DIV) {
                *frac = *frac * 10 + (*p - '0');
                *frac_div *= 10;
            }
            else if (*p != '0') {
                *more = 1;
            }
            p++;
        }
    }
    if (p == start || (p == start + 1 && *start == '.')) {
        return NULL;
    }
    return p;
}

const char *apigw_parse_duration(const char *s, apr_interval_time_t *out)
{
    const char *p = s;
    apr_int64_t total_ns = 0;
    int terms = 0;

    if (!s || !*s) {
        return "empty duration";
    }
    while (*p) {
        apr_int64_t whole, frac, frac_div, term_ns;
        const duration_unit *unit;
        size_t ulen = 0;
        int more;

        p = read_number(p, &whole, &frac, &frac_div, &more);
        if (!p) {
            return "duration must be a number followed by a unit "
                   "(ns, us, ms, s, m, h), e.g. 2s or 1500ms";
        }
        if (*p == '\0') {
            if (terms > 0) {
                return "duration term without a unit";
            }
            unit = &seconds_unit;               /* bare number: seconds */
        }
        else if (!(unit = match_unit(p, &ulen))) {
            return "unknown duration unit (use ns, us, ms, s, m or h)";
        }
        p += ulen;
        if (whole > APIGW_MAX_DURATION_US * 1000 / unit->ns) {
            return "duration too long (at most one year)";
        }
        /* The fraction in nanoseconds, rounded up exactly (dropped digits
         * round up too). Reduced by the gcd, the numerator of
         * (frac + more) * ns / frac_div is at most lcm(ns, frac_div), which
         * is at most 9e17 for every unit: no overflow, no double. */
        {
            apr_int64_t g = gcd(unit->ns, frac_div);
            apr_int64_t num = (frac + more) * (unit->ns / g);
            apr_int64_t den = frac_div / g;
            term_ns = whole * unit->ns + (num + den - 1) / den;
        }
        total_ns += term_ns;
        if (total_ns > APIGW_MAX_DURATION_US * 1000) {
            return "duration too long (at most one year)";
        }
        terms++;
    }
    *out = (apr_interval_time_t)((total_ns + 999) / 1000);
    return NULL;
}

const char *apigw_parse_size(const char *s, apr_off_t *out)
{
    const char *p = s;
    apr_int64_t value = 0, mult = 1;

    if (!s || !*s) {
        return "empty size";
    }
    if (*p < '0' || *p > '9') {
        return "size must be a number with an optional unit k, M or G";
    }
    while (*p >= '0' && *p <= '9') {
        value = value * 10 + (*p - '0');
        if (value > APIGW_MAX_SIZE) {
            return "size too large";
        }
        p++;
    }
    switch (*p) {
    case '\0':
    case 'b': case 'B':            /* "512B": bytes, no multiple */
        break;
    case 'k': case 'K':
        mult = 1024;
        p++;
        break;
    case 'm': case 'M':
        mult = 1024 * 1024;
        p++;
        break;
    case 'g': case 'G':
        mult = 1024 * 1024 * 1024;
        p++;
        break;
    default:
        return "unknown size unit (use k, M or G)";
    }
    if (*p == 'b' || *p == 'B') {
        p++;
    }
    if (*p) {
        return "trailing characters after size";
    }
    if (value > APIGW_MAX_SIZE / mult) {   /* value * mult must not overflow */
        return "size too large";
    }
    *out = (apr_off_t)(value * mult);
    return NULL;
}

static const char *const known_methods[] = {
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", NULL
};

const char *apigw_method_known(const char *m, int exact_case)
{
    int i;

    for (i = 0; known_methods[i]; i++) {
        if (exact_case ? strcmp(m, known_methods[i]) == 0
                       : apr_cstr_casecmp(m, known_methods[i]) == 0) {
            return known_methods[i];
        }
    }
    return NULL;
}

int apigw_is_token(const char *s)
{
    if (!*s) {
        return 0;
    }
    for (; *s; s++) {
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f
            || strchr("()<>@,;:\\\"/[]?={}", *s)) {
            return 0;
        }
    }
    return 1;
}
