/* The XML writer (ApiOutputEncoding xml): the root element alone (no
 * declaration, no final newline), attributes from "-name" keys, "#text",
 * one element per array item, members in key order, names made valid and
 * text escaped, as described in apigw_encode.h. */
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include "apigw_encode.h"
#include "apigw_encode_int.h"

#define REPLACEMENT "\xef\xbf\xbd"

/* Non-ASCII code points that are letters in both XML 1.0 editions. */
static int xml_letter(long cp)
{
    static const long ranges[][2] = {
        { 0xC0, 0xD6 }, { 0xD8, 0xF6 }, { 0xF8, 0x131 }, { 0x134, 0x13E },
        { 0x141, 0x148 }, { 0x14A, 0x17E }, { 0x388, 0x38A },
        { 0x38C, 0x38C }, { 0x38E, 0x3A1 }, { 0x3A3, 0x3CE },
        { 0x410, 0x44F }, { 0x5D0, 0x5EA }, { 0x621, 0x63A },
        { 0x3041, 0x3094 }, { 0x30A1, 0x30FA }, { 0x4E00, 0x9FA5 },
        { 0xAC00, 0xD7A3 },
    };
    apr_size_t i;

    for (i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
        if (cp >= ranges[i][0] && cp <= ranges[i][1]) {
            return 1;
        }
    }
    return 0;
}

static int xml_name_start(long cp)
{
    return (cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z') || cp == '_'
           || (cp >= 0x80 && xml_letter(cp));
}

static int xml_name_char(long cp)
{
    return xml_name_start(cp) || (cp >= '0' && cp <= '9') || cp == '-'
           || cp == '.';
}

/* Writes key as a valid XML name. */
static void xml_put_name(obuf *b, const char *key, apr_size_t n)
{
    const unsigned char *s = (const unsigned char *)key;
    apr_size_t i = 0, adv;

    if (n == 0) {
        ob_putc(b, '_');
        return;
    }
    while (i < n) {
        long cp = apigw_utf8_next(s + i, n - i, &adv);

        if (i == 0 && !xml_name_start(cp)) {
            ob_putc(b, '_');
            if (!xml_name_char(cp)) {
                i += adv;
                continue;
            }
        }
        if (xml_name_char(cp)) {
            ob_put(b, (const char *)s + i, adv);
        }
        else {
            ob_putc(b, '_');
        }
        i += adv;
    }
}

static void xml_put_text(obuf *b, const char *str, apr_size_t n, int attr)
{
    const unsigned char *s = (const unsigned char *)str;
    apr_size_t i = 0, run = 0, adv;

    while (i < n) {
        unsigned char c = s[i];
        const char *esc;
        long cp;

        if (c >= 0x20 && c < 0x80 && c != '&' && c != '<' && c != '>'
            && c != '"') {
            i++;
            run++;
            continue;
        }
        cp = c >= 0x80 ? apigw_utf8_next(s + i, n - i, &adv) : (adv = 1, c);
        if (cp >= 0x80 && cp != 0xfffe && cp != 0xffff) {
            i += adv;
            run += adv;
            continue;
        }
        if (cp == '"' && !attr) {
            i++;
            run++;
            continue;
        }
        ob_put(b, (const char *)s + i - run, run);
        run = 0;
        switch (cp) {
        case '&': esc = "&amp;"; break;
        case '<': esc = "&lt;"; break;
        case '>': esc = "&gt;"; break;
        case '"': esc = "&quot;"; break;
        case '\r': esc = "&#13;"; break;
        case '\n': esc = attr ? "&#10;" : "\n"; break;
        case '\t': esc = attr ? "&#9;" : "\t"; break;
        default: esc = REPLACEMENT; break;
        }
        ob_put(b, esc, strlen(esc));
        i += adv;
    }
    ob_put(b, (const char *)s + i - run, run);
}

static int xml_scalar(const json_t *v)
{
    return json_is_string(v) || json_is_number(v) || json_is_boolean(v);
}

static void xml_put_scalar(obuf *b, const json_t *v, int attr)
{
    char num[APIGW_REAL_BUFSIZE];
    apr_size_t n;

    switch (json_typeof(v)) {
    case JSON_STRING:
        xml_put_text(b, json_string_value(v), json_string_length(v), attr);
        break;
    case JSON_INTEGER:
        apigw_ob_integer(b, json_integer_value(v));
        break;
    case JSON_REAL:
        n = apigw_format_real(json_real_value(v), num, sizeof(num));
        ob_put(b, num, n);
        break;
    case JSON_TRUE:
        ob_lit(b, "true");
        break;
    case JSON_FALSE:
        ob_lit(b, "false");
        break;
    default:
        break;
    }
}

static void xml_put_element(obuf *b, apigw_members *ms, apr_pool_t *scratch,
                            const char *key, apr_size_t klen, const json_t *v,
                            int depth);

static int is_attr_key(const char *key, const json_t *v)
{
    return key[0] == '-' && key[1] != '\0' && xml_scalar(v);
}

/* The attributes, text and children of an object element whose start tag
 * is open ("<name" written). depth, here and in xml_put_element, is the
 * JSON nesting of the value (the document is 1 deep, its members 2), not
 * the element nesting: an array under a key adds no element but counts,
 * so XML gives up on exactly the documents the JSON writer does. */
static void xml_put_object(obuf *b, apigw_members *ms, apr_pool_t *scratch,
                           apr_size_t name_off, apr_size_t name_len,
                           const json_t *obj, int depth)
{
    const char *key;
    const json_t *val;
    const json_t *text = NULL;
    apr_hash_t *names = NULL;     /* attribute names written */
    apr_hash_t *as_attr = NULL;   /* JSON keys written as attributes */
    apr_pool_t *sub = NULL;
    apr_size_t base, size, i;
    int has_children = 0;

    if (depth >= APIGW_ENCODE_MAX_DEPTH && json_object_size(obj) > 0) {
        b->failed = 1;      /* members, attributes and text alike */
        return;
    }
    base = apigw_members_push(ms, b, obj, &size);
    /* attributes first */
    for (i = 0; i < size && !b->failed; i++) {
        key = ms->m[base + i].key;
        val = ms->m[base + i].val;
        if (strcmp(key, "#text") == 0 && xml_scalar(val)) {
            text = val;
            continue;
        }
        if (is_attr_key(key, val)) {
            apr_size_t off, len;
            const char *name;

            if (!sub) {
                if (apr_pool_create(&sub, scratch) != APR_SUCCESS) {
                    b->failed = 1;
                    break;
                }
                names = apr_hash_make(sub);
                as_attr = apr_hash_make(sub);
            }
            ob_putc(b, ' ');
            off = b->len;
            xml_put_name(b, key + 1, strlen(key + 1));
            if (b->failed) {
                break;
            }
            len = b->len - off;
            name = apr_pstrmemdup(sub, b->data + off, len);
            if (strncasecmp(name, "xmlns", 5) == 0
                || apr_hash_get(names, name, (apr_ssize_t)len)) {
                b->len = off - 1;      /* take it back: a child instead */
                has_children = 1;
                continue;
            }
            apr_hash_set(names, name, (apr_ssize_t)len, name);
            apr_hash_set(as_attr, key, APR_HASH_KEY_STRING, key);
            ob_lit(b, "=\"");
            xml_put_scalar(b, val, 1);
            ob_putc(b, '"');
            continue;
        }
        if (!json_is_array(val) || json_array_size(val) > 0) {
            has_children = 1;
        }
    }
    if (b->failed) {
        goto done;
    }
    if (!has_children && (!text || (json_is_string(text)
                                    && json_string_length(text) == 0))) {
        ob_lit(b, "/>");
        goto done;
    }
    ob_putc(b, '>');
    if (text) {
        xml_put_scalar(b, text, 0);
    }
    for (i = 0; i < size; i++) {
        key = ms->m[base + i].key;
        val = ms->m[base + i].val;
        if (val == text && strcmp(key, "#text") == 0) {
            continue;
        }
        if (as_attr && apr_hash_get(as_attr, key, APR_HASH_KEY_STRING)) {
            continue;
        }
        if (json_is_array(val)) {
            size_t k, n = json_array_size(val);

            for (k = 0; k < n && !b->failed; k++) {
                xml_put_element(b, ms, scratch, key, strlen(key),
                                json_array_get(val, k), depth + 2);
            }
        }
        else {
            xml_put_element(b, ms, scratch, key, strlen(key), val, depth + 1);
        }
        if (b->failed) {
            goto done;
        }
    }
    ob_lit(b, "</");
    ob_again(b, name_off, name_len);
    ob_putc(b, '>');
done:
    apigw_members_pop(ms, base);
    if (sub) {
        apr_pool_destroy(sub);
    }
}

static void xml_put_element(obuf *b, apigw_members *ms, apr_pool_t *scratch,
                            const char *key, apr_size_t klen, const json_t *v,
                            int depth)
{
    apr_size_t name_off, name_len;

    if (depth > APIGW_ENCODE_MAX_DEPTH) {
        b->failed = 1;
        return;
    }
    ob_putc(b, '<');
    name_off = b->len;
    xml_put_name(b, key, klen);
    name_len = b->len - name_off;
    if (b->failed) {
        return;
    }
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        xml_put_object(b, ms, scratch, name_off, name_len, v, depth);
        return;
    case JSON_ARRAY: {
        size_t i, size = json_array_size(v);

        if (size == 0) {
            ob_lit(b, "/>");
            return;
        }
        ob_putc(b, '>');
        for (i = 0; i < size && !b->failed; i++) {
            xml_put_element(b, ms, scratch, "item", 4, json_array_get(v, i),
                            depth + 1);
        }
        break;
    }
    case JSON_NULL:
        ob_lit(b, "/>");
        return;
    default:
        if (json_is_string(v) && json_string_length(v) == 0) {
            ob_lit(b, "/>");
            return;
        }
        ob_putc(b, '>');
        xml_put_scalar(b, v, 0);
        break;
    }
    ob_lit(b, "</");
    ob_again(b, name_off, name_len);
    ob_putc(b, '>');
}

void apigw_encode_xml(obuf *b, apigw_members *ms, apr_pool_t *p,
                      const json_t *doc)
{
    apr_pool_t *scratch;

    if (apr_pool_create(&scratch, p) != APR_SUCCESS) {
        b->failed = 1;
        return;
    }
    if (json_is_object(doc) && json_object_size(doc) == 1) {
        void *iter = json_object_iter((json_t *)doc);
        const char *key = json_object_iter_key(iter);
        json_t *val = json_object_iter_value(iter);

        if (!json_is_array(val) && key[0] != '-'
            && strcmp(key, "#text") != 0) {
            xml_put_element(b, ms, scratch, key, strlen(key), val, 2);
            apr_pool_destroy(scratch);
            return;
        }
    }
    xml_put_element(b, ms, scratch, "doc", 3, doc, 1);
    apr_pool_destroy(scratch);
}
