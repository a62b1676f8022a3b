/* sources: mod_apigw/apigw_encode.c mod_apigw/apigw_encode_buf.c mod_apigw/apigw_encode_json.c mod_apigw/apigw_encode_xml.c mod_apigw/apigw_encode_yaml.c */
/* libs: -ljansson -laprutil-1 -lexpat -lyaml */
/* libFuzzer target for mod_apigw's output encoders (apigw_encode with
 * every apigw_output_encoding), each output read back with a parser of
 * its own and compared with the document, as apigw_encode.h describes the
 * mapping:
 * - every encoding: NULL exactly when the document (or, for
 *   json-collection, its "collection") is nested deeper than
 *   APIGW_ENCODE_MAX_DEPTH (a scalar or an empty container is depth 1),
 *   the string body never, *len and *content_type untouched then;
 *   otherwise body[len] is NUL, no NUL inside (but for string), the documented
 *   content type; negotiate and no-op write the JSON body; every object's
 *   members come out in the byte order of their keys (strcmp), as Go
 *   writes a map, in every encoding;
 * - json: UTF-8 without a raw control character, '<', '>', '&', U+2028
 *   or U+2029; jansson reads it back equal to the document, keys in
 *   that order, integers as integers, reals as reals of the same value and
 *   sign, strings byte for byte (invalid UTF-8 read as one U+FFFD a
 *   byte); json-collection is the "collection" value or [];
 * - xml: no XML declaration, no final newline (KrakenD's), well-formed
 *   to apr_xml (expat), and its tree holds the document:
 *   the root (the one key, else <doc>), names made valid ('_' for what
 *   cannot be in a name, a leading '_' for what cannot start one, "_"
 *   for an empty key; which letters beyond ASCII are kept is learnt from
 *   the encoder by a one-key probe), "-name" scalars as attributes unless
 *   their name starts with xmlns or repeats one, "#text" scalars as the
 *   text before any child, an element per array item (<item> in an array
 *   or at the root, none for an empty array), null and "" as empty
 *   elements, numbers as their JSON text of the same value, booleans as
 *   true/false, strings byte for byte but for the characters XML 1.0
 *   cannot hold (C0 controls but TAB, LF, CR; U+FFFE, U+FFFF; invalid
 *   UTF-8), each U+FFFD as documented. Elements nested deeper than
 *   apr_xml's limit of 256 (libxml2's default too; no decoded document
 *   comes near) are only checked well-formed, by expat itself;
 * - yaml: UTF-8 without control characters but LF, a final LF; libyaml
 *   parses it as one document without anchors, aliases or tags, and the
 *   node tree equals the document (keys in byte order); a plain scalar is
 *   resolved here by the YAML 1.1 rules (the 1.1 type repository and
 *   PyYAML's variants: null, bool with y/n/yes/no/on/off, int in base
 *   2/8/10/16/60, float with .inf/.nan and base 60, timestamp, merge,
 *   value) and by the YAML 1.2 core schema, and must be a string in both
 *   for a string, an int in both for an integer, a float in both for a
 *   real (same value and sign), a bool or null in both for those;
 *   strings byte for byte but invalid UTF-8 (one U+FFFD a byte);
 * - string: the "content" string byte for byte, else empty;
 * - negotiate chooses JSON, XML or YAML, never string (KrakenD's offers).
 * A fixed document of hostile strings, numbers and nesting depths around
 * the limit is checked once at start-up.
 *
 * Input: a JSON text (any value, \u0000 allowed). When it parses, the
 * document is checked alone and inside {"w": ...} (an input of odd
 * length) or [...] (even length: a block under "- "), then a
 * document built from its strings (every string and key as a key, as
 * "-" + itself, as "#text", and all of them in an array). When it does
 * not parse, the input is cut at LF into raw byte strings (invalid UTF-8
 * and NUL kept; a key ends at its first NUL) and that built document is
 * checked, with the array of the pieces. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <regex.h>
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
#include <expat.h>
#include <yaml.h>

#include "apigw_encode.h"

#define FUZZ_TARGET "fuzz_encode"
#include "fuzz_check.h"

#define MAX_STRINGS 48
/* apr_xml refuses elements nested deeper than this ("The maximum element
 * nesting limit (256) was exceeded"), as libxml2 does by default. */
#define APR_XML_NESTING 256

static apr_pool_t *root_pool;

/* ---- UTF-8, written from the table of well-formed sequences ---- */

/* The code point at s (n > 0 bytes), *adv bytes long; -1 with *adv = 1
 * when s does not start a well-formed sequence. */
static long u8_next(const unsigned char *s, size_t n, size_t *adv)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xbf;
    size_t need, i;
    long cp;

    *adv = 1;
    if (c < 0x80) {
        return c;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        need = 1;
    }
    else if (c >= 0xe0 && c <= 0xef) {
        need = 2;
        lo = c == 0xe0 ? 0xa0 : 0x80;
        hi = c == 0xed ? 0x9f : 0xbf;
    }
    else if (c >= 0xf0 && c <= 0xf4) {
        need = 3;
        lo = c == 0xf0 ? 0x90 : 0x80;
        hi = c == 0xf4 ? 0x8f : 0xbf;
    }
    else {
        return -1;
    }
    if (n < need + 1 || s[1] < lo || s[1] > hi) {
        return -1;
    }
    cp = c & (need == 1 ? 0x1f : need == 2 ? 0x0f : 0x07);
    for (i = 1; i <= need; i++) {
        if (i > 1 && (s[i] & 0xc0) != 0x80) {
            return -1;
        }
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    *adv = need + 1;
    return cp;
}

static int utf8_ok(const char *s, size_t n)
{
    size_t i = 0, adv;

    while (i < n) {
        if (u8_next((const unsigned char *)s + i, n - i, &adv) < 0) {
            return 0;
        }
        i += adv;
    }
    return 1;
}

static size_t u8_put(char *o, long cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* The text a writer gives back for s: every byte that does not start a
 * well-formed sequence becomes U+FFFD; with xml, so does every character
 * XML 1.0 cannot hold. NUL-terminated, length in *len. */
static char *clean(apr_pool_t *p, const char *s, size_t n, int xml,
                   size_t *len)
{
    char *out = apr_palloc(p, 3 * n + 1);
    size_t i = 0, o = 0, adv;

    while (i < n) {
        long cp = u8_next((const unsigned char *)s + i, n - i, &adv);

        if (xml && ((cp >= 0 && cp < 0x20 && cp != '\t' && cp != '\n'
                     && cp != '\r') || cp == 0xfffe || cp == 0xffff)) {
            cp = -1;
        }
        if (cp < 0) {
            o += u8_put(out + o, 0xfffd);
        }
        else {
            memcpy(out + o, s + i, adv);
            o += adv;
        }
        i += adv;
    }
    out[o] = '\0';
    *len = o;
    return out;
}

/* ---- the document ---- */

static int key_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* obj's keys in the order every writer must give them: bytewise. */
static const char **sorted_keys(apr_pool_t *p, const json_t *obj, size_t *n)
{
    size_t size = json_object_size(obj), i = 0;
    const char **keys = apr_palloc(p, (size ? size : 1) * sizeof(*keys));
    const char *key;
    json_t *val;

    json_object_foreach((json_t *)obj, key, val) {
        keys[i++] = key;
    }
    qsort(keys, size, sizeof(*keys), key_cmp);
    *n = size;
    return keys;
}

/* A scalar or an empty container is 1 deep. */
static int depth_of(const json_t *v)
{
    int d = 0;

    if (json_is_object(v)) {
        const char *key;
        json_t *val;

        json_object_foreach((json_t *)v, key, val) {
            int c = depth_of(val);

            d = c > d ? c : d;
        }
    }
    else if (json_is_array(v)) {
        size_t i;

        for (i = 0; i < json_array_size(v); i++) {
            int c = depth_of(json_array_get(v, i));

            d = c > d ? c : d;
        }
    }
    return d + 1;
}

/* What the JSON writer must give back: keys in byte order, strings and
 * keys cleaned. A repeated key (two invalid keys that clean alike) keeps
 * its first place and its last value, as jansson's reader does. */
static json_t *json_model(apr_pool_t *p, const json_t *v)
{
    size_t n;

    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        json_t *o = json_object();
        size_t i, count;
        const char **keys = sorted_keys(p, v, &count);

        for (i = 0; i < count; i++) {
            const char *k = clean(p, keys[i], strlen(keys[i]), 0, &n);
            json_t *m = json_model(p, json_object_get(v, keys[i]));

            CHECK(json_object_set_new(o, k, m) == 0, "model key");
        }
        return o;
    }
    case JSON_ARRAY: {
        json_t *a = json_array();
        size_t i;

        for (i = 0; i < json_array_size(v); i++) {
            json_array_append_new(a, json_model(p, json_array_get(v, i)));
        }
        return a;
    }
    case JSON_STRING: {
        const char *s = clean(p, json_string_value(v), json_string_length(v),
                              0, &n);

        return json_stringn(s, n);
    }
    default:
        return json_deep_copy(v);
    }
}

/* Equal, keys in the same order, reals with the same sign too. */
static int json_same(const json_t *a, const json_t *b)
{
    if (json_typeof(a) != json_typeof(b)) {
        return 0;
    }
    switch (json_typeof(a)) {
    case JSON_OBJECT: {
        void *ia = json_object_iter((json_t *)a);
        void *ib = json_object_iter((json_t *)b);

        if (json_object_size(a) != json_object_size(b)) {
            return 0;
        }
        while (ia && ib) {
            if (strcmp(json_object_iter_key(ia), json_object_iter_key(ib)) != 0
                || !json_same(json_object_iter_value(ia),
                              json_object_iter_value(ib))) {
                return 0;
            }
            ia = json_object_iter_next((json_t *)a, ia);
            ib = json_object_iter_next((json_t *)b, ib);
        }
        return !ia && !ib;
    }
    case JSON_ARRAY: {
        size_t i;

        if (json_array_size(a) != json_array_size(b)) {
            return 0;
        }
        for (i = 0; i < json_array_size(a); i++) {
            if (!json_same(json_array_get(a, i), json_array_get(b, i))) {
                return 0;
            }
        }
        return 1;
    }
    case JSON_REAL:
        return json_real_value(a) == json_real_value(b)
               && signbit(json_real_value(a)) == signbit(json_real_value(b));
    default:
        return json_equal((json_t *)a, (json_t *)b);
    }
}

/* ---- number texts ---- */

enum { T_STR, T_NULL, T_BOOL, T_INT, T_FLOAT, T_OTHER };

static regex_t re_int_text, re_real_text;
static regex_t re11_null, re11_bool, re11_int, re11_float, re11_time,
               re11_other;
static regex_t re12_null, re12_bool, re12_int, re12_float;

static void re_compile(regex_t *re, const char *pattern)
{
    CHECK(regcomp(re, pattern, REG_EXTENDED | REG_NOSUB) == 0, "regex %s",
          pattern);
}

static int re_is(const regex_t *re, const char *s)
{
    return regexec(re, s, 0, NULL, 0) == 0;
}

/* The integer v as a text: JSON's integer syntax and its value. */
static int int_text_is(const char *s, json_int_t v)
{
    char *end;
    long long got;

    if (!re_is(&re_int_text, s)) {
        return 0;
    }
    errno = 0;
    got = strtoll(s, &end, 10);
    return errno == 0 && *end == '\0' && got == (long long)v;
}

/* The real d as a text: JSON's number syntax with a fraction or an
 * exponent, the same value and sign. */
static int real_text_is(const char *s, double d)
{
    char *end;
    double got;

    if (!re_is(&re_real_text, s) || !strpbrk(s, ".eE")) {
        return 0;
    }
    got = strtod(s, &end);
    return *end == '\0' && got == d && signbit(got) == signbit(d);
}

/* ---- XML ---- */

/* Which code points beyond ASCII the encoder keeps in names: learnt from
 * a one-key document (0 unknown, 1 kept, 2 replaced). Whatever it keeps
 * has to pass expat as a name character where it is written. */
static unsigned char kept_cache[0x110000];

static int kept_letter(long cp)
{
    apr_pool_t *p;
    json_t *doc;
    char key[8], want[64];
    size_t n;
    apr_size_t len;
    const char *ct, *body;

    if (kept_cache[cp]) {
        return kept_cache[cp] == 1;
    }
    key[0] = 'a';
    n = 1 + u8_put(key + 1, cp);
    key[n] = '\0';
    apr_pool_create(&p, root_pool);
    doc = json_object();
    json_object_set_new(doc, key, json_null());
    body = apigw_encode(p, doc, APIGW_OUT_XML, &len, &ct);
    json_decref(doc);
    CHECK(body, "probe of U+%04lX", cp);
    snprintf(want, sizeof(want), "<%s/>", key);
    if (strcmp(body, want) == 0) {
        kept_cache[cp] = 1;
    }
    else {
        CHECK(strcmp(body, "<a_/>") == 0,
              "U+%04lX in a name is neither kept nor '_': %s", cp, body);
        kept_cache[cp] = 2;
    }
    apr_pool_destroy(p);
    return kept_cache[cp] == 1;
}

static int ascii_name_start(long c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

/* The element or attribute name for key. */
static const char *xml_name(apr_pool_t *p, const char *key)
{
    size_t n = strlen(key), i = 0, o = 0, adv;
    char *out = apr_palloc(p, 4 * n + 2);

    if (n == 0) {
        return "_";
    }
    while (i < n) {
        long cp = u8_next((const unsigned char *)key + i, n - i, &adv);
        int start = ascii_name_start(cp) || (cp >= 0x80 && kept_letter(cp));
        int inner = (cp >= '0' && cp <= '9') || cp == '-' || cp == '.';

        if (start || (inner && i > 0)) {
            memcpy(out + o, key + i, adv);
            o += adv;
        }
        else if (inner) {             /* cannot start: a leading '_' */
            out[o++] = '_';
            out[o++] = (char)cp;
        }
        else {
            out[o++] = '_';
        }
        i += adv;
    }
    out[o] = '\0';
    return out;
}

static const char *text_of(apr_pool_t *p, const apr_text_header *h)
{
    const char *s = "";
    const apr_text *t;

    for (t = h->first; t; t = t->next) {
        s = apr_pstrcat(p, s, t->text, NULL);
    }
    return s;
}

static int xml_scalar(const json_t *v)
{
    return json_is_string(v) || json_is_number(v) || json_is_boolean(v);
}

/* Whether s is how the XML writer must give back the scalar v. */
static int xml_scalar_is(apr_pool_t *p, const char *s, const json_t *v)
{
    size_t n;

    switch (json_typeof(v)) {
    case JSON_STRING:
        return strcmp(s, clean(p, json_string_value(v), json_string_length(v),
                               1, &n)) == 0;
    case JSON_INTEGER:
        return int_text_is(s, json_integer_value(v));
    case JSON_REAL:
        return real_text_is(s, json_real_value(v));
    case JSON_TRUE:
        return strcmp(s, "true") == 0;
    case JSON_FALSE:
        return strcmp(s, "false") == 0;
    default:
        return *s == '\0';
    }
}

static const char *show(apr_pool_t *p, const json_t *v)
{
    char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    const char *r = apr_pstrndup(p, s ? s : "?", 300);

    free(s);
    return r;
}

static void xml_check(apr_pool_t *p, const apr_xml_elem *e, const char *name,
                      const json_t *v);

static void xml_check_object(apr_pool_t *p, const apr_xml_elem *e,
                             const json_t *obj)
{
    apr_hash_t *attrs = apr_hash_make(p);
    apr_array_header_t *names = apr_array_make(p, 8, sizeof(const char *));
    apr_array_header_t *vals = apr_array_make(p, 8, sizeof(json_t *));
    const apr_xml_attr *a;
    const apr_xml_elem *c;
    const json_t *text = NULL;
    size_t m, count;
    const char **keys = sorted_keys(p, obj, &count);
    int n_attrs = 0, got_attrs = 0, i;

    for (m = 0; m < count; m++) {
        const char *name, *key = keys[m];
        json_t *val = json_object_get(obj, key);

        if (strcmp(key, "#text") == 0 && xml_scalar(val)) {
            text = val;
            continue;
        }
        if (key[0] == '-' && key[1] != '\0' && xml_scalar(val)) {
            name = xml_name(p, key + 1);
            if (strncasecmp(name, "xmlns", 5) != 0
                && !apr_hash_get(attrs, name, APR_HASH_KEY_STRING)) {
                apr_hash_set(attrs, name, APR_HASH_KEY_STRING, name);
                n_attrs++;
                for (a = e->attr; a && strcmp(a->name, name) != 0;
                     a = a->next) {
                }
                CHECK(a, "<%s>: no attribute %s for \"%s\"", e->name, name,
                      key);
                CHECK(xml_scalar_is(p, a->value, val),
                      "<%s %s=\"%s\">: not %s", e->name, name, a->value,
                      show(p, val));
                continue;
            }
        }
        name = xml_name(p, key);
        if (json_is_array(val)) {
            size_t k;

            for (k = 0; k < json_array_size(val); k++) {
                APR_ARRAY_PUSH(names, const char *) = name;
                APR_ARRAY_PUSH(vals, json_t *) = json_array_get(val, k);
            }
        }
        else {
            APR_ARRAY_PUSH(names, const char *) = name;
            APR_ARRAY_PUSH(vals, json_t *) = val;
        }
    }
    for (a = e->attr; a; a = a->next) {
        got_attrs++;
    }
    CHECK(got_attrs == n_attrs, "<%s>: %d attributes, want %d", e->name,
          got_attrs, n_attrs);
    CHECK(text ? xml_scalar_is(p, text_of(p, &e->first_cdata), text)
               : *text_of(p, &e->first_cdata) == '\0',
          "<%s>: text \"%s\", want %s", e->name, text_of(p, &e->first_cdata),
          text ? show(p, text) : "none");
    for (c = e->first_child, i = 0; c; c = c->next, i++) {
        CHECK(i < names->nelts, "<%s>: child <%s> too many", e->name,
              c->name);
        CHECK(*text_of(p, &c->following_cdata) == '\0',
              "<%s>: text after <%s>", e->name, c->name);
        xml_check(p, c, APR_ARRAY_IDX(names, i, const char *),
                  APR_ARRAY_IDX(vals, i, json_t *));
    }
    CHECK(i == names->nelts, "<%s>: %d children, want %d", e->name, i,
          names->nelts);
}

/* e is the element named name for v. */
static void xml_check(apr_pool_t *p, const apr_xml_elem *e, const char *name,
                      const json_t *v)
{
    const apr_xml_elem *c;
    size_t i;

    CHECK(strcmp(e->name, name) == 0, "element <%s>, want <%s>", e->name,
          name);
    if (json_is_object(v)) {
        xml_check_object(p, e, v);
        return;
    }
    CHECK(!e->attr, "<%s>: attributes on a non-object", name);
    if (json_is_array(v)) {
        CHECK(*text_of(p, &e->first_cdata) == '\0', "<%s>: text in an array",
              name);
        for (c = e->first_child, i = 0; c; c = c->next, i++) {
            CHECK(i < json_array_size(v), "<%s>: too many items", name);
            CHECK(*text_of(p, &c->following_cdata) == '\0',
                  "<%s>: text between items", name);
            xml_check(p, c, "item", json_array_get(v, i));
        }
        CHECK(i == json_array_size(v), "<%s>: %zu items, want %zu", name, i,
              json_array_size(v));
        return;
    }
    CHECK(!e->first_child, "<%s>: children of a scalar", name);
    CHECK(xml_scalar_is(p, text_of(p, &e->first_cdata), v),
          "<%s>: \"%s\", want %s", name, text_of(p, &e->first_cdata),
          show(p, v));
}

/* How deep the elements of a well-formed body nest ('<' and '>' only
 * start and end tags in the writer's output, text escapes them). */
static int xml_nesting(const char *body, size_t len)
{
    int d = 0, max = 0;
    size_t i;

    for (i = 0; i + 1 < len; i++) {
        if (body[i] != '<' || body[i + 1] == '?') {
            continue;
        }
        if (body[i + 1] == '/') {
            d--;
            continue;
        }
        d++;
        max = d > max ? d : max;
        while (i < len && body[i] != '>') {
            i++;
        }
        if (body[i - 1] == '/') {
            d--;
        }
    }
    return max;
}

static void check_xml(apr_pool_t *p, const json_t *doc, const char *body,
                      size_t len)
{
    apr_xml_parser *xp;
    apr_xml_doc *xd = NULL;
    char msg[200] = "";

    CHECK(utf8_ok(body, len), "XML not UTF-8");
    CHECK(len > 2 && body[0] == '<' && body[1] != '?'
          && body[len - 1] == '>', "XML declaration or final LF");
    if (xml_nesting(body, len) > APR_XML_NESTING) {
        /* beyond apr_xml's limit (and libxml2's default): expat alone */
        XML_Parser ep = XML_ParserCreate(NULL);

        CHECK(ep, "XML_ParserCreate");
        CHECK(XML_Parse(ep, body, (int)len, 1) == XML_STATUS_OK,
              "deep XML output not well-formed: %s at line %lu\n%.300s",
              XML_ErrorString(XML_GetErrorCode(ep)),
              (unsigned long)XML_GetCurrentLineNumber(ep), body);
        XML_ParserFree(ep);
        return;
    }
    xp = apr_xml_parser_create(p);
    if (apr_xml_parser_feed(xp, body, len) != APR_SUCCESS
        || apr_xml_parser_done(xp, &xd) != APR_SUCCESS) {
        apr_xml_parser_geterror(xp, msg, sizeof(msg));
        CHECK(0, "XML output not well-formed: %s\n%.600s", msg, body);
    }
    CHECK(xd && xd->root, "no XML root");
    if (json_is_object(doc) && json_object_size(doc) == 1) {
        void *it = json_object_iter((json_t *)doc);
        const char *key = json_object_iter_key(it);
        json_t *val = json_object_iter_value(it);

        if (!json_is_array(val) && key[0] != '-'
            && strcmp(key, "#text") != 0) {
            xml_check(p, xd->root, xml_name(p, key), val);
            return;
        }
    }
    xml_check(p, xd->root, "doc", doc);
}

/* ---- YAML ---- */

static int resolve11(const char *s)
{
    if (*s == '\0' || re_is(&re11_null, s)) {
        return T_NULL;
    }
    if (re_is(&re11_bool, s)) {
        return T_BOOL;
    }
    if (re_is(&re11_int, s)) {
        return T_INT;
    }
    if (re_is(&re11_float, s)) {
        return T_FLOAT;
    }
    if (re_is(&re11_time, s) || re_is(&re11_other, s)) {
        return T_OTHER;
    }
    return T_STR;
}

static int resolve12(const char *s)
{
    if (*s == '\0' || re_is(&re12_null, s)) {
        return T_NULL;
    }
    if (re_is(&re12_bool, s)) {
        return T_BOOL;
    }
    if (re_is(&re12_int, s)) {
        return T_INT;
    }
    if (re_is(&re12_float, s)) {
        return T_FLOAT;
    }
    return T_STR;
}

typedef struct {
    yaml_parser_t parser;
    yaml_event_t ev;
    int have;
    const char *body;
} yreader;

static yaml_event_t *ynext(yreader *r)
{
    if (r->have) {
        yaml_event_delete(&r->ev);
        r->have = 0;
    }
    CHECK(yaml_parser_parse(&r->parser, &r->ev),
          "YAML does not parse: %s %s at line %lu col %lu\n%.600s",
          r->parser.problem ? r->parser.problem : "",
          r->parser.context ? r->parser.context : "",
          (unsigned long)r->parser.problem_mark.line + 1,
          (unsigned long)r->parser.problem_mark.column + 1, r->body);
    r->have = 1;
    return &r->ev;
}

/* The scalar event for the string s (n bytes, cleaned already). */
static void yaml_check_string(const yaml_event_t *e, const char *s, size_t n)
{
    const char *v = (const char *)e->data.scalar.value;

    CHECK(e->type == YAML_SCALAR_EVENT, "YAML: %d for the string \"%.100s\"",
          (int)e->type, s);
    CHECK(!e->data.scalar.anchor, "YAML anchor");
    if (e->data.scalar.tag) {
        CHECK(strcmp((const char *)e->data.scalar.tag,
                     "tag:yaml.org,2002:str") == 0,
              "YAML tag %s on a string", e->data.scalar.tag);
    }
    else if (e->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
        CHECK(resolve11(v) == T_STR && resolve12(v) == T_STR,
              "YAML plain \"%s\" is not a string (1.1: %d, 1.2: %d)", v,
              resolve11(v), resolve12(v));
    }
    CHECK(e->data.scalar.length == n && memcmp(v, s, n) == 0,
          "YAML string \"%.200s\" (%zu bytes), want \"%.200s\" (%zu bytes)",
          v, e->data.scalar.length, s, n);
}

static void yaml_check(apr_pool_t *p, yreader *r, const json_t *v)
{
    yaml_event_t *e = ynext(r);
    const char *s;
    size_t n;
    int t11, t12;

    CHECK(e->type != YAML_ALIAS_EVENT, "YAML alias");
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        size_t m, count;
        const char **keys = sorted_keys(p, v, &count);

        CHECK(e->type == YAML_MAPPING_START_EVENT, "YAML: %d for an object",
              (int)e->type);
        CHECK(!e->data.mapping_start.anchor && !e->data.mapping_start.tag,
              "YAML anchor or tag on a mapping");
        for (m = 0; m < count; m++) {
            s = clean(p, keys[m], strlen(keys[m]), 0, &n);
            yaml_check_string(ynext(r), s, n);
            yaml_check(p, r, json_object_get(v, keys[m]));
        }
        CHECK(ynext(r)->type == YAML_MAPPING_END_EVENT, "YAML: more keys");
        return;
    }
    case JSON_ARRAY: {
        size_t i;

        CHECK(e->type == YAML_SEQUENCE_START_EVENT, "YAML: %d for an array",
              (int)e->type);
        CHECK(!e->data.sequence_start.anchor && !e->data.sequence_start.tag,
              "YAML anchor or tag on a sequence");
        for (i = 0; i < json_array_size(v); i++) {
            yaml_check(p, r, json_array_get(v, i));
        }
        CHECK(ynext(r)->type == YAML_SEQUENCE_END_EVENT, "YAML: more items");
        return;
    }
    case JSON_STRING:
        s = clean(p, json_string_value(v), json_string_length(v), 0, &n);
        yaml_check_string(e, s, n);
        return;
    default:
        break;
    }
    CHECK(e->type == YAML_SCALAR_EVENT && !e->data.scalar.anchor
          && !e->data.scalar.tag
          && e->data.scalar.style == YAML_PLAIN_SCALAR_STYLE,
          "YAML: not a plain untagged scalar for %s", show(p, v));
    s = (const char *)e->data.scalar.value;
    t11 = resolve11(s);
    t12 = resolve12(s);
    switch (json_typeof(v)) {
    case JSON_INTEGER:
        CHECK(t11 == T_INT && t12 == T_INT
              && int_text_is(s, json_integer_value(v)),
              "YAML \"%s\" for the integer %" JSON_INTEGER_FORMAT, s,
              json_integer_value(v));
        break;
    case JSON_REAL: {
        char *end;
        double d = strtod(s, &end);

        CHECK(t11 == T_FLOAT && t12 == T_FLOAT && *end == '\0'
              && d == json_real_value(v)
              && signbit(d) == signbit(json_real_value(v)),
              "YAML \"%s\" for the real %.17g", s, json_real_value(v));
        break;
    }
    case JSON_TRUE:
    case JSON_FALSE:
        CHECK(t11 == T_BOOL && t12 == T_BOOL
              && (strcasecmp(s, "true") == 0) == json_is_true(v),
              "YAML \"%s\" for %s", s, show(p, v));
        break;
    default:
        CHECK(t11 == T_NULL && t12 == T_NULL, "YAML \"%s\" for null", s);
        break;
    }
}

static void check_yaml(apr_pool_t *p, const json_t *doc, const char *body,
                       size_t len)
{
    yreader r;
    size_t i;

    CHECK(utf8_ok(body, len), "YAML not UTF-8");
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)body[i];

        CHECK(c == '\n' || (c >= 0x20 && c != 0x7f), "YAML control char");
    }
    CHECK(len > 0 && body[len - 1] == '\n', "YAML without a final LF");
    memset(&r, 0, sizeof(r));
    r.body = body;
    CHECK(yaml_parser_initialize(&r.parser), "yaml_parser_initialize");
    yaml_parser_set_input_string(&r.parser, (const unsigned char *)body, len);
    CHECK(ynext(&r)->type == YAML_STREAM_START_EVENT, "YAML stream start");
    CHECK(ynext(&r)->type == YAML_DOCUMENT_START_EVENT, "YAML document");
    yaml_check(p, &r, doc);
    CHECK(ynext(&r)->type == YAML_DOCUMENT_END_EVENT, "YAML: more nodes");
    CHECK(ynext(&r)->type == YAML_STREAM_END_EVENT, "YAML: more documents");
    yaml_event_delete(&r.ev);
    yaml_parser_delete(&r.parser);
}

/* ---- JSON ---- */

static void check_json(apr_pool_t *p, const json_t *doc, const char *body,
                       size_t len)
{
    json_error_t err;
    json_t *back, *model;
    size_t i;

    CHECK(utf8_ok(body, len), "JSON not UTF-8");
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)body[i];

        CHECK(c >= 0x20 && c != '<' && c != '>' && c != '&',
              "JSON holds a raw 0x%02x", c);
        CHECK(!(c == 0xe2 && i + 2 < len && (unsigned char)body[i + 1] == 0x80
                && ((unsigned char)body[i + 2] == 0xa8
                    || (unsigned char)body[i + 2] == 0xa9)),
              "JSON holds a raw U+2028/U+2029");
    }
    back = json_loadb(body, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
    CHECK(back, "JSON output does not parse: %s\n%.300s", err.text, body);
    model = json_model(p, doc);
    CHECK(json_same(back, model), "JSON output differs: %.300s", body);
    json_decref(model);
    json_decref(back);
}

/* ---- every encoding ---- */

static void check_all(apr_pool_t *p, const json_t *doc)
{
    static const char *const types[] = {
        "application/json; charset=utf-8", "application/json; charset=utf-8",
        "application/xml", "application/yaml; charset=utf-8",
        "text/plain; charset=utf-8", "application/json; charset=utf-8",
        "application/json; charset=utf-8"
    };
    const json_t *coll = json_is_object(doc)
                         ? json_object_get(doc, "collection") : NULL;
    const json_t *content = json_is_object(doc)
                            ? json_object_get(doc, "content") : NULL;
    int too_deep = depth_of(doc) > APIGW_ENCODE_MAX_DEPTH;
    const char *json_body = NULL;
    apr_size_t json_len = 0;
    int e;

    for (e = APIGW_OUT_JSON; e <= APIGW_OUT_NOOP; e++) {
        apr_size_t len = 12345;
        const char *ct = "unset", *body;
        int want_null;

        body = apigw_encode(p, doc, (apigw_output_encoding)e, &len, &ct);
        want_null = e == APIGW_OUT_STRING ? 0
                    : e == APIGW_OUT_JSON_COLLECTION
                      ? coll && depth_of(coll) > APIGW_ENCODE_MAX_DEPTH
                      : too_deep;
        CHECK((body == NULL) == want_null, "%s: %s for a document %d deep",
              apigw_output_encoding_name((apigw_output_encoding)e),
              body ? "written" : "NULL", depth_of(doc));
        if (!body) {
            CHECK(len == 12345 && strcmp(ct, "unset") == 0,
                  "NULL with *len or *content_type set");
            continue;
        }
        CHECK(strcmp(ct, types[e]) == 0, "content type %s for %s", ct,
              apigw_output_encoding_name((apigw_output_encoding)e));
        CHECK(body[len] == '\0', "body not NUL-terminated");
        CHECK(e == APIGW_OUT_STRING || strlen(body) == len,
              "a NUL inside the body");
        switch (e) {
        case APIGW_OUT_JSON:
            check_json(p, doc, body, len);
            json_body = body;
            json_len = len;
            break;
        case APIGW_OUT_JSON_COLLECTION:
            if (coll) {
                check_json(p, coll, body, len);
            }
            else {
                CHECK(len == 2 && memcmp(body, "[]", 2) == 0,
                      "json-collection without a collection: %s", body);
            }
            break;
        case APIGW_OUT_XML:
            check_xml(p, doc, body, len);
            break;
        case APIGW_OUT_YAML:
            check_yaml(p, doc, body, len);
            break;
        case APIGW_OUT_STRING:
            if (json_is_string(content)) {
                CHECK(len == json_string_length(content)
                      && memcmp(body, json_string_value(content), len) == 0,
                      "string body is not the content");
            }
            else {
                CHECK(len == 0, "string body without a content string");
            }
            break;
        default:              /* negotiate and no-op: JSON */
            CHECK(len == json_len && memcmp(body, json_body, len) == 0,
                  "%s differs from json",
                  apigw_output_encoding_name((apigw_output_encoding)e));
            break;
        }
    }
}

/* The words and negotiation, on a string from the input. */
static void check_words(const char *s)
{
    apigw_output_encoding oe = apigw_negotiate(s);

    CHECK(oe == APIGW_OUT_JSON || oe == APIGW_OUT_XML || oe == APIGW_OUT_YAML,
          "negotiate gave %d", (int)oe);
    if (!apigw_output_encoding_parse(s, &oe)) {
        CHECK(strcasecmp(apigw_output_encoding_name(oe), s) == 0,
              "word %s", s);
    }
}

/* ---- documents built from strings ---- */

typedef struct {
    const char *s[MAX_STRINGS];
    size_t n[MAX_STRINGS];
    int count;
} strings;

static void add_string(strings *ss, const char *s, size_t n)
{
    if (ss->count < MAX_STRINGS) {
        ss->s[ss->count] = s;
        ss->n[ss->count] = n;
        ss->count++;
    }
}

static void collect(strings *ss, const json_t *v)
{
    if (json_is_object(v)) {
        const char *key;
        json_t *val;

        json_object_foreach((json_t *)v, key, val) {
            add_string(ss, key, strlen(key));
            collect(ss, val);
        }
    }
    else if (json_is_array(v)) {
        size_t i;

        for (i = 0; i < json_array_size(v); i++) {
            collect(ss, json_array_get(v, i));
        }
    }
    else if (json_is_string(v)) {
        add_string(ss, json_string_value(v), json_string_length(v));
    }
}

/* {"r": {s: s, "-s": s, ..., "#text": first, "list": [s, ...]}}: every
 * string as a key (to its first NUL), an attribute, text and a value. */
static json_t *built(apr_pool_t *p, const strings *ss)
{
    json_t *o = json_object(), *list = json_array();
    int i;

    for (i = 0; i < ss->count; i++) {
        const char *key = apr_pstrndup(p, ss->s[i], ss->n[i]);

        json_object_set_new_nocheck(o, key,
                                    json_stringn_nocheck(ss->s[i], ss->n[i]));
        json_object_set_new_nocheck(o, apr_pstrcat(p, "-", key, NULL),
                                    json_stringn_nocheck(ss->s[i], ss->n[i]));
        json_array_append_new(list, json_stringn_nocheck(ss->s[i], ss->n[i]));
    }
    if (ss->count) {
        json_object_set_new_nocheck(o, "#text",
                                    json_stringn_nocheck(ss->s[0], ss->n[0]));
    }
    json_object_set_new_nocheck(o, "list", list);
    return json_pack("{so}", "r", o);
}

/* ---- the fixed hostile document ---- */

static const char *const HOSTILE[] = {
    "yes", "no", "null", "~", "- a", ": b", "#c", " lead", "trail ", "'",
    "\"", "multi\nline", "0x10", ".inf", "1_000", "Yes", "NO", "On", "off",
    "y", "N", "true", "False", "NULL", "", "1e3", "1E+3", "0o17", "0b101",
    "012", "+1", "-1", "1.", ".5", "1:20", "1:20.5", "-.inf", ".NaN",
    "2001-12-14", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10 Z",
    "<<", "=", "a: b", "a #b", "- ", "-", "--", "?", "? x", "!x", "&a",
    "*a", "%x", "@x", "`x", "|", "> x", "{", "}", "[", "]", ",", "a,b",
    "---", "...", "\t", "\r\n", "\r", "\x01\x1f\x7f", "\xc2\x85",
    "\xe2\x80\xa8", "\xef\xbb\xbf", "\xef\xbf\xbe", "\xef\xbf\xbf",
    "\xed\xa0\x80", "\xff", "\xc3", "\xe2\x82", "\xc0\xaf",
    "<a>&amp;]]>", "]]>", "<!--", "<?x?>", "&#0;", "&lt;", "xmlns",
    "xmlns:a", "XmlNs", "xml", "#text", "-#text", "-xmlns", "a:b", "a_b",
    "1st", ".dot", "\xc3\xa9", "\xd0\x81", "a\xc2\xb7\x62", "\xf0\x9f\x98\x80",
    "\xcc\x80x", "x\xcc\x80", "\xe5\x90\x8d", "yes please", "a b", "_",
    "item", "doc", "collection", "content",
    /* plain in YAML since KrakenD's spec wants "-type: admin" and URLs */
    "-type", "-_", "-Yes", "-1x", "-.x", "--x", "-a b", "https://x.org/a?b=c&d",
    "a:b", "a:", "a::", "a: ", "it's", "a ?b", "a!", "a%20b", "x<y>z",
    "a|b>c", "a`b", "a^b~c", "a*b&c", "\xc3\xa9t\xc3\xa9", "\xc2\xa0x",
    "x\xc2\xa0", "\xe5\x90\x8d:x", "a:\xc2\xa0",
};

static json_t *deep(int shape, int levels)
{
    json_t *v = shape == 2 ? json_object() : json_integer(1);
    int i;

    for (i = 0; i < levels; i++) {
        json_t *c;

        if (shape == 0 || (shape == 3 && i % 2)) {
            c = json_array();
            json_array_append_new(c, v);
        }
        else {
            c = json_object();
            json_object_set_new(c, shape == 3 ? "-a" : "a", v);
        }
        v = c;
    }
    return v;
}

static void check_hostile(void)
{
    apr_pool_t *p;
    strings ss;
    json_t *doc, *nums;
    char *longkey;
    size_t i;
    int shape, d;

    apr_pool_create(&p, root_pool);
    ss.count = 0;
    for (i = 0; i < sizeof(HOSTILE) / sizeof(HOSTILE[0]); i++) {
        add_string(&ss, HOSTILE[i], strlen(HOSTILE[i]));
        if (ss.count == MAX_STRINGS) {
            doc = built(p, &ss);
            check_all(p, doc);
            json_decref(doc);
            ss.count = 0;
        }
        check_words(HOSTILE[i]);
    }
    add_string(&ss, "a\0b", 3);
    longkey = apr_palloc(p, 1101);
    memset(longkey, 'k', 1100);
    longkey[1100] = '\0';
    add_string(&ss, longkey, 1100);
    longkey = apr_pstrcat(p, "\"", longkey, NULL);
    add_string(&ss, longkey, 1101);
    doc = built(p, &ss);
    check_all(p, doc);
    json_decref(doc);

    nums = json_pack("[f,f,f,f,f,f,f,f,f,f,I,I,I,I,i,b,b,n]", 1e308, -1e308,
                     5e-324, -0.0, 0.0, 1e16, 0.1, 123456789.125,
                     9007199254740993.0, 1e-7, (json_int_t)LLONG_MIN,
                     (json_int_t)LLONG_MAX, (json_int_t)0, (json_int_t)-1,
                     42, 1, 0);
    CHECK(nums, "numbers");
    doc = json_pack("{sO,s{sO,s{sO}},so}", "n", nums, "-m", "x", nums,
                    "#text", "-x", nums, "collection", json_deep_copy(nums));
    check_all(p, doc);
    check_all(p, nums);
    json_decref(doc);
    json_decref(nums);

    for (shape = 0; shape < 4; shape++) {
        for (d = APIGW_ENCODE_MAX_DEPTH - 3; d <= APIGW_ENCODE_MAX_DEPTH + 1;
             d++) {
            doc = deep(shape, d);
            check_all(p, doc);
            json_decref(doc);
        }
        for (d = APR_XML_NESTING - 3; d <= APR_XML_NESTING + 1; d++) {
            doc = deep(shape, d);
            check_all(p, doc);
            json_decref(doc);
        }
    }
    apr_pool_destroy(p);
}

/* ---- the target ---- */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    apr_initialize();
    apr_pool_create(&root_pool, NULL);
    re_compile(&re_int_text, "^-?(0|[1-9][0-9]*)$");
    re_compile(&re_real_text,
               "^-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][-+]?[0-9]+)?$");
    re_compile(&re11_null, "^(~|null|Null|NULL)$");
    re_compile(&re11_bool, "^(y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE"
                           "|false|False|FALSE|on|On|ON|off|Off|OFF)$");
    re_compile(&re11_int, "^([-+]?0b[01_]+|[-+]?0[0-7_]+"
                          "|[-+]?(0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+"
                          "|[-+]?[1-9][0-9_]*(:[0-5]?[0-9])+)$");
    re_compile(&re11_float, "^([-+]?([0-9][0-9_]*)?\\.[0-9._]*"
                            "([eE][-+][0-9]+)?"
                            "|[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\\.[0-9_]*"
                            "|[-+]?\\.(inf|Inf|INF)|\\.(nan|NaN|NAN))$");
    re_compile(&re11_time, "^([0-9]{4}-[0-9]{2}-[0-9]{2}"
                           "|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt]|[ \t]+)"
                           "[0-9]{1,2}:[0-9]{2}:[0-9]{2}(\\.[0-9]*)?"
                           "([ \t]*Z|[-+][0-9]{1,2}(:[0-9]{2})?)?)$");
    re_compile(&re11_other, "^(<<|=)$");
    re_compile(&re12_null, "^(~|null|Null|NULL)$");
    re_compile(&re12_bool, "^(true|True|TRUE|false|False|FALSE)$");
    re_compile(&re12_int, "^([-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$");
    re_compile(&re12_float, "^([-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)"
                            "([eE][-+]?[0-9]+)?"
                            "|[-+]?\\.(inf|Inf|INF)|\\.(nan|NaN|NAN))$");
    check_hostile();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    json_error_t err;
    json_t *doc, *extra;
    strings ss;
    int i;

    apr_pool_create(&p, root_pool);
    ss.count = 0;
    doc = json_loadb((const char *)data, size,
                     JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
    if (doc) {
        check_all(p, doc);
        extra = size % 2 ? json_pack("{sO}", "w", doc)
                         : json_pack("[O]", doc);
        check_all(p, extra);
        json_decref(extra);
        collect(&ss, doc);
    }
    else {
        const char *s = (const char *)data, *end = s + size;

        doc = json_array();
        while (s <= end && ss.count < MAX_STRINGS) {
            const char *nl = memchr(s, '\n', (size_t)(end - s));
            size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);

            add_string(&ss, s, n);
            json_array_append_new(doc, json_stringn_nocheck(s, n));
            if (!nl) {
                break;
            }
            s = nl + 1;
        }
        check_all(p, doc);
    }
    for (i = 0; i < ss.count; i++) {
        check_words(apr_pstrndup(p, ss.s[i], ss.n[i]));
    }
    extra = built(p, &ss);      /* ss points into doc */
    check_all(p, extra);
    json_decref(extra);
    json_decref(doc);
    apr_pool_destroy(p);
    return 0;
}
