/* sources: mod_apigw/apigw_merge.c mod_apigw/apigw_decode.c mod_apigw/apigw_decode_feed.c mod_apigw/apigw_encode.c mod_apigw/apigw_encode_buf.c mod_apigw/apigw_encode_json.c mod_apigw/apigw_encode_xml.c mod_apigw/apigw_encode_yaml.c */
/* libs: -ljansson -laprutil-1 */
/* libFuzzer target for mod_apigw's aggregation data path: backend option
 * strings through apigw_shape_set/check, arbitrary backend bodies through
 * every decoder, then apply, merge, path lookups, negotiate and every
 * encoder, with model checks:
 * - set/check either accept or give a non-empty message;
 * - a decoded body is an object no deeper than APIGW_DECODE_MAX_DEPTH;
 * - allow keeps exactly the allowed fields (no other key survives, every
 *   allowed path present in the input is present after), deny removes
 *   exactly the denied paths, mapping moves values under their new names
 *   and leaves the rest alone, group wraps under one key (each checked
 *   against a separate application of that option alone);
 * - a merge holds every key of the merged response with its value;
 * - JSON and json-collection output read back equal to the document, XML
 *   output is well-formed to apr_xml, YAML output is UTF-8 with no control
 *   characters but LF, string output is the "content" string.
 *
 * Input: line 1 is the ApiBackend options ("group=g allow=a,b.c
 * collection ..."), line 2 an Accept header value (also tried as an
 * ApiOutputEncoding word and a dot path), the rest is the backend body.
 *
 * Cost: one pool for the process, cleared per input. The body is decoded
 * once per (encoding, collection) pair; each shape the model applies
 * (target alone, allow, deny, mapping, group...) gets a json_deep_copy of
 * that decode, as apigw_shape_apply allows, instead of parsing the body
 * again (the configured backend is still decoded through apigw_decode,
 * and must equal the cached decode). The encoders are checked once per
 * distinct document: a document identical (types, key order, bytes) to
 * one already checked in this input would give the same output. Loops
 * over output bytes carry no coverage instrumentation. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_hash.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include <apr_xml.h>

#include "apigw_decode.h"
#include "apigw_encode.h"
#include "apigw_merge.h"

#define FUZZ_TARGET "fuzz_merge"
#include "fuzz_check.h"

#define MAX_TOKENS 16

/* Helpers whose branches say nothing about the library (byte scans of its
 * output, the model's document comparison) carry no coverage
 * instrumentation: tracing every byte compare cost more than the
 * encoders. noinline keeps them out of instrumented callers. */
#define MODEL __attribute__((no_sanitize("coverage"), noinline))

static apr_pool_t *root_pool;                 /* cleared per input */

/* Decodes of this input's body, by (encoding, collection), and the
 * documents whose encoders were checked. */
#define N_ENCS ((int)APIGW_IN_NOOP + 1)
#define MAX_CHECKED 16

typedef struct {
    apr_pool_t *p;
    const char *body;
    size_t len;
    int decoded[N_ENCS][2];
    json_t *doc[N_ENCS][2];                   /* NULL: decoding failed */
    const char *err[N_ENCS][2];
    json_t *checked[MAX_CHECKED];
    int nchecked;
} input;

/* ---- the options as the model sees them ---- */

typedef struct {
    const char *key;
    const char *value;     /* NULL for a bare word */
} token;

typedef struct {
    token t[MAX_TOKENS];
    int n;
} tokens;

/* Dot paths: an array of arrays of segments. */
static apr_array_header_t *paths_of(apr_pool_t *p, const tokens *tk,
                                    const char *key)
{
    apr_array_header_t *out = apr_array_make(p, 4, sizeof(void *));
    int i;

    for (i = 0; i < tk->n; i++) {
        char *list, *entry, *l1;

        if (strcmp(tk->t[i].key, key) != 0 || !tk->t[i].value) {
            continue;
        }
        list = apr_pstrdup(p, tk->t[i].value);
        for (entry = apr_strtok(list, ",", &l1); entry;
             entry = apr_strtok(NULL, ",", &l1)) {
            apr_array_header_t *segs = apr_array_make(p, 4, sizeof(char *));
            char *seg, *l2;

            for (seg = apr_strtok(entry, ".", &l2); seg;
                 seg = apr_strtok(NULL, ".", &l2)) {
                APR_ARRAY_PUSH(segs, char *) = seg;
            }
            APR_ARRAY_PUSH(out, apr_array_header_t *) = segs;
        }
    }
    return out;
}

static apigw_shape *shape_of(apr_pool_t *p, const tokens *tk,
                             const char *const *only)
{
    apigw_shape *s = apigw_shape_create(p);
    int i, j;

    for (i = 0; i < tk->n; i++) {
        int keep = only == NULL;

        for (j = 0; only && only[j]; j++) {
            keep |= strcmp(tk->t[i].key, only[j]) == 0;
        }
        if (keep && apigw_shape_set(p, s, tk->t[i].key, tk->t[i].value)) {
            return NULL;
        }
    }
    return apigw_shape_check(p, s) ? NULL : s;
}

/* The value at segs[from..] below v, through objects only; NULL if none. */
static json_t *at(json_t *v, const apr_array_header_t *segs, int from)
{
    int i;

    for (i = from; i < segs->nelts && v; i++) {
        if (!json_is_object(v)) {
            return NULL;
        }
        v = json_object_get(v, APR_ARRAY_IDX(segs, i, char *));
    }
    return v;
}

/* The body decoded as enc (with collection), decoded on first use;
 * borrowed, NULL when decoding fails. */
static json_t *decoded_as(input *in, apigw_input_encoding enc, int coll)
{
    int e = (int)enc, c = coll ? 1 : 0;

    CHECK(e >= 0 && e < N_ENCS, "encoding %d", e);
    if (!in->decoded[e][c]) {
        in->err[e][c] = NULL;
        in->doc[e][c] = apigw_decode_as(in->p, enc, c, in->body, in->len,
                                        &in->err[e][c]);
        in->decoded[e][c] = 1;
    }
    return in->doc[e][c];
}

/* What apigw_decode then apigw_shape_apply give for s: the apply runs on
 * a deep copy of the body's decode for s's encoding. */
static json_t *decode_apply(input *in, const apigw_shape *s)
{
    const char *err = NULL;
    json_t *d = s ? decoded_as(in, apigw_shape_encoding(s),
                               apigw_shape_collection(s))
                  : decoded_as(in, APIGW_IN_JSON, 0);   /* as apigw_decode */

    if (!d) {
        return NULL;
    }
    d = json_deep_copy(d);
    CHECK(d, "deep copy failed");
    d = apigw_shape_apply(s, d, &err);
    CHECK(d, "apply after a successful decode failed: %s", err);
    return d;
}

/* r is t after allow with the entries (suffixes from `from` on) in paths
 * whose earlier segments match the current prefix. */
static void check_allow(json_t *r, json_t *t, apr_array_header_t *paths,
                        int from, apr_pool_t *p)
{
    const char *key;
    json_t *val;
    int i;

    CHECK(json_is_object(r) && json_is_object(t), "allow: not objects");
    json_object_foreach(r, key, val) {
        apr_array_header_t *sub = apr_array_make(p, 2, sizeof(void *));
        int whole = 0;

        for (i = 0; i < paths->nelts; i++) {
            apr_array_header_t *segs = APR_ARRAY_IDX(paths, i,
                                                     apr_array_header_t *);

            if (segs->nelts <= from
                || strcmp(APR_ARRAY_IDX(segs, from, char *), key) != 0) {
                continue;
            }
            if (segs->nelts == from + 1) {
                whole = 1;
            }
            APR_ARRAY_PUSH(sub, apr_array_header_t *) = segs;
        }
        CHECK(sub->nelts > 0, "allow kept \"%s\", which is not allowed", key);
        if (whole) {
            CHECK(json_equal(val, json_object_get(t, key)),
                  "allow changed the value of \"%s\"", key);
        }
        else {
            CHECK(json_is_object(val) && json_object_size(val) > 0,
                  "allow kept \"%s\" as an empty or non-object parent", key);
            check_allow(val, json_object_get(t, key), sub, from + 1, p);
        }
    }
    /* and nothing allowed is missing */
    for (i = 0; from == 0 && i < paths->nelts; i++) {
        apr_array_header_t *segs = APR_ARRAY_IDX(paths, i,
                                                 apr_array_header_t *);

        if (at(t, segs, 0)) {
            CHECK(at(r, segs, 0), "allow dropped an allowed path (%d segments)",
                  segs->nelts);
        }
    }
}

static void check_deny(json_t *r, json_t *t, apr_array_header_t *paths,
                       int from, apr_pool_t *p)
{
    const char *key;
    json_t *val;
    int i;

    CHECK(json_is_object(r) && json_is_object(t), "deny: not objects");
    json_object_foreach(t, key, val) {
        apr_array_header_t *sub = apr_array_make(p, 2, sizeof(void *));
        int whole = 0;

        for (i = 0; i < paths->nelts; i++) {
            apr_array_header_t *segs = APR_ARRAY_IDX(paths, i,
                                                     apr_array_header_t *);

            if (segs->nelts <= from
                || strcmp(APR_ARRAY_IDX(segs, from, char *), key) != 0) {
                continue;
            }
            if (segs->nelts == from + 1) {
                whole = 1;
            }
            APR_ARRAY_PUSH(sub, apr_array_header_t *) = segs;
        }
        if (whole) {
            CHECK(!json_object_get(r, key), "deny kept \"%s\"", key);
        }
        else if (sub->nelts && json_is_object(val)) {
            CHECK(json_object_get(r, key), "deny dropped the parent \"%s\"",
                  key);
            check_deny(json_object_get(r, key), val, sub, from + 1, p);
        }
        else {
            CHECK(json_equal(json_object_get(r, key), val),
                  "deny changed \"%s\"", key);
        }
    }
    CHECK(json_object_size(r) <= json_object_size(t), "deny added keys");
}

static void check_mapping(json_t *r, json_t *t, const tokens *tk,
                          apr_pool_t *p)
{
    apr_hash_t *from = apr_hash_make(p), *to = apr_hash_make(p);
    const char *key;
    json_t *val;
    int i;

    for (i = 0; i < tk->n; i++) {
        char *list, *entry, *last;

        if (strcmp(tk->t[i].key, "mapping") != 0) {
            continue;
        }
        list = apr_pstrdup(p, tk->t[i].value);
        for (entry = apr_strtok(list, ",", &last); entry;
             entry = apr_strtok(NULL, ",", &last)) {
            char *colon = strchr(entry, ':');

            *colon = '\0';
            if (json_object_get(t, entry)) {
                apr_hash_set(from, entry, APR_HASH_KEY_STRING, colon + 1);
                apr_hash_set(to, colon + 1, APR_HASH_KEY_STRING, entry);
                CHECK(json_equal(json_object_get(r, colon + 1),
                                 json_object_get(t, entry)),
                      "mapping %s:%s did not move the value", entry,
                      colon + 1);
            }
        }
    }
    json_object_foreach(t, key, val) {
        if (apr_hash_get(to, key, APR_HASH_KEY_STRING)) {
            continue;
        }
        if (apr_hash_get(from, key, APR_HASH_KEY_STRING)) {
            CHECK(!json_object_get(r, key), "mapping left \"%s\" behind", key);
            continue;
        }
        CHECK(json_equal(json_object_get(r, key), val),
              "mapping changed \"%s\"", key);
    }
}

/* ---- encoders ---- */

MODEL
static int valid_utf8(const unsigned char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        unsigned char c = s[i];
        size_t need, k;
        unsigned long cp;

        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            need = 1;
            cp = c & 0x1f;
        }
        else if (c >= 0xe0 && c <= 0xef) {
            need = 2;
            cp = c & 0x0f;
        }
        else if (c >= 0xf0 && c <= 0xf4) {
            need = 3;
            cp = c & 0x07;
        }
        else {
            return 0;
        }
        if (n - i <= need) {
            return 0;
        }
        for (k = 1; k <= need; k++) {
            if ((s[i + k] & 0xc0) != 0x80) {
                return 0;
            }
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000)
            || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
            return 0;
        }
        i += need + 1;
    }
    return 1;
}

/* Index of the first byte JSON output must not hold ('<', '>', '&' or a
 * control character), or len. */
MODEL
static size_t json_unescaped_at(const char *body, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (body[i] == '<' || body[i] == '>' || body[i] == '&'
            || (unsigned char)body[i] < 0x20) {
            break;
        }
    }
    return i;
}

/* Index of the first control character but LF (or DEL) in YAML output,
 * or len. */
MODEL
static size_t yaml_control_at(const char *body, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)body[i];

        if (!(c == '\n' || (c >= 0x20 && c != 0x7f))) {
            break;
        }
    }
    return i;
}

MODEL
static int bytes_eq(const char *a, const char *b, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (a[i] != b[i]) {
            return 0;
        }
    }
    return 1;
}

/* a and b identical: same types, same key order, same bytes (json_equal
 * ignores key order, which the encoders keep). */
MODEL
static int same_doc(json_t *a, json_t *b)
{
    size_t i;

    if (a == b) {
        return 1;
    }
    if (!a || !b || json_typeof(a) != json_typeof(b)) {
        return 0;
    }
    switch (json_typeof(a)) {
    case JSON_OBJECT: {
        void *ia = json_object_iter(a), *ib = json_object_iter(b);

        if (json_object_size(a) != json_object_size(b)) {
            return 0;
        }
        for (; ia && ib; ia = json_object_iter_next(a, ia),
                         ib = json_object_iter_next(b, ib)) {
            size_t ka = json_object_iter_key_len(ia);

            if (ka != json_object_iter_key_len(ib)
                || !bytes_eq(json_object_iter_key(ia),
                             json_object_iter_key(ib), ka)
                || !same_doc(json_object_iter_value(ia),
                             json_object_iter_value(ib))) {
                return 0;
            }
        }
        return !ia && !ib;
    }
    case JSON_ARRAY:
        if (json_array_size(a) != json_array_size(b)) {
            return 0;
        }
        for (i = 0; i < json_array_size(a); i++) {
            if (!same_doc(json_array_get(a, i), json_array_get(b, i))) {
                return 0;
            }
        }
        return 1;
    case JSON_STRING:
        return json_string_length(a) == json_string_length(b)
               && bytes_eq(json_string_value(a), json_string_value(b),
                           json_string_length(a));
    case JSON_INTEGER:
        return json_integer_value(a) == json_integer_value(b);
    case JSON_REAL: {
        double x = json_real_value(a), y = json_real_value(b);

        return bytes_eq((const char *)&x, (const char *)&y, sizeof(x));
    }
    default:
        return 1;                              /* true, false, null */
    }
}

static void check_encoders(input *in, json_t *doc)
{
    apr_pool_t *p = in->p;
    apr_size_t len;
    const char *ct, *body;
    json_error_t e;
    json_t *back, *v;
    size_t i;
    int k;

    for (k = 0; k < in->nchecked; k++) {
        if (same_doc(in->checked[k], doc)) {
            return;                            /* same output, same checks */
        }
    }
    if (in->nchecked < MAX_CHECKED) {
        in->checked[in->nchecked++] = json_incref(doc);
    }

    /* JSON reads back the same */
    body = apigw_encode(p, doc, APIGW_OUT_JSON, &len, &ct);
    CHECK(body, "JSON encode failed");
    CHECK(valid_utf8((const unsigned char *)body, len), "JSON not UTF-8");
    back = json_loadb(body, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
    CHECK(back, "JSON output does not parse: %s\n%.300s", e.text, body);
    CHECK(json_equal(back, doc), "JSON output differs: %.300s", body);
    json_decref(back);
    CHECK(json_unescaped_at(body, len) == len, "JSON output not escaped");

    body = apigw_encode(p, doc, APIGW_OUT_JSON_COLLECTION, &len, &ct);
    CHECK(body, "json-collection encode failed");
    back = json_loadb(body, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
    CHECK(back, "json-collection output does not parse: %s", e.text);
    v = json_object_get(doc, "collection");
    CHECK(v ? json_equal(back, v)
            : (json_is_array(back) && json_array_size(back) == 0),
          "json-collection output differs");
    json_decref(back);

    /* XML is well-formed */
    body = apigw_encode(p, doc, APIGW_OUT_XML, &len, &ct);
    CHECK(body, "XML encode failed");
    CHECK(strlen(body) == len, "XML holds a NUL");
    {
        apr_xml_parser *xp = apr_xml_parser_create(p);
        apr_xml_doc *xd = NULL;
        char msg[200] = "";

        if (apr_xml_parser_feed(xp, body, len) != APR_SUCCESS
            || apr_xml_parser_done(xp, &xd) != APR_SUCCESS) {
            apr_xml_parser_geterror(xp, msg, sizeof(msg));
            CHECK(0, "XML output not well-formed: %s\n%.500s", msg, body);
        }
    }

    /* YAML: UTF-8, no control characters but LF */
    body = apigw_encode(p, doc, APIGW_OUT_YAML, &len, &ct);
    CHECK(body, "YAML encode failed");
    CHECK(valid_utf8((const unsigned char *)body, len), "YAML not UTF-8");
    i = yaml_control_at(body, len);
    CHECK(i == len, "YAML control char");
    CHECK(len > 0 && body[len - 1] == '\n', "YAML without a final LF");

    /* string: the content */
    body = apigw_encode(p, doc, APIGW_OUT_STRING, &len, &ct);
    CHECK(body, "string encode failed");
    v = json_object_get(doc, "content");
    if (json_is_string(v)) {
        CHECK(len == json_string_length(v)
              && memcmp(body, json_string_value(v), len) == 0,
              "string output is not the content");
    }
    else {
        CHECK(len == 0, "string output without a content string");
    }
}

/* ---- the target ---- */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    apr_initialize();
    if (apr_pool_create(&root_pool, NULL) != APR_SUCCESS) {
        abort();
    }
    return 0;
}

static void model_checks(input *in, const tokens *tk)
{
    apr_pool_t *p = in->p;
    static const char *const only_target[] = { "target", "encoding",
                                               "collection", NULL };
    static const char *const with_allow[] = { "target", "encoding",
                                              "collection", "allow", NULL };
    static const char *const with_deny[] = { "target", "encoding",
                                             "collection", "deny", NULL };
    static const char *const with_map[] = { "encoding", "collection",
                                            "mapping", NULL };
    static const char *const no_group[] = { "target", "encoding",
                                            "collection", "allow", "deny",
                                            "mapping", NULL };
    apigw_shape *st = shape_of(p, tk, only_target), *s;
    json_t *t, *r;

    if (!st) {
        return;
    }
    t = decode_apply(in, st);
    if (!t) {
        return;
    }
    if ((s = shape_of(p, tk, with_allow)) != NULL) {
        apr_array_header_t *paths = paths_of(p, tk, "allow");

        r = decode_apply(in, s);
        if (paths->nelts) {
            check_allow(r, t, paths, 0, p);
        }
        json_decref(r);
    }
    if ((s = shape_of(p, tk, with_deny)) != NULL) {
        apr_array_header_t *paths = paths_of(p, tk, "deny");

        r = decode_apply(in, s);
        if (paths->nelts) {
            check_deny(r, t, paths, 0, p);
        }
        json_decref(r);
    }
    json_decref(t);
    if ((s = shape_of(p, tk, with_map)) != NULL) {
        json_t *plain = decode_apply(in, shape_of(p, tk, only_target + 1));

        r = decode_apply(in, s);
        if (plain && r) {
            check_mapping(r, plain, tk, p);
        }
        json_decref(plain);
        json_decref(r);
    }
    /* group wraps the rest */
    s = shape_of(p, tk, NULL);
    if (s && apigw_shape_group(s)) {
        json_t *inner = decode_apply(in, shape_of(p, tk, no_group));

        r = decode_apply(in, s);
        CHECK(json_object_size(r) == 1
              && json_equal(json_object_get(r, apigw_shape_group(s)), inner),
              "group does not wrap the shaped response");
        json_decref(inner);
        json_decref(r);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const apigw_input_encoding encs[] = {
        APIGW_IN_JSON, APIGW_IN_SAFEJSON, APIGW_IN_XML, APIGW_IN_RSS,
        APIGW_IN_STRING, APIGW_IN_NOOP
    };
    apr_pool_t *p = root_pool;
    const char *in = (const char *)data, *nl1, *nl2, *body, *err;
    char *opts, *accept, *tok, *last;
    size_t body_len;
    tokens tk;
    apigw_shape *s;
    json_t *acc;
    apigw_output_encoding oe;
    unsigned e;
    int ok = 1, k, c;
    input inp;

    nl1 = memchr(in, '\n', size);
    nl2 = nl1 ? memchr(nl1 + 1, '\n', size - (size_t)(nl1 + 1 - in)) : NULL;
    opts = apr_pstrmemdup(p, in, nl1 ? (size_t)(nl1 - in) : size);
    accept = nl1 ? apr_pstrmemdup(p, nl1 + 1, nl2 ? (size_t)(nl2 - nl1 - 1)
                                                  : size - (size_t)(nl1 + 1
                                                                    - in))
                 : "";
    body = nl2 ? nl2 + 1 : "";
    body_len = nl2 ? size - (size_t)(nl2 + 1 - in) : 0;
    memset(&inp, 0, sizeof(inp));
    inp.p = p;
    inp.body = body;
    inp.len = body_len;

    /* the options through set/check */
    s = apigw_shape_create(p);
    tk.n = 0;
    for (tok = apr_strtok(opts, " ", &last); tok && tk.n < MAX_TOKENS;
         tok = apr_strtok(NULL, " ", &last)) {
        char *eq = strchr(tok, '=');

        if (eq) {
            *eq++ = '\0';
        }
        tk.t[tk.n].key = tok;
        tk.t[tk.n].value = eq;
        tk.n++;
        err = apigw_shape_set(p, s, tok, eq);
        CHECK(!err || *err, "empty set error");
        ok &= !err;
    }
    if (ok) {
        err = apigw_shape_check(p, s);
        CHECK(!err || *err, "empty check error");
        ok = !err;
    }
    (void)apigw_shape_is_key(opts);

    /* negotiate, words */
    oe = apigw_negotiate(accept);
    CHECK(oe == APIGW_OUT_JSON || oe == APIGW_OUT_XML || oe == APIGW_OUT_YAML
          || oe == APIGW_OUT_STRING, "negotiate gave %d", (int)oe);
    if (!apigw_output_encoding_parse(accept, &oe)) {
        CHECK(strcasecmp(apigw_output_encoding_name(oe), accept) == 0,
              "output encoding name");
    }

    /* every decoder on the body */
    acc = json_object();
    for (e = 0; e < sizeof(encs) / sizeof(encs[0]); e++) {
        int coll;

        for (coll = 0; coll < 2; coll++) {
            json_t *d;
            const char *path;

            if (coll && encs[e] != APIGW_IN_JSON && encs[e] != APIGW_IN_XML) {
                continue;
            }
            d = decoded_as(&inp, encs[e], coll);
            if (!d) {
                err = inp.err[encs[e]][coll];
                CHECK(err && *err, "decode failed without a message");
                continue;
            }
            CHECK(json_is_object(d), "decode gave a non-object");
            if (coll && encs[e] == APIGW_IN_JSON) {
                CHECK(json_is_array(json_object_get(d, "collection")),
                      "collection without an array");
            }
            /* lookups with the accept line as a path */
            path = apigw_json_path_string(p, d, accept);
            if (path && !strchr(accept, '.')) {
                json_t *leaf = json_object_get(d, accept);

                if (json_is_string(leaf)) {
                    CHECK(strcmp(path, json_string_value(leaf)) == 0,
                          "path lookup of a top-level string");
                }
            }
            CHECK(apigw_merge_into(acc, d) == 0, "merge failed");
            check_encoders(&inp, d);
        }
    }
    /* the configured backend, if the options were good */
    if (ok) {
        json_t *d = apigw_decode(p, s, body, body_len, &err);

        CHECK(same_doc(d, decoded_as(&inp, apigw_shape_encoding(s),
                                     apigw_shape_collection(s))),
              "apigw_decode differs from apigw_decode_as");
        if (d) {
            d = apigw_shape_apply(s, d, &err);
            CHECK(d, "apply after a successful decode failed: %s", err);
        }
        if (d) {
            const char *key;
            json_t *val;

            CHECK(json_is_object(d), "apply gave a non-object");
            if (apigw_shape_group(s)) {
                CHECK(json_object_size(d) == 1, "group with several keys");
            }
            CHECK(apigw_merge_into(acc, d) == 0, "merge failed");
            json_object_foreach(d, key, val) {
                CHECK(json_object_get(acc, key) == val,
                      "merge did not take \"%s\"", key);
            }
            check_encoders(&inp, d);
            check_encoders(&inp, acc);
            json_decref(d);
        }
        model_checks(&inp, &tk);
    }
    json_decref(acc);
    for (k = 0; k < N_ENCS; k++) {
        for (c = 0; c < 2; c++) {
            json_decref(inp.doc[k][c]);
        }
    }
    for (k = 0; k < inp.nchecked; k++) {
        json_decref(inp.checked[k]);
    }
    apr_pool_clear(p);          /* runs the encoders' cleanups (free) now */
    return 0;
}
