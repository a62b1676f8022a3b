/* sources: common/apigw_apikey.c common/apigw_sha256.c */
/* libs: -lcrypto */
/* Unit tests for common/apigw_apikey.c: the key file's grammar
 * and its errors with their line numbers, the lookup of presented keys by
 * their SHA-256, roles, and the hash written for a new key. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#define UNIT_POOL
#include "unit_apr.h"

#include <apr_strings.h>

#include "apigw_apikey.h"

/* SHA-256 of "abc", "secret-alice" and "secret-bob" */
#define H_ABC \
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define H_ALICE \
    "959601334de4ce5a7661ece94755bc23b257c096cd7d29bd2ecaf8a7333e0aff"
#define H_BOB \
    "121d6cf8eecc49b58b007cdb17a804e2c660f30250e1451ffb3d46799c116edb"

static apigw_apikey_set *set;

static const char *parse(const char *text)
{
    set = apigw_apikey_set_make(pool);
    return apigw_apikey_parse(pool, text, strlen(text), set);
}

static const char *hash_of(const char *key)
{
    return apigw_apikey_hash_hex(pool, key, strlen(key));
}

static const apigw_apikey *find(const char *key)
{
    return apigw_apikey_find(set, key, strlen(key));
}

/* The error of a file whose only key line is line. */
static const char *error_of(const char *line)
{
    return parse(apr_pstrcat(pool, "# keys\n\n", line, "\n", NULL));
}

static void test_hash_hex(void **state)
{
    (void)state;
    assert_string_equal(hash_of("abc"), H_ABC);
    assert_string_equal(apigw_apikey_hash_hex(pool, "", 0),
                        "e3b0c44298fc1c149afbf4c8996fb924"
                        "27ae41e4649b934ca495991b7852b855");
    assert_string_equal(apigw_apikey_hash_hex(pool, NULL, 0),
                        "e3b0c44298fc1c149afbf4c8996fb924"
                        "27ae41e4649b934ca495991b7852b855");
    assert_string_equal(apigw_apikey_hash_hex(pool, "a\0b", 3),
                        apigw_apikey_hash_hex(pool, "a\0b", 3));
    assert_string_not_equal(apigw_apikey_hash_hex(pool, "a\0b", 3),
                            apigw_apikey_hash_hex(pool, "a", 1));
}

static void test_parse_good(void **state)
{
    const apigw_apikey *k;
    const char *text = apr_pstrcat(pool,
        "# name hash roles\n"
        "alice ", hash_of("secret-alice"), " admin,reader\n"
        "\n"
        "   # an indented comment\n"
        " \t \n"
        "bob\t", hash_of("secret-bob"), "\n"
        "  carol.x@example-1_a   "
        "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"
        " \t reader  \n", NULL);

    (void)state;
    assert_null(parse(text));
    assert_int_equal(apigw_apikey_count(set), 3);

    k = find("secret-alice");
    assert_non_null(k);
    assert_string_equal(k->name, "alice");
    assert_int_equal(k->roles->nelts, 2);
    assert_true(apigw_apikey_has_role(k, "admin"));
    assert_true(apigw_apikey_has_role(k, "reader"));
    assert_false(apigw_apikey_has_role(k, "writer"));
    assert_false(apigw_apikey_has_role(k, "Admin"));
    assert_false(apigw_apikey_has_role(k, "admin,reader"));
    assert_false(apigw_apikey_has_role(k, NULL));
    assert_false(apigw_apikey_has_role(NULL, "admin"));

    k = find("secret-bob");
    assert_non_null(k);
    assert_string_equal(k->name, "bob");
    assert_non_null(k->roles);
    assert_int_equal(k->roles->nelts, 0);
    assert_false(apigw_apikey_has_role(k, "reader"));

    /* an upper-case hash in the file */
    k = find("abc");
    assert_non_null(k);
    assert_string_equal(k->name, "carol.x@example-1_a");
    assert_true(apigw_apikey_has_role(k, "reader"));
    assert_string_equal(apigw_apikey_hash_hex(pool, "abc", 3), H_ABC);
}

static void test_find(void **state)
{
    char big[APIGW_APIKEY_MAX_LEN + 2];

    (void)state;
    memset(big, 'k', sizeof(big));
    big[sizeof(big) - 1] = '\0';
    assert_null(parse(apr_pstrcat(pool, "max ",
        apigw_apikey_hash_hex(pool, big, APIGW_APIKEY_MAX_LEN), "\n"
        "long ", apigw_apikey_hash_hex(pool, big, APIGW_APIKEY_MAX_LEN + 1),
        "\nempty ", apigw_apikey_hash_hex(pool, "", 0), "\n"
        "abc ", H_ABC, NULL)));
    assert_int_equal(apigw_apikey_count(set), 4);
    assert_non_null(find("abc"));
    assert_null(find("abd"));
    assert_null(find("ab"));
    assert_null(find("abc "));
    assert_null(find("ABC"));
    assert_null(apigw_apikey_find(set, "abcd", 2));
    assert_non_null(apigw_apikey_find(set, "abcd", 3));
    /* the longest key is looked up, a longer one and an empty one not,
     * even when the file holds their hashes */
    assert_string_equal(apigw_apikey_find(set, big,
                                          APIGW_APIKEY_MAX_LEN)->name, "max");
    assert_null(apigw_apikey_find(set, big, APIGW_APIKEY_MAX_LEN + 1));
    assert_null(apigw_apikey_find(set, "", 0));
    assert_null(apigw_apikey_find(set, NULL, 0));
    assert_null(apigw_apikey_find(set, NULL, 3));
    assert_null(apigw_apikey_find(NULL, "abc", 3));
    /* an empty set */
    set = apigw_apikey_set_make(pool);
    assert_int_equal(apigw_apikey_count(set), 0);
    assert_null(find("abc"));
}

static void test_errors(void **state)
{
    (void)state;
    assert_string_equal(error_of("alice"), "line 3: a name without a hash");
    assert_string_equal(error_of("alice " H_ABC " admin extra"),
                        "line 3: too many fields");
    assert_string_equal(error_of("alice " H_ABC " admin #comment"),
                        "line 3: too many fields");
    assert_string_equal(error_of("alice abc"),
                        "line 3: the hash is not 64 hex digits");
    assert_string_equal(error_of("alice " H_ABC "0"),
                        "line 3: the hash is not 64 hex digits");
    assert_string_equal(error_of("alice "
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ag"),
        "line 3: the hash is not 64 hex digits");
    assert_string_equal(error_of("al/ice " H_ABC),
                        "line 3: the name is not 1-64 characters of A-Z "
                        "a-z 0-9 . _ @ -");
    assert_string_equal(error_of("\xc3\xa5lice " H_ABC),
                        "line 3: the name is not 1-64 characters of A-Z "
                        "a-z 0-9 . _ @ -");
    assert_string_equal(error_of(apr_pstrcat(pool,
        "a1234567890123456789012345678901234567890123456789012345678901234 ",
        H_ABC, NULL)),
        "line 3: the name is not 1-64 characters of A-Z a-z 0-9 . _ @ -");
    assert_null(error_of(apr_pstrcat(pool,
        "1234567890123456789012345678901234567890123456789012345678901234 ",
        H_ABC, NULL)));
    assert_string_equal(error_of("alice " H_ABC " admin,"),
                        "line 3: a role is not 1-64 characters of A-Z a-z "
                        "0-9 . _ @ -");
    assert_string_equal(error_of("alice " H_ABC " ,admin"),
                        "line 3: a role is not 1-64 characters of A-Z a-z "
                        "0-9 . _ @ -");
    assert_string_equal(error_of("alice " H_ABC " a,,b"),
                        "line 3: a role is not 1-64 characters of A-Z a-z "
                        "0-9 . _ @ -");
    assert_string_equal(error_of("alice " H_ABC " ad:min"),
                        "line 3: a role is not 1-64 characters of A-Z a-z "
                        "0-9 . _ @ -");
    /* a CR that does not end a line is not a blank */
    assert_string_equal(error_of("alice\r" H_ABC),
                        "line 3: a name without a hash");
    /* names and hashes given twice, the hash in either case */
    assert_string_equal(parse("alice " H_ALICE "\n"
                              "bob " H_BOB "\n"
                              "alice " H_ABC "\n"),
                        "line 3: the name alice is given twice");
    assert_string_equal(parse("alice " H_ALICE "\n"
                              "# bob\n"
                              "bob " H_BOB "\n"
                              "carol " H_ALICE "\n"),
                        "line 4: the hash is also that of alice");
    assert_string_equal(parse("alice " H_ABC "\n"
                              "carol BA7816BF8F01CFEA414140DE5DAE2223"
                              "B00361A396177A9CB410FF61F20015AD\n"),
                        "line 2: the hash is also that of alice");
}

static void test_line_ends(void **state)
{
    static const char nul[] = "alice " H_ALICE "\n"
                              "bob " H_BOB "\n"
                              "# a comment \0 with a NUL\n";
    static const char crlf[] = "# keys\r\n"
                               "\r\n"
                               "alice " H_ALICE " admin\r\n"
                               "bob " H_BOB "\r\n"
                               "carol " H_ABC " reader";

    (void)state;
    assert_null(parse(crlf));
    assert_int_equal(apigw_apikey_count(set), 3);
    assert_true(apigw_apikey_has_role(find("abc"), "reader"));
    assert_int_equal(apigw_apikey_find(set, "abc", 3)->roles->nelts, 1);
    /* the roles do not end with the CR */
    assert_string_equal(APR_ARRAY_IDX(
        apigw_apikey_find(set, "abc", 3)->roles, 0, const char *), "reader");
    assert_null(parse("carol " H_ABC " admin"));
    assert_true(apigw_apikey_has_role(find("abc"), "admin"));
    assert_null(parse("carol " H_ABC "\r"));
    assert_int_equal(apigw_apikey_count(set), 1);
    assert_null(parse(""));
    assert_int_equal(apigw_apikey_count(set), 0);
    assert_null(parse("\n\n# only comments\r\n   \n"));
    assert_int_equal(apigw_apikey_count(set), 0);

    set = apigw_apikey_set_make(pool);
    assert_string_equal(apigw_apikey_parse(pool, nul, sizeof(nul) - 1, set),
                        "line 3: a NUL byte");
    set = apigw_apikey_set_make(pool);
    assert_string_equal(apigw_apikey_parse(pool, "\n\0", 2, set),
                        "line 2: a NUL byte");
    set = apigw_apikey_set_make(pool);
    assert_null(apigw_apikey_parse(pool, NULL, 0, set));
    /* line numbers count the lines a CRLF ends */
    assert_string_equal(parse("#\r\n\r\n\r\nbad\r\n"),
                        "line 4: a name without a hash");
}

static void test_add(void **state)
{
    (void)state;
    set = apigw_apikey_set_make(pool);
    assert_null(apigw_apikey_add(pool, set, "svc", H_ABC, NULL));
    assert_null(apigw_apikey_add(pool, set, "svc2", hash_of("x"), "a,b,c"));
    assert_string_equal(apigw_apikey_add(pool, set, "svc", hash_of("y"),
                                         NULL),
                        "the name svc is given twice");
    assert_string_equal(apigw_apikey_add(pool, set, "svc3", H_ABC, NULL),
                        "the hash is also that of svc");
    assert_non_null(apigw_apikey_add(pool, set, "", hash_of("z"), NULL));
    assert_non_null(apigw_apikey_add(pool, set, NULL, hash_of("z"), NULL));
    assert_non_null(apigw_apikey_add(pool, set, "svc4", NULL, NULL));
    assert_non_null(apigw_apikey_add(pool, set, "svc4", hash_of("z"), ""));
    assert_int_equal(apigw_apikey_count(set), 2);
    assert_true(apigw_apikey_has_role(find("x"), "c"));
    assert_string_equal(find("abc")->name, "svc");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_hash_hex),
        T(test_parse_good),
        T(test_find),
        T(test_errors),
        T(test_line_ends),
        T(test_add),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
