/* SHA-256 with the EVP_MD fetched once (see apigw_sha256.h). The first
 * callers may fetch it concurrently; one fetch wins the exchange and the
 * others are freed. The fetched digest lives as long as the process. */
#include "apigw_sha256.h"

#include <openssl/evp.h>

static EVP_MD *sha256_md;

static const EVP_MD *sha256(void)
{
    EVP_MD *md = __atomic_load_n(&sha256_md, __ATOMIC_ACQUIRE), *expected;

    if (md) {
        return md;
    }
    md = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (!md) {
        return EVP_sha256();          /* the implicit fetch, every time */
    }
    expected = NULL;
    if (!__atomic_compare_exchange_n(&sha256_md, &expected, md, 0,
                                     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        EVP_MD_free(md);
        return expected;
    }
    return md;
}

int apigw_sha256(const void *data, size_t len, unsigned char *out)
{
    return EVP_Digest(data, len, out, NULL, sha256(), NULL) == 1;
}
