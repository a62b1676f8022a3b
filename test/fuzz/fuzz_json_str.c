/* sources: common/apigw_json.c */
/* libFuzzer target for common/apigw_json.c: apigw_utf8_clean, then
 * apigw_json_str on its result (what a JSON log line holds), against
 * references written here another way:
 *
 * - UTF-8 validity by RFC 3629's byte-range grammar (UTF8-2 = C2-DF
 *   tail, UTF8-3 = E0 A0-BF tail / E1-EC 2(tail) / ED 80-9F tail / EE-EF
 *   2(tail), UTF8-4 = F0 90-BF 2(tail) / F1-F3 3(tail) / F4 80-8F
 *   2(tail)): a valid input comes back as the same pointer; otherwise
 *   the output is valid, as long as the input plus 2 bytes per U+FFFD,
 *   and reading input and output side by side, each position is either
 *   the same valid sequence or a byte the grammar refuses there turned
 *   into one U+FFFD;
 * - the JSON literal: starts and ends with '"', holds no byte below 0x20
 *   and no DEL, and unescaping it (\" \\ \u00XX) gives the cleaned text
 *   back. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "apigw_json.h"

#define FUZZ_TARGET "fuzz_json_str"
#include "fuzz_check.h"

static apr_pool_t *pool;

static int in(unsigned char c, unsigned char lo, unsigned char hi)
{
    return c >= lo && c <= hi;
}

/* RFC 3629: the length of the UTF8-char at s, or 0. */
static size_t ref_char(const unsigned char *s)
{
    if (s[0] <= 0x7f) {
        return 1;
    }
    if (in(s[0], 0xc2, 0xdf)) {
        return in(s[1], 0x80, 0xbf) ? 2 : 0;
    }
    if (s[0] == 0xe0) {
        return in(s[1], 0xa0, 0xbf) && in(s[2], 0x80, 0xbf) ? 3 : 0;
    }
    if (in(s[0], 0xe1, 0xec) || in(s[0], 0xee, 0xef)) {
        return in(s[1], 0x80, 0xbf) && in(s[2], 0x80, 0xbf) ? 3 : 0;
    }
    if (s[0] == 0xed) {
        return in(s[1], 0x80, 0x9f) && in(s[2], 0x80, 0xbf) ? 3 : 0;
    }
    if (s[0] == 0xf0) {
        return in(s[1], 0x90, 0xbf) && in(s[2], 0x80, 0xbf)
               && in(s[3], 0x80, 0xbf) ? 4 : 0;
    }
    if (in(s[0], 0xf1, 0xf3)) {
        return in(s[1], 0x80, 0xbf) && in(s[2], 0x80, 0xbf)
               && in(s[3], 0x80, 0xbf) ? 4 : 0;
    }
    if (s[0] == 0xf4) {
        return in(s[1], 0x80, 0x8f) && in(s[2], 0x80, 0xbf)
               && in(s[3], 0x80, 0xbf) ? 4 : 0;
    }
    return 0;
}

static int ref_valid(const unsigned char *s)
{
    size_t n;

    while (*s) {
        if (!(n = ref_char(s))) {
            return 0;
        }
        s += n;
    }
    return 1;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f'
           ? c - 'a' + 10 : -1;
}

/* The text of a JSON string literal of apigw_json_str's escapes; NULL
 * when it holds anything else. */
static char *unescape(const char *lit)
{
    size_t len = strlen(lit), i;
    char *out = apr_palloc(pool, len + 1), *o = out;

    if (len < 2 || lit[0] != '"' || lit[len - 1] != '"') {
        return NULL;
    }
    for (i = 1; i < len - 1; i++) {
        unsigned char c = (unsigned char)lit[i];

        if (c < 0x20 || c == 0x7f || c == '"') {
            return NULL;
        }
        if (c != '\\') {
            *o++ = (char)c;
            continue;
        }
        if (lit[i + 1] == '"' || lit[i + 1] == '\\') {
            *o++ = lit[++i];
        }
        else if (strncmp(lit + i + 1, "u00", 3) == 0
                 && hexval(lit[i + 4]) >= 0 && hexval(lit[i + 5]) >= 0) {
            *o++ = (char)(hexval(lit[i + 4]) << 4 | hexval(lit[i + 5]));
            i += 5;
        }
        else {
            return NULL;
        }
    }
    *o = '\0';
    return out;
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
    char *s = apr_pstrmemdup(pool, (const char *)data, size);
    const unsigned char *u = (const unsigned char *)s, *c;
    const char *clean, *lit, *back;
    size_t i, j, bad = 0, n;

    clean = apigw_utf8_clean(pool, s);
    c = (const unsigned char *)clean;
    if (ref_valid(u)) {
        CHECK(clean == s, "valid input copied: [%s]", s);
    }
    else {
        CHECK(ref_valid(c), "cleaned output not valid UTF-8: [%s]", clean);
        for (i = j = 0; u[i]; ) {
            if ((n = ref_char(u + i)) != 0) {
                CHECK(memcmp(u + i, c + j, n) == 0,
                      "valid sequence at %zu changed", i);
                i += n;
                j += n;
            }
            else {
                CHECK(memcmp(c + j, "\xef\xbf\xbd", 3) == 0,
                      "bad byte at %zu not U+FFFD", i);
                bad++;
                i++;
                j += 3;
            }
        }
        CHECK(c[j] == '\0' && strlen(clean) == strlen(s) + 2 * bad,
              "cleaned length %zu for %zu bytes, %zu bad", strlen(clean),
              strlen(s), bad);
    }
    lit = apigw_json_str(pool, clean);
    back = unescape(lit);
    CHECK(back && strcmp(back, clean) == 0, "literal [%s] of [%s]", lit,
          clean);
    apr_pool_clear(pool);
    return 0;
}
