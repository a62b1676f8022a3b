/* sources: common/apigw_apikey.c common/apigw_sha256.c */
/* libs: -lcrypto */
/* libFuzzer target for the API key file of common/apigw_apikey.c.
 * The input is a key file. Beyond crashes and leaks it checks:
 *  - parse against a reference of the grammar written here (lines split
 *    on LF with one CR before it dropped, tokens split on blanks, names,
 *    hashes and roles checked by hand, duplicates found by comparing
 *    names and lower-cased hashes with every earlier line): it fails
 *    exactly when the reference does, with "line N: " of the reference's
 *    line, and on success holds exactly as many keys as the reference
 *    counts key lines;
 *  - find() of each token and each line of the input, and of the whole
 *    input, gives NULL or a key whose hash is the SHA-256 of those bytes
 *    (computed here with EVP_Digest); hash_hex agrees with that SHA-256;
 *  - keys added to a second set under the SHA-256 of the input's tokens
 *    are found again by those tokens, with their names, and never by a
 *    presented key that is empty or over APIGW_APIKEY_MAX_LEN. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <openssl/evp.h>

#include "apigw_apikey.h"

#define FUZZ_TARGET "fuzz_apikey"
#include "fuzz_check.h"

#define MAX_LINES 512
#define MAX_TOKENS 32

static apr_pool_t *root;

/* ---- the reference grammar ---- */

typedef struct {
    char name[65];
    char hash[65];                   /* lower-case */
} ref_key;

static int ref_name(const char *s, size_t n)
{
    size_t i;

    if (n < 1 || n > 64) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                    "0123456789._@-", s[i]) || s[i] == '\0') {
            return 0;
        }
    }
    return 1;
}

static int ref_roles(const char *s, size_t n)
{
    size_t start = 0, i;

    for (i = 0; i <= n; i++) {
        if (i == n || s[i] == ',') {
            if (!ref_name(s + start, i - start)) {
                return 0;
            }
            start = i + 1;
        }
    }
    return 1;
}

/* 0 and *count on success, else the line number of the first error. */
static int ref_parse(const char *text, size_t len, int *count)
{
    static ref_key seen[MAX_LINES];
    size_t pos = 0;
    int line = 0, n = 0;

    *count = 0;
    while (pos < len) {
        const char *tok[4];
        size_t tlen[4], end = pos, stop, i;
        int ntok = 0, k;

        while (end < len && text[end] != '\n') {
            end++;
        }
        line++;
        stop = end;
        if (stop > pos && text[stop - 1] == '\r') {
            stop--;
        }
        if (memchr(text + pos, '\0', stop - pos)) {
            return line;
        }
        for (i = pos; i < stop && ntok < 4;) {
            if (text[i] == ' ' || text[i] == '\t') {
                i++;
                continue;
            }
            tok[ntok] = text + i;
            while (i < stop && text[i] != ' ' && text[i] != '\t') {
                i++;
            }
            tlen[ntok] = (size_t)(text + i - tok[ntok]);
            ntok++;
        }
        pos = end + 1;
        if (ntok == 0 || tok[0][0] == '#') {
            continue;
        }
        if (ntok < 2 || ntok > 3 || !ref_name(tok[0], tlen[0])
            || tlen[1] != 64 || (ntok == 3 && !ref_roles(tok[2], tlen[2]))) {
            return line;
        }
        CHECK(n < MAX_LINES, "too many lines for the reference");
        memcpy(seen[n].name, tok[0], tlen[0]);
        seen[n].name[tlen[0]] = '\0';
        for (i = 0; i < 64; i++) {
            char c = tok[1][i];

            if (c >= 'A' && c <= 'F') {
                c = (char)(c - 'A' + 'a');
            }
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
                return line;
            }
            seen[n].hash[i] = c;
        }
        seen[n].hash[64] = '\0';
        for (k = 0; k < n; k++) {
            if (strcmp(seen[k].name, seen[n].name) == 0
                || strcmp(seen[k].hash, seen[n].hash) == 0) {
                return line;
            }
        }
        n++;
    }
    *count = n;
    return 0;
}

/* ---- lookups ---- */

static void sha256_hex(const char *s, size_t len, char hex[65])
{
    unsigned char md[32];
    unsigned int n = 0;
    int i;

    CHECK(EVP_Digest(s, len, md, &n, EVP_sha256(), NULL) == 1 && n == 32,
          "EVP_Digest failed");
    for (i = 0; i < 32; i++) {
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    }
}

static void check_find(apr_pool_t *p, const apigw_apikey_set *set,
                       const char *s, size_t len)
{
    const apigw_apikey *k = apigw_apikey_find(set, s, len);
    const char *hex = apigw_apikey_hash_hex(p, s, len);
    char want[65], got[65];
    int i;

    sha256_hex(s, len, want);
    CHECK(hex && strcmp(hex, want) == 0, "hash_hex %s, want %s",
          hex ? hex : "NULL", want);
    if (!k) {
        return;
    }
    CHECK(len > 0 && len <= APIGW_APIKEY_MAX_LEN, "found with %lu bytes",
          (unsigned long)len);
    for (i = 0; i < 32; i++) {
        snprintf(got + 2 * i, 3, "%02x", k->hash[i]);
    }
    CHECK(strcmp(got, want) == 0, "found %s with hash %s for %s", k->name,
          got, want);
}

/* The input's tokens (split on blanks and line ends), MAX_TOKENS at most. */
static int tokens(const char *s, size_t len, const char **tok, size_t *tlen)
{
    size_t i = 0;
    int n = 0;

    while (i < len && n < MAX_TOKENS) {
        size_t start;

        while (i < len && strchr(" \t\r\n", s[i]) && s[i]) {
            i++;
        }
        start = i;
        while (i < len && !(strchr(" \t\r\n", s[i]) && s[i])) {
            i++;
        }
        if (i > start) {
            tok[n] = s + start;
            tlen[n++] = i - start;
        }
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data, *why, *tok[MAX_TOKENS];
    size_t tlen[MAX_TOKENS], pos = 0;
    apigw_apikey_set *set, *other;
    apr_pool_t *p;
    int want, count, i, ntok, added = 0;

    if (!root) {
        apr_initialize();
        apr_pool_create(&root, NULL);
    }
    apr_pool_create(&p, root);
    set = apigw_apikey_set_make(p);
    why = apigw_apikey_parse(p, text, size, set);
    want = ref_parse(text, size, &count);
    if (want) {
        const char *prefix = apr_psprintf(p, "line %d: ", want);

        CHECK(why && strncmp(why, prefix, strlen(prefix)) == 0,
              "got [%s], want an error on line %d", why ? why : "NULL",
              want);
    }
    else {
        CHECK(why == NULL, "got [%s], want success", why);
        CHECK(apigw_apikey_count(set) == count, "%d keys, want %d",
              apigw_apikey_count(set), count);
    }

    /* lookups in the parsed set: tokens, lines, the whole input */
    ntok = tokens(text, size, tok, tlen);
    for (i = 0; i < ntok; i++) {
        check_find(p, set, tok[i], tlen[i]);
    }
    while (pos < size) {
        const char *nl = memchr(text + pos, '\n', size - pos);
        size_t n = nl ? (size_t)(nl - text - pos) : size - pos;

        check_find(p, set, text + pos, n);
        pos += n + 1;
    }
    check_find(p, set, text, size);

    /* a set of the tokens' own hashes finds them */
    other = apigw_apikey_set_make(p);
    for (i = 0; i < ntok; i++) {
        const char *name = apr_psprintf(p, "t%d", i);
        const char *hex = apigw_apikey_hash_hex(p, tok[i], tlen[i]);

        if (apigw_apikey_add(p, other, name, hex, "r") == NULL) {
            added++;
        }
    }
    CHECK(apigw_apikey_count(other) == added, "%d added, count %d", added,
          apigw_apikey_count(other));
    for (i = 0; i < ntok; i++) {
        const apigw_apikey *k = apigw_apikey_find(other, tok[i], tlen[i]);

        if (tlen[i] > APIGW_APIKEY_MAX_LEN) {
            CHECK(k == NULL, "found a key of %lu bytes",
                  (unsigned long)tlen[i]);
            continue;
        }
        CHECK(k != NULL, "token %d not found", i);
        CHECK(apigw_apikey_has_role(k, "r"), "no role r");
        check_find(p, other, tok[i], tlen[i]);
        /* the first token of the same bytes gave the name */
        {
            int j;

            for (j = 0; j < i; j++) {
                if (tlen[j] == tlen[i]
                    && memcmp(tok[j], tok[i], tlen[i]) == 0) {
                    break;
                }
            }
            CHECK(strcmp(k->name, apr_psprintf(p, "t%d", j)) == 0,
                  "token %d found as %s", i, k->name);
        }
    }
    CHECK(apigw_apikey_find(other, text, 0) == NULL, "found an empty key");
    apr_pool_destroy(p);
    return 0;
}
