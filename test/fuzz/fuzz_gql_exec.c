/* sources: mod_apigw/apigw_gql_schema.c mod_apigw/apigw_gql_validate.c mod_apigw/apigw_gql_exec.c mod_apigw/apigw_gql_introspect.c mod_apigw/apigw_gql_parse.c mod_apigw/apigw_gql_lex.c */
/* libs: -ljansson -lm */
/* libFuzzer target for the GraphQL executor (apigw_gql_schema.c,
 * _validate.c, _exec.c, _introspect.c) serving the admin schema
 * (mod_apigw/console/schema.graphql) with resolvers that answer
 * canned JSON, some of it of the wrong type, some faults. Checks: no
 * crash or leak, the answer is a JSON object holding data and/or errors
 * (data first when both), every error has a message and a code, a
 * refused request has no data, and the bounds hold (bytes, resolver calls
 * within the field bound).
 *
 * Input: the document, then optionally a NUL byte and the variables'
 * JSON, then optionally a NUL byte and the operation name. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "apigw_gql_exec.h"

#define FUZZ_TARGET "fuzz_gql_exec"
#include "fuzz_check.h"

static apr_pool_t *schema_pool;
static apigw_gql_schema *schema;
static const apigw_gql_limits LIMITS = { 2048, 10, 60, 8 };

static const char ROUTE[] =
    "{\"id\":\"r1\",\"environment\":\"default\",\"path\":\"/a/{x}\","
    "\"targetUrl\":\"http://b/{x}\",\"methods\":[\"GET\",\"POST\"],"
    "\"enabled\":true,\"createdAt\":\"2024-01-01T00:00:00Z\","
    "\"updatedAt\":\"2024-01-01T00:00:00Z\",\"cors\":{\"allowOrigins\":"
    "[\"*\"],\"maxAgeSeconds\":60},\"rateLimit\":{\"average\":5000000000,"
    "\"period\":\"1s\",\"burst\":1},\"requestHeaders\":[{\"action\":\"set\","
    "\"name\":\"X\",\"value\":\"1\"}],\"timeoutSeconds\":30,"
    "\"circuitBreaker\":{\"checkSeconds\":1,\"fallbackSeconds\":2.5,"
    "\"recoverySeconds\":3}}";
/* wrong on purpose: null for non-null, a bad enum, a float for an Int */
static const char BAD_ROUTE[] =
    "{\"id\":null,\"methods\":[\"FETCH\"],\"timeoutSeconds\":1.5,"
    "\"cors\":7,\"requestHeaders\":{}}";
static const char OPERATIONS[] =
    "{\"time\":\"t\",\"pools\":[{\"name\":\"balancer://p\",\"lbmethod\":"
    "\"byrequests\",\"members\":[{\"pool\":\"balancer://p\",\"name\":"
    "\"http://m\",\"state\":\"active\",\"suspensions\":0,\"retries\":0}]}],"
    "\"breakers\":[{\"id\":\"b\",\"section\":\"s\",\"state\":\"closed\","
    "\"trips\":1,\"window\":{\"requests\":1,\"networkErrors\":0,"
    "\"status5xx\":0,\"status4xx\":0}}],\"rateLimits\":null}";

typedef struct {
    unsigned calls;
    unsigned seed;
} baton_t;

static json_t *load(const char *text)
{
    json_t *j = json_loads(text, 0, NULL);

    CHECK(j, "canned JSON does not load: %s", text);
    return j;
}

static json_t *resolve(void *baton, apr_pool_t *p, const char *type,
                       const char *field, json_t *args,
                       apigw_gql_fault *fault)
{
    baton_t *b = baton;
    unsigned pick = (b->seed + b->calls++) % 7;

    (void)type;
    CHECK(json_is_object(args), "args not an object for %s", field);
    if (pick == 0) {
        fault->message = apr_psprintf(p, "%s failed", field);
        fault->code = "NOT_FOUND";
        fault->field = pick & 1 ? NULL : "input.path";
        return NULL;
    }
    if (pick == 1) {
        return json_null();
    }
    if (!strcmp(field, "routes")) {
        json_t *a = json_array();
        json_array_append_new(a, load(ROUTE));
        if (pick == 2) {
            json_array_append_new(a, load(BAD_ROUTE));
        }
        return a;
    }
    if (!strcmp(field, "environments")) {
        return load("[{\"name\":\"default\"},{\"name\":\"b\","
                    "\"copiedRoutes\":3}]");
    }
    if (!strcmp(field, "operations")) {
        return load(pick == 3 ? "[1]" : OPERATIONS);
    }
    if (!strncmp(field, "delete", 6)) {
        return load(pick == 3 ? "{\"deletedCount\":\"x\"}"
                              : "{\"deletedCount\":2}");
    }
    if (!strcmp(field, "createEnvironment")) {
        return load("{\"name\":\"e\",\"copiedRoutes\":0}");
    }
    if (!strcmp(field, "resumeMember")) {
        return load("{\"pool\":\"p\",\"name\":\"m\",\"state\":\"active\","
                    "\"suspensions\":0,\"retries\":0}");
    }
    if (!strcmp(field, "resetBreaker")) {
        return load("{\"id\":\"b\",\"section\":\"s\",\"state\":\"closed\","
                    "\"trips\":0,\"window\":{\"requests\":0,"
                    "\"networkErrors\":0,\"status5xx\":0,\"status4xx\":0}}");
    }
    return load(pick == 2 ? BAD_ROUTE : ROUTE);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    /* the schema file, found from this source's own path */
    const char *here = __FILE__;
    const char *slash = strrchr(here, '/');
    char *path, *sdl;
    const char *err;
    FILE *f;
    long n;

    (void)argc;
    (void)argv;
    apr_initialize();
    apr_pool_create(&schema_pool, NULL);
    path = apr_pstrcat(schema_pool, slash ? apr_pstrndup(schema_pool, here,
                                                         (apr_size_t)(slash
                                                                      - here))
                                          : ".",
                       "/../../mod_apigw/console/schema.graphql", NULL);
    f = fopen(path, "rb");
    CHECK(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    sdl = apr_palloc(schema_pool, (apr_size_t)n + 1);
    CHECK(fread(sdl, 1, (size_t)n, f) == (size_t)n, "short read");
    sdl[n] = '\0';
    fclose(f);
    err = apigw_gql_schema_build(schema_pool, sdl, &schema);
    CHECK(!err, "schema: %s", err);
    return 0;
}

static void check_answer(const char *resp, apigw_gql_outcome oc,
                         apr_size_t qlen, const baton_t *b)
{
    json_error_t jerr;
    json_t *r = json_loads(resp, JSON_REJECT_DUPLICATES, &jerr);
    json_t *errors, *e;
    const char *first;
    size_t i;

    CHECK(json_is_object(r), "not a JSON object: %s", resp);
    errors = json_object_get(r, "errors");
    first = json_object_iter_key(json_object_iter(r));
    CHECK(json_object_size(r) == (errors ? 1u : 0u)
                                 + (json_object_get(r, "data") ? 1u : 0u)
          && json_object_size(r) > 0, "keys: %s", resp);
    if (oc == APIGW_GQL_EXECUTED) {
        CHECK(!strcmp(first, "data"), "data is not first: %s", resp);
        CHECK(qlen <= LIMITS.max_bytes, "ran %lu bytes",
              (unsigned long)qlen);
        CHECK(b->calls <= LIMITS.max_fields, "%u resolver calls", b->calls);
    }
    else {
        CHECK(!json_object_get(r, "data"), "refused with data: %s", resp);
        CHECK(json_array_size(errors) > 0, "refused without errors: %s",
              resp);
        CHECK(b->calls == 0, "refused after resolving: %s", resp);
    }
    CHECK(!errors || (json_is_array(errors) && json_array_size(errors)),
          "errors: %s", resp);
    json_array_foreach(errors, i, e) {
        json_t *ext = json_object_get(e, "extensions");
        CHECK(json_is_string(json_object_get(e, "message"))
              && json_string_length(json_object_get(e, "message")) > 0,
              "message: %s", resp);
        CHECK(json_is_string(json_object_get(ext, "code")), "code: %s",
              resp);
    }
    json_decref(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const char *q = (const char *)data, *resp = NULL;
    const uint8_t *nul = memchr(data, 0, size);
    apr_size_t qlen = nul ? (apr_size_t)(nul - data) : size;
    json_t *vars = NULL;
    const char *opname = NULL;
    baton_t b = { 0, (unsigned)size };
    apigw_gql_outcome oc;

    if (apr_pool_create(&p, NULL) != APR_SUCCESS) {
        return 0;
    }
    if (nul) {
        const uint8_t *rest = nul + 1;
        size_t rlen = size - qlen - 1;
        const uint8_t *nul2 = memchr(rest, 0, rlen);
        size_t vlen = nul2 ? (size_t)(nul2 - rest) : rlen;

        vars = json_loadb((const char *)rest, vlen, 0, NULL);
        if (nul2) {
            opname = apr_pstrmemdup(p, (const char *)nul2 + 1,
                                    rlen - vlen - 1);
        }
    }
    /* the query is not NUL-terminated: a copy without the terminator's
     * slack, so ASan sees any read past qlen */
    {
        char *copy = malloc(qlen ? qlen : 1);
        memcpy(copy, q, qlen);
        oc = apigw_gql_execute(p, schema, &LIMITS, copy, qlen, vars, opname,
                               (int)(size & 1) || !nul, resolve, &b, &resp);
        free(copy);
    }
    CHECK(resp, "no answer");
    check_answer(resp, oc, qlen, &b);
    json_decref(vars);
    apr_pool_destroy(p);
    return 0;
}
