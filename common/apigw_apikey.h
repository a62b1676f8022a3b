/* API keys: the key file's lines parsed into a table of hashed keys, and
 * the lookup of a presented key by its SHA-256 (compared in constant
 * time). Keys are never held in clear. Pure: APR and libcrypto. */
#ifndef APIGW_APIKEY_H
#define APIGW_APIKEY_H

#include "apr_pools.h"
#include "apr_tables.h"

#define APIGW_APIKEY_HASH_LEN 32     /* SHA-256 */
/* Presented keys longer than this are refused without hashing. */
#define APIGW_APIKEY_MAX_LEN 512

typedef struct apigw_apikey {
    const char *name;                /* the key's name: r->user */
    unsigned char hash[APIGW_APIKEY_HASH_LEN];
    apr_array_header_t *roles;       /* const char * */
} apigw_apikey;

typedef struct apigw_apikey_set apigw_apikey_set;

/* An empty set from p. */
apigw_apikey_set *apigw_apikey_set_make(apr_pool_t *p);

/* Parses a key file's text into set. One key per line:
 *     NAME SHA256-HEX [ROLE[,ROLE...]]
 * separated by spaces or tabs; blank lines and lines starting with '#'
 * are skipped. NAME is 1-64 characters of [A-Za-z0-9._@-]; the hash is 64
 * hex digits (either case); roles are the same characters as names. A
 * name or a hash given twice is an error. NULL on success, else the
 * reason with the line number ("line 3: the hash is not 64 hex
 * digits"). */
const char *apigw_apikey_parse(apr_pool_t *p, const char *text,
                               apr_size_t len, apigw_apikey_set *set);

/* Adds one key (name and hash as above, roles may be NULL); NULL or why
 * not. */
const char *apigw_apikey_add(apr_pool_t *p, apigw_apikey_set *set,
                             const char *name, const char *hash_hex,
                             const char *roles_csv);

/* The key whose hash is SHA-256(key[0..len)), or NULL: found by that
 * hash in a table, then the whole hash compared in constant time
 * (CRYPTO_memcmp), so timing tells nothing of the key's bytes. NULL for
 * len 0 or over APIGW_APIKEY_MAX_LEN. */
const apigw_apikey *apigw_apikey_find(const apigw_apikey_set *set,
                                      const char *key, apr_size_t len);

/* Does k have role? */
int apigw_apikey_has_role(const apigw_apikey *k, const char *role);

int apigw_apikey_count(const apigw_apikey_set *set);

/* SHA-256 of key as 64 lowercase hex digits, from p (for tools and the
 * admin API: the line to write for a new key). */
const char *apigw_apikey_hash_hex(apr_pool_t *p, const char *key,
                                  apr_size_t len);

#endif
