/* sources: mod_apigw_krakend/apigw_kd_translate.c mod_apigw_krakend/apigw_kd_lines.c */
/* libs: -ljansson */
/* libFuzzer target for the krakend.json importer
 * (mod_apigw_krakend/apigw_kd_translate.c, apigw_kd_lines.c). The first
 * byte picks the options (strict, which sibling modules are loaded), the
 * rest is the file. Beyond crashes and leaks it checks:
 *  - the pointer → line scanner accepts any bytes, and every line it gives
 *    is within the text's line count;
 *  - for text jansson parses: an error comes with a pointer ("" or
 *    starting with '/') and no lines are promised; success gives lines
 *    that are single configuration lines (no control character), each
 *    with a pointer, sections balanced (<ApiEndpoint>/</ApiEndpoint>,
 *    <Proxy>/</Proxy>, <RequireAll>/</RequireAll>, one <Location> for
 *    the health endpoint before the endpoints), every directive
 *    inside a section but the service-level ones (service_level), which
 *    come first and only once each (ApiErrorFormat always), exactly
 *    `endpoints` endpoint blocks, and endpoints + refused ≤ the
 *    endpoints array's size;
 *  - strict mode succeeds only without notes;
 *  - every note has a pointer, a component and a known action. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <jansson.h>

#include "apigw_kd_translate.h"
#include "apigw_kd_lines.h"

#define FUZZ_TARGET "fuzz_krakend"
#include "fuzz_check.h"

static apr_pool_t *root;

static unsigned count_lines(const char *s, size_t n)
{
    unsigned lines = 1;
    size_t i;

    for (i = 0; i < n; i++) {
        lines += s[i] == '\n';
    }
    return lines;
}

/* The directives the importer writes outside any section, for the server
 * or virtual host holding ApiImportKrakenD. */
static const char *const service_level[] = {
    "ApiErrorFormat ", "ApiRedirectFixedPath ", "ApiRedirectTrailingSlash ",
    "ApiTraceContext ", NULL
};

/* Its index in service_level, or -1. */
static int service_directive(const char *t)
{
    int i;

    for (i = 0; service_level[i]; i++) {
        if (strncmp(t, service_level[i], strlen(service_level[i])) == 0) {
            return i;
        }
    }
    return -1;
}

static void check_lines(const apigw_kd_result *r)
{
    int i, endpoints = 0, depth_ep = 0, depth_proxy = 0, depth_req = 0;
    int depth_loc = 0, locations = 0, sections = 0, seen[sizeof(service_level) / sizeof(*service_level)];
    int k;

    memset(seen, 0, sizeof(seen));

    for (i = 0; i < r->lines->nelts; i++) {
        const apigw_kd_line *l = &APR_ARRAY_IDX(r->lines, i, apigw_kd_line);
        const char *c, *t = l->text;
        CHECK(l->text && l->pointer, "line %d without text or pointer", i);
        CHECK(*l->pointer == '\0' || *l->pointer == '/',
              "line %d pointer [%s]", i, l->pointer);
        for (c = t; *c; c++) {
            CHECK((unsigned char)*c >= 0x20 && *c != 0x7f,
                  "control character in line %d [%s]", i, t);
        }
        while (*t == ' ') {
            t++;
        }
        if (*t == '<') {
            sections = 1;
        }
        if (t == l->text && (k = service_directive(t)) >= 0) {
            CHECK(!sections && !seen[k], "service-level line %d after a "
                  "section or twice [%s]", i, t);
            seen[k] = 1;
        }
        else if (strncmp(t, "<ApiEndpoint ", 13) == 0) {
            CHECK(depth_ep == 0, "nested endpoint at line %d", i);
            depth_ep++;
            endpoints++;
        }
        else if (strcmp(t, "</ApiEndpoint>") == 0) {
            CHECK(depth_ep == 1, "unbalanced endpoint at line %d", i);
            depth_ep--;
        }
        else if (strncmp(t, "<Proxy ", 7) == 0) {
            CHECK(depth_ep == 0 && depth_proxy == 0, "proxy at line %d", i);
            depth_proxy++;
        }
        else if (strcmp(t, "</Proxy>") == 0) {
            CHECK(depth_proxy == 1, "unbalanced proxy at line %d", i);
            depth_proxy--;
        }
        else if (strncmp(t, "<Location ", 10) == 0) {
            /* the health endpoint: once, before the endpoints */
            CHECK(depth_ep == 0 && depth_proxy == 0 && depth_loc == 0
                  && endpoints == 0 && locations == 0, "location at line %d",
                  i);
            depth_loc++;
            locations++;
        }
        else if (strcmp(t, "</Location>") == 0) {
            CHECK(depth_loc == 1, "unbalanced location at line %d", i);
            depth_loc--;
        }
        else if (strcmp(t, "<RequireAll>") == 0) {
            CHECK(depth_ep == 1 && depth_req == 0, "require at line %d", i);
            depth_req++;
        }
        else if (strcmp(t, "</RequireAll>") == 0) {
            CHECK(depth_req == 1, "unbalanced require at line %d", i);
            depth_req--;
        }
        else {
            CHECK(depth_ep == 1 || depth_proxy == 1
                  || (depth_loc == 1 && strcmp(t, "SetHandler apigw-health") == 0),
                  "directive outside a section at line %d [%s]", i, t);
        }
    }
    CHECK(depth_ep == 0 && depth_proxy == 0 && depth_req == 0
          && depth_loc == 0, "sections left open");
    CHECK(seen[0], "no ApiErrorFormat line");
    CHECK(endpoints == r->endpoints, "%d blocks for %d endpoints", endpoints,
          r->endpoints);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data + (size ? 1 : 0);
    size_t len = size ? size - 1 : 0;
    apigw_kd_options opts;
    apigw_kd_result res;
    apr_hash_index_t *hi;
    apr_hash_t *where;
    apr_pool_t *p;
    json_error_t je;
    json_t *doc;
    unsigned nlines;
    const char *err;
    int i;

    if (!root) {
        apr_initialize();
        apr_pool_create(&root, NULL);
    }
    apr_pool_create(&p, root);

    where = apigw_kd_lines(p, text, len);
    nlines = count_lines(text, len);
    for (hi = apr_hash_first(p, where); hi; hi = apr_hash_next(hi)) {
        const unsigned *line = apr_hash_this_val(hi);
        CHECK(*line >= 1 && *line <= nlines, "line %u of %u", *line, nlines);
    }

    doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (doc) {
        memset(&opts, 0, sizeof(opts));
        opts.strict = size && (data[0] & 0x80);
        opts.have = size ? (data[0] & 0x0f) : 0;
        opts.prefix = "kd1";
        err = apigw_kd_translate(p, doc, &opts, &res);
        if (err) {
            CHECK(res.error == err && res.error_pointer
                  && (*res.error_pointer == '\0' || *res.error_pointer == '/'),
                  "error [%s] without a pointer", err);
            (void)apigw_kd_line_of(where, p, res.error_pointer);
        }
        else {
            json_t *eps = json_object_get(doc, "endpoints");
            check_lines(&res);
            CHECK((size_t)(res.endpoints + res.refused)
                  <= json_array_size(eps), "%d + %d endpoints of %zu",
                  res.endpoints, res.refused, json_array_size(eps));
            CHECK(!opts.strict || res.notes->nelts == 0,
                  "strict with %d notes", res.notes->nelts);
        }
        for (i = 0; res.notes && i < res.notes->nelts; i++) {
            const apigw_kd_note *n = &APR_ARRAY_IDX(res.notes, i,
                                                    apigw_kd_note);
            CHECK(n->pointer && n->component && n->why
                  && n->action <= APIGW_KD_REFUSED, "note %d", i);
        }
        json_decref(doc);
    }
    apr_pool_destroy(p);
    return 0;
}
