/* SHA-256 of a byte string with OpenSSL 3, the digest's implementation
 * fetched once per process: EVP_sha256() makes OpenSSL look it up again on
 * every call, which costs more than hashing a short key or token. Used
 * on the request path (API keys, the verified-token cache). */
#ifndef APIGW_SHA256_H
#define APIGW_SHA256_H

#include <stddef.h>

#define APIGW_SHA256_LEN 32

/* out gets SHA-256(data[0..len)); 1 on success, 0 when OpenSSL failed. */
int apigw_sha256(const void *data, size_t len, unsigned char *out);

#endif
