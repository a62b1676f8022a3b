/* Decoding a backend's body into a jansson document: the entry points,
 * JSON (object, collection, safejson), XML through APR-util's apr_xml
 * (expat), and plain strings. The rss encoding is parsed here as XML and
 * mapped to a feed object by apigw_decode_feed.c. The JSON shapes
 * produced are described in apigw_decode.h. */
#include <stdlib.h>
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include <apr_xml.h>

#include "apigw_decode.h"
#include "apigw_decode_int.h"

/* ---- helpers ---- */

/* Whether v nests deeper than max (v itself at depth 1). */
static int too_deep(const json_t *v, int depth, int max)
{
    if (!json_is_object(v) && !json_is_array(v)) {
        return 0;
    }
    if (depth > max) {
        return 1;
    }
    if (json_is_object(v)) {
        const char *key;
        json_t *val;

        json_object_foreach((json_t *)v, key, val) {
            if (too_deep(val, depth + 1, max)) {
                return 1;
            }
        }
    }
    else {
        size_t i, n = json_array_size(v);

        for (i = 0; i < n; i++) {
            if (too_deep(json_array_get(v, i), depth + 1, max)) {
                return 1;
            }
        }
    }
    return 0;
}

/* A copy of msg fit for a log line: control and non-ASCII bytes as '?'. */
const char *apigw_decode_clean_msg(apr_pool_t *p, const char *msg)
{
    char *out = apr_pstrdup(p, msg), *c;

    for (c = out; *c; c++) {
        if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f) {
            *c = '?';
        }
    }
    return out;
}

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER:
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

/* {key: v}, taking over v; NULL (v released) when memory runs out. */
static json_t *wrap(const char *key, json_t *v)
{
    json_t *obj = json_object();

    if (!obj) {
        json_decref(v);
        return NULL;
    }
    if (json_object_set_new(obj, key, v) != 0) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

static json_t *checked(json_t *doc, const char **err)
{
    if (!doc) {
        *err = "out of memory while decoding the backend response";
        return NULL;
    }
    if (too_deep(doc, 1, APIGW_DECODE_MAX_DEPTH)) {
        json_decref(doc);
        *err = "the backend response nests deeper than "
               APR_STRINGIFY(APIGW_DECODE_MAX_DEPTH) " levels";
        return NULL;
    }
    return doc;
}

/* ---- JSON ---- */

static json_t *load_json(apr_pool_t *p, const char *body, apr_size_t len,
                         const char **err)
{
    const size_t flags = JSON_DECODE_ANY | JSON_ALLOW_NUL;
    json_error_t e;
    json_t *v;

    v = json_loadb(body, len, flags, &e);
    if (!v && json_error_code(&e) == json_error_numeric_overflow) {
        v = json_loadb(body, len, flags | JSON_DECODE_INT_AS_REAL, &e);
    }
    if (!v) {
        *err = apigw_decode_clean_msg(p, apr_psprintf(p,
                   "the backend's body is not valid JSON: %s (line %d, "
                   "column %d)", e.text, e.line, e.column));
    }
    return v;
}

static json_t *decode_json(apr_pool_t *p, int collection, const char *body,
                           apr_size_t len, const char **err)
{
    json_t *v = load_json(p, body, len, err);

    if (!v) {
        return NULL;
    }
    if (collection) {
        if (json_is_null(v)) {
            json_decref(v);
            v = json_array();
        }
        else if (!json_is_array(v)) {
            *err = apr_psprintf(p, "the backend's JSON is %s, not the array "
                                "a collection backend must return",
                                type_name(v));
            json_decref(v);
            return NULL;
        }
        return checked(wrap("collection", v), err);
    }
    if (json_is_null(v)) {
        json_decref(v);
        return checked(json_object(), err);
    }
    if (!json_is_object(v)) {
        *err = apr_psprintf(p, "the backend's JSON is %s, not an object%s",
                            type_name(v), json_is_array(v)
                            ? " (declare the backend a collection)" : "");
        json_decref(v);
        return NULL;
    }
    return checked(v, err);
}

static json_t *decode_safejson(apr_pool_t *p, const char *body,
                               apr_size_t len, const char **err)
{
    json_t *v = load_json(p, body, len, err);

    if (!v) {
        return NULL;
    }
    if (json_is_object(v)) {
        return checked(v, err);
    }
    return checked(wrap(json_is_array(v) ? "collection" : "content", v), err);
}

/* ---- string ---- */

static apr_size_t utf8_valid_prefix(const unsigned char *s, apr_size_t n,
                                    apr_size_t *seq)
{
    apr_size_t i = 0;

    while (i < n) {
        unsigned char c = s[i];
        apr_size_t need, k;
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
            break;
        }
        if (n - i <= need) {
            break;
        }
        for (k = 1; k <= need; k++) {
            if ((s[i + k] & 0xc0) != 0x80) {
                break;
            }
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if (k <= need || (need == 2 && cp < 0x800)
            || (need == 3 && cp < 0x10000) || cp > 0x10ffff
            || (cp >= 0xd800 && cp <= 0xdfff)) {
            break;
        }
        i += need + 1;
        *seq = need + 1;
    }
    return i;
}

static json_t *decode_string(const char *body, apr_size_t len,
                             const char **err)
{
    const unsigned char *s = (const unsigned char *)body;
    apr_size_t i, n, seq = 0, out_len = 0;
    char *out, *o;
    json_t *v;

    /* Pass 1: the size once bad bytes become U+FFFD (3 bytes each). */
    for (i = 0; i < len;) {
        n = utf8_valid_prefix(s + i, len - i, &seq);
        out_len += n;
        i += n;
        if (i < len) {
            out_len += 3;
            i++;
        }
    }
    if (out_len == len) {
        v = json_stringn_nocheck(body, len);
        return checked(wrap("content", v), err);
    }
    out = malloc(out_len ? out_len : 1);
    if (!out) {
        *err = "out of memory while decoding the backend response";
        return NULL;
    }
    for (i = 0, o = out; i < len;) {
        n = utf8_valid_prefix(s + i, len - i, &seq);
        memcpy(o, s + i, n);
        o += n;
        i += n;
        if (i < len) {
            memcpy(o, "\xef\xbf\xbd", 3);
            o += 3;
            i++;
        }
    }
    v = json_stringn_nocheck(out, out_len);
    free(out);
    return checked(wrap("content", v), err);
}

/* ---- XML ---- */

static apr_size_t text_len(const apr_text_header *h)
{
    const apr_text *t;
    apr_size_t n = 0;

    for (t = h->first; t; t = t->next) {
        n += strlen(t->text);
    }
    return n;
}

static char *text_copy(char *o, const apr_text_header *h)
{
    const apr_text *t;

    for (t = h->first; t; t = t->next) {
        apr_size_t n = strlen(t->text);

        memcpy(o, t->text, n);
        o += n;
    }
    return o;
}

/* The element's own character data (not its children's), joined and
 * trimmed; from p. */
static const char *own_text(apr_pool_t *p, const apr_xml_elem *e,
                            apr_size_t *len)
{
    const apr_xml_elem *c;
    apr_size_t n = text_len(&e->first_cdata);
    char *buf, *o, *start, *end;

    for (c = e->first_child; c; c = c->next) {
        n += text_len(&c->following_cdata);
    }
    o = buf = apr_palloc(p, n + 1);
    o = text_copy(o, &e->first_cdata);
    for (c = e->first_child; c; c = c->next) {
        o = text_copy(o, &c->following_cdata);
    }
    start = buf;
    end = o;
    while (start < end && xml_space(*start)) {
        start++;
    }
    while (end > start && xml_space(end[-1])) {
        end--;
    }
    *end = '\0';
    *len = (apr_size_t)(end - start);
    return start;
}

static json_t *element_to_json(apr_pool_t *p, const apr_xml_elem *e,
                               int depth, const char **err)
{
    const apr_xml_attr *a;
    const apr_xml_elem *c;
    const char *text;
    apr_size_t tlen;
    apr_array_header_t *attrs;
    json_t *obj;
    int i;

    text = own_text(p, e, &tlen);
    if (!e->attr && !e->first_child) {
        json_t *s = json_stringn(text, tlen);

        if (!s) {
            *err = "the backend's XML holds text that is not UTF-8";
        }
        return s;
    }
    /* an object at this depth; leaves (strings) do not count */
    if (depth > APIGW_DECODE_MAX_DEPTH) {
        *err = "the backend's XML nests deeper than "
               APR_STRINGIFY(APIGW_DECODE_MAX_DEPTH) " levels";
        return NULL;
    }
    obj = json_object();
    if (!obj) {
        *err = "out of memory while decoding the backend response";
        return NULL;
    }
    /* apr_xml keeps attributes in reverse order */
    attrs = apr_array_make(p, 4, sizeof(const apr_xml_attr *));
    for (a = e->attr; a; a = a->next) {
        APR_ARRAY_PUSH(attrs, const apr_xml_attr *) = a;
    }
    for (i = attrs->nelts - 1; i >= 0; i--) {
        a = APR_ARRAY_IDX(attrs, i, const apr_xml_attr *);
        if (json_object_set_new(obj, apr_pstrcat(p, "-", a->name, NULL),
                                json_string(a->value)) != 0) {
            *err = "the backend's XML holds an attribute that is not UTF-8";
            json_decref(obj);
            return NULL;
        }
    }
    if (tlen && json_object_set_new(obj, "#text",
                                    json_stringn(text, tlen)) != 0) {
        *err = "the backend's XML holds text that is not UTF-8";
        json_decref(obj);
        return NULL;
    }
    for (c = e->first_child; c; c = c->next) {
        json_t *v = element_to_json(p, c, depth + 1, err);
        json_t *have;

        if (!v) {
            json_decref(obj);
            return NULL;
        }
        have = json_object_get(obj, c->name);
        if (!have) {
            if (json_object_set_new(obj, c->name, v) != 0) {
                goto oom;
            }
        }
        else if (json_is_array(have)) {
            /* children are strings or objects: an array is a repetition */
            if (json_array_append_new(have, v) != 0) {
                goto oom;
            }
        }
        else {
            json_t *arr = json_array();

            if (!arr || json_array_append(arr, have) != 0
                || json_array_append_new(arr, v) != 0
                || json_object_set_new(obj, c->name, arr) != 0) {
                json_decref(arr);
                goto oom;
            }
        }
    }
    return obj;
oom:
    *err = "out of memory while decoding the backend response";
    json_decref(obj);
    return NULL;
}

/* Parses body into *doc, in pool sub; NULL or an error message from p. */
static const char *parse_xml(apr_pool_t *p, apr_pool_t *sub,
                             const char *body, apr_size_t len,
                             apr_xml_doc **doc)
{
    apr_xml_parser *parser = apr_xml_parser_create(sub);
    apr_status_t rv = APR_SUCCESS;
    char msg[256];

    if (!parser) {
        return "could not create an XML parser";
    }
    /* expat takes an int length: feed large bodies in pieces */
    while (len > 0 && rv == APR_SUCCESS) {
        apr_size_t n = len > (1u << 30) ? (1u << 30) : len;

        rv = apr_xml_parser_feed(parser, body, n);
        body += n;
        len -= n;
    }
    if (rv == APR_SUCCESS) {
        rv = apr_xml_parser_done(parser, doc);
    }
    if (rv == APR_SUCCESS && *doc && (*doc)->root) {
        return NULL;
    }
    if (rv == APR_SUCCESS) {
        return "the backend's XML has no root element";
    }
    apr_xml_parser_geterror(parser, msg, sizeof(msg));
    return apigw_decode_clean_msg(p, apr_psprintf(p,
               "the backend's body is not well-formed XML: %s%s", msg,
               strstr(msg, "aborted")
               ? " (a DTD entity declaration, which is refused)" : ""));
}

static json_t *decode_xml(apr_pool_t *p, int collection, const char *body,
                          apr_size_t len, const char **err)
{
    apr_pool_t *sub;
    apr_xml_doc *doc = NULL;
    json_t *v, *out;

    if (apr_pool_create(&sub, p) != APR_SUCCESS) {
        *err = "out of memory while decoding the backend response";
        return NULL;
    }
    *err = parse_xml(p, sub, body, len, &doc);
    if (*err) {
        apr_pool_destroy(sub);
        return NULL;
    }
    v = element_to_json(sub, doc->root, 2, err);
    if (!v) {
        apr_pool_destroy(sub);
        return NULL;
    }
    out = wrap(doc->root->name, v);
    apr_pool_destroy(sub);
    if (out && collection) {
        out = wrap("collection", out);
    }
    return checked(out, err);
}

static json_t *decode_rss(apr_pool_t *p, const char *body, apr_size_t len,
                          const char **err)
{
    apr_pool_t *sub;
    apr_xml_doc *doc = NULL;
    json_t *out;

    if (apr_pool_create(&sub, p) != APR_SUCCESS) {
        *err = "out of memory while decoding the backend response";
        return NULL;
    }
    *err = parse_xml(p, sub, body, len, &doc);
    if (*err) {
        apr_pool_destroy(sub);
        return NULL;
    }
    out = apigw_decode_feed(p, sub, doc, err);
    apr_pool_destroy(sub);
    if (!out) {
        return NULL;
    }
    return checked(out, err);
}

/* ---- entry points ---- */

json_t *apigw_decode_as(apr_pool_t *p, apigw_input_encoding enc,
                        int collection, const char *body, apr_size_t len,
                        const char **err)
{
    if (!body && len) {
        *err = "no body";
        return NULL;
    }
    if (!body) {
        body = "";
    }
    switch (enc) {
    case APIGW_IN_JSON:
        return decode_json(p, collection, body, len, err);
    case APIGW_IN_SAFEJSON:
        return decode_safejson(p, body, len, err);
    case APIGW_IN_XML:
        return decode_xml(p, collection, body, len, err);
    case APIGW_IN_RSS:
        return decode_rss(p, body, len, err);
    case APIGW_IN_STRING:
        return decode_string(body, len, err);
    default:
        *err = "a no-op backend's body is passed through, not decoded";
        return NULL;
    }
}

json_t *apigw_decode(apr_pool_t *p, const apigw_shape *s, const char *body,
                     apr_size_t len, const char **err)
{
    if (!s) {
        return apigw_decode_as(p, APIGW_IN_JSON, 0, body, len, err);
    }
    return apigw_decode_as(p, apigw_shape_encoding(s),
                           apigw_shape_collection(s), body, len, err);
}
