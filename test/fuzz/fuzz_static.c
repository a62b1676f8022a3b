/* sources: mod_apigw/apigw_static.c mod_apigw/apigw_merge.c mod_apigw/apigw_encode_json.c mod_apigw/apigw_encode_buf.c */
/* libs: -ljansson */
/* libFuzzer target for mod_apigw/apigw_static.c: ApiStatic's arguments
 * and adding its data to an aggregated answer.
 *
 * Each argument string goes through apigw_static_parse and an independent
 * reference reading (leading white space, an optional "strategy=WORD" up
 * to white space, WORD one of five exact words, then one JSON object;
 * jansson is the oracle of what JSON is valid). Accepted arguments must
 * give the reference's strategy and an object equal to the reference's;
 * refused ones a message starting "ApiStatic", the exact message for a
 * bad strategy or a non-object, and jansson's position and text for
 * invalid JSON. Then, for each of the four (complete, errored) outcomes,
 * the accepted data is added to a copy of the backend document with
 * apigw_static_add and compared with a reference merge as apigw_merge.h
 * documents it: the statics that apply, in order, each key set at the
 * root, a key already there replaced in its position (nested objects
 * replaced, not merged), new keys appended in the static's order, every
 * other key unchanged, and a document that is not an object left alone;
 * the static data is never modified. Once, at start-up: JSON nested far
 * past jansson's bound is refused, and a wide object merges correctly.
 *
 * Input: line 1 is the backend document (any JSON; {} when it is not
 * valid); every further line (at most 16) is an ApiStatic argument. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include <jansson.h>

#include "apigw_static.h"

#define FUZZ_TARGET "fuzz_static"
#include "fuzz_check.h"

#define MAX_STATICS 16
#define JANSSON_MAX_DEPTH 2048

static const char STRATEGY_MSG[] =
    "strategy is always, success, errored, incomplete or complete";
static const char OBJECT_MSG[] =
    "ApiStatic: the data must be a JSON object, like {\"source\": \"gateway\"}";

/* ---- reference reading of the arguments ---- */

static int ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f'
        || c == '\r';
}

typedef enum { REF_OK, REF_BAD_STRATEGY, REF_BAD_JSON, REF_NOT_OBJECT } ref_kind;

typedef struct {
    ref_kind kind;
    apigw_static_strategy strategy;
    json_t *data;               /* REF_OK: the object (a reference) */
    const char *message;        /* the message the code must give, or NULL */
} ref_result;

static int ref_strategy(const char *name, size_t len,
                        apigw_static_strategy *out)
{
    static const char *const words[] = {
        "always", "success", "errored", "incomplete", "complete"
    };
    static const apigw_static_strategy values[] = {
        APIGW_STATIC_ALWAYS, APIGW_STATIC_SUCCESS, APIGW_STATIC_ERRORED,
        APIGW_STATIC_INCOMPLETE, APIGW_STATIC_COMPLETE
    };
    size_t i;

    for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        if (strlen(words[i]) == len && memcmp(words[i], name, len) == 0) {
            *out = values[i];
            return 1;
        }
    }
    return 0;
}

static ref_result ref_parse(apr_pool_t *p, const char *args)
{
    ref_result r = { REF_OK, APIGW_STATIC_ALWAYS, NULL, NULL };
    size_t i = 0, j, k;
    json_error_t jerr;

    while (ws(args[i])) {
        i++;
    }
    k = i;
    if (strncmp(args + i, "strategy=", 9) == 0) {
        for (j = i; args[j] && !ws(args[j]); j++)
            ;
        if (!ref_strategy(args + i + 9, j - i - 9, &r.strategy)) {
            r.kind = REF_BAD_STRATEGY;
            r.message = apr_psprintf(p, "ApiStatic %.*s: %s", (int)(j - i),
                                     args + i, STRATEGY_MSG);
            return r;
        }
        for (k = j; ws(args[k]); k++)
            ;
    }
    r.data = json_loads(args + k, JSON_REJECT_DUPLICATES, &jerr);
    if (!r.data) {
        r.kind = REF_BAD_JSON;
        r.message = apr_psprintf(p, "ApiStatic: not valid JSON at character "
                                 "%d: %s", jerr.position, jerr.text);
    }
    else if (!json_is_object(r.data)) {
        r.kind = REF_NOT_OBJECT;
        r.message = OBJECT_MSG;
        json_decref(r.data);
        r.data = NULL;
    }
    return r;
}

static int ref_applies(apigw_static_strategy s, int complete, int errored)
{
    return s == APIGW_STATIC_ALWAYS
        || (s == APIGW_STATIC_SUCCESS && !errored)
        || (s == APIGW_STATIC_ERRORED && errored)
        || (s == APIGW_STATIC_INCOMPLETE && !complete)
        || (s == APIGW_STATIC_COMPLETE && complete);
}

/* Depth of nesting, without recursion deeper than the value itself. */
static int depth_of(const json_t *v)
{
    int d = 0, c;
    size_t i;
    const char *key;
    json_t *m;

    if (json_is_array(v)) {
        for (i = 0; i < json_array_size(v); i++) {
            c = depth_of(json_array_get(v, i));
            d = c > d ? c : d;
        }
        return d + 1;
    }
    if (json_is_object(v)) {
        json_object_foreach((json_t *)v, key, m) {
            c = depth_of(m);
            d = c > d ? c : d;
        }
        return d + 1;
    }
    return 0;
}

static void check_parse(apr_pool_t *p, const char *args, apigw_static *st,
                        int *accepted)
{
    ref_result want = ref_parse(p, args);
    const char *err = apigw_static_parse(p, args, st);

    *accepted = 0;
    if (want.kind != REF_OK) {
        CHECK(err != NULL, "[%s] accepted, the reference refuses it (%s)",
              args, want.message);
        CHECK(strncmp(err, "ApiStatic", 9) == 0, "[%s] message \"%s\"", args,
              err);
        CHECK(strcmp(err, want.message) == 0, "[%s]\n  got  %s\n  want %s",
              args, err, want.message);
        CHECK(st->data == NULL, "[%s] refused but data set", args);
        return;
    }
    CHECK(err == NULL, "[%s] refused: %s", args, err);
    CHECK(st->strategy == want.strategy, "[%s] strategy %d, want %d", args,
          (int)st->strategy, (int)want.strategy);
    CHECK(json_is_object(st->data), "[%s] data is not an object", args);
    CHECK(json_equal(st->data, want.data), "[%s] data differs", args);
    CHECK(depth_of(st->data) <= JANSSON_MAX_DEPTH, "[%s] depth %d", args,
          depth_of(st->data));
    json_decref(want.data);
    *accepted = 1;
}

/* ---- reference merge ---- */

typedef struct {
    const char *key;
    size_t len;
    const json_t *value;
    int from_static;
} ref_entry;

typedef struct {
    ref_entry *e;
    size_t n, cap;
} ref_doc;

static void ref_set(apr_pool_t *p, ref_doc *d, const char *key, size_t len,
                    const json_t *value, int from_static)
{
    size_t i;

    for (i = 0; i < d->n; i++) {
        if (d->e[i].len == len && memcmp(d->e[i].key, key, len) == 0) {
            d->e[i].value = value;
            d->e[i].from_static = from_static;
            return;
        }
    }
    if (d->n == d->cap) {
        ref_entry *e;
        d->cap = d->cap ? d->cap * 2 : 16;
        e = apr_palloc(p, d->cap * sizeof(*e));
        if (d->n) {
            memcpy(e, d->e, d->n * sizeof(*e));
        }
        d->e = e;
    }
    d->e[d->n].key = key;
    d->e[d->n].len = len;
    d->e[d->n].value = value;
    d->e[d->n].from_static = from_static;
    d->n++;
}

static void ref_add_object(apr_pool_t *p, ref_doc *d, const json_t *obj,
                           int from_static)
{
    const char *key;
    size_t len;
    json_t *v;

    json_object_keylen_foreach((json_t *)obj, key, len, v) {
        ref_set(p, d, key, len, v, from_static);
    }
}

static void compare_doc(const json_t *doc, const ref_doc *want, int complete,
                        int errored)
{
    const char *key;
    size_t len, i = 0;
    json_t *v;

    CHECK(json_object_size(doc) == want->n, "(complete %d errored %d) %zu "
          "keys, want %zu", complete, errored, json_object_size(doc), want->n);
    json_object_keylen_foreach((json_t *)doc, key, len, v) {
        const ref_entry *e = &want->e[i];
        CHECK(len == e->len && memcmp(key, e->key, len) == 0, "(complete %d "
              "errored %d) key %zu is \"%.*s\", want \"%.*s\"", complete,
              errored, i, (int)len, key, (int)e->len, e->key);
        CHECK(json_equal(v, e->value), "(complete %d errored %d) value of "
              "\"%.*s\" differs", complete, errored, (int)len, key);
        CHECK(!e->from_static || v == e->value, "(complete %d errored %d) "
              "\"%.*s\" is not the static's value", complete, errored,
              (int)len, key);
        i++;
    }
}

static void check_add(apr_pool_t *p, const json_t *orig,
                      const apr_array_header_t *statics,
                      json_t *const *snapshots, int complete, int errored)
{
    json_t *doc = json_deep_copy(orig);
    ref_doc want = { NULL, 0, 0 };
    int i;

    CHECK(doc != NULL, "out of memory copying the document");
    apigw_static_add(doc, statics, complete, errored);
    if (!json_is_object(orig)) {
        CHECK(json_equal(doc, orig), "a non-object document was changed");
    }
    else {
        ref_add_object(p, &want, orig, 0);
        for (i = 0; i < statics->nelts; i++) {
            const apigw_static *st = &APR_ARRAY_IDX(statics, i, apigw_static);
            if (ref_applies(st->strategy, complete, errored)) {
                ref_add_object(p, &want, st->data, 1);
            }
        }
        compare_doc(doc, &want, complete, errored);
    }
    json_decref(doc);
    for (i = 0; i < statics->nelts; i++) {
        CHECK(json_equal(APR_ARRAY_IDX(statics, i, apigw_static).data,
                         snapshots[i]), "static %d was modified", i);
    }
}

static void check_strategies(void)
{
    int s, c, e;

    for (s = APIGW_STATIC_ALWAYS; s <= APIGW_STATIC_COMPLETE; s++) {
        for (c = 0; c < 2; c++) {
            for (e = 0; e < 2; e++) {
                CHECK(apigw_static_applies((apigw_static_strategy)s, c, e)
                      == ref_applies((apigw_static_strategy)s, c, e),
                      "strategy %d complete %d errored %d", s, c, e);
            }
        }
    }
}

/* ---- one-time checks: far too deep, very wide ---- */

static void check_deep(apr_pool_t *p)
{
    size_t depth = 100000, i;
    char *s = apr_palloc(p, 2 * depth + 16);
    apigw_static st;
    const char *err;

    memcpy(s, "{\"a\":", 5);
    for (i = 0; i < depth; i++) {
        s[5 + i] = '[';
    }
    for (i = 0; i < depth; i++) {
        s[5 + depth + i] = ']';
    }
    memcpy(s + 5 + 2 * depth, "}", 2);
    err = apigw_static_parse(p, s, &st);
    CHECK(err && strncmp(err, "ApiStatic: not valid JSON", 25) == 0,
          "JSON %zu deep: %s", depth, err ? err : "accepted");
}

static void check_wide(apr_pool_t *p)
{
    int n = 5000, i;
    size_t cap = (size_t)n * 32 + 32, len;
    char *s = apr_palloc(p, cap);
    apigw_static st;
    apr_array_header_t *statics = apr_array_make(p, 1, sizeof(apigw_static));
    json_t *doc = json_object(), *snap;

    len = (size_t)snprintf(s, cap, "strategy=always {");
    for (i = 0; i < n; i++) {
        len += (size_t)snprintf(s + len, cap - len, "%s\"k%d\": %d",
                                i ? ", " : "", i, i);
        if (i % 2) {
            json_object_set_new(doc, apr_psprintf(p, "k%d", i),
                                json_string("backend"));
        }
    }
    snprintf(s + len, cap - len, "}");
    CHECK(apigw_static_parse(p, s, &st) == NULL, "a wide object is refused");
    APR_ARRAY_PUSH(statics, apigw_static) = st;
    snap = json_deep_copy(st.data);
    check_add(p, doc, statics, &snap, 1, 0);
    json_decref(snap);
    json_decref(doc);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    apr_pool_t *p;

    (void)argc;
    (void)argv;
    apr_initialize();
    check_strategies();
    if (apr_pool_create(&p, NULL) == APR_SUCCESS) {
        check_deep(p);
        check_wide(p);
        apr_pool_destroy(p);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    apr_array_header_t *statics;
    json_t *doc = NULL, *snapshots[MAX_STATICS];
    size_t pos = 0;
    int line = 0, i, c, e;

    if (size > 8192 || apr_pool_create(&p, NULL) != APR_SUCCESS) {
        return 0;
    }
    statics = apr_array_make(p, 4, sizeof(apigw_static));
    while (pos <= size && line <= MAX_STATICS) {
        const uint8_t *nl = memchr(data + pos, '\n', size - pos);
        size_t len = nl ? (size_t)(nl - (data + pos)) : size - pos;
        /* a C string, as httpd passes a directive's arguments */
        char *text = apr_pstrmemdup(p, (const char *)data + pos, len);

        if (line == 0) {
            doc = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        }
        else {
            apigw_static st;
            int accepted;
            check_parse(p, text, &st, &accepted);
            if (accepted) {
                APR_ARRAY_PUSH(statics, apigw_static) = st;
            }
        }
        line++;
        pos += len + 1;
        if (!nl) {
            break;
        }
    }
    if (!doc) {
        doc = json_object();
    }
    for (i = 0; i < statics->nelts; i++) {
        snapshots[i] = json_deep_copy(APR_ARRAY_IDX(statics, i,
                                                    apigw_static).data);
    }
    for (c = 0; c < 2; c++) {
        for (e = 0; e < 2; e++) {
            check_add(p, doc, statics, snapshots, c, e);
        }
    }
    for (i = 0; i < statics->nelts; i++) {
        json_decref(snapshots[i]);
    }
    json_decref(doc);
    apr_pool_destroy(p);
    return 0;
}
