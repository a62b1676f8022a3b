/* API keys (see apigw_apikey.h): the key file's grammar, the set of keys
 * held by the 32 raw bytes of their SHA-256 (never in clear), and the
 * lookup of a presented key, its hash compared in constant time. */
#include "apigw_apikey.h"
#include "apigw_sha256.h"

#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>
#include <openssl/crypto.h>

/* The longest name or role. */
#define APIKEY_MAX_NAME 64

#define NAME_CHARS "1-64 characters of A-Z a-z 0-9 . _ @ -"

struct apigw_apikey_set {
    apr_hash_t *by_hash;             /* 32 hash bytes -> apigw_apikey * */
    apr_hash_t *by_name;             /* name -> apigw_apikey * */
    int count;
};

static int is_name_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
        || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '@'
        || c == '-';
}

/* Is s[0..len) a name (or a role)? */
static int is_name(const char *s, apr_size_t len)
{
    apr_size_t i;

    if (len == 0 || len > APIKEY_MAX_NAME) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        if (!is_name_char(s[i])) {
            return 0;
        }
    }
    return 1;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* 64 hex digits (either case) into 32 bytes; 0 if hex is not that. */
static int parse_hash(const char *hex, unsigned char *hash)
{
    apr_size_t i;

    if (strlen(hex) != 2 * APIGW_APIKEY_HASH_LEN) {
        return 0;
    }
    for (i = 0; i < APIGW_APIKEY_HASH_LEN; i++) {
        int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);

        if (hi < 0 || lo < 0) {
            return 0;
        }
        hash[i] = (unsigned char)(hi << 4 | lo);
    }
    return 1;
}

/* The comma-separated roles into an array; NULL on an empty or bad one. */
static apr_array_header_t *parse_roles(apr_pool_t *p, const char *csv)
{
    apr_array_header_t *roles = apr_array_make(p, 2, sizeof(const char *));
    const char *s = csv;

    while (csv) {
        const char *end = strchr(s, ',');
        apr_size_t n = end ? (apr_size_t)(end - s) : strlen(s);

        if (!is_name(s, n)) {
            return NULL;
        }
        APR_ARRAY_PUSH(roles, const char *) = apr_pstrmemdup(p, s, n);
        if (!end) {
            break;
        }
        s = end + 1;
    }
    return roles;
}

static int sha256(const char *data, apr_size_t len,
                  unsigned char hash[APIGW_APIKEY_HASH_LEN])
{
    return apigw_sha256(data, len, hash);
}

apigw_apikey_set *apigw_apikey_set_make(apr_pool_t *p)
{
    apigw_apikey_set *set = apr_pcalloc(p, sizeof(*set));

    set->by_hash = apr_hash_make(p);
    set->by_name = apr_hash_make(p);
    return set;
}

const char *apigw_apikey_add(apr_pool_t *p, apigw_apikey_set *set,
                             const char *name, const char *hash_hex,
                             const char *roles_csv)
{
    apigw_apikey *k = apr_pcalloc(p, sizeof(*k)), *other;

    if (!name || !is_name(name, strlen(name))) {
        return "the name is not " NAME_CHARS;
    }
    if (!hash_hex || !parse_hash(hash_hex, k->hash)) {
        return "the hash is not 64 hex digits";
    }
    k->roles = roles_csv ? parse_roles(p, roles_csv)
                         : apr_array_make(p, 1, sizeof(const char *));
    if (!k->roles) {
        return "a role is not " NAME_CHARS;
    }
    if (apr_hash_get(set->by_name, name, APR_HASH_KEY_STRING)) {
        return apr_pstrcat(p, "the name ", name, " is given twice", NULL);
    }
    other = apr_hash_get(set->by_hash, k->hash, APIGW_APIKEY_HASH_LEN);
    if (other) {
        return apr_pstrcat(p, "the hash is also that of ", other->name, NULL);
    }
    k->name = apr_pstrdup(p, name);
    apr_hash_set(set->by_name, k->name, APR_HASH_KEY_STRING, k);
    apr_hash_set(set->by_hash, k->hash, APIGW_APIKEY_HASH_LEN, k);
    set->count++;
    return NULL;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* One line (without its end) into set: NULL or why not. */
static const char *parse_line(apr_pool_t *p, apigw_apikey_set *set,
                              const char *line, apr_size_t len)
{
    const char *field[3];
    apr_size_t i = 0;
    int n = 0;

    while (i < len && is_blank(line[i])) {
        i++;
    }
    if (i == len || line[i] == '#') {
        return NULL;                 /* blank or a comment */
    }
    while (i < len) {
        apr_size_t start = i;

        while (i < len && !is_blank(line[i])) {
            i++;
        }
        if (n == 3) {
            return "too many fields";
        }
        field[n++] = apr_pstrmemdup(p, line + start, i - start);
        while (i < len && is_blank(line[i])) {
            i++;
        }
    }
    if (n < 2) {
        return "a name without a hash";
    }
    return apigw_apikey_add(p, set, field[0], field[1], n == 3 ? field[2]
                                                               : NULL);
}

const char *apigw_apikey_parse(apr_pool_t *p, const char *text,
                               apr_size_t len, apigw_apikey_set *set)
{
    apr_size_t start = 0;
    int lineno = 0;

    if (!text) {
        len = 0;
    }
    while (start < len) {
        const char *line = text + start;
        const char *nl = memchr(line, '\n', len - start);
        apr_size_t n = nl ? (apr_size_t)(nl - line) : len - start;
        apr_size_t used = n + (nl ? 1 : 0);
        const char *why;

        lineno++;
        if (n > 0 && line[n - 1] == '\r') {
            n--;                     /* CRLF */
        }
        if (memchr(line, '\0', n)) {
            why = "a NUL byte";
        }
        else {
            why = parse_line(p, set, line, n);
        }
        if (why) {
            return apr_psprintf(p, "line %d: %s", lineno, why);
        }
        start += used;
    }
    return NULL;
}

const apigw_apikey *apigw_apikey_find(const apigw_apikey_set *set,
                                      const char *key, apr_size_t len)
{
    unsigned char hash[APIGW_APIKEY_HASH_LEN];
    const apigw_apikey *k;

    if (!set || !key || len == 0 || len > APIGW_APIKEY_MAX_LEN
        || !sha256(key, len, hash)) {
        return NULL;
    }
    k = apr_hash_get(set->by_hash, hash, APIGW_APIKEY_HASH_LEN);
    if (!k || CRYPTO_memcmp(k->hash, hash, APIGW_APIKEY_HASH_LEN) != 0) {
        return NULL;
    }
    return k;
}

int apigw_apikey_has_role(const apigw_apikey *k, const char *role)
{
    int i;

    if (!k || !role || !k->roles) {
        return 0;
    }
    for (i = 0; i < k->roles->nelts; i++) {
        if (strcmp(APR_ARRAY_IDX(k->roles, i, const char *), role) == 0) {
            return 1;
        }
    }
    return 0;
}

int apigw_apikey_count(const apigw_apikey_set *set)
{
    return set ? set->count : 0;
}

const char *apigw_apikey_hash_hex(apr_pool_t *p, const char *key,
                                  apr_size_t len)
{
    static const char digits[] = "0123456789abcdef";
    unsigned char hash[APIGW_APIKEY_HASH_LEN];
    char *hex;
    apr_size_t i;

    if ((!key && len) || !sha256(key ? key : "", len, hash)) {
        return NULL;
    }
    hex = apr_palloc(p, 2 * APIGW_APIKEY_HASH_LEN + 1);
    for (i = 0; i < APIGW_APIKEY_HASH_LEN; i++) {
        hex[2 * i] = digits[hash[i] >> 4];
        hex[2 * i + 1] = digits[hash[i] & 0x0F];
    }
    hex[2 * APIGW_APIKEY_HASH_LEN] = '\0';
    return hex;
}
