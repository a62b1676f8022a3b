/* sources: mod_apigw_krakend/apigw_kd_translate.c mod_apigw_krakend/apigw_kd_lines.c */
/* libs: -ljansson */
/* Unit tests for the krakend.json importer's pure parts: the translation
 * into configuration lines (service defaults, backends, balancers,
 * components, notes, refusals, errors with their JSON pointers, strict
 * mode), configuration words, and the pointer → line scanner. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#define UNIT_POOL
#include "unit_apr.h"

#include <apr_strings.h>

#include "apigw_kd_translate.h"
#include "apigw_kd_lines.h"

#define ALL (APIGW_KD_HAVE_RATELIMIT | APIGW_KD_HAVE_BREAKER \
             | APIGW_KD_HAVE_AUTH | APIGW_KD_HAVE_BALANCER)

static apigw_kd_result res;

static const char *translate_opts(const char *text, int strict, unsigned have)
{
    apigw_kd_options o;
    json_error_t je;
    json_t *root = json_loads(text, 0, &je);
    const char *err;

    assert_non_null(root);
    memset(&o, 0, sizeof(o));
    o.strict = strict;
    o.have = have;
    o.prefix = "kd1";
    err = apigw_kd_translate(pool, root, &o, &res);
    json_decref(root);
    return err;
}

static const char *translate(const char *text)
{
    return translate_opts(text, 0, ALL);
}

/* the lines joined with '\n' */
static const char *joined(void)
{
    char *s = "";
    int i;

    for (i = 0; i < res.lines->nelts; i++) {
        s = apr_pstrcat(pool, s, APR_ARRAY_IDX(res.lines, i,
                        apigw_kd_line).text, "\n", NULL);
    }
    return s;
}

static int has_line(const char *text)
{
    int i;

    for (i = 0; i < res.lines->nelts; i++) {
        if (strcmp(APR_ARRAY_IDX(res.lines, i, apigw_kd_line).text,
                   text) == 0) {
            return 1;
        }
    }
    return 0;
}

static const apigw_kd_note *note_at(const char *pointer)
{
    int i;

    for (i = 0; i < res.notes->nelts; i++) {
        const apigw_kd_note *n = &APR_ARRAY_IDX(res.notes, i, apigw_kd_note);
        if (strcmp(n->pointer, pointer) == 0) {
            return n;
        }
    }
    return NULL;
}

#define ONE_ENDPOINT(EP, BE) \
    "{\"version\":3,\"endpoints\":[{\"endpoint\":\"/a/{id}\"" EP \
    ",\"backend\":[{\"host\":[\"http://10.0.0.1:8081\"]," \
    "\"url_pattern\":\"/b/{id}\"" BE "}]}]}"

static void test_endpoint_and_backend(void **state)
{
    (void)state;
    assert_null(translate(ONE_ENDPOINT(",\"method\":\"post\","
        "\"input_headers\":[\"Authorization\",\"X-Y\"],"
        "\"input_query_strings\":[\"a\"],\"timeout\":\"800ms\","
        "\"cache_ttl\":\"30s\",\"concurrent_calls\":2",
        ",\"method\":\"PUT\",\"encoding\":\"xml\",\"group\":\"g\","
        "\"target\":\"data\",\"allow\":[\"a\",\"b.c\"],"
        "\"mapping\":{\"a\":\"x\"},\"is_collection\":true")));
    assert_int_equal(res.endpoints, 1);
    assert_int_equal(res.refused, 0);
    assert_true(has_line("<ApiEndpoint /a/{id} POST>"));
    assert_true(has_line("    ApiOutputEncoding json"));
    assert_true(has_line("    ApiCompletedHeader X-Krakend-Completed"));
    assert_true(has_line("    ApiBackendChunkedBody On"));
    assert_true(has_line("    ApiTimeout 800ms"));
    assert_true(has_line("    ApiCacheTTL 30s"));
    assert_true(has_line("    ApiConcurrentCalls 2"));
    assert_true(has_line("    ApiInputHeaders Authorization X-Y"));
    assert_true(has_line("    ApiInputQueryStrings a"));
    assert_true(has_line("    ApiBackend http://10.0.0.1:8081/b/{id} method=PUT"
                         " encoding=xml group=g target=data allow=a,b.c"
                         " mapping=a:x collection"));
    assert_true(has_line("</ApiEndpoint>"));
    /* each line knows where it came from */
    assert_string_equal(APR_ARRAY_IDX(res.lines, res.lines->nelts - 2,
                        apigw_kd_line).pointer, "/endpoints/0/backend/0");
}

static void test_service_defaults(void **state)
{
    (void)state;
    assert_null(translate("{\"version\":3,\"timeout\":\"3s\","
        "\"cache_ttl\":\"1h\",\"output_encoding\":\"negotiate\","
        "\"host\":[\"127.0.0.1:9000/\"],\"endpoints\":[{\"endpoint\":\"/x\","
        "\"backend\":[{\"url_pattern\":\"y\"}]},{\"endpoint\":\"/n\","
        "\"output_encoding\":\"no-op\",\"timeout\":\"1s\","
        "\"backend\":[{\"url_pattern\":\"/n\",\"encoding\":\"no-op\"}]}]}"));
    assert_int_equal(res.endpoints, 2);
    assert_true(has_line("    ApiTimeout 3s"));
    assert_true(has_line("    ApiTimeout 1s"));
    assert_true(has_line("    ApiCacheTTL 1h"));
    assert_true(has_line("    ApiOutputEncoding negotiate"));
    assert_true(has_line("    ApiOutputEncoding no-op"));
    /* a host without scheme is http://, trailing slashes go */
    assert_true(has_line("    ApiBackend http://127.0.0.1:9000/y"));
    assert_true(has_line("    ApiBackend http://127.0.0.1:9000/n encoding=no-op"));
    /* no Cache-Control on a no-op endpoint: the backend's headers pass */
    assert_null(strstr(joined(), "ApiCacheTTL 1h\n    ApiBackend "
                                 "http://127.0.0.1:9000/n"));
}

static void test_balancer_per_host_list(void **state)
{
    const char *all;

    (void)state;
    assert_null(translate("{\"version\":3,\"endpoints\":["
        "{\"endpoint\":\"/a\",\"backend\":[{\"host\":[\"http://h1:1\","
        "\"http://h2:2\"],\"url_pattern\":\"/a\"}]},"
        "{\"endpoint\":\"/b\",\"backend\":[{\"host\":[\"http://h1:1\","
        "\"http://h2:2\"],\"url_pattern\":\"/b\"}]}]}"));
    all = joined();
    assert_true(has_line("<Proxy \"balancer://kd1-1\">"));
    assert_true(has_line("    BalancerMember http://h1:1"));
    assert_true(has_line("    ApiBackend balancer://kd1-1/a"));
    assert_true(has_line("    ApiBackend balancer://kd1-1/b"));
    /* declared once */
    assert_null(strstr(strstr(all, "<Proxy") + 1, "<Proxy"));
    /* without mod_proxy_balancer the endpoints are refused */
    assert_null(translate_opts("{\"version\":3,\"endpoints\":["
        "{\"endpoint\":\"/a\",\"backend\":[{\"host\":[\"http://h1:1\","
        "\"http://h2:2\"],\"url_pattern\":\"/a\"}]}]}", 0,
        ALL & ~APIGW_KD_HAVE_BALANCER));
    assert_int_equal(res.endpoints, 0);
    assert_int_equal(res.refused, 1);
}

static void test_errors_name_the_pointer(void **state)
{
    static const struct { const char *text, *pointer, *words; } cases[] = {
        { "[]", "", "a KrakenD configuration object expected" },
        { "{\"version\":2,\"endpoints\":[]}", "/version", "only version 3" },
        { "{\"version\":3,\"endpoints\":{}}", "/endpoints",
          "an array of endpoints expected, found an object" },
        { "{\"version\":3,\"endpoints\":[{\"endpoint\":\"/a\","
          "\"backend\":[{\"url_pattern\":\"/\"}]}]}",
          "/endpoints/0/backend/0/host", "without host" },
        { "{\"version\":3,\"endpoints\":[{\"endpoint\":\"/a\","
          "\"backend\":[{\"host\":[\"h:1\"],\"encoding\":\"toml\"}]}]}",
          "/endpoints/0/backend/0/encoding", "unknown encoding \"toml\"" },
        { "{\"version\":3,\"endpoints\":[{\"endpoint\":\"/a\","
          "\"method\":\"BREW\",\"backend\":[{\"host\":[\"h:1\"]}]}]}",
          "/endpoints/0/method", "unknown method \"BREW\"" },
        { "{\"version\":3,\"endpoints\":[{\"endpoint\":\"a\","
          "\"backend\":[{\"host\":[\"h:1\"]}]}]}",
          "/endpoints/0/endpoint", "starting with '/'" },
        { "{\"version\":3,\"endpoints\":[{\"endpoint\":\"/a\","
          "\"backend\":[]}]}", "/endpoints/0/backend", "at least one" },
        { "{\"version\":3,\"endpoints\":[{\"endpoint\":\"/a\","
          "\"backend\":[{\"host\":[\"ftp://h:1\"]}]}]}",
          "/endpoints/0/backend/0/host/0", "only http:// and https://" },
        { "{\"version\":3,\"endpoints\":[{\"endpoint\":\"/a\","
          "\"backend\":[{\"host\":[\"http://h:1/x\"]}]}]}",
          "/endpoints/0/backend/0/host/0", "nothing after it" },
        { "{\"version\":3,\"endpoints\":[{\"endpoint\":\"/a\","
          "\"input_headers\":[\"a\",7],\"backend\":[{\"host\":[\"h:1\"]}]}]}",
          "/endpoints/0/input_headers/1", "a string expected" },
        { "{\"version\":3,\"endpoints\":[{\"endpoint\":\"/a\",\"backend\":"
          "[{\"host\":[\"h:1\"],\"url_pattern\":\"/x\\ny\"}]}]}",
          "/endpoints/0/backend/0/url_pattern", "cannot be written" },
        { "{\"version\":3,\"endpoints\":[{\"endpoint\":\"/a\","
          "\"output_encoding\":\"no-op\",\"backend\":[{\"host\":[\"h:1\"]},"
          "{\"host\":[\"h:2\"]}]}]}", "/endpoints/0/backend", "exactly one" },
        { "{\"version\":3,\"endpoints\":[{\"endpoint\":\"/a\",\"backend\":"
          "[{\"host\":[\"h:1\"],\"mapping\":{\"a\":1}}]}]}",
          "/endpoints/0/backend/0/mapping/a", "a string expected" },
        { "{\"version\":3,\"endpoints\":[{\"endpoint\":\"/a~b/c\","
          "\"extra_config\":{\"proxy\":{\"static\":{\"data\":3}}},"
          "\"backend\":[{\"host\":[\"h:1\"]}]}]}",
          "/endpoints/0/extra_config/proxy/static/data", "an object" },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *err = translate(cases[i].text);
        if (!err || !strstr(err, cases[i].words)
            || strcmp(res.error_pointer, cases[i].pointer) != 0) {
            fail_msg("case %u: %s -> %s at %s", (unsigned)i, cases[i].text,
                     err ? err : "(no error)",
                     err ? res.error_pointer : "-");
        }
    }
}

static void test_components_notes_and_refusals(void **state)
{
    const apigw_kd_note *n;

    (void)state;
    assert_null(translate("{\"version\":3,\"port\":8080,"
        "\"extra_config\":{\"telemetry/logging\":{}},\"endpoints\":["
        "{\"endpoint\":\"/cel\",\"extra_config\":{\"validation/cel\":[]},"
        "\"backend\":[{\"host\":[\"h:1\"]}]},"
        "{\"endpoint\":\"/lua\",\"backend\":[{\"host\":[\"h:1\"],"
        "\"extra_config\":{\"modifier/lua-backend\":{}}}]},"
        "{\"endpoint\":\"/ok\",\"backend\":[{\"host\":[\"h:1\"],"
        "\"timeout\":\"1s\"}]}]}"));
    assert_int_equal(res.endpoints, 1);
    assert_int_equal(res.refused, 2);
    assert_null(strstr(joined(), "/cel"));
    assert_null(strstr(joined(), "/lua"));
    assert_non_null(strstr(joined(), "<ApiEndpoint /ok GET>"));
    n = note_at("/port");
    assert_non_null(n);
    assert_int_equal(n->action, APIGW_KD_SKIPPED);
    n = note_at("/extra_config/telemetry~1logging");
    assert_non_null(n);
    assert_int_equal(n->action, APIGW_KD_SKIPPED);
    n = note_at("/endpoints/0/extra_config/validation~1cel");
    assert_non_null(n);
    assert_int_equal(n->action, APIGW_KD_REFUSED);
    assert_string_equal(n->component, "validation/cel");
    n = note_at("/endpoints/1/backend/0/extra_config/modifier~1lua-backend");
    assert_non_null(n);
    assert_int_equal(n->action, APIGW_KD_REFUSED);
    assert_non_null(note_at("/endpoints/2/backend/0/timeout"));
    assert_string_equal(apigw_kd_action_name(APIGW_KD_REFUSED),
                        "endpoint refused");

    /* a service-level guard nobody knows refuses every endpoint */
    assert_null(translate("{\"version\":3,\"extra_config\":{\"auth/api-keys\":"
        "{}},\"endpoints\":[{\"endpoint\":\"/a\",\"backend\":"
        "[{\"host\":[\"h:1\"]}]}]}"));
    assert_int_equal(res.endpoints, 0);
    assert_int_equal(res.refused, 1);

    /* strict: any note refuses the file, naming the first */
    assert_non_null(translate_opts("{\"version\":3,\"port\":1,\"endpoints\":"
                                   "[]}", 1, ALL));
    assert_string_equal(res.error_pointer, "/port");
    assert_null(translate_opts("{\"version\":3,\"endpoints\":[]}", 1, ALL));
}

static void test_security_and_qos(void **state)
{
    (void)state;
    assert_null(translate("{\"version\":3,\"extra_config\":{"
        "\"security/cors\":{\"allow_origins\":[\"*\"],\"allow_methods\":"
        "[\"GET\"],\"expose_headers\":[\"Content-Length\"],\"max_age\":\"12h\","
        "\"allow_credentials\":false},"
        "\"security/bot-detector\":{\"deny\":[\"a b\"],\"patterns\":"
        "[\"(bot).*\"]}},\"endpoints\":[{\"endpoint\":\"/p\","
        "\"extra_config\":{\"auth/validator\":{\"alg\":\"HS256\","
        "\"jwk_url\":\"http://127.0.0.1:1/jwk\",\"disable_jwk_security\":true,"
        "\"issuer\":\"https://i\",\"audience\":[\"x\"],\"roles_key\":\"roles\","
        "\"roles\":[\"a\",\"c\"],\"propagate_claims\":[[\"sub\",\"X-Sub\"]]},"
        "\"qos/ratelimit/router\":{\"max_rate\":10,\"client_max_rate\":2,"
        "\"strategy\":\"header\",\"key\":\"X-Key\"},"
        "\"proxy\":{\"sequential\":true,\"static\":{\"strategy\":\"errored\","
        "\"data\":{\"b\":1,\"a\":\"x y\"}},\"flatmap_filter\":[{\"type\":"
        "\"del\",\"args\":[\"a.*.b\"]}]}},"
        "\"backend\":[{\"host\":[\"h:1\"],\"extra_config\":{"
        "\"backend/http\":{\"return_error_details\":\"be\"},"
        "\"proxy\":{\"flatmap_filter\":[{\"type\":\"move\",\"args\":[\"x\","
        "\"y\"]}]},\"qos/circuit-breaker\":{\"max_errors\":3,"
        "\"timeout\":7},\"qos/http-cache\":{}}}]}]}"));
    assert_int_equal(res.endpoints, 1);
    assert_true(has_line("    ApiCors On"));
    assert_true(has_line("    ApiCorsAllowOrigins *"));
    assert_true(has_line("    ApiCorsExposeHeaders Content-Length"));
    assert_true(has_line("    ApiCorsMaxAge 12h"));
    assert_true(has_line("    ApiBotDeny \"a b\""));
    assert_true(has_line("    ApiBotPatterns (bot).*"));
    assert_true(has_line("    AuthType jwt"));
    assert_true(has_line("    ApiJwtKeys http://127.0.0.1:1/jwk insecure "
                         "symmetric"));
    assert_true(has_line("    ApiJwtAlgorithms HS256"));
    assert_true(has_line("    ApiJwtIssuer https://i"));
    assert_true(has_line("    ApiJwtRolesClaim roles"));
    assert_true(has_line("    ApiJwtPropagate sub X-Sub"));
    assert_true(has_line("        Require jwt-role a c"));
    assert_true(has_line("    ApiRateLimit average=10 period=1s burst=10 "
                         "status=503"));
    assert_true(has_line("    ApiRateLimit average=2 period=1s burst=2 "
                         "by=header:X-Key"));
    assert_true(has_line("    ApiSequential On"));
    assert_true(has_line("    ApiStatic strategy=errored {\"a\":\"x y\","
                         "\"b\":1}"));
    assert_true(has_line("    ApiFlatmap del a.*.b"));
    assert_true(has_line("    ApiFlatmap backend=0 move x y"));
    assert_true(has_line("    ApiCircuitBreaker errors-50 scope=backend "
                         "min-requests=3 fallback=7s"));
    assert_true(has_line("    ApiCache On"));
    assert_true(has_line("    ApiBackend http://h:1/ error-details=be"));

    /* return_error_code: the endpoint answers with that backend's status */
    assert_null(translate("{\"version\":3,\"endpoints\":[{\"endpoint\":"
        "\"/s\",\"backend\":[{\"host\":[\"h:1\"]},{\"host\":[\"h:2\"],"
        "\"extra_config\":{\"backend/http\":{\"return_error_code\":true}}},"
        "{\"host\":[\"h:3\"],\"extra_config\":{\"backend/http\":"
        "{\"return_error_code\":true}}}]}]}"));
    assert_true(has_line("    ApiStatusFrom 1"));
    assert_false(has_line("    ApiStatusFrom 2"));
    assert_int_equal(note_at("/endpoints/0/backend/1/extra_config/backend~1http"
                             "/return_error_code")->action,
                     APIGW_KD_APPROXIMATED);
    assert_int_equal(note_at("/endpoints/0/backend/2/extra_config/backend~1http"
                             "/return_error_code")->action, APIGW_KD_SKIPPED);

    /* without mod_apigw_auth a guarded endpoint is not served */
    assert_null(translate_opts("{\"version\":3,\"endpoints\":[{\"endpoint\":"
        "\"/p\",\"extra_config\":{\"auth/validator\":{\"jwk_url\":"
        "\"https://x/\"}},\"backend\":[{\"host\":[\"h:1\"]}]}]}", 0,
        APIGW_KD_HAVE_BALANCER));
    assert_int_equal(res.endpoints, 0);
    assert_int_equal(res.refused, 1);
}

static void test_json_schema(void **state)
{
    (void)state;
    /* krakend-ce's /jsonschema endpoint: served, with the schema */
    assert_null(translate("{\"version\":3,\"endpoints\":[{\"endpoint\":"
        "\"/jsonschema\",\"method\":\"POST\",\"extra_config\":{"
        "\"validation/json-schema\":{\"type\":\"object\",\"required\":"
        "[\"n\u00e9\"],\"properties\":{\"a b\":{\"pattern\":\"^x\\\\d$\"}}}}"
        ",\"backend\":[{\"host\":[\"h:1\"],\"url_pattern\":\"/x\"}]}]}"));
    assert_int_equal(res.endpoints, 1);
    assert_int_equal(res.refused, 0);
    assert_null(note_at("/endpoints/0/extra_config/validation~1json-schema"));
    /* one line, compact, ASCII, keys in the file's order */
    assert_true(has_line("    ApiRequestSchema {\"type\":\"object\","
                         "\"required\":[\"n\\u00E9\"],\"properties\":{\"a b\":"
                         "{\"pattern\":\"^x\\\\d$\"}}}"));
    /* a boolean schema is one too */
    assert_null(translate("{\"version\":3,\"endpoints\":[{\"endpoint\":"
        "\"/f\",\"extra_config\":{\"validation/json-schema\":false},"
        "\"backend\":[{\"host\":[\"h:1\"]}]}]}"));
    assert_true(has_line("    ApiRequestSchema false"));
    /* anything else is no schema: the file is refused at its pointer */
    assert_non_null(translate("{\"version\":3,\"endpoints\":[{\"endpoint\":"
        "\"/s\",\"extra_config\":{\"validation/json-schema\":\"x\"},"
        "\"backend\":[{\"host\":[\"h:1\"]}]}]}"));
    assert_string_equal(res.error_pointer,
                        "/endpoints/0/extra_config/validation~1json-schema");
    /* validation/cel is still refused */
    assert_null(translate("{\"version\":3,\"endpoints\":[{\"endpoint\":"
        "\"/c\",\"extra_config\":{\"validation/cel\":[]},"
        "\"backend\":[{\"host\":[\"h:1\"]}]}]}"));
    assert_int_equal(res.refused, 1);
}

static void test_words(void **state)
{
    (void)state;
    assert_string_equal(apigw_kd_word(pool, "plain"), "plain");
    assert_string_equal(apigw_kd_word(pool, ""), "\"\"");
    assert_string_equal(apigw_kd_word(pool, "a b"), "\"a b\"");
    assert_string_equal(apigw_kd_word(pool, "say \"hi\""),
                        "\"say \\\"hi\\\"\"");
    assert_string_equal(apigw_kd_word(pool, "\\d+"), "\"\\d+\"");
    assert_string_equal(apigw_kd_word(pool, "#x"), "\"#x\"");
    assert_null(apigw_kd_word(pool, "a\nb"));
    assert_null(apigw_kd_word(pool, "a\\"));
    assert_null(apigw_kd_word(pool, "a\\\"b"));
    assert_null(apigw_kd_word(pool, "\x7f"));
}

static void test_lines(void **state)
{
    static const char text[] =
        "{\n"
        "  \"version\": 3,\n"
        "  \"a/b~c\": {\n"
        "    \"x\": [1,\n"
        "      {\"y\": \"s\\\"\\n\"}],\n"
        "    \"\\u00e9\\ud83d\\ude00\": null\n"
        "  }\n"
        "}\n";
    apr_hash_t *m = apigw_kd_lines(pool, text, sizeof(text) - 1);

    (void)state;
    assert_int_equal(apigw_kd_line_of(m, pool, ""), 1);
    assert_int_equal(apigw_kd_line_of(m, pool, "/version"), 2);
    assert_int_equal(apigw_kd_line_of(m, pool, "/a~1b~0c"), 3);
    assert_int_equal(apigw_kd_line_of(m, pool, "/a~1b~0c/x"), 4);
    assert_int_equal(apigw_kd_line_of(m, pool, "/a~1b~0c/x/1"), 5);
    assert_int_equal(apigw_kd_line_of(m, pool, "/a~1b~0c/x/1/y"), 5);
    assert_int_equal(apigw_kd_line_of(m, pool,
                     "/a~1b~0c/\xc3\xa9\xf0\x9f\x98\x80"), 6);
    /* unknown pointers fall back to the nearest ancestor */
    assert_int_equal(apigw_kd_line_of(m, pool, "/a~1b~0c/x/7/z"), 4);
    assert_int_equal(apigw_kd_line_of(m, pool, "/nope"), 1);
}

static void test_lines_hostile(void **state)
{
    static const char *const texts[] = {
        "", "{", "[", "{\"a\"", "{\"a\":", "{\"a\":\"", "\"\\u12",
        "{\"\\u\":1}", "{\"a\\", "[[[[", "{\"a\":[1,{\"b\":\"\\ud800\"",
    };
    char deep[400];
    apr_hash_t *m;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        m = apigw_kd_lines(pool, texts[i], strlen(texts[i]));
        assert_non_null(m);
    }
    /* nesting past the limit is skipped, not recursed into */
    for (i = 0; i < 150; i++) {
        deep[i] = '[';
    }
    for (; i < 300; i++) {
        deep[i] = ']';
    }
    m = apigw_kd_lines(pool, deep, 300);
    assert_int_equal(apigw_kd_line_of(m, pool, "/0/0/0"), 1);
    assert_null(apr_hash_get(m, "/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0"
                                "/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0"
                                "/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0"
                                "/0/0/0/0/0/0/0/0/0/0", APR_HASH_KEY_STRING));
}

/* KrakenD's own answers: ApiErrorFormat krakend at the service level,
 * before any section, with messages when the router returns error
 * messages; only the router options still not honoured are notes. */
static void test_router_error_format(void **state)
{
    const apigw_kd_line *first;
    const apigw_kd_note *n;
    int i;

    (void)state;
    assert_null(translate(ONE_ENDPOINT("", "")));
    assert_true(has_line("ApiErrorFormat krakend"));
    assert_false(has_line("ApiErrorFormat krakend messages"));
    for (i = 0; i < res.lines->nelts; i++) {
        first = &APR_ARRAY_IDX(res.lines, i, apigw_kd_line);
        if (first->text[0] == '<') {
            fail_msg("a section before ApiErrorFormat: %s", first->text);
        }
        if (strcmp(first->text, "ApiErrorFormat krakend") == 0) {
            assert_string_equal(first->pointer, "");
            break;
        }
    }
    assert_null(note_at("/extra_config/router"));

    assert_null(translate("{\"version\":3,\"extra_config\":{\"router\":"
        "{\"return_error_msg\":true,\"hide_version_header\":true,"
        "\"disable_health\":true,\"health_path\":\"/up\","
        "\"auto_options\":true,\"logger_skip_paths\":[\"/a\"],"
        "\"no_such_option\":1}},\"endpoints\":[{\"endpoint\":\"/a\","
        "\"backend\":[{\"host\":[\"h:1\"]}]}]}"));
    assert_int_equal(res.endpoints, 1);
    assert_true(has_line("ApiErrorFormat krakend messages"));
    assert_false(has_line("ApiErrorFormat krakend"));
    for (i = 0; i < res.lines->nelts; i++) {
        first = &APR_ARRAY_IDX(res.lines, i, apigw_kd_line);
        if (strcmp(first->text, "ApiErrorFormat krakend messages") == 0) {
            assert_string_equal(first->pointer,
                                "/extra_config/router/return_error_msg");
        }
    }
    /* the router itself is no note any more: its options are */
    assert_null(note_at("/extra_config/router"));
    assert_null(note_at("/extra_config/router/return_error_msg"));
    assert_null(note_at("/extra_config/router/hide_version_header"));
    assert_null(note_at("/extra_config/router/disable_health"));
    /* health: served unless disabled, at health_path */
    assert_null(note_at("/extra_config/router/health_path"));
    assert_false(has_line("<Location /up>"));
    assert_null(translate("{\"version\":3,\"extra_config\":{\"router\":"
        "{\"health_path\":\"/up\"}},\"endpoints\":[]}"));
    assert_true(has_line("<Location /up>"));
    assert_true(has_line("    SetHandler apigw-health"));
    assert_null(translate("{\"version\":3,\"endpoints\":[]}"));
    assert_true(has_line("<Location /__health>"));
    assert_non_null(translate("{\"version\":3,\"extra_config\":{\"router\":"
        "{\"health_path\":\"up\"}},\"endpoints\":[]}"));
    assert_string_equal(res.error_pointer, "/extra_config/router/health_path");
    assert_null(translate("{\"version\":3,\"extra_config\":{\"router\":"
        "{\"return_error_msg\":true,\"hide_version_header\":true,"
        "\"disable_health\":true,\"health_path\":\"/up\","
        "\"auto_options\":true,\"logger_skip_paths\":[\"/a\"],"
        "\"no_such_option\":1}},\"endpoints\":[{\"endpoint\":\"/a\","
        "\"backend\":[{\"host\":[\"h:1\"]}]}]}"));
    assert_non_null(note_at("/extra_config/router/auto_options"));
    assert_non_null(note_at("/extra_config/router/logger_skip_paths"));
    n = note_at("/extra_config/router/no_such_option");
    assert_non_null(n);
    assert_non_null(strstr(n->why, "unknown"));

    /* return_error_msg false: no messages, no note */
    assert_null(translate("{\"version\":3,\"extra_config\":{\"router\":"
        "{\"return_error_msg\":false}},\"endpoints\":[]}"));
    assert_true(has_line("ApiErrorFormat krakend"));
    assert_int_equal(res.notes->nelts, 0);

    /* a wrong type is the file's error, at its pointer */
    assert_non_null(translate("{\"version\":3,\"extra_config\":{\"router\":"
        "{\"return_error_msg\":\"yes\"}},\"endpoints\":[]}"));
    assert_string_equal(res.error_pointer,
                        "/extra_config/router/return_error_msg");
}

/* Gin's redirects, on in KrakenD: ApiRedirectFixedPath and
 * ApiRedirectTrailingSlash at the service level, before any section,
 * unless the router turns them off; the two switches are no notes. */
static void test_router_redirects(void **state)
{
    int i, sections = 0, fixed = -1, slash = -1;

    (void)state;
    assert_null(translate(ONE_ENDPOINT("", "")));
    for (i = 0; i < res.lines->nelts; i++) {
        const apigw_kd_line *l = &APR_ARRAY_IDX(res.lines, i, apigw_kd_line);

        sections |= l->text[0] == '<';
        if (strcmp(l->text, "ApiRedirectFixedPath On") == 0) {
            assert_false(sections);
            assert_string_equal(l->pointer, "");
            fixed = i;
        }
        if (strcmp(l->text, "ApiRedirectTrailingSlash On") == 0) {
            assert_false(sections);
            assert_string_equal(l->pointer, "");
            slash = i;
        }
    }
    assert_true(fixed >= 0 && slash >= 0);

    /* each switch on its own; the lines point at the router */
    assert_null(translate("{\"version\":3,\"extra_config\":{\"router\":"
        "{\"disable_redirect_fixed_path\":true}},\"endpoints\":[]}"));
    assert_false(has_line("ApiRedirectFixedPath On"));
    assert_true(has_line("ApiRedirectTrailingSlash On"));
    assert_null(note_at("/extra_config/router"));
    assert_null(note_at("/extra_config/router/disable_redirect_fixed_path"));
    for (i = 0; i < res.lines->nelts; i++) {
        const apigw_kd_line *l = &APR_ARRAY_IDX(res.lines, i, apigw_kd_line);
        if (strcmp(l->text, "ApiRedirectTrailingSlash On") == 0) {
            assert_string_equal(l->pointer, "/extra_config/router");
        }
    }
    assert_null(translate("{\"version\":3,\"extra_config\":{\"router\":"
        "{\"disable_redirect_trailing_slash\":true,"
        "\"disable_redirect_fixed_path\":false}},\"endpoints\":[]}"));
    assert_true(has_line("ApiRedirectFixedPath On"));
    assert_false(has_line("ApiRedirectTrailingSlash On"));
    assert_int_equal(res.notes->nelts, 0);
    assert_null(translate("{\"version\":3,\"extra_config\":{\"router\":"
        "{\"disable_redirect_trailing_slash\":true,"
        "\"disable_redirect_fixed_path\":true}},\"endpoints\":[]}"));
    assert_null(strstr(joined(), "ApiRedirect"));
    /* strict mode has nothing to say about them */
    assert_null(translate_opts("{\"version\":3,\"extra_config\":{\"router\":"
        "{\"disable_redirect_trailing_slash\":true}},\"endpoints\":[]}",
        1, ALL));
    /* a wrong type is the file's error, at its pointer */
    assert_non_null(translate("{\"version\":3,\"extra_config\":{\"router\":"
        "{\"disable_redirect_fixed_path\":\"yes\"}},\"endpoints\":[]}"));
    assert_string_equal(res.error_pointer,
                        "/extra_config/router/disable_redirect_fixed_path");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_endpoint_and_backend,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_service_defaults,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_balancer_per_host_list,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_name_the_pointer,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_components_notes_and_refusals,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_security_and_qos,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(test_words,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_lines,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_lines_hostile,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_router_error_format,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_router_redirects,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
