/* sources: mod_apigw_auth/apigw_jwk.c mod_apigw_auth/apigw_b64url.c */
/* libs: -ljansson -lcrypto */
/* Unit tests for mod_apigw_auth/apigw_jwk.c: JWK sets, single JWKs and
 * PEM blocks into verification keys. The keys, and signatures of MSG made
 * with their private halves, were generated once with Python's
 * cryptography and PyJWT; each key parsed here must verify its
 * signature with EVP_DigestVerify. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#define UNIT_POOL
#include "unit_apr.h"

#include <apr_strings.h>
#include <jansson.h>
#include <openssl/err.h>
#include <openssl/rsa.h>

#include "apigw_jwk.h"

/* ---- generated keys and signatures ---- */

/* message signed: */
static const char MSG[] = "hello, gateway";

static const char RSA2048_JWK[] =
    "{\"kty\":\"RSA\",\"key_ops\":[\"verify\"],\"n\":\"ru1w76k4oDztzbvNt3Z6F"
    "O0r15kQwu7emDI5ow22lruUh-xbs9gDlnfJwYrtVInD5VqGi3sO86_P0mC24"
    "jb8XIJ3WteKdl17eJW40WEeGycduh1UD28hoPsUOE6xxLo16tG7dSM_xora-"
    "wVbiighnbYB6IEUlYOiRfEcKxdecB3gUCINDUuadOOhyWTz1f_ocqadoQjSq"
    "BLyDWjCOktnB0dVUWjh5bizWP_PW03QtnTRrSlTUJNcaZm0GYi7jVf2yxkuw"
    "UoqOfbehvs0NNnmx75lQkOCIStahrDU00cKlTh4PzU1qW7pwOzljllK1WZg7"
    "uxaoYuG3iqXiw_woxj9MQ\",\"e\":\"AQAB\",\"kid\":\"rsa-1\",\"alg\":\"RS256"
    "\",\"use\":\"sig\"}";

static const char RSA2048_SIG[] =
    "007e936c589a7a5cd416a14f5b13032b23e3937b51f447c6990214f3924af8d2529a"
    "3831664dd77dca2985fc1fa10bd4b390d0a84a99496b7d5bdd2624b7afed76e33934"
    "9a719eb3f49f152e320ee295acbceb62ec5a016aedbb9451eb9359ffbbee72334b96"
    "19b6687c22385e2f361b533cd26545a91dc543b828494202587b037dbfbabcd3e16b"
    "8bd53143e53a770125de92e90632208e4d39ab7b6de2737c9c72d35851ed02d9ea95"
    "447fb1bc065a684e7d42b40a5f22c3a99fed0f3ab69320b76d4470139325812125d1"
    "72e276a860cfb4af775ba7b4500bb4d845f0b7e64888ec4ee56bfd84c1091d060a6f"
    "28065743edff512839f1a4564a1022b58ebc";

static const char RSA1024_JWK[] =
    "{\"kty\":\"RSA\",\"key_ops\":[\"verify\"],\"n\":\"r6y_FBFkHNcsPPY41urE6"
    "F4dISoWwA8IDXTodYG6zSzRyaz_4bn_An8TNLlhFoU3I4ARhdz3V_VvWN-Td"
    "mY_3mLV300qG54-IBsztRAGTtP3fB2ExYhN8YnI5MtCBQpINFGNO_CQVGL_A"
    "HT3ENyJqw_E03VG4QZWmVxd0N1ubNU\",\"e\":\"AQAB\",\"kid\":\"rsa-small\""
    "}";

static const char EC_P256_JWK[] =
    "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"5zyG9J0kgsvAMkp1FX88tuwpHYd5M"
    "nXx4T-xtwc8tTs\",\"y\":\"IUmkaVf5MmB64paTMOuKaIGGhPZE3ZM_MzOM_Ay"
    "DdMY\",\"kid\":\"ec-p256\"}";

static const char EC_P256_SIG[] =
    "304502207aace3daeb1f40d94acb36ae8e7d61bfc4c8f9cd8608e9be4088a3eb348c"
    "84d7022100d8154773ff53d73ab221f5d0b04729987bc54d435e30d827b75f812368"
    "afc4f3";

static const char EC_OFF_CURVE_JWK[] =
    "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"5zyG9J0kgsvAMkp1FX88tuwpHYd5M"
    "nXx4T-xtwc8tTs\",\"y\":\"IUmkaVf5MmB64paTMOuKaIGGhPZE3ZM_MzOM_Ay"
    "DdMc\",\"kid\":\"ec-off-curve\"}";

static const char EC_P256_PRIVATE_JWK[] =
    "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"5zyG9J0kgsvAMkp1FX88tuwpHYd5M"
    "nXx4T-xtwc8tTs\",\"y\":\"IUmkaVf5MmB64paTMOuKaIGGhPZE3ZM_MzOM_Ay"
    "DdMY\",\"d\":\"dtuf0LjJajf98BXpgZ7-i6xebuc_8C1emgbGXwWsNSI\",\"kid"
    "\":\"ec-private\"}";

static const char EC_P256_PEM[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE5zyG9J0kgsvAMkp1FX88tuwpHYd5\n"
    "MnXx4T+xtwc8tTshSaRpV/kyYHrilpMw64pogYaE9kTdkz8zM4z8DIN0xg==\n"
    "-----END PUBLIC KEY-----\n";

static const char EC_P256_PRIVATE_PEM[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgdtuf0LjJajf98BXp\n"
    "gZ7+i6xebuc/8C1emgbGXwWsNSKhRANCAATnPIb0nSSCy8AySnUVfzy27Ckdh3ky\n"
    "dfHhP7G3Bzy1OyFJpGlX+TJgeuKWkzDrimiBhoT2RN2TPzMzjPwMg3TG\n"
    "-----END PRIVATE KEY-----\n";

static const char EC_P384_JWK[] =
    "{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"neFPTPLhjHCGyWFcHntCL0JqB6xEi"
    "XhKyskENgfG2tIIz25RTAHaEUpIWqCg2Ffk\",\"y\":\"G1nCIA0wANUXXpUORH"
    "vsZo6oWOR7IbyhkkZ8lnUZSEaqTnho8M_7_6iILF9jQWDk\",\"kid\":\"ec-p3"
    "84\"}";

static const char EC_P384_SIG[] =
    "30660231008e45ea51323b13638381852fa5104cf5ec87479f953efc58b020b24e5a"
    "4403b67c1b8ac9b243c6d8a4d986f9d5346d4502310085757b3be4ff818b706042f2"
    "0a63de5b7b12fd48302af03d82aca683336933b757423823708dec954969361d2180"
    "a456";

static const char EC_P521_JWK[] =
    "{\"kty\":\"EC\",\"crv\":\"P-521\",\"x\":\"AXms-jtL_6tgmM8SeyzuLP_DrJln2"
    "CznwO6UWc3rzMn-UjCzEdhOvJAKwcTvJoNAfh8W2vE3Xrljv_NoruRUB1aw\""
    ",\"y\":\"AOgA-DaMh6w6lQhLBMxYKvrBARdr-2vqba4-iOucJdtbwtZ0iBYv9A"
    "VcHo4hBVm6yMJpW3wmzy4ycjiaI_ZnSlbG\",\"kid\":\"ec-p521\"}";

static const char EC_P521_SIG[] =
    "308187024161008ccef99dc149ff01e5ff059790b624694c277be5442f4fa6691983"
    "ed61319b365f54a96ff12e233e3e3c8ec7120afc40061a88730e76b0ae6bfab3f924"
    "7b12024200df176d9eb64ee05030b8f301a4237ca54172cb92025ff4121b64cf5850"
    "4f5c8f6a80702dd5f78161994dd4f94e02271a67fd5b5c1628e1ea54eec82495987a"
    "379f";

static const char ED25519_JWK[] =
    "{\"x\":\"1sInddsZI90wKUPawH-JzzemZw2zDSSxrp0D_GfqkTo\",\"kty\":\"OK"
    "P\",\"crv\":\"Ed25519\",\"kid\":\"ed-1\"}";

static const char ED25519_SIG[] =
    "ce291a5015d9caaec76e545c54fb484e0575a4b501490f8eec2bf03a5043651e2774"
    "33f4b7e55a82ef1c07abe3edbe4c161e2804b8730afc950bb81231da4204";

static const char ED448_JWK[] =
    "{\"x\":\"OxrQvOaVcopgg4oU-MqpqppUwwFbFsALHZ-3Gza2qZ66LbCzEyOttf"
    "pVLd7c8WOQZ4HoNtuzIhiA\",\"kty\":\"OKP\",\"crv\":\"Ed448\",\"kid\":\"ed4"
    "48-1\"}";

static const char ED448_SIG[] =
    "3f5b294f0a8de9ab0d6163982ed7c52893365a9b6d89542ed6b6b43022ebacae8ea0"
    "bf722feeaff8d33f67a6f17e66767a03f4c02956d625803629dbba3adac1a8882966"
    "18c83c3872009bb650cda762558341c77b6dc8140663912ad198b096e82634cbe6ea"
    "65321370237f1887df002500";

static const char RSA_PKCS1_PEM[] =
    "-----BEGIN RSA PUBLIC KEY-----\n"
    "MIIBigKCAYEAs2Ro8Vjo5w87lgWUmhZRZeqThF4Ldw6HVRVfInmCLqOzhPm4zbEn\n"
    "jGUNjdpLtIySBTt5aUFLkyTN+OFAS6bTlDJb2RpVTYozE2L6SlgHguBRq/PHYJpu\n"
    "lc6OsXbeLQJowaAt2P2DCU7CEZe1iMateydDNrdH/DNJEiobRgBi5Qna22X3FA5j\n"
    "r7lZRUO/UrtfusBytYJo/Anh2z03DYgyR+WRN0X7DpR0537TjOlg/zmnwGeUdsfa\n"
    "UKbhglyITp7euGF0wGQZchfwav+q7yMqoEtcvfal18Pf36YjVIpugo2nCaAA5RN9\n"
    "KsqyG9Wf2UOJw5m15GQcERqehHLK6Ghff7+1s8k0munY+b+DhrQpmksNoMpf0ee/\n"
    "hx1kR3v8APiY/OOPQPBUh2a9POGlcr0Q4MFJ6jJJbMMVzsNBALrC8t03t/7Ghlom\n"
    "JdBm2Y6CpLPPYyD4/d7o3Ijl3zHQQ3sueH1eUQ9hZVgY/JN+qvY1Xzo1EVIoalBT\n"
    "aiiYD0JBHCirAgMBAAE=\n"
    "-----END RSA PUBLIC KEY-----\n";

static const char RSA_PKCS1_SIG[] =
    "a515d960a3872b7303ddfac443c39472e35378cf945d047a4ec97cf6411ce0e68fec"
    "7f057575ece5a4183c0e416e22ed525123d8bbdac1407141917e3caf8bdc8c38b682"
    "5ac2bac247e6247c1423be8d21631cf94f8e3a4960f4a0c7eef11cdc3c649fa815fa"
    "b44fe0182b433b1ef8e98c4d7244a7805f08bc4b00958fd51949042699266cb46d8c"
    "13f77767f02d6a4b65b4778ba7064e5bfe16fb936b56262480d73fb3f1f2b856b95a"
    "fe795ff1b44a19b48c55a8a131278a3dd07a6c3c6f9b38da163b1b345608bab79d84"
    "7ec73d6552a8ef6f35a46fc703230a7585503ee95d602351b4f4506ebc5d051e30a0"
    "497fab5a4f70bc1318893ef01f5acb110377e99b4a148b219b44cef0c1f4a696034a"
    "a689a9139a6ea68f84d03d7bc1e5396de09167a50ce525eb04315749cb8fce1682af"
    "772d0e8d6112d7491ac0ccfa2da73461426b54b4ac7167c39a2ca9b0d7d3e934ac5e"
    "6edf9f1a81a122268949923691fc5b962a47d7fa7413b7bce5f1aa443d78c86b3a97"
    "d84074afc2178d1e423b";

static const char CERT_PEM[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIICozCCAYugAwIBAgIBATANBgkqhkiG9w0BAQsFADAVMRMwEQYDVQQDDAphcGln\n"
    "dyB0ZXN0MB4XDTI0MDEwMTAwMDAwMFoXDTMzMTIyOTAwMDAwMFowFTETMBEGA1UE\n"
    "AwwKYXBpZ3cgdGVzdDCCASIwDQYJKoZIhvcNAQEBBQADggEPADCCAQoCggEBAOHD\n"
    "zDTaa6P/1B9OhUzcoeEfebcjUGOpMOHDtUMs4wl4R6nW79+Uh48ZEEoo9XbKGAGr\n"
    "5nVw3iV//Wqgwepq1IM13F319o0CLMqc6WzloMzwpMaPF85YrbWR2mGSl7fh4pZz\n"
    "KLO96Xc9Zq3JUtTwGaGKyr9CXf68HuE8c5TgMsO0V+rey5dnWxZbOiqXy0M4FYVk\n"
    "eOhcAxhDqpqQD7MrT8tuNfkUnCb5ABckkExTN4InZxPAZPYUcIdmhzgja/M/NmhJ\n"
    "0eCStMTAn8OSLlv81+y3FOuM8r6AdoI+FWAwvB7IMDAL+1aeo5YkJR7MrnE1yitK\n"
    "lo/6LVk7Tbx5x8clbD0CAwEAATANBgkqhkiG9w0BAQsFAAOCAQEAXLZKfgZLz2Bm\n"
    "DvRCHP5YNo6o53wOsBl+sr4GXXEeDYJ34JuJLXlQHUAq7JoSqzPhsZubhvWFNcYo\n"
    "6fy1qGtEkPU4S+bWdFldvY+b0ygPLD2sKNv69Rf5/XL+as+LPgmor2zAtYQ7hs2E\n"
    "Qf2V0UCpryF/Z9zl2g9dIYGI7Rv0LEGR8fHwI3ShFBZe6cDauiOvCNPHLSdkHaJF\n"
    "8T+4J7YdLZVaLSGmqAGaPGLDqjT1mLtOsetGYdciKd3q8uUQeimakGA94rYVC//v\n"
    "CueBXRWKA5br2fWkWnfyga2X2eZNY/uYpuln3TwCpXYca43qr/XCHmf31q6YqI8h\n"
    "Do2eEeiIvQ==\n"
    "-----END CERTIFICATE-----\n";

static const char CERT_SIG[] =
    "5875a38654bdd601e2483496122cb1b2f623f2bec83d83461a4c858a0e09aa81b0aa"
    "031afa83a373d6a6e9d8b633b56b178dbf10a5b5df2442bdc1830f8d2e65fbd584d1"
    "4b20654546d071b27c42b6725435fb7cac86de78cdbf40b758465ca6d3c64c35e3fd"
    "d0ed8ce8680078c2ee66f7116a210363b8bf997b14c90d20a638e7375114a7c17fbf"
    "c8730ee4451d92e049e947d8b8f76116b2bdec6831b3e8e215b8bfbaf865b47a3609"
    "3845c348e409fe090489c4727530f7bd9d353506c14205d3608b898280db9f3be32c"
    "5c0ca757e13f8ebeb9cb126b73801efa9c7e91a24afe1d0ef3bc58d33879ea42855e"
    "da3f8e0cc9df71f6aed5f37b3281005f3e22";

/* 32 and 16 bytes 00 01 02 ... as base64url */
#define K32 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
#define K16 "AAECAwQFBgcICQoLDA0ODw"

/* ---- helpers ---- */

static apr_array_header_t *keys, *skipped;
static const char *why;

/* Parses s into the file's keys and skipped lines (fresh each call). */
static const char *parse(const char *s)
{
    keys = apr_array_make(pool, 4, sizeof(apigw_jwk *));
    skipped = apr_array_make(pool, 4, sizeof(const char *));
    why = apigw_jwk_parse(pool, s, strlen(s), keys, skipped);
    /* whatever happened, no OpenSSL error is left behind */
    assert_int_equal(ERR_peek_error(), 0);
    return why;
}

static const apigw_jwk *key_at(int i)
{
    assert_true(i < keys->nelts);
    return APR_ARRAY_IDX(keys, i, const apigw_jwk *);
}

static const char *skipped_at(int i)
{
    assert_true(i < skipped->nelts);
    return APR_ARRAY_IDX(skipped, i, const char *);
}

static int hex_nibble(char c)
{
    return c <= '9' ? c - '0' : c - 'a' + 10;
}

static int verify_with(EVP_PKEY *pkey, const EVP_MD *md, int pss,
                       const char *msg, const char *sig_hex)
{
    unsigned char sig[1024];
    size_t n = strlen(sig_hex) / 2, i;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    int ok;

    assert_true(n <= sizeof(sig));
    for (i = 0; i < n; i++) {
        sig[i] = (unsigned char)(hex_nibble(sig_hex[2 * i]) << 4
                                 | hex_nibble(sig_hex[2 * i + 1]));
    }
    ok = ctx && EVP_DigestVerifyInit(ctx, &pctx, md, NULL, pkey) == 1;
    if (ok && pss) {
        ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1
            && EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) == 1;
    }
    ok = ok && EVP_DigestVerify(ctx, sig, n, (const unsigned char *)msg,
                                strlen(msg)) == 1;
    EVP_MD_CTX_free(ctx);
    ERR_clear_error();
    return ok;
}

/* The signature holds for MSG and not for another message. */
static void assert_verifies(EVP_PKEY *pkey, const EVP_MD *md, int pss,
                            const char *sig_hex)
{
    assert_non_null(pkey);
    assert_true(verify_with(pkey, md, pss, MSG, sig_hex));
    assert_false(verify_with(pkey, md, pss, "hello, gateway!", sig_hex));
}

/* json with member name set to the JSON value (NULL: removed). */
static const char *with(const char *json, const char *name, const char *value)
{
    json_t *o = json_loads(json, 0, NULL);
    char *dump, *copy;

    assert_non_null(o);
    if (value) {
        json_t *v = json_loads(value, JSON_DECODE_ANY, NULL);

        assert_non_null(v);
        json_object_set_new(o, name, v);
    }
    else {
        json_object_del(o, name);
    }
    dump = json_dumps(o, JSON_COMPACT);
    copy = apr_pstrdup(pool, dump);
    free(dump);
    json_decref(o);
    return copy;
}

/* A set {"keys":[a, b, ...]} of the JWK texts given (NULL-terminated). */
static const char *set_of(const char *first, ...)
{
    const char *s = apr_pstrcat(pool, "{\"keys\":[", first, NULL), *k;
    va_list ap;

    va_start(ap, first);
    while ((k = va_arg(ap, const char *)) != NULL) {
        s = apr_pstrcat(pool, s, ",", k, NULL);
    }
    va_end(ap);
    return apr_pstrcat(pool, s, "]}", NULL);
}

/* The one skip reason for a key that is alone in its set. */
static void assert_skipped(const char *jwk, const char *line)
{
    assert_non_null(parse(jwk));
    assert_int_equal(keys->nelts, 0);
    assert_int_equal(skipped->nelts, 1);
    assert_string_equal(skipped_at(0), line);
    assert_string_equal(why, apr_pstrcat(pool, "no usable key: ", line,
                                         NULL));
}

/* ---- tests ---- */

static void test_rsa(void **state)
{
    const apigw_jwk *k;

    (void)state;
    assert_null(parse(RSA2048_JWK));
    assert_int_equal(keys->nelts, 1);
    assert_int_equal(skipped->nelts, 0);
    k = key_at(0);
    assert_int_equal(k->kty, APIGW_KTY_RSA);
    assert_int_equal(k->bits, 2048);
    assert_string_equal(k->kid, "rsa-1");
    assert_string_equal(k->alg, "RS256");
    assert_null(k->crv);
    assert_null(k->secret);
    assert_verifies(k->pkey, EVP_sha256(), 0, RSA2048_SIG);
    /* the same as a set */
    assert_null(parse(set_of(RSA2048_JWK, NULL)));
    assert_int_equal(keys->nelts, 1);
    assert_verifies(key_at(0)->pkey, EVP_sha256(), 0, RSA2048_SIG);
}

static void test_rsa_refused(void **state)
{
    (void)state;
    assert_skipped(RSA1024_JWK,
                   "key rsa-small: RSA key of 1024 bits is below 2048");
    /* exponents that make a signature meaningless */
    assert_skipped(with(RSA2048_JWK, "e", "\"AQ\""),
                   "key rsa-1: bad RSA exponent");
    assert_skipped(with(RSA2048_JWK, "e", "\"Ag\""),
                   "key rsa-1: bad RSA exponent");
    assert_skipped(with(RSA2048_JWK, "e", "\"\""),
                   "key rsa-1: bad RSA exponent");
    assert_skipped(with(RSA2048_JWK, "e", NULL),
                   "key rsa-1: e is missing or not a string");
    assert_skipped(with(RSA2048_JWK, "n", "17"),
                   "key rsa-1: n is missing or not a string");
    /* padded base64url is not JWK base64url */
    assert_skipped(with(RSA2048_JWK, "e", "\"AQAB=\""),
                   "key rsa-1: e is not base64url");
    assert_skipped(with(RSA2048_JWK, "e", "\"AQ+B\""),
                   "key rsa-1: e is not base64url");
}

static void test_ec(void **state)
{
    static const struct {
        const char *jwk, *sig, *crv, *kid;
        int bits;
        const EVP_MD *(*md)(void);
    } t[] = {
        { EC_P256_JWK, EC_P256_SIG, "P-256", "ec-p256", 256, EVP_sha256 },
        { EC_P384_JWK, EC_P384_SIG, "P-384", "ec-p384", 384, EVP_sha384 },
        { EC_P521_JWK, EC_P521_SIG, "P-521", "ec-p521", 521, EVP_sha512 },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        const apigw_jwk *k;

        assert_null(parse(t[i].jwk));
        assert_int_equal(keys->nelts, 1);
        k = key_at(0);
        assert_int_equal(k->kty, APIGW_KTY_EC);
        assert_string_equal(k->crv, t[i].crv);
        assert_string_equal(k->kid, t[i].kid);
        assert_int_equal(k->bits, t[i].bits);
        assert_null(k->alg);
        assert_verifies(k->pkey, t[i].md(), 0, t[i].sig);
    }
    /* a signature of another curve's key does not verify */
    assert_false(verify_with(key_at(0)->pkey, EVP_sha512(), 0, MSG,
                             EC_P256_SIG));
}

/* A P-521 key whose x has two leading zero bytes dropped, as some JWK
 * writers do (PyJWT 2.6): padded back to the field size. */
static const char EC_SHORT_JWK[] =
    "{\"kty\": \"EC\", \"crv\": \"P-521\", \"kid\": \"ec-short\", \"x\": \"CbigmuMO2QM4uw9ANd20RAnkZ2olZMStVFjO4MXultCUVYUwX7f4NZDZde-ZZ5tzzbKEsxKMPnv_7uR4hzw_TA0\", \"y\": \"AXBepFzHJQMTa7_Ss4wgvKSM1L2COWfov3NuhAVQKKljU2SNbL0oUjdL_pL1mTOsMB0k2rkYkcpMSULWse3xHnsx\"}";
static const char EC_SHORT_SIG[] =
    "308188024201f62f7de9eac337cb1da5c3ba26e21ce3187f4b1eda9180748a007400a75d7e008d8ef60f0dc2472ca09c1812e482b345fef0af0e44eff36011f1e6e616ea923f63024200f7c341e3a5928419b2a4abd67d03c39a343f12b7efcf654dacc1649dbf981bc684b2c9ab3df06f155c5dad67df053d266beb1f8e7ea47bdbb09e8c4bd119cf6c3a";

static void test_ec_short_coordinate(void **state)
{
    (void)state;
    assert_null(parse(EC_SHORT_JWK));
    assert_int_equal(keys->nelts, 1);
    assert_true(verify_with(key_at(0)->pkey, EVP_sha512(), 0, MSG,
                            EC_SHORT_SIG));
}

static void test_ec_refused(void **state)
{
    (void)state;
    assert_skipped(EC_OFF_CURVE_JWK,
                   "key ec-off-curve: point is not on the curve");
    assert_skipped(with(EC_P256_JWK, "crv", "\"P-192\""),
                   "key ec-p256: unsupported curve P-192");
    assert_skipped(with(EC_P256_JWK, "crv", "\"secp256k1\""),
                   "key ec-p256: unsupported curve secp256k1");
    assert_skipped(with(EC_P256_JWK, "crv", NULL),
                   "key ec-p256: crv is missing or not a string");
    /* P-256's coordinates given as P-384's: padded (libraries drop
     * leading zeros), then not a point of P-384 */
    assert_skipped(with(EC_P256_JWK, "crv", "\"P-384\""),
                   "key ec-p256: point is not on the curve");
    assert_skipped(with(EC_P256_JWK, "x", "\"AAAA\""),
                   "key ec-p256: point is not on the curve");
    /* longer than the field */
    assert_skipped(with(EC_P256_JWK, "x",
                        "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\""),
                   "key ec-p256: x and y are not 32 bytes each");
    assert_skipped(with(EC_P256_JWK, "y", NULL),
                   "key ec-p256: y is missing or not a string");
    /* the point at infinity's all-zero spelling */
    assert_skipped(with(with(EC_P256_JWK, "x", "\"" K32 "\""), "y",
                        "\"" K32 "\""),
                   "key ec-p256: point is not on the curve");
}

static void test_okp(void **state)
{
    const apigw_jwk *k;

    (void)state;
    assert_null(parse(ED25519_JWK));
    assert_int_equal(keys->nelts, 1);
    k = key_at(0);
    assert_int_equal(k->kty, APIGW_KTY_OKP);
    assert_string_equal(k->crv, "Ed25519");
    assert_string_equal(k->kid, "ed-1");
    assert_verifies(k->pkey, NULL, 0, ED25519_SIG);

    assert_null(parse(ED448_JWK));
    k = key_at(0);
    assert_int_equal(k->kty, APIGW_KTY_OKP);
    assert_string_equal(k->crv, "Ed448");
    assert_verifies(k->pkey, NULL, 0, ED448_SIG);

    assert_skipped(with(ED25519_JWK, "crv", "\"X25519\""),
                   "key ed-1: unsupported curve X25519");
    assert_skipped(with(ED25519_JWK, "crv", "\"Ed448\""),
                   "key ed-1: x is not 57 bytes");
    assert_skipped(with(ED25519_JWK, "x", "\"" K16 "\""),
                   "key ed-1: x is not 32 bytes");
}

static void test_oct(void **state)
{
    const apigw_jwk *k;
    size_t i;

    (void)state;
    assert_null(parse("{\"kty\":\"oct\",\"kid\":\"h1\",\"alg\":\"HS256\","
                      "\"k\":\"" K32 "\"}"));
    assert_int_equal(keys->nelts, 1);
    k = key_at(0);
    assert_int_equal(k->kty, APIGW_KTY_OCT);
    assert_string_equal(k->kid, "h1");
    assert_string_equal(k->alg, "HS256");
    assert_null(k->pkey);
    assert_null(k->crv);
    assert_int_equal(k->secret_len, 32);
    for (i = 0; i < 32; i++) {
        assert_int_equal(k->secret[i], i);
    }
    assert_skipped("{\"kty\":\"oct\",\"kid\":\"h2\",\"k\":\"" K16 "\"}",
                   "key h2: HMAC secret of 16 bytes is below 32");
    /* stray low bits in the last character */
    assert_skipped("{\"kty\":\"oct\",\"kid\":\"h3\",\"k\":\""
                   "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9\"}",
                   "key h3: k is not base64url");
    assert_skipped("{\"kty\":\"oct\",\"kid\":\"h4\",\"k\":\"" K32 "=\"}",
                   "key h4: k is not base64url");
}

static void test_purpose(void **state)
{
    (void)state;
    assert_skipped(with(EC_P256_JWK, "use", "\"enc\""),
                   "key ec-p256: not for signatures (use)");
    assert_skipped(with(EC_P256_JWK, "use", "1"),
                   "key ec-p256: not for signatures (use)");
    assert_skipped(with(EC_P256_JWK, "key_ops", "[\"sign\",\"encrypt\"]"),
                   "key ec-p256: not for verification (key_ops)");
    assert_skipped(with(EC_P256_JWK, "key_ops", "\"verify\""),
                   "key ec-p256: key_ops is not an array");
    assert_skipped(with(EC_P256_JWK, "key_ops", "[\"verify\",2]"),
                   "key ec-p256: key_ops holds a non-string");
    assert_skipped(with(EC_P256_JWK, "alg", "256"),
                   "key ec-p256: alg is not a string");
    assert_skipped(with(EC_P256_JWK, "kid", "7"),
                   "key #1: kid is not a string");
    assert_skipped(with(EC_P256_JWK, "kty", "\"DSA\""),
                   "key ec-p256: unsupported key type DSA");
    assert_string_equal(parse(with(EC_P256_JWK, "kty", NULL)),
                        "not a JWK set, a JWK or PEM");
    /* use "sig" and key_ops with "verify" are fine */
    assert_null(parse(with(with(EC_P256_JWK, "use", "\"sig\""), "key_ops",
                           "[\"sign\",\"verify\"]")));
    assert_int_equal(keys->nelts, 1);
}

static void test_private_jwk(void **state)
{
    (void)state;
    assert_null(parse(EC_P256_PRIVATE_JWK));
    assert_int_equal(keys->nelts, 1);
    assert_int_equal(skipped->nelts, 1);
    assert_string_equal(skipped_at(0), "key ec-private: holds private "
                        "material; only its public part is used");
    assert_int_equal(key_at(0)->kty, APIGW_KTY_EC);
    assert_verifies(key_at(0)->pkey, EVP_sha256(), 0, EC_P256_SIG);
    /* an oct key is all secret: no such line */
    assert_null(parse("{\"kty\":\"oct\",\"d\":\"x\",\"k\":\"" K32 "\"}"));
    assert_int_equal(skipped->nelts, 0);
}

static void test_mixed_set(void **state)
{
    (void)state;
    assert_null(parse(set_of(RSA1024_JWK, RSA2048_JWK, EC_OFF_CURVE_JWK,
                             "{\"kty\":\"oct\",\"k\":\"" K16 "\"}",
                             ED25519_JWK, "5", "{\"kty\":\"XYZ\"}",
                             with(EC_P384_JWK, "use", "\"enc\""),
                             "{\"kid\":\"bad\\u0001kid\",\"kty\":\"EC\"}",
                             NULL)));
    assert_int_equal(keys->nelts, 2);
    assert_string_equal(key_at(0)->kid, "rsa-1");
    assert_string_equal(key_at(1)->kid, "ed-1");
    assert_int_equal(skipped->nelts, 7);
    assert_string_equal(skipped_at(0),
                        "key rsa-small: RSA key of 1024 bits is below 2048");
    assert_string_equal(skipped_at(1),
                        "key ec-off-curve: point is not on the curve");
    assert_string_equal(skipped_at(2),
                        "key #4: HMAC secret of 16 bytes is below 32");
    assert_string_equal(skipped_at(3), "key #6: not a JSON object");
    assert_string_equal(skipped_at(4), "key #7: unsupported key type XYZ");
    assert_string_equal(skipped_at(5),
                        "key ec-p384: not for signatures (use)");
    /* a kid that is not printable is not echoed */
    assert_string_equal(skipped_at(6),
                        "key #9: crv is missing or not a string");
    /* skipped may be NULL */
    keys = apr_array_make(pool, 1, sizeof(apigw_jwk *));
    assert_string_equal(apigw_jwk_parse(pool, RSA1024_JWK,
                                        strlen(RSA1024_JWK), keys, NULL),
                        "no usable key: key rsa-small: RSA key of 1024 "
                        "bits is below 2048");
    /* several skipped: the first, and how many more */
    assert_string_equal(parse(set_of(RSA1024_JWK, EC_OFF_CURVE_JWK, "1",
                                     NULL)),
                        "no usable key: key rsa-small: RSA key of 1024 "
                        "bits is below 2048 (and 2 more)");
}

static void test_pem(void **state)
{
    const apigw_jwk *k;

    (void)state;
    assert_null(parse(EC_P256_PEM));
    assert_int_equal(keys->nelts, 1);
    k = key_at(0);
    assert_int_equal(k->kty, APIGW_KTY_EC);
    assert_string_equal(k->crv, "P-256");
    assert_int_equal(k->bits, 256);
    assert_null(k->kid);
    assert_null(k->alg);
    assert_verifies(k->pkey, EVP_sha256(), 0, EC_P256_SIG);

    assert_null(parse(RSA_PKCS1_PEM));
    k = key_at(0);
    assert_int_equal(k->kty, APIGW_KTY_RSA);
    assert_int_equal(k->bits, 3072);
    assert_verifies(k->pkey, EVP_sha384(), 0, RSA_PKCS1_SIG);

    assert_null(parse(CERT_PEM));
    k = key_at(0);
    assert_int_equal(k->kty, APIGW_KTY_RSA);
    assert_int_equal(k->bits, 2048);
    assert_verifies(k->pkey, EVP_sha256(), 1, CERT_SIG);
}

static void test_pem_mixed(void **state)
{
    (void)state;
    /* text around the blocks, a private key, an unsupported block */
    assert_null(parse(apr_pstrcat(pool, "subject=CN = apigw test\n",
                                  EC_P256_PRIVATE_PEM, "\n", CERT_PEM,
                                  "-----BEGIN EC PARAMETERS-----\n"
                                  "BggqhkjOPQMBBw==\n"
                                  "-----END EC PARAMETERS-----\n",
                                  RSA_PKCS1_PEM, NULL)));
    assert_int_equal(keys->nelts, 2);
    assert_int_equal(key_at(0)->bits, 2048);
    assert_int_equal(key_at(1)->bits, 3072);
    assert_verifies(key_at(0)->pkey, EVP_sha256(), 1, CERT_SIG);
    assert_verifies(key_at(1)->pkey, EVP_sha384(), 0, RSA_PKCS1_SIG);
    assert_int_equal(skipped->nelts, 2);
    assert_string_equal(skipped_at(0),
                        "PEM block 1: private keys are not used");
    assert_string_equal(skipped_at(1),
                        "PEM block 3: unsupported block EC PARAMETERS");
    /* only a private key */
    assert_string_equal(parse(EC_P256_PRIVATE_PEM),
                        "no usable key: PEM block 1: private keys are not "
                        "used");
    /* a block whose DER is not the key it claims */
    assert_string_equal(parse("-----BEGIN PUBLIC KEY-----\n"
                              "BggqhkjOPQMBBw==\n"
                              "-----END PUBLIC KEY-----\n"),
                        "no usable key: PEM block 1: malformed key");
    /* a certificate's label around a public key's DER */
    assert_non_null(parse(apr_pstrcat(pool, "-----BEGIN CERTIFICATE-----",
                                      strchr(EC_P256_PEM, '\n'), NULL)));
    assert_int_equal(keys->nelts, 0);
}

static void test_not_keys(void **state)
{
    static const char *const bad[] = {
        "hello", "   ", "[1,2]", "{}", "{\"a\":1}", "{bad json",
        "{\"keys\":5}", "{\"kty\":\"oct\"} trailing",
        "{\"kty\":\"oct\",\"kty\":\"oct\",\"k\":\"" K32 "\"}",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_non_null(parse(bad[i]));
        assert_int_equal(strncmp(why, "not a JWK set, a JWK or PEM", 27), 0);
        assert_int_equal(keys->nelts, 0);
    }
    assert_string_equal(parse("-----BEGIN PUBLIC KEY-----\nnot base64\n"),
                        "no usable key: PEM block 1: malformed PEM");
    keys = apr_array_make(pool, 1, sizeof(apigw_jwk *));
    assert_non_null(apigw_jwk_parse(pool, "", 0, keys, NULL));
    assert_non_null(apigw_jwk_parse(pool, NULL, 0, keys, NULL));
    /* a NUL inside the JSON */
    assert_non_null(apigw_jwk_parse(pool, "{\"keys\":[]}\0", 12, keys, NULL));
    assert_int_equal(keys->nelts, 0);
}

static void test_empty_set(void **state)
{
    (void)state;
    assert_string_equal(parse("{\"keys\":[]}"),
                        "no usable key: the set is empty");
    assert_string_equal(parse(" \n\t{\"keys\":[]}\r\n"),
                        "no usable key: the set is empty");
}

static void test_large(void **state)
{
    apr_array_header_t *parts = apr_array_make(pool, 20000, sizeof(char *));
    const char *text;
    int i, n = 0;

    (void)state;
    /* about 1 MB: a set of 10000 EC keys and HMAC secrets */
    for (i = 0; i < 10000; i++) {
        APR_ARRAY_PUSH(parts, const char *) = i % 2
            ? with(EC_P256_JWK, "kid", apr_psprintf(pool, "\"ec-%d\"", i))
            : apr_psprintf(pool, "{\"kty\":\"oct\",\"kid\":\"h-%d\","
                           "\"k\":\"" K32 "\"}", i);
        APR_ARRAY_PUSH(parts, const char *) = ",";
    }
    parts->nelts--;
    text = apr_pstrcat(pool, "{\"keys\":[", apr_array_pstrcat(pool, parts, 0),
                       "]}", NULL);
    assert_true(strlen(text) > 1000000);
    assert_null(parse(text));
    assert_int_equal(keys->nelts, 10000);
    assert_int_equal(skipped->nelts, 0);
    assert_string_equal(key_at(9999)->kid, "ec-9999");
    assert_verifies(key_at(9999)->pkey, EVP_sha256(), 0, EC_P256_SIG);

    /* about 1 MB of PEM: public keys and certificates */
    apr_array_clear(parts);
    for (i = 0; i < 2000; i++) {
        APR_ARRAY_PUSH(parts, const char *) = i % 4 ? EC_P256_PEM : CERT_PEM;
        APR_ARRAY_PUSH(parts, const char *) = EC_P256_PRIVATE_PEM;
        n += 1;
    }
    text = apr_array_pstrcat(pool, parts, 0);
    assert_true(strlen(text) > 1000000);
    assert_null(parse(text));
    assert_int_equal(keys->nelts, n);
    assert_int_equal(skipped->nelts, n);
    assert_verifies(key_at(0)->pkey, EVP_sha256(), 1, CERT_SIG);

    /* a megabyte of one line of garbage, and of blanks before a key */
    {
        char *junk = apr_palloc(pool, 1000001);

        memset(junk, 'A', 1000000);
        junk[1000000] = '\0';
        assert_non_null(parse(junk));
        memset(junk, ' ', 1000000);
        assert_null(parse(apr_pstrcat(pool, junk, ED25519_JWK, NULL)));
        junk[999999] = '\n';
        assert_null(parse(apr_pstrcat(pool, junk, EC_P256_PEM, NULL)));
    }
}

static void test_secret(void **state)
{
    unsigned char s[40];
    const char *w = NULL;
    apigw_jwk *k;

    (void)state;
    memset(s, 'x', sizeof(s));
    assert_null(apigw_jwk_secret(pool, s, 31, &w));
    assert_string_equal(w, "HMAC secret of 31 bytes is below 32");
    assert_null(apigw_jwk_secret(pool, s, 0, NULL));
    assert_null(apigw_jwk_secret(pool, NULL, 40, &w));
    k = apigw_jwk_secret(pool, s, 40, &w);
    assert_non_null(k);
    assert_int_equal(k->kty, APIGW_KTY_OCT);
    assert_int_equal(k->secret_len, 40);
    assert_ptr_not_equal(k->secret, s);
    assert_memory_equal(k->secret, s, 40);
    assert_null(k->pkey);
    assert_null(k->kid);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_rsa),
        T(test_rsa_refused),
        T(test_ec),
        T(test_ec_short_coordinate),
        T(test_ec_refused),
        T(test_okp),
        T(test_oct),
        T(test_purpose),
        T(test_private_jwk),
        T(test_mixed_set),
        T(test_pem),
        T(test_pem_mixed),
        T(test_not_keys),
        T(test_empty_set),
        T(test_large),
        T(test_secret),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
