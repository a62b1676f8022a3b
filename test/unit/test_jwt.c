/* sources: mod_apigw_auth/apigw_jwt.c mod_apigw_auth/apigw_jwt_verify.c mod_apigw_auth/apigw_b64url.c */
/* libs: -ljansson -lcrypto */
/* Unit tests for mod_apigw_auth/apigw_jwt.c and apigw_jwt_verify.c:
 * strict base64url, decoding and its refusals, claim lookups, scopes and
 * claim text; the algorithm names, which key fits which algorithm, key
 * picking, a real signature of every algorithm (keys and tokens made with
 * PyJWT 2.6 and python3-cryptography, public keys pasted below), the
 * usual attacks (alg none, HS256 keyed with an RSA public key, stripped
 * or re-encoded signatures, a kid naming another key type, small RSA),
 * and the registered claims with leeway and absurd values. The keys are
 * built by hand here, without apigw_jwk.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#define UNIT_POOL
#include "unit_apr.h"

#include <apr_strings.h>
#include <apr_tables.h>
#include <apr_time.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "apigw_jwt.h"
#include "apigw_jwt_verify.h"

/* ---- keys and tokens (python3: jwt.encode, cryptography) ---- */

static const char PEM_RSA2048[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAtiCUDhEnAAvJjQpodQBi\n"
    "QNgRIVJIEQStOUCGufgRpG/DrGMooYtbbVjrYRHeuI8cWPcThptr6foyu7gvQVqg\n"
    "A+pvkfuIKPpuj5dkILl5NFMBjxO+7T6sYJc10xRuG7YdRmoxpn07yC9vXbThy84O\n"
    "ekYwQWtfOL+azlX/FwEbzX0GLcizroomA99OJUGhj6z7EjbTy25NAfBnrQK0zK0O\n"
    "9Lwq0Zhkju4GQ09Za+Jm8OXZkV4BjSpIYyzlcakQVBOij2bcmbkiO1koOg4pQfh7\n"
    "jTS5v2tqH8M3v+Ic8BqonAizlGf1qKIHwdZ4XpjAjXMBZtzUoycbQhyw5GxsXCN3\n"
    "lwIDAQAB\n"
    "-----END PUBLIC KEY-----\n";

static const char PEM_RSA1024[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQD2f4TDuugjFn/HsHbcJndmDRQa\n"
    "kSD84dkTfCbnrWdGHtPUsmpHx3GTjMfjWtCcySD32+ReHdYO58ZSnJ8vaMkmhwNK\n"
    "F3i2xr43y8vjLxR58oeQeMqnmuPprvQi88JKRLH6Z4CFCAQhXCfmsFWDRhWs8tOD\n"
    "WWcQ3vfz291EKPZKUQIDAQAB\n"
    "-----END PUBLIC KEY-----\n";

static const char PEM_EC256[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEFHd47Mplr9uUTKRqNN/n/fhwkar9\n"
    "YBV94BjFP9ycUR9Q4DARHLqGtkICqOyWs7ELqfWh6w1n/Kzfq9jVPvYVdQ==\n"
    "-----END PUBLIC KEY-----\n";

static const char PEM_EC384[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEW+cQSBxlrVcQJW6uTmuFsyroYqdlx4tf\n"
    "QR/WCIztgz9Zs3XEvZkF5f8Uw0jWQYLPZR7FwrxV6MCI5aP/FfmKjNhhhC6Rw0gA\n"
    "UYT7WsvF3BE9z3wGzQI3w2ngfR9GvE+A\n"
    "-----END PUBLIC KEY-----\n";

static const char PEM_EC521[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIGbMBAGByqGSM49AgEGBSuBBAAjA4GGAAQAQtLC5F77SlY/DRQI05FbCbybYfiy\n"
    "OoiprgQdng6cKHWLz2aAFCmNKhM3X0APdwPiM5wwWSNq7xtBmBRXUHJ9eGwBvo2j\n"
    "MktUl8OGNjpfTXiT71BoRa+aUF8GDTAe40saCo9P+fEMnruWC0YHU+fFyqj53fxs\n"
    "dKD9gqh7wk9Y9pW4A+g=\n"
    "-----END PUBLIC KEY-----\n";

static const char PEM_ED25519[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MCowBQYDK2VwAyEAlMwpf3/08mbxfwTtLX1emmoH9e4Z3AnXKdfx9hUk3tM=\n"
    "-----END PUBLIC KEY-----\n";

static const char PEM_ED448[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MEMwBQYDK2VxAzoAm5JbLuprw1Cv+JgUKEPPvnBfI9Zm53RKKr5D8pW6ocbiRWm9\n"
    "x3nG93oyrfieqmCXTlu4yTx48CGA\n"
    "-----END PUBLIC KEY-----\n";

static const char HMAC_SECRET[] =
    "a-64-byte-hmac-secret-for-the-unit-tests-of-mod_apigw_auth-0123.";

static const char TOK_RS256[] =
    "eyJhbGciOiJSUzI1NiIsImtpZCI6InJzYSIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ"
    "hbGljZSIsImlzcyI6Imh0dHBzOi8vaXNzdWVyLmV4YW1wbGUiLCJhdWQiOiJhcGk"
    "ifQ.Yi7mz8ZyLje2p9VrpbRylr1Bnjx2O_yoL_HpUGUTF4gVPPD3mGzlF9AfV52_"
    "W-I21y0uN5iz8c1ORQLDytE_7haSSlJegV0KH1jt2H75xtPobWyhikz2GNyLyY7f"
    "AC3kYcFtAfwUMSol14Qj2PH256THvOnKNnbPwS0-1tWU6GlUVES6kUv8tpc_vNB9"
    "4f29_jDr06oizhIhfyuv8BwzkckmEO1P4zt1jXE0eRFNu8qTxaLx_z2aotOaVke4"
    "08ybRkEaApEm__CrI60MMRjunSsVoYsWPcTTPhP7Go3uJcQqj4ll4BtriUPWPqpy"
    "MM3UMZJwpz0q-x5CBVU9M_CRHQ";

static const char TOK_RS256_NOKID[] =
    "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImlzcyI"
    "6Imh0dHBzOi8vaXNzdWVyLmV4YW1wbGUiLCJhdWQiOiJhcGkifQ.eLaChqywWUiJ"
    "sSeCC1Xn2YnfvXy5pOKgMwbmYZ5-iMf1j76UdTvHSo0WC3I0Ymflb4u0tyenQlgc"
    "jhx3Ao1n0FeUeeMU7J0BY6yZK8pH-AWUk5p3q5gVcgmWACEOCxpXmhgwvGFqYIP-"
    "eYJWKYU97w5vPc9s7k8vM4o2YvmZarUbvlOYDgv_xmvjPv2Qdl8dgr0iG7vwpU2L"
    "2g5b3hBihJ25rzNIIN3M7Bystylytt7Xf65e1P-e6H15CuuqdbMgSQ6o5QL7poV0"
    "A-vEJVJ3bA-qBbYJSJXgKfUHL0jB1CoO6Xjde-0eab0q-K_sXdgN_d_VER30VmaC"
    "NISxZwvSPQ";

static const char TOK_RS384[] =
    "eyJhbGciOiJSUzM4NCIsImtpZCI6InJzYSIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ"
    "hbGljZSIsImlzcyI6Imh0dHBzOi8vaXNzdWVyLmV4YW1wbGUiLCJhdWQiOiJhcGk"
    "ifQ.ZlHKTvSWRiLvml4t10ctexulzmgl8Y5SpN3ZVXLHhVsdZW16iu8cJlS1jdla"
    "WliC4GlXYlo9p3BIzZOiQe4TJlKI69e_H8vZo-Hmk6PnfmC3bg4e_091yJ1U-QxL"
    "u3qa54Dx71tMDWRXvwupHnkdBib-tmDbfPMAhESpfTMMV85rU9e_X-4wlhQ3tPhs"
    "7DvwTOyxsl7yPR5FANvEjD7CphKIxzk2MBBtoVCVld3BKt6tDEypS9nIA0GHkF0D"
    "zk4ZY4i2uDFMBK91LSGOEjf9fbX2e6Uja2CXDpFvY37pwWVEKNmWo236V-CghkwI"
    "Quy2ygYNTNVW9TmTlcOfHCb7gw";

static const char TOK_RS512[] =
    "eyJhbGciOiJSUzUxMiIsImtpZCI6InJzYSIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ"
    "hbGljZSIsImlzcyI6Imh0dHBzOi8vaXNzdWVyLmV4YW1wbGUiLCJhdWQiOiJhcGk"
    "ifQ.rH4TeupHPNZIFuC8VRnyZG1BKe75jVPneBWhpWyXuuJ6b85o1EsXqjLd7ZuI"
    "aLoHGSwGysRYnv7gig1-IcoJnMaeWU7iwt2bWDeVKvdebt9MfvXq5r_vyMzKtECV"
    "0M2gPn1Z8u6fJ9kQeQ_MTBQbXPcoRDMDWp4YEdXHAhIYefAiczzzXzgVHcYTOaPn"
    "QB3VKBI91kEilfEoItPQpEzKj3vs6rLWU1Vj5I8k10_RQSy_xs6K-FRR487G1UQj"
    "w96J4AarPTDs3VOE6336_UcfP6iF-P1iAHlo9OjXVDT1t-KGaH-yyD23XjejmxMs"
    "H0eohs7tp6-qEUye3eSOssjV7w";

static const char TOK_PS256[] =
    "eyJhbGciOiJQUzI1NiIsImtpZCI6InJzYSIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ"
    "hbGljZSIsImlzcyI6Imh0dHBzOi8vaXNzdWVyLmV4YW1wbGUiLCJhdWQiOiJhcGk"
    "ifQ.YSQOBSwB3vD3Y8TOPS56FiAYEOe-R0Kb2ltyrUh8RZd3pKx9gcs-QlHGu_bQ"
    "sc45BrjsflDs23id_7sRTUWa7a5bMlCQax5PK-iSTnue51fC1Y2bGu2Yakym_b5T"
    "PvXMfK8ywWUs62oJFQ3kQh01DUQeA-R2YfwbM7u3y2q34C9VwlcDIQvUqE7WSBbl"
    "FHvma9rN9N4yh--OV2R12rXr_VIYBilnQ-72SHZe14aD1TrFv3r53bnsj8lzbye6"
    "3EuuxtziohGdl6FsZQ83iHMyGOHFOyz3DsFk07NpfvMxcdTE0Yyu9u8xmwCqr3Ew"
    "SL1vjBH-VhgAVKEHAEqscnFxmw";

static const char TOK_PS384[] =
    "eyJhbGciOiJQUzM4NCIsImtpZCI6InJzYSIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ"
    "hbGljZSIsImlzcyI6Imh0dHBzOi8vaXNzdWVyLmV4YW1wbGUiLCJhdWQiOiJhcGk"
    "ifQ.DUY5SaO_8amtQxYukyazGoWgCQURFV1ijtoTw4qYlNx4DD3XLRw4SPNqHVI2"
    "UNUVa5G8uf7uqgFiEFZbXCxpb9iP7dsQT0OTxWlDHZ3D3FYLTzM9Gp0k_-rE8UHJ"
    "ulWn9u1_cCk39Bv6yLb635EufBhVKG0VIcwn8v0RDv3PMfGIXXfAzmu1TWkCYaFL"
    "XmWpiLtNXTF3qtpvsldZGdRivVUj8RbgklsuIbwiT6GTsBa5lKNXZHejRtrGGefm"
    "CmMV5lsreWsBGNLxou3cOx3Drs5FYeJGGQUhMXKkjxkWt7QwWnoVmLp_iB0G_-Ai"
    "DBra2rY-WLfjuviFaGA5fG85ZQ";

static const char TOK_PS512[] =
    "eyJhbGciOiJQUzUxMiIsImtpZCI6InJzYSIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ"
    "hbGljZSIsImlzcyI6Imh0dHBzOi8vaXNzdWVyLmV4YW1wbGUiLCJhdWQiOiJhcGk"
    "ifQ.HZXRfF8Z7zzLZID6QnhqpUvEeuVi37xeEXGbVhL0ijy8ktOGEE7Atmx0clUQ"
    "0ef3GV0ZvBFtIPIkdnzfRREpPVkc_shKUpxQcS7NyjGci66bhCnFCSG3fB7X94cm"
    "ezHuc82RmTyuKYIiBAl2RJ9uEDUkgTg3IsJoajOphxamU-QDXpbfC1rEdM-2ZU6K"
    "LIfoRWU9nHcUPD8sQM3fqWaN2jT6tpEFhenzM5KQkihsZq3hJftfzFHEd9LioJoN"
    "-IXlk5OihkNOMXUz-Nro3G4GFCjSjkT8SvrAumR_wMGkyhE02GUPIBjI6EW4nTnG"
    "tcjVgIiNwKHUVpNFxlyA-IVgYA";

static const char TOK_ES256[] =
    "eyJhbGciOiJFUzI1NiIsImtpZCI6ImVjMjU2IiwidHlwIjoiSldUIn0.eyJzdWIi"
    "OiJhbGljZSIsImlzcyI6Imh0dHBzOi8vaXNzdWVyLmV4YW1wbGUiLCJhdWQiOiJh"
    "cGkifQ.Lj4EM7e7R02-1T5DRMSDcRrI3vi6rOxpGW65Jy1IySchw5PqAZ0rx6ycy"
    "3huqjoB8-SfB3fuakEdjfFPwrQrPg";

static const char TOK_ES384[] =
    "eyJhbGciOiJFUzM4NCIsImtpZCI6ImVjMzg0IiwidHlwIjoiSldUIn0.eyJzdWIi"
    "OiJhbGljZSIsImlzcyI6Imh0dHBzOi8vaXNzdWVyLmV4YW1wbGUiLCJhdWQiOiJh"
    "cGkifQ.Cpdr7fgzTOvX-uZvweKWAR0Pb8HpTQGEGznVdlBeRF0sZGKWar3jkCotD"
    "S-q3M0hLitUWg5bf-ZWIIF2l6Zu8ytXI1fVa5YANNEw0dpCq4RFegAi2_uLaDewJ"
    "JCVodes";

static const char TOK_ES384_NOKID[] =
    "eyJhbGciOiJFUzM4NCIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImlzcyI"
    "6Imh0dHBzOi8vaXNzdWVyLmV4YW1wbGUiLCJhdWQiOiJhcGkifQ.CZSgEx6ERRNP"
    "nVvZDTQVhWQKnQS2dYiRKzN7r98DYovI3HigbZaVy9aJ0N-XrPVWBO3ZmvUStwfr"
    "2A_5dL1J0Ax-jsrQ2gVdlYr3QnNJ8BzvlqXN9cNLN7Ys1QzUH4q8";

static const char TOK_ES512[] =
    "eyJhbGciOiJFUzUxMiIsImtpZCI6ImVjNTIxIiwidHlwIjoiSldUIn0.eyJzdWIi"
    "OiJhbGljZSIsImlzcyI6Imh0dHBzOi8vaXNzdWVyLmV4YW1wbGUiLCJhdWQiOiJh"
    "cGkifQ.AQOQO4WbkHAD9JD5S7dIEIkRch_gA1HcK6VkMohdScHQCjG-Fv6in953K"
    "ExQut0bPdnLzpIgRu7hLIzUMqWbUwJvAcOYTV_5n7WrLaq7vFBOSe2O1-eNNhOeu"
    "cG-QyUHHdl2YzPCG4bCeM9ozHkVsuJD--lWxrOBqg1QO7vl1GeDtdR3";

static const char TOK_EDDSA[] =
    "eyJhbGciOiJFZERTQSIsImtpZCI6ImVkMjU1MTkiLCJ0eXAiOiJKV1QifQ.eyJzd"
    "WIiOiJhbGljZSIsImlzcyI6Imh0dHBzOi8vaXNzdWVyLmV4YW1wbGUiLCJhdWQiO"
    "iJhcGkifQ.1JxW6_QjpDepcZJmiyzPcHJpDexzUc2QwneYGWVrj7cC4lLUsrFbuO"
    "kxUZLxpbah64ZQFvzICNt7JjyPOHNSBQ";

static const char TOK_EDDSA_448[] =
    "eyJhbGciOiJFZERTQSIsImtpZCI6ImVkNDQ4IiwidHlwIjoiSldUIn0.eyJzdWIi"
    "OiJhbGljZSIsImlzcyI6Imh0dHBzOi8vaXNzdWVyLmV4YW1wbGUiLCJhdWQiOiJh"
    "cGkifQ.C3pEW8uZvJ0F_rmb6mcvtuFVntdO7cg2gNkLGM8NCqZHW1dwKYAUNMAnV"
    "QFCdU0MWuFdUsTDnn-AVMdgLHEmF0GJ2oDQrLzWPJ1OrXcp0PesOebAD4_pbv7ZR"
    "vKqk40f4xQN8sfoCLNolrRKUbTWSjMA";

static const char TOK_HS256[] =
    "eyJhbGciOiJIUzI1NiIsImtpZCI6ImhzIiwidHlwIjoiSldUIn0.eyJzdWIiOiJh"
    "bGljZSIsImlzcyI6Imh0dHBzOi8vaXNzdWVyLmV4YW1wbGUiLCJhdWQiOiJhcGki"
    "fQ.Ak3lxnuwVDxlJX4MFtORaMykksXAp7WBCcZAZqTDNBE";

static const char TOK_HS256_NOKID[] =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImlzcyI"
    "6Imh0dHBzOi8vaXNzdWVyLmV4YW1wbGUiLCJhdWQiOiJhcGkifQ.G7ORPNy8BbKM"
    "E_w06E8QpbztseFx4NUAFdKsK_10_BE";

static const char TOK_HS384[] =
    "eyJhbGciOiJIUzM4NCIsImtpZCI6ImhzIiwidHlwIjoiSldUIn0.eyJzdWIiOiJh"
    "bGljZSIsImlzcyI6Imh0dHBzOi8vaXNzdWVyLmV4YW1wbGUiLCJhdWQiOiJhcGki"
    "fQ.gNgqAnMdJwpeItbkOatHkEXemMK9kuw9D4aa8AET9gLvP9hJpQ8yLACaN9Gwy"
    "GsP";

static const char TOK_HS512[] =
    "eyJhbGciOiJIUzUxMiIsImtpZCI6ImhzIiwidHlwIjoiSldUIn0.eyJzdWIiOiJh"
    "bGljZSIsImlzcyI6Imh0dHBzOi8vaXNzdWVyLmV4YW1wbGUiLCJhdWQiOiJhcGki"
    "fQ.3i3-C_PckF24wMzRM0k76OSEdpBOCUDy3S5LI4AiAyUl6sCqfm0nOUiaGNqYe"
    "oUHSbuJ5rtkIBPspVrPPG4GpA";

static const char TOK_RS256_1024[] =
    "eyJhbGciOiJSUzI1NiIsImtpZCI6InJzYS1zbWFsbCIsInR5cCI6IkpXVCJ9.eyJ"
    "zdWIiOiJhbGljZSIsImlzcyI6Imh0dHBzOi8vaXNzdWVyLmV4YW1wbGUiLCJhdWQ"
    "iOiJhcGkifQ.eTCtKO6kXyT7xm_6RVrXkrf14q7Ja2drYVRNotc4Qin7NoqCwRKw"
    "Gz1DETwS_kDLJh0lHfQBYiGnnWHUCT9dGqvD5oUmoi-JiGgr9KLqHi9HAsBTuG4S"
    "bJh-fieMiV4Vglmb4k_49d_n73V0i-8U3t5ogL_dMjf5JOZZ2wlOaSE";

static const char TOK_HS256_RSA_PEM[] =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6InJzYSJ9.eyJzdWIiOiJ"
    "hbGljZSIsImlzcyI6Imh0dHBzOi8vaXNzdWVyLmV4YW1wbGUiLCJhdWQiOiJhcGk"
    "ifQ.H_uNXsAsn3H9HN15JvaFGYcxYFst3AFEqu7_rc02cw8";

static const char TOK_HS256_RSA_PEM_NOKID[] =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImlzcyI"
    "6Imh0dHBzOi8vaXNzdWVyLmV4YW1wbGUiLCJhdWQiOiJhcGkifQ.Y_qskl43jbII"
    "L5ZUjLwNkwJDdkA8BQWdiUS7XHevItI";

static const char TOK_ES256_DER[] =
    "eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImVjMjU2In0.eyJzdWIi"
    "OiJhbGljZSIsImlzcyI6Imh0dHBzOi8vaXNzdWVyLmV4YW1wbGUiLCJhdWQiOiJh"
    "cGkifQ.MEYCIQDX-uVDeu6TO-M3VRJ15Yp62Yw12FmWyQOtmvJp_hJVnQIhAJUSd"
    "H-zh5_Ka15AThKC2D7pY-OSAnqewAoVQMfG_ZuO";

static const char TOK_PS256_MAXSALT[] =
    "eyJhbGciOiJQUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6InJzYSJ9.eyJzdWIiOiJ"
    "hbGljZSIsImlzcyI6Imh0dHBzOi8vaXNzdWVyLmV4YW1wbGUiLCJhdWQiOiJhcGk"
    "ifQ.Xv1dWuUndplcqjzoKVz3dtyvHqNIupwM3Yd8t9cdJa5yMKP-QihsgP8C4qY0"
    "2VWh3L7CggkewbEi544QhDZ7jYdBseHtuYkVCSh3hFiUjlCK98faXkJa0zCdHsz7"
    "1KB_R6un0hSMRNTBf7jd4ge_zUZ9cxs1EzLXIglv7C1BIpTMixwjgQbMIdTMFYKV"
    "B5EJ5mMhYTEzc8qkT7vfpK72R8YiYodkIZGkID_IHgIyZ_BP6JOh3RMzQdJ1lhQO"
    "AiUVZ0ZEC6Bs9nhO12VjrRgYe20GOuEVMiowIw9CpE4OLAznxWLoczN8bgYAob23"
    "5lc3BgL34W79hxlnFPgzJrZJAA";

static const char TOK_RS256_KID_EC[] =
    "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImVjMjU2In0.eyJzdWIi"
    "OiJhbGljZSIsImlzcyI6Imh0dHBzOi8vaXNzdWVyLmV4YW1wbGUiLCJhdWQiOiJh"
    "cGkifQ.IAjasiRZCf4-e4Vh9IETBSEXeGfvLGf9GPhs1z2dlFT5LIcScuXcvpYdP"
    "5oGlpc93LFVW_mGHyk6fYVXcCG7-efpaJpM_kduIH_8gZqOfVVeGQB0ZKL4cP2vK"
    "jSQSHSFTRWXUqGV806slH2ozEecZoTLC--332oRarhdZW8tSyPyal-ijDCjZ_n_b"
    "_4_AfYqQT0BRv1jwFYjVRuZadvf9hh9srEZP_16jkEDukuqkOdPIl7sxdyuoflBl"
    "_g-dW9wpeO7PO38wL-Y1V9Rk_d4qWxB1QBmRRJc812yUeLe2y1lb3Ebbt2RKSqo2"
    "vfzywsy_zXzbnEbt9OmQ70snIVGaA";

/* ---- helpers ---- */

static const char B64URL[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Unpadded base64url of in[0..len), from pool. */
static char *b64url(const void *in, size_t len)
{
    const unsigned char *s = in;
    char *out = apr_palloc(pool, len / 3 * 4 + 5), *o = out;
    size_t i;

    for (i = 0; i + 2 < len; i += 3) {
        *o++ = B64URL[s[i] >> 2];
        *o++ = B64URL[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
        *o++ = B64URL[((s[i + 1] & 15) << 2) | (s[i + 2] >> 6)];
        *o++ = B64URL[s[i + 2] & 63];
    }
    if (len - i == 1) {
        *o++ = B64URL[s[i] >> 2];
        *o++ = B64URL[(s[i] & 3) << 4];
    }
    else if (len - i == 2) {
        *o++ = B64URL[s[i] >> 2];
        *o++ = B64URL[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
        *o++ = B64URL[(s[i + 1] & 15) << 2];
    }
    *o = '\0';
    return out;
}

/* "b64(header).b64(payload).sig" */
static const char *make_token(const char *header, const char *payload,
                              const char *sig)
{
    return apr_pstrcat(pool, b64url(header, strlen(header)), ".",
                       b64url(payload, strlen(payload)), ".", sig, NULL);
}

static const char *decode(const char *token, apigw_jwt *t)
{
    return apigw_jwt_decode(pool, token, strlen(token), 0, t);
}

/* A token with these claims and a dummy signature, decoded. */
static apigw_jwt claims_token(const char *payload)
{
    apigw_jwt t;
    const char *err = decode(make_token("{\"alg\":\"HS256\"}", payload,
                                        "c2ln"), &t);

    if (err) {
        print_error("%s: %s\n", payload, err);
    }
    assert_null(err);
    return t;
}

static apr_status_t free_pkey(void *data)
{
    EVP_PKEY_free(data);
    return APR_SUCCESS;
}

static apigw_jwk *pem_key(const char *pem, apigw_kty kty, const char *crv,
                          const char *kid)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    apigw_jwk *k = apr_pcalloc(pool, sizeof(*k));

    assert_non_null(bio);
    k->pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);
    assert_non_null(k->pkey);
    apr_pool_cleanup_register(pool, k->pkey, free_pkey,
                              apr_pool_cleanup_null);
    k->kty = kty;
    k->crv = crv;
    k->kid = kid;
    k->bits = EVP_PKEY_get_bits(k->pkey);
    return k;
}

static apigw_jwk *secret_key(const char *secret, const char *kid)
{
    apigw_jwk *k = apr_pcalloc(pool, sizeof(*k));

    k->kty = APIGW_KTY_OCT;
    k->secret = (const unsigned char *)secret;
    k->secret_len = strlen(secret);
    k->kid = kid;
    return k;
}

enum { K_RSA, K_RSA1024, K_EC256, K_EC384, K_EC521, K_ED25519, K_ED448,
       K_HS, K_COUNT };

static apigw_jwk *keys[K_COUNT];

static apr_array_header_t *make_keys(void)
{
    apr_array_header_t *a = apr_array_make(pool, K_COUNT,
                                           sizeof(apigw_jwk *));
    int i;

    keys[K_RSA] = pem_key(PEM_RSA2048, APIGW_KTY_RSA, NULL, "rsa");
    keys[K_RSA1024] = pem_key(PEM_RSA1024, APIGW_KTY_RSA, NULL, "rsa-small");
    keys[K_EC256] = pem_key(PEM_EC256, APIGW_KTY_EC, "P-256", "ec256");
    keys[K_EC384] = pem_key(PEM_EC384, APIGW_KTY_EC, "P-384", "ec384");
    keys[K_EC521] = pem_key(PEM_EC521, APIGW_KTY_EC, "P-521", "ec521");
    keys[K_ED25519] = pem_key(PEM_ED25519, APIGW_KTY_OKP, "Ed25519",
                              "ed25519");
    keys[K_ED448] = pem_key(PEM_ED448, APIGW_KTY_OKP, "Ed448", "ed448");
    keys[K_HS] = secret_key(HMAC_SECRET, "hs");
    for (i = 0; i < K_COUNT; i++) {
        APR_ARRAY_PUSH(a, apigw_jwk *) = keys[i];
    }
    return a;
}

/* The keys of the listed indices (ending with -1), in that order. */
static apr_array_header_t *some_keys(int first, ...)
{
    apr_array_header_t *a = apr_array_make(pool, 4, sizeof(apigw_jwk *));
    va_list ap;
    int i;

    va_start(ap, first);
    for (i = first; i >= 0; i = va_arg(ap, int)) {
        APR_ARRAY_PUSH(a, apigw_jwk *) = keys[i];
    }
    va_end(ap);
    return a;
}

/* ---- base64url ---- */

static void expect_b64(const char *in, const char *want, size_t want_len)
{
    unsigned char *out = NULL;
    apr_size_t out_len = 99;

    assert_true(apigw_b64url_decode(pool, in, strlen(in), &out, &out_len));
    assert_int_equal(out_len, want_len);
    assert_memory_equal(out, want, want_len);
    assert_int_equal(out[out_len], 0);
}

static int b64_ok(const char *in, size_t len)
{
    unsigned char *out;
    apr_size_t out_len;

    return apigw_b64url_decode(pool, in, len, &out, &out_len);
}

static void test_b64url(void **state)
{
    unsigned char all[256], *out;
    apr_size_t out_len;
    const char *enc;
    int i;

    (void)state;
    expect_b64("", "", 0);
    expect_b64("Zg", "f", 1);
    expect_b64("Zm8", "fo", 2);
    expect_b64("Zm9v", "foo", 3);
    expect_b64("Zm9vYg", "foob", 4);
    expect_b64("Zm9vYmE", "fooba", 5);
    expect_b64("Zm9vYmFy", "foobar", 6);
    expect_b64("-_8", "\xfb\xff", 2);
    expect_b64("AA", "\0", 1);
    /* padding, length 1 mod 4, the other alphabet, spaces, non-ASCII */
    assert_false(b64_ok("Zg==", 4));
    assert_false(b64_ok("Zm8=", 4));
    assert_false(b64_ok("Zm9v=", 5));
    assert_false(b64_ok("Z", 1));
    assert_false(b64_ok("Zm9vY", 5));
    assert_false(b64_ok("+_8A", 4));
    assert_false(b64_ok("-/8A", 4));
    assert_false(b64_ok("Zm9 v", 5));
    assert_false(b64_ok("Zm9v\n", 5));
    assert_false(b64_ok("Zm\xc3\xa9", 4));
    assert_false(b64_ok("Zm\0v", 4));
    assert_false(b64_ok("Zm.v", 4));
    /* stray low bits in the last character */
    assert_false(b64_ok("Zh", 2));
    assert_false(b64_ok("Zm9", 3));
    assert_false(b64_ok("Zm-", 3));
    assert_false(b64_ok("Zm_", 3));
    assert_false(b64_ok("AB", 2));
    assert_false(b64_ok("AI", 2));
    assert_false(b64_ok("AAB", 3));
    assert_false(b64_ok("AAC", 3));
    assert_true(b64_ok("AAE", 3));
    assert_true(b64_ok("AAQ", 3));
    assert_true(b64_ok("AQ", 2));
    assert_true(b64_ok("Aw", 2));
    /* only len bytes are read */
    assert_true(b64_ok("Zm9v!!!", 4));
    /* every byte value round-trips */
    for (i = 0; i < 256; i++) {
        all[i] = (unsigned char)i;
    }
    for (i = 0; i <= 256; i++) {
        enc = b64url(all, (size_t)i);
        assert_true(apigw_b64url_decode(pool, enc, strlen(enc), &out,
                                        &out_len));
        assert_int_equal(out_len, i);
        assert_memory_equal(out, all, (size_t)i);
    }
}

/* ---- decode ---- */

static void test_decode(void **state)
{
    apigw_jwt t;
    const char *dot;
    char *buf;

    (void)state;
    assert_null(decode(TOK_RS256, &t));
    assert_string_equal(t.alg, "RS256");
    assert_string_equal(t.kid, "rsa");
    assert_string_equal(json_string_value(json_object_get(t.header, "typ")),
                        "JWT");
    assert_string_equal(json_string_value(json_object_get(t.claims, "sub")),
                        "alice");
    dot = strrchr(TOK_RS256, '.');
    assert_ptr_equal(t.signing_input, TOK_RS256);
    assert_int_equal(t.signing_input_len, dot - TOK_RS256);
    assert_int_equal(t.sig_len, 256);

    assert_null(decode(TOK_RS256_NOKID, &t));
    assert_null(t.kid);

    /* not NUL-terminated: only len bytes count */
    buf = apr_pstrcat(pool, TOK_HS256, ".more", NULL);
    assert_null(apigw_jwt_decode(pool, buf, strlen(TOK_HS256), 0, &t));
    assert_int_equal(t.sig_len, 32);
    assert_non_null(apigw_jwt_decode(pool, buf, strlen(buf), 0, &t));

    /* the limit: max_len, or APIGW_JWT_MAX_LEN when 0 or more */
    assert_null(apigw_jwt_decode(pool, TOK_HS256, strlen(TOK_HS256),
                                 strlen(TOK_HS256), &t));
    assert_string_equal(apigw_jwt_decode(pool, TOK_HS256, strlen(TOK_HS256),
                                         strlen(TOK_HS256) - 1, &t),
                        "token too long");
    buf = apr_palloc(pool, APIGW_JWT_MAX_LEN + 2);
    memset(buf, 'A', APIGW_JWT_MAX_LEN + 1);
    buf[APIGW_JWT_MAX_LEN + 1] = '\0';
    assert_string_equal(decode(buf, &t), "token too long");
    assert_string_equal(apigw_jwt_decode(pool, buf, strlen(buf),
                                         APIGW_JWT_MAX_LEN * 2, &t),
                        "token too long");
    /* a longer header is fine under the limit */
    buf = apr_palloc(pool, 9000);
    memset(buf, 'x', 8999);
    buf[8999] = '\0';
    assert_null(decode(make_token(apr_psprintf(pool, "{\"alg\":\"RS256\","
                                               "\"pad\":\"%s\"}", buf),
                                  "{}", "c2ln"), &t));
}

/* Decoding token fails with want, which names no part of the token. */
static void expect_refused(const char *token, apr_size_t len, const char *want)
{
    apigw_jwt t;
    const char *err = apigw_jwt_decode(pool, token, len, 0, &t);
    const char *dot;

    assert_non_null(err);
    assert_string_equal(err, want);
    assert_null(t.header);
    assert_null(t.claims);
    assert_null(t.alg);
    assert_null(t.sig);
    /* the first part of the token does not show up in the message */
    dot = memchr(token, '.', len);
    if (dot && dot - token >= 4) {
        assert_null(strstr(err, apr_pstrmemdup(pool, token, 4)));
    }
}

#define REFUSED(tok, want) expect_refused((tok), strlen(tok), (want))

static void test_decode_errors(void **state)
{
    const char *ok_h = "{\"alg\":\"RS256\"}", *ok_p = "{\"sub\":\"x\"}";
    const char *h = b64url(ok_h, strlen(ok_h)), *p = b64url(ok_p, strlen(ok_p));
    char *nul;

    (void)state;
    REFUSED("", "malformed token: not three parts");
    REFUSED("abc", "malformed token: not three parts");
    REFUSED(apr_pstrcat(pool, h, ".", p, NULL),
            "malformed token: not three parts");
    REFUSED(apr_pstrcat(pool, h, ".", p, ".c2ln.c2ln", NULL),
            "malformed token: not three parts");
    REFUSED(apr_pstrcat(pool, h, ".", p, ".c2ln.", NULL),
            "malformed token: not three parts");
    REFUSED("..", "malformed token: no signature");
    REFUSED(apr_pstrcat(pool, h, ".", p, ".", NULL),
            "malformed token: no signature");
    REFUSED(apr_pstrcat(pool, h, ".", p, ".c2ln=", NULL),
            "malformed token: signature is not base64url");
    REFUSED(apr_pstrcat(pool, h, ".", p, ".c2l", NULL),
            "malformed token: signature is not base64url");
    REFUSED(apr_pstrcat(pool, h, ".", p, ".c", NULL),
            "malformed token: signature is not base64url");
    REFUSED(apr_pstrcat(pool, h, "=.", p, ".c2ln", NULL),
            "malformed token: header is not base64url");
    REFUSED(apr_pstrcat(pool, h, ".", p, "=.c2ln", NULL),
            "malformed token: payload is not base64url");
    REFUSED(apr_pstrcat(pool, "eyJh+GciOiJSUzI1NiJ9.", p, ".c2ln", NULL),
            "malformed token: header is not base64url");
    REFUSED(apr_pstrcat(pool, " ", h, ".", p, ".c2ln", NULL),
            "malformed token: header is not base64url");
    REFUSED(apr_pstrcat(pool, h, ".", p, ".c2ln\r\n", NULL),
            "malformed token: signature is not base64url");
    REFUSED(apr_pstrcat(pool, ".", p, ".c2ln", NULL),
            "malformed token: header is not JSON");
    REFUSED(apr_pstrcat(pool, h, "..c2ln", NULL),
            "malformed token: payload is not JSON");
    nul = apr_pstrcat(pool, h, ".", p, ".c2ln", NULL);
    nul[3] = '\0';
    expect_refused(nul, strlen(h) + strlen(p) + 6, "malformed token: NUL byte");

    REFUSED(make_token("{\"alg\":\"RS256\"", ok_p, "c2ln"),
            "malformed token: header is not JSON");
    REFUSED(make_token("[\"alg\",\"RS256\"]", ok_p, "c2ln"),
            "malformed token: header is not a JSON object");
    REFUSED(make_token("{\"alg\":\"RS256\"} x", ok_p, "c2ln"),
            "malformed token: header is not JSON");
    REFUSED(make_token("{\"alg\":\"RS256\",\"alg\":\"HS256\"}", ok_p, "c2ln"),
            "malformed token: header is not JSON");
    REFUSED(make_token("{\"alg\":\"RS\xff\"}", ok_p, "c2ln"),
            "malformed token: header is not JSON");
    REFUSED(make_token("{\"alg\":\"RS\\u0000\"}", ok_p, "c2ln"),
            "malformed token: header is not JSON");
    REFUSED(make_token("{}", ok_p, "c2ln"), "malformed token: no alg");
    REFUSED(make_token("{\"alg\":null}", ok_p, "c2ln"),
            "malformed token: alg is not a string");
    REFUSED(make_token("{\"alg\":256}", ok_p, "c2ln"),
            "malformed token: alg is not a string");
    REFUSED(make_token("{\"alg\":\"RS256\",\"kid\":7}", ok_p, "c2ln"),
            "malformed token: kid is not a string");
    REFUSED(make_token("{\"alg\":\"RS256\",\"kid\":null}", ok_p, "c2ln"),
            "malformed token: kid is not a string");
    REFUSED(make_token("{\"alg\":\"RS256\",\"crit\":[\"exp\"],\"exp\":1}",
                       ok_p, "c2ln"),
            "unsupported crit header");
    REFUSED(make_token("{\"alg\":\"RS256\",\"crit\":[]}", ok_p, "c2ln"),
            "unsupported crit header");
    REFUSED(make_token(ok_h, "", "c2ln"), "malformed token: payload is not JSON");
    REFUSED(make_token(ok_h, "[]", "c2ln"),
            "malformed token: payload is not a JSON object");
    REFUSED(make_token(ok_h, "\"sub\"", "c2ln"),
            "malformed token: payload is not JSON");
    REFUSED(make_token(ok_h, "{\"a\":1,\"a\":2}", "c2ln"),
            "malformed token: payload is not JSON");
    REFUSED(make_token(ok_h, "{\"a\":\"\xc3\x28\"}", "c2ln"),
            "malformed token: payload is not JSON");
    REFUSED(make_token(ok_h, "{\"a\":99999999999999999999999}", "c2ln"),
            "malformed token: payload is not JSON");
}

/* ---- claims ---- */

static const char CLAIMS[] =
    "{\"sub\":\"alice\",\"realm_access\":{\"roles\":[\"admin\",\"user\"]},"
    "\"https://x.io/roles\":[\"a\",\"b\"],\"a\":{\"b\":{\"c\":42}},"
    "\"a.b\":\"dotted\",\"n\":null,\"r\":1.5,\"t\":true,\"f\":false,"
    "\"e\":\"\",\"i\":-7,\"big\":1e300,\"tenth\":0.1,\"whole\":42.0,"
    "\"mixed\":[\"x\",42,true,1.5],\"nested\":[[\"deep\"]],"
    "\"objs\":[\"x\",{\"y\":1}],\"empty\":[],\"o\":{\"k\":\"v\"},"
    "\"scope\":\"read  write admin:all\",\"scp\":[\"x.y\",\"z\"]}";

static void test_claim(void **state)
{
    apigw_jwt t = claims_token(CLAIMS);
    json_t *c = t.claims;

    (void)state;
    assert_string_equal(json_string_value(apigw_jwt_claim(c, "sub")),
                        "alice");
    assert_true(json_is_array(apigw_jwt_claim(c, "realm_access.roles")));
    assert_true(json_is_array(apigw_jwt_claim(c, "https://x.io/roles")));
    /* the whole path as a name first, then the dotted walk */
    assert_string_equal(json_string_value(apigw_jwt_claim(c, "a.b")),
                        "dotted");
    assert_int_equal(json_integer_value(apigw_jwt_claim(c, "a.b.c")), 42);
    assert_true(json_is_object(apigw_jwt_claim(c, "a")));
    assert_true(json_is_null(apigw_jwt_claim(c, "n")));
    assert_null(apigw_jwt_claim(c, "a.x"));
    assert_null(apigw_jwt_claim(c, "a.b.c.d"));
    assert_null(apigw_jwt_claim(c, "sub.x"));
    assert_null(apigw_jwt_claim(c, "realm_access.roles.0"));
    assert_null(apigw_jwt_claim(c, "a..b"));
    assert_null(apigw_jwt_claim(c, ".a"));
    assert_null(apigw_jwt_claim(c, "a."));
    assert_null(apigw_jwt_claim(c, "."));
    assert_null(apigw_jwt_claim(c, ""));
    /* "" is a name like any other */
    t = claims_token("{\"\":{\"\":1,\"c\":2},\"a\":{\"\":{\"b\":3}}}");
    c = t.claims;
    assert_true(json_is_object(apigw_jwt_claim(c, "")));
    assert_int_equal(json_integer_value(apigw_jwt_claim(c, ".")), 1);
    assert_int_equal(json_integer_value(apigw_jwt_claim(c, ".c")), 2);
    assert_int_equal(json_integer_value(apigw_jwt_claim(c, "a..b")), 3);
    assert_true(json_is_object(apigw_jwt_claim(c, "a.")));
    assert_null(apigw_jwt_claim(c, ".."));
    assert_null(apigw_jwt_claim(c, "missing"));
    assert_null(apigw_jwt_claim(c, NULL));
    assert_null(apigw_jwt_claim(NULL, "sub"));
    assert_null(apigw_jwt_claim(json_object_get(c, "sub"), "sub"));
}

static void test_claim_has(void **state)
{
    apigw_jwt t = claims_token(CLAIMS);
    json_t *c = t.claims;

    (void)state;
    assert_true(apigw_jwt_claim_has(apigw_jwt_claim(c, "sub"), "alice"));
    assert_false(apigw_jwt_claim_has(apigw_jwt_claim(c, "sub"), "alic"));
    assert_false(apigw_jwt_claim_has(apigw_jwt_claim(c, "sub"), "Alice"));
    assert_true(apigw_jwt_claim_has(apigw_jwt_claim(c, "a.b.c"), "42"));
    assert_false(apigw_jwt_claim_has(apigw_jwt_claim(c, "a.b.c"), "42.0"));
    assert_true(apigw_jwt_claim_has(apigw_jwt_claim(c, "i"), "-7"));
    assert_true(apigw_jwt_claim_has(apigw_jwt_claim(c, "r"), "1.5"));
    assert_true(apigw_jwt_claim_has(apigw_jwt_claim(c, "whole"), "42"));
    assert_true(apigw_jwt_claim_has(apigw_jwt_claim(c, "t"), "true"));
    assert_false(apigw_jwt_claim_has(apigw_jwt_claim(c, "t"), "1"));
    assert_true(apigw_jwt_claim_has(apigw_jwt_claim(c, "f"), "false"));
    assert_true(apigw_jwt_claim_has(apigw_jwt_claim(c, "e"), ""));
    assert_false(apigw_jwt_claim_has(apigw_jwt_claim(c, "n"), "null"));
    assert_false(apigw_jwt_claim_has(apigw_jwt_claim(c, "n"), ""));
    assert_false(apigw_jwt_claim_has(apigw_jwt_claim(c, "o"), "v"));
    assert_true(apigw_jwt_claim_has(apigw_jwt_claim(c, "realm_access.roles"),
                                    "admin"));
    assert_true(apigw_jwt_claim_has(apigw_jwt_claim(c, "realm_access.roles"),
                                    "user"));
    assert_false(apigw_jwt_claim_has(
                     apigw_jwt_claim(c, "realm_access.roles"), "adm"));
    assert_true(apigw_jwt_claim_has(apigw_jwt_claim(c, "mixed"), "42"));
    assert_true(apigw_jwt_claim_has(apigw_jwt_claim(c, "mixed"), "true"));
    assert_true(apigw_jwt_claim_has(apigw_jwt_claim(c, "mixed"), "1.5"));
    /* one level only */
    assert_false(apigw_jwt_claim_has(apigw_jwt_claim(c, "nested"), "deep"));
    assert_false(apigw_jwt_claim_has(apigw_jwt_claim(c, "empty"), ""));
    assert_false(apigw_jwt_claim_has(NULL, "x"));
    assert_false(apigw_jwt_claim_has(apigw_jwt_claim(c, "sub"), NULL));
}

static void test_scope(void **state)
{
    apigw_jwt t = claims_token(CLAIMS);

    (void)state;
    assert_true(apigw_jwt_has_scope(t.claims, "read"));
    assert_true(apigw_jwt_has_scope(t.claims, "write"));
    assert_true(apigw_jwt_has_scope(t.claims, "admin:all"));
    assert_true(apigw_jwt_has_scope(t.claims, "x.y"));
    assert_true(apigw_jwt_has_scope(t.claims, "z"));
    assert_false(apigw_jwt_has_scope(t.claims, "rea"));
    assert_false(apigw_jwt_has_scope(t.claims, "admin"));
    assert_false(apigw_jwt_has_scope(t.claims, "read write"));
    assert_false(apigw_jwt_has_scope(t.claims, ""));
    assert_false(apigw_jwt_has_scope(t.claims, " "));
    assert_false(apigw_jwt_has_scope(t.claims, NULL));
    assert_false(apigw_jwt_has_scope(NULL, "read"));

    t = claims_token("{\"scope\":[\"a b\",\"c\",3]}");
    assert_true(apigw_jwt_has_scope(t.claims, "a b"));
    assert_true(apigw_jwt_has_scope(t.claims, "c"));
    assert_false(apigw_jwt_has_scope(t.claims, "a"));
    assert_false(apigw_jwt_has_scope(t.claims, "3"));
    t = claims_token("{\"scope\":\" lone \"}");
    assert_true(apigw_jwt_has_scope(t.claims, "lone"));
    t = claims_token("{\"scope\":true,\"scp\":{\"read\":1}}");
    assert_false(apigw_jwt_has_scope(t.claims, "true"));
    assert_false(apigw_jwt_has_scope(t.claims, "read"));
    t = claims_token("{\"scp\":\"only-scp\"}");
    assert_true(apigw_jwt_has_scope(t.claims, "only-scp"));
}

static void test_claim_text(void **state)
{
    apigw_jwt t = claims_token(CLAIMS);
    json_t *c = t.claims;

    (void)state;
    assert_string_equal(apigw_jwt_claim_text(pool, apigw_jwt_claim(c, "sub")),
                        "alice");
    assert_string_equal(apigw_jwt_claim_text(pool, apigw_jwt_claim(c, "e")),
                        "");
    assert_string_equal(apigw_jwt_claim_text(pool,
                                             apigw_jwt_claim(c, "a.b.c")),
                        "42");
    assert_string_equal(apigw_jwt_claim_text(pool, apigw_jwt_claim(c, "i")),
                        "-7");
    assert_string_equal(apigw_jwt_claim_text(pool, apigw_jwt_claim(c, "r")),
                        "1.5");
    assert_string_equal(apigw_jwt_claim_text(pool,
                                             apigw_jwt_claim(c, "tenth")),
                        "0.10000000000000001");
    assert_string_equal(apigw_jwt_claim_text(pool, apigw_jwt_claim(c, "big")),
                        "1.0000000000000001e+300");
    assert_string_equal(apigw_jwt_claim_text(pool, apigw_jwt_claim(c, "t")),
                        "true");
    assert_string_equal(apigw_jwt_claim_text(pool, apigw_jwt_claim(c, "f")),
                        "false");
    assert_string_equal(apigw_jwt_claim_text(pool,
                            apigw_jwt_claim(c, "realm_access.roles")),
                        "admin,user");
    assert_string_equal(apigw_jwt_claim_text(pool,
                                             apigw_jwt_claim(c, "mixed")),
                        "x,42,true,1.5");
    assert_string_equal(apigw_jwt_claim_text(pool,
                                             apigw_jwt_claim(c, "empty")),
                        "");
    assert_null(apigw_jwt_claim_text(pool, apigw_jwt_claim(c, "objs")));
    assert_null(apigw_jwt_claim_text(pool, apigw_jwt_claim(c, "nested")));
    assert_null(apigw_jwt_claim_text(pool, apigw_jwt_claim(c, "o")));
    assert_null(apigw_jwt_claim_text(pool, apigw_jwt_claim(c, "n")));
    assert_null(apigw_jwt_claim_text(pool, apigw_jwt_claim(c, "missing")));
    assert_null(apigw_jwt_claim_text(pool, NULL));
}

/* ---- algorithms and keys ---- */

static void test_alg_names(void **state)
{
    static const char *names[APIGW_ALG_COUNT] = {
        "RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
        "ES256", "ES384", "ES512", "EdDSA", "HS256", "HS384", "HS512"
    };
    int i;

    (void)state;
    for (i = 0; i < APIGW_ALG_COUNT; i++) {
        assert_int_equal(apigw_alg_from_name(names[i]), i);
        assert_string_equal(apigw_alg_name((apigw_alg)i), names[i]);
    }
    assert_int_equal(apigw_alg_from_name("none"), -1);
    assert_int_equal(apigw_alg_from_name("None"), -1);
    assert_int_equal(apigw_alg_from_name("NONE"), -1);
    assert_int_equal(apigw_alg_from_name("rs256"), -1);
    assert_int_equal(apigw_alg_from_name("EDDSA"), -1);
    assert_int_equal(apigw_alg_from_name("Ed25519"), -1);
    assert_int_equal(apigw_alg_from_name("HS256 "), -1);
    assert_int_equal(apigw_alg_from_name("HS2"), -1);
    assert_int_equal(apigw_alg_from_name(""), -1);
    assert_int_equal(apigw_alg_from_name(NULL), -1);
    assert_null(apigw_alg_name(APIGW_ALG_COUNT));
    assert_null(apigw_alg_name((apigw_alg)-1));
}

/* The algorithms (a set) key k fits. */
static apigw_alg_set fits(const apigw_jwk *k)
{
    apigw_alg_set s = 0;
    int i;

    for (i = 0; i < APIGW_ALG_COUNT; i++) {
        if (apigw_alg_fits_key((apigw_alg)i, k)) {
            s |= APIGW_ALG_BIT(i);
        }
    }
    return s;
}

#define B(a) APIGW_ALG_BIT(APIGW_ALG_##a)

static void test_fits(void **state)
{
    apigw_jwk k;

    (void)state;
    make_keys();
    assert_int_equal(fits(keys[K_RSA]), B(RS256) | B(RS384) | B(RS512)
                     | B(PS256) | B(PS384) | B(PS512));
    assert_int_equal(fits(keys[K_RSA1024]), 0);
    assert_int_equal(fits(keys[K_EC256]), B(ES256));
    assert_int_equal(fits(keys[K_EC384]), B(ES384));
    assert_int_equal(fits(keys[K_EC521]), B(ES512));
    assert_int_equal(fits(keys[K_ED25519]), B(EDDSA));
    assert_int_equal(fits(keys[K_ED448]), B(EDDSA));
    assert_int_equal(fits(keys[K_HS]), B(HS256) | B(HS384) | B(HS512));
    assert_int_equal(fits(NULL), 0);

    /* the JWK's own alg narrows it to that one */
    k = *keys[K_RSA];
    k.alg = "PS256";
    assert_int_equal(fits(&k), B(PS256));
    k.alg = "ES256";
    assert_int_equal(fits(&k), 0);
    k = *keys[K_HS];
    k.alg = "HS384";
    assert_int_equal(fits(&k), B(HS384));
    /* a key that claims more bits than it has, or too few */
    k = *keys[K_RSA1024];
    k.bits = 4096;
    assert_int_equal(fits(&k), 0);
    k = *keys[K_RSA];
    k.bits = 1024;
    assert_int_equal(fits(&k), 0);
    /* the curve named must be the key's own */
    k = *keys[K_EC256];
    k.crv = "P-384";
    assert_int_equal(fits(&k), 0);
    k.crv = NULL;
    assert_int_equal(fits(&k), 0);
    k = *keys[K_ED25519];
    k.crv = "Ed448";
    assert_int_equal(fits(&k), 0);
    k.crv = "X25519";
    assert_int_equal(fits(&k), 0);
    /* a type that does not match the key inside */
    k = *keys[K_EC256];
    k.kty = APIGW_KTY_RSA;
    k.bits = 4096;
    assert_int_equal(fits(&k), 0);
    k = *keys[K_RSA];
    k.kty = APIGW_KTY_OKP;
    k.crv = "Ed25519";
    assert_int_equal(fits(&k), 0);
    k = *keys[K_RSA];
    k.kty = APIGW_KTY_OCT;
    assert_int_equal(fits(&k), 0);
    /* short or absent secrets */
    k = *keys[K_HS];
    k.secret_len = APIGW_JWK_MIN_SECRET - 1;
    assert_int_equal(fits(&k), 0);
    k.secret = NULL;
    k.secret_len = 64;
    assert_int_equal(fits(&k), 0);
}

/* ---- signatures ---- */

static const struct {
    const char *token;
    int key;
} SIGNED[] = {
    { TOK_RS256, K_RSA }, { TOK_RS384, K_RSA }, { TOK_RS512, K_RSA },
    { TOK_PS256, K_RSA }, { TOK_PS384, K_RSA }, { TOK_PS512, K_RSA },
    { TOK_ES256, K_EC256 }, { TOK_ES384, K_EC384 }, { TOK_ES512, K_EC521 },
    { TOK_EDDSA, K_ED25519 }, { TOK_EDDSA_448, K_ED448 },
    { TOK_HS256, K_HS }, { TOK_HS384, K_HS }, { TOK_HS512, K_HS },
    { TOK_RS256_NOKID, K_RSA }, { TOK_ES384_NOKID, K_EC384 },
    { TOK_HS256_NOKID, K_HS },
};

static void test_verify_every_alg(void **state)
{
    apr_array_header_t *all;
    const apigw_jwk *k;
    const char *why;
    unsigned char *sig;
    apigw_jwt t;
    size_t i;
    int unknown;

    (void)state;
    all = make_keys();
    for (i = 0; i < sizeof(SIGNED) / sizeof(SIGNED[0]); i++) {
        assert_null(decode(SIGNED[i].token, &t));
        k = apigw_jwt_pick_key(&t, all, APIGW_ALG_ALL, &why, &unknown);
        if (!k) {
            print_error("%s: %s\n", t.alg, why);
        }
        assert_ptr_equal(k, keys[SIGNED[i].key]);
        assert_null(why);
        assert_int_equal(unknown, 0);
        why = apigw_jwt_verify_sig(pool, &t, k);
        if (why) {
            print_error("%s: %s\n", t.alg, why);
        }
        assert_null(why);
        assert_int_equal(ERR_peek_error(), 0);

        /* a bit flipped at the start, in the middle, at the end */
        sig = apr_pmemdup(pool, t.sig, t.sig_len);
        t.sig = sig;
        sig[0] ^= 0x01;
        assert_string_equal(apigw_jwt_verify_sig(pool, &t, k),
                            "bad signature");
        sig[0] ^= 0x01;
        sig[t.sig_len / 2] ^= 0x80;
        assert_string_equal(apigw_jwt_verify_sig(pool, &t, k),
                            "bad signature");
        sig[t.sig_len / 2] ^= 0x80;
        sig[t.sig_len - 1] ^= 0x10;
        assert_string_equal(apigw_jwt_verify_sig(pool, &t, k),
                            "bad signature");
        sig[t.sig_len - 1] ^= 0x10;
        /* one byte short */
        t.sig_len--;
        assert_non_null(apigw_jwt_verify_sig(pool, &t, k));
        t.sig_len++;
        /* a changed signing input */
        t.signing_input_len--;
        assert_string_equal(apigw_jwt_verify_sig(pool, &t, k),
                            "bad signature");
        t.signing_input_len++;
        assert_null(apigw_jwt_verify_sig(pool, &t, k));
        /* no leftovers in OpenSSL's error queue */
        assert_int_equal(ERR_peek_error(), 0);
    }
}

static void test_verify_wrong_key(void **state)
{
    apigw_jwt t;

    (void)state;
    make_keys();
    /* same family, other key: the signature does not hold */
    assert_null(decode(TOK_EDDSA, &t));
    assert_string_equal(apigw_jwt_verify_sig(pool, &t, keys[K_ED448]),
                        "bad signature");
    assert_null(decode(TOK_EDDSA_448, &t));
    assert_string_equal(apigw_jwt_verify_sig(pool, &t, keys[K_ED25519]),
                        "bad signature");
    /* other curve or family: refused before any check */
    assert_null(decode(TOK_ES256, &t));
    assert_string_equal(apigw_jwt_verify_sig(pool, &t, keys[K_EC384]),
                        "key does not fit the algorithm");
    assert_string_equal(apigw_jwt_verify_sig(pool, &t, keys[K_RSA]),
                        "key does not fit the algorithm");
    assert_string_equal(apigw_jwt_verify_sig(pool, &t, NULL),
                        "key does not fit the algorithm");
    assert_null(decode(TOK_HS256, &t));
    assert_string_equal(apigw_jwt_verify_sig(pool, &t, keys[K_ED25519]),
                        "key does not fit the algorithm");
    assert_int_equal(ERR_peek_error(), 0);
}

static void test_pick_next_key(void **state)
{
    apr_array_header_t *all, *two;
    const char *why;
    apigw_jwt t;
    int from = 0;

    (void)state;
    all = make_keys();
    /* two secrets and no kid in the token: each in turn, then none */
    two = apr_array_make(pool, 2, sizeof(apigw_jwk *));
    APR_ARRAY_PUSH(two, apigw_jwk *) = keys[K_HS];
    APR_ARRAY_PUSH(two, apigw_jwk *) = keys[K_RSA];
    APR_ARRAY_PUSH(two, apigw_jwk *) = keys[K_HS];
    assert_null(decode(TOK_HS256_NOKID, &t));
    assert_ptr_equal(apigw_jwt_pick_next_key(&t, two, &from, APIGW_ALG_ALL,
                                             &why, NULL), keys[K_HS]);
    assert_int_equal(from, 1);
    assert_ptr_equal(apigw_jwt_pick_next_key(&t, two, &from, APIGW_ALG_ALL,
                                             &why, NULL), keys[K_HS]);
    assert_int_equal(from, 3);
    assert_null(apigw_jwt_pick_next_key(&t, two, &from, APIGW_ALG_ALL, &why,
                                        NULL));
    assert_int_equal(from, 3);
    /* from past the end */
    from = K_COUNT;
    assert_null(apigw_jwt_pick_next_key(&t, all, &from, APIGW_ALG_ALL, &why,
                                        NULL));
}

static void test_pick_key(void **state)
{
    apr_array_header_t *all;
    const char *why;
    apigw_jwt t;
    int unknown = -1;

    (void)state;
    all = make_keys();
    /* not allowed */
    assert_null(decode(TOK_RS256, &t));
    assert_null(apigw_jwt_pick_key(&t, all, B(ES256) | B(HS256), &why,
                                   &unknown));
    assert_string_equal(why, "algorithm not allowed");
    assert_int_equal(unknown, 0);
    assert_ptr_equal(apigw_jwt_pick_key(&t, all, B(RS256), &why, NULL),
                     keys[K_RSA]);
    /* no keys at all */
    assert_null(apigw_jwt_pick_key(&t, NULL, APIGW_ALG_ALL, &why, &unknown));
    assert_string_equal(why, "unknown key id");
    assert_int_equal(unknown, 1);
    /* an unknown kid */
    assert_null(decode(make_token("{\"alg\":\"RS256\",\"kid\":\"gone\"}",
                                  "{}", "c2ln"), &t));
    assert_null(apigw_jwt_pick_key(&t, all, APIGW_ALG_ALL, &why, &unknown));
    assert_string_equal(why, "unknown key id");
    assert_int_equal(unknown, 1);
    /* kids compare exactly */
    assert_null(decode(make_token("{\"alg\":\"RS256\",\"kid\":\"RSA\"}",
                                  "{}", "c2ln"), &t));
    assert_null(apigw_jwt_pick_key(&t, all, APIGW_ALG_ALL, &why, &unknown));
    assert_int_equal(unknown, 1);
    /* no kid: the first key that fits, in order */
    assert_null(decode(TOK_ES384_NOKID, &t));
    assert_ptr_equal(apigw_jwt_pick_key(&t, some_keys(K_RSA, K_EC256,
                                                      K_EC384, -1),
                                        APIGW_ALG_ALL, &why, &unknown),
                     keys[K_EC384]);
    assert_null(apigw_jwt_pick_key(&t, some_keys(K_RSA, K_EC256, K_EC521, -1),
                                   APIGW_ALG_ALL, &why, &unknown));
    assert_string_equal(why, "no key for algorithm ES384");
    assert_int_equal(unknown, 0);
    /* a kid shared by two keys: the one that fits */
    {
        apigw_jwk a = *keys[K_EC256], b = *keys[K_EC384];
        apr_array_header_t *two = apr_array_make(pool, 2,
                                                 sizeof(apigw_jwk *));

        a.kid = b.kid = "ec384";
        APR_ARRAY_PUSH(two, apigw_jwk *) = &a;
        APR_ARRAY_PUSH(two, apigw_jwk *) = &b;
        assert_null(decode(TOK_ES384, &t));
        assert_ptr_equal(apigw_jwt_pick_key(&t, two, APIGW_ALG_ALL, &why,
                                            &unknown), &b);
    }
    /* NULL entries are skipped */
    {
        apr_array_header_t *holes = some_keys(K_HS, -1);

        APR_ARRAY_PUSH(holes, apigw_jwk *) = NULL;
        APR_ARRAY_PUSH(holes, apigw_jwk *) = keys[K_EC384];
        assert_ptr_equal(apigw_jwt_pick_key(&t, holes, APIGW_ALG_ALL, &why,
                                            &unknown), keys[K_EC384]);
    }
}

/* ---- attacks ---- */

static void test_alg_none(void **state)
{
    apr_array_header_t *all;
    const char *why;
    apigw_jwt t;
    int unknown;
    const char *p = "{\"sub\":\"admin\"}";

    (void)state;
    all = make_keys();
    /* the usual unsigned form has no signature part */
    REFUSED(make_token("{\"alg\":\"none\"}", p, ""),
            "malformed token: no signature");
    /* and with one, none is never an algorithm */
    assert_null(decode(make_token("{\"alg\":\"none\"}", p, "c2ln"), &t));
    assert_null(apigw_jwt_pick_key(&t, all, APIGW_ALG_ALL, &why, &unknown));
    assert_string_equal(why, "algorithm not allowed");
    assert_int_equal(unknown, 0);
    assert_string_equal(apigw_jwt_verify_sig(pool, &t, keys[K_HS]),
                        "algorithm not supported");
    assert_null(decode(make_token("{\"alg\":\"None\",\"kid\":\"hs\"}", p,
                                  "c2ln"), &t));
    assert_null(apigw_jwt_pick_key(&t, all, APIGW_ALG_ALL, &why, &unknown));
    assert_string_equal(why, "algorithm not allowed");
    assert_null(decode(make_token("{\"alg\":\"\"}", p, "c2ln"), &t));
    assert_null(apigw_jwt_pick_key(&t, all, APIGW_ALG_ALL, &why, &unknown));
    assert_string_equal(why, "algorithm not allowed");
}

static void test_hs256_with_rsa_key(void **state)
{
    apr_array_header_t *all;
    const char *why;
    apigw_jwt t;
    int unknown;
    apigw_jwk pem_secret;

    (void)state;
    all = make_keys();
    /* kid "rsa": names the RSA key, which never does HMAC */
    assert_null(decode(TOK_HS256_RSA_PEM, &t));
    assert_null(apigw_jwt_pick_key(&t, all, APIGW_ALG_ALL, &why, &unknown));
    assert_string_equal(why, "key id names a key of another type");
    assert_int_equal(unknown, 0);
    assert_string_equal(apigw_jwt_verify_sig(pool, &t, keys[K_RSA]),
                        "key does not fit the algorithm");
    /* no kid, RSA keys only */
    assert_null(decode(TOK_HS256_RSA_PEM_NOKID, &t));
    assert_null(apigw_jwt_pick_key(&t, some_keys(K_RSA, K_EC256, -1),
                                   APIGW_ALG_ALL, &why, &unknown));
    assert_string_equal(why, "no key for algorithm HS256");
    /* no kid, with the HMAC key too: it is picked and the MAC fails */
    assert_ptr_equal(apigw_jwt_pick_key(&t, all, APIGW_ALG_ALL, &why,
                                        &unknown), keys[K_HS]);
    assert_string_equal(apigw_jwt_verify_sig(pool, &t, keys[K_HS]),
                        "bad signature");
    /* (the token is real: the PEM as an HMAC secret would verify it) */
    pem_secret = *keys[K_HS];
    pem_secret.secret = (const unsigned char *)PEM_RSA2048;
    pem_secret.secret_len = strlen(PEM_RSA2048);
    assert_null(apigw_jwt_verify_sig(pool, &t, &pem_secret));
}

static void test_stripped_and_reencoded(void **state)
{
    apr_array_header_t *all;
    const char *why, *stripped;
    apigw_jwt t;
    int unknown;

    (void)state;
    all = make_keys();
    stripped = apr_pstrndup(pool, TOK_RS256,
                            (apr_size_t)(strrchr(TOK_RS256, '.') - TOK_RS256
                                         + 1));
    REFUSED(stripped, "malformed token: no signature");
    REFUSED(apr_pstrndup(pool, stripped, strlen(stripped) - 1),
            "malformed token: not three parts");

    /* ES256 as DER, not r||s */
    assert_null(decode(TOK_ES256_DER, &t));
    assert_true(t.sig_len > 64);
    assert_ptr_equal(apigw_jwt_pick_key(&t, all, APIGW_ALG_ALL, &why,
                                        &unknown), keys[K_EC256]);
    assert_string_equal(apigw_jwt_verify_sig(pool, &t, keys[K_EC256]),
                        "bad signature");
    /* r||s one byte short or long */
    assert_null(decode(TOK_ES256, &t));
    t.sig_len = 63;
    assert_string_equal(apigw_jwt_verify_sig(pool, &t, keys[K_EC256]),
                        "bad signature");
    t.sig = apr_pcalloc(pool, 65);
    t.sig_len = 65;
    assert_string_equal(apigw_jwt_verify_sig(pool, &t, keys[K_EC256]),
                        "bad signature");
    /* r = s = 0, and all ones (above the order) */
    t.sig_len = 64;
    assert_string_equal(apigw_jwt_verify_sig(pool, &t, keys[K_EC256]),
                        "bad signature");
    memset((unsigned char *)t.sig, 0xff, 64);
    assert_string_equal(apigw_jwt_verify_sig(pool, &t, keys[K_EC256]),
                        "bad signature");
    /* ES512 takes 132 bytes exactly */
    assert_null(decode(TOK_ES512, &t));
    assert_int_equal(t.sig_len, 132);
    t.sig_len = 130;
    assert_string_equal(apigw_jwt_verify_sig(pool, &t, keys[K_EC521]),
                        "bad signature");
    /* HMAC truncated */
    assert_null(decode(TOK_HS512, &t));
    t.sig_len = 32;
    assert_string_equal(apigw_jwt_verify_sig(pool, &t, keys[K_HS]),
                        "bad signature");
    /* PSS with a salt longer than the hash */
    assert_null(decode(TOK_PS256_MAXSALT, &t));
    assert_string_equal(apigw_jwt_verify_sig(pool, &t, keys[K_RSA]),
                        "bad signature");
    /* a PKCS#1 v1.5 signature presented as PSS and the reverse */
    assert_null(decode(TOK_RS256, &t));
    t.alg = "PS256";
    assert_string_equal(apigw_jwt_verify_sig(pool, &t, keys[K_RSA]),
                        "bad signature");
    assert_null(decode(TOK_PS256, &t));
    t.alg = "RS256";
    assert_string_equal(apigw_jwt_verify_sig(pool, &t, keys[K_RSA]),
                        "bad signature");
    assert_int_equal(ERR_peek_error(), 0);
}

static void test_kid_of_other_type(void **state)
{
    apr_array_header_t *all;
    const char *why;
    apigw_jwt t;
    int unknown;

    (void)state;
    all = make_keys();
    assert_null(decode(TOK_RS256_KID_EC, &t));
    assert_null(apigw_jwt_pick_key(&t, all, APIGW_ALG_ALL, &why, &unknown));
    assert_string_equal(why, "key id names a key of another type");
    assert_int_equal(unknown, 0);
    assert_string_equal(apigw_jwt_verify_sig(pool, &t, keys[K_EC256]),
                        "key does not fit the algorithm");
    /* (its signature is real) */
    assert_null(apigw_jwt_verify_sig(pool, &t, keys[K_RSA]));
}

static void test_small_rsa(void **state)
{
    apr_array_header_t *all;
    const char *why;
    apigw_jwt t;
    int unknown;
    apigw_jwk k;

    (void)state;
    all = make_keys();
    assert_null(decode(TOK_RS256_1024, &t));
    assert_null(apigw_jwt_pick_key(&t, all, APIGW_ALG_ALL, &why, &unknown));
    assert_string_equal(why, "key id names a key of another type");
    assert_string_equal(apigw_jwt_verify_sig(pool, &t, keys[K_RSA1024]),
                        "key does not fit the algorithm");
    /* even when it claims more bits */
    k = *keys[K_RSA1024];
    k.bits = 2048;
    assert_string_equal(apigw_jwt_verify_sig(pool, &t, &k),
                        "key does not fit the algorithm");
}

/* ---- registered claims ---- */

#define NOW 1700000000
#define SEC(n) ((apr_time_t)(n) * APR_USEC_PER_SEC)

static const char *check(const char *payload, apr_interval_time_t leeway,
                         apr_time_t *exp)
{
    apigw_jwt t = claims_token(payload);
    apigw_jwt_rules r = { SEC(NOW), leeway, NULL, NULL };

    return apigw_jwt_check_claims(&t, &r, exp);
}

static const char *at(apr_int64_t delta, const char *name, apr_int64_t lw)
{
    return check(apr_psprintf(pool, "{\"%s\":%" APR_INT64_T_FMT "}", name,
                              (apr_int64_t)NOW + delta),
                 SEC(lw), NULL);
}

static void test_times(void **state)
{
    apr_time_t exp = -1;

    (void)state;
    assert_null(check("{}", 0, &exp));
    assert_int_equal(exp, 0);
    assert_null(check("{\"exp\":1700000010}", 0, &exp));
    assert_int_equal(exp, SEC(1700000010));
    assert_null(check("{\"exp\":1700000010.5}", 0, &exp));
    assert_int_equal(exp, SEC(1700000010) + 500000);
    assert_null(check("{\"exp\":1700000010}", 0, NULL));

    /* exp: expired from exp + leeway on */
    assert_null(at(1, "exp", 0));
    assert_string_equal(at(0, "exp", 0), "token expired");
    assert_string_equal(at(-1, "exp", 0), "token expired");
    assert_null(at(-59, "exp", 60));
    assert_string_equal(at(-60, "exp", 60), "token expired");
    assert_string_equal(check("{\"exp\":1699999999.999999}", 0, &exp),
                        "token expired");
    assert_true(exp > SEC(NOW - 1) && exp < SEC(NOW));
    /* nbf: valid from nbf - leeway on */
    assert_null(at(0, "nbf", 0));
    assert_string_equal(at(1, "nbf", 0), "token not valid yet");
    assert_null(at(60, "nbf", 60));
    assert_string_equal(at(61, "nbf", 60), "token not valid yet");
    /* iat: not in the future beyond leeway */
    assert_null(at(0, "iat", 0));
    assert_null(at(-100000, "iat", 0));
    assert_string_equal(at(1, "iat", 0), "token issued in the future");
    assert_null(at(60, "iat", 60));
    assert_string_equal(at(61, "iat", 60), "token issued in the future");
    /* a negative leeway counts as none */
    assert_string_equal(at(0, "exp", -60), "token expired");
    assert_null(at(1, "exp", -60));

    /* not numbers */
    assert_string_equal(check("{\"exp\":\"1800000000\"}", 0, NULL),
                        "exp is not a number");
    assert_string_equal(check("{\"exp\":null}", 0, NULL),
                        "exp is not a number");
    assert_string_equal(check("{\"nbf\":true}", 0, NULL),
                        "nbf is not a number");
    assert_string_equal(check("{\"iat\":[1]}", 0, NULL),
                        "iat is not a number");
    assert_string_equal(check("{\"iat\":{}}", 0, NULL),
                        "iat is not a number");
}

static void test_absurd_times(void **state)
{
    apr_time_t exp = 0;
    apigw_jwt t;
    apigw_jwt_rules r = { SEC(NOW), APR_INT64_MAX, NULL, NULL };

    (void)state;
    assert_null(check("{\"exp\":1e300}", 0, &exp));
    assert_int_equal(exp, APR_INT64_MAX);
    assert_null(check("{\"exp\":9223372036854775807}", 0, &exp));
    assert_int_equal(exp, APR_INT64_MAX);
    assert_null(check("{\"exp\":9223372036855}", 0, &exp));
    assert_int_equal(exp, APR_INT64_MAX);
    assert_null(check("{\"exp\":9223372036853}", 0, &exp));
    assert_int_equal(exp, SEC(9223372036853LL));
    assert_string_equal(check("{\"exp\":-1e300}", 0, &exp), "token expired");
    assert_int_equal(exp, APR_INT64_MIN);
    assert_string_equal(check("{\"exp\":-9223372036854775808}", 0, &exp),
                        "token expired");
    assert_string_equal(check("{\"exp\":0}", 0, &exp), "token expired");
    assert_string_equal(check("{\"exp\":-1}", 0, NULL), "token expired");
    assert_string_equal(check("{\"nbf\":1e300}", 0, NULL),
                        "token not valid yet");
    assert_null(check("{\"nbf\":-1e300,\"iat\":-1e300}", 0, NULL));
    assert_string_equal(check("{\"iat\":9223372036854775807}", 0, NULL),
                        "token issued in the future");
    assert_string_equal(check("{\"exp\":1e-300}", 0, NULL), "token expired");
    /* the largest leeway and clocks at the ends do not overflow */
    t = claims_token("{\"nbf\":1e300,\"iat\":1e300}");
    r.now = APR_INT64_MAX;
    assert_null(apigw_jwt_check_claims(&t, &r, NULL));
    r.now = APR_INT64_MIN;
    assert_string_equal(apigw_jwt_check_claims(&t, &r, NULL),
                        "token not valid yet");
    t = claims_token("{\"exp\":-1e300}");
    r.now = SEC(NOW);
    assert_string_equal(apigw_jwt_check_claims(&t, &r, NULL),
                        "token expired");
    r.now = APR_INT64_MIN;
    assert_null(apigw_jwt_check_claims(&t, &r, NULL));
    t = claims_token("{\"exp\":1e300}");
    r.now = APR_INT64_MAX;
    assert_string_equal(apigw_jwt_check_claims(&t, &r, NULL),
                        "token expired");
    r.leeway = 0;
    r.now = APR_INT64_MAX - 1;
    assert_null(apigw_jwt_check_claims(&t, &r, NULL));
}

static apr_array_header_t *strings(const char *first, ...)
{
    apr_array_header_t *a = apr_array_make(pool, 2, sizeof(const char *));
    va_list ap;
    const char *s;

    va_start(ap, first);
    for (s = first; s; s = va_arg(ap, const char *)) {
        APR_ARRAY_PUSH(a, const char *) = s;
    }
    va_end(ap);
    return a;
}

static const char *check_who(const char *payload,
                             const apr_array_header_t *iss,
                             const apr_array_header_t *aud)
{
    apigw_jwt t = claims_token(payload);
    apigw_jwt_rules r = { SEC(NOW), 0, iss, aud };

    return apigw_jwt_check_claims(&t, &r, NULL);
}

static void test_iss_aud(void **state)
{
    apr_array_header_t *iss = strings("https://a.example",
                                      "https://b.example", NULL);
    apr_array_header_t *aud = strings("api", "web", NULL);
    apr_array_header_t *none = strings(NULL, NULL);

    (void)state;
    assert_null(check_who("{\"iss\":\"https://b.example\"}", iss, NULL));
    assert_string_equal(check_who("{\"iss\":\"https://c.example\"}", iss,
                                  NULL), "issuer not accepted");
    assert_string_equal(check_who("{\"iss\":\"https://b.example/\"}", iss,
                                  NULL), "issuer not accepted");
    assert_string_equal(check_who("{}", iss, NULL), "issuer not accepted");
    assert_string_equal(check_who("{\"iss\":7}", iss, NULL),
                        "issuer not accepted");
    assert_string_equal(check_who("{\"iss\":[\"https://a.example\"]}", iss,
                                  NULL), "issuer not accepted");
    assert_null(check_who("{}", NULL, NULL));
    assert_null(check_who("{\"iss\":7}", none, none));

    assert_null(check_who("{\"aud\":\"api\"}", NULL, aud));
    assert_null(check_who("{\"aud\":[\"x\",\"web\"]}", NULL, aud));
    assert_string_equal(check_who("{\"aud\":[\"x\"]}", NULL, aud),
                        "audience not accepted");
    assert_string_equal(check_who("{\"aud\":[]}", NULL, aud),
                        "audience not accepted");
    assert_string_equal(check_who("{\"aud\":\"ap\"}", NULL, aud),
                        "audience not accepted");
    assert_string_equal(check_who("{}", NULL, aud), "audience not accepted");
    assert_string_equal(check_who("{\"aud\":[1,\"api\"]}", NULL, aud),
                        "audience not accepted");
    assert_string_equal(check_who("{\"aud\":{\"api\":1}}", NULL, aud),
                        "audience not accepted");
    assert_null(check_who("{\"iss\":\"https://a.example\",\"aud\":\"web\"}",
                          iss, aud));
    /* times first */
    assert_string_equal(check_who("{\"exp\":1,\"iss\":\"x\"}", iss, aud),
                        "token expired");
    assert_string_equal(check_who("{\"iss\":\"https://a.example\","
                                  "\"aud\":\"x\"}", iss, aud),
                        "audience not accepted");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_b64url),
        T(test_decode),
        T(test_decode_errors),
        T(test_claim),
        T(test_claim_has),
        T(test_scope),
        T(test_claim_text),
        T(test_alg_names),
        T(test_fits),
        T(test_verify_every_alg),
        T(test_verify_wrong_key),
        T(test_pick_key),
        T(test_pick_next_key),
        T(test_alg_none),
        T(test_hs256_with_rsa_key),
        T(test_stripped_and_reencoded),
        T(test_kid_of_other_type),
        T(test_small_rsa),
        T(test_times),
        T(test_absurd_times),
        T(test_iss_aud),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
