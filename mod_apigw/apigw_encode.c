/* Output encodings of aggregated endpoints: the ApiOutputEncoding word,
 * Accept negotiation, and the JSON, JSON-collection, XML, YAML and string
 * writers over a jansson document. What each writes is described in
 * apigw_encode.h. The writers build the body in one malloc'ed buffer that
 * is handed to the caller's pool (freed by a pool cleanup), so a large
 * body is neither copied nor kept twice. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_hash.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include "apigw_encode.h"

#define CT_JSON   "application/json; charset=utf-8"
#define CT_XML    "application/xml; charset=utf-8"
#define CT_YAML   "application/yaml; charset=utf-8"
#define CT_STRING "text/plain; charset=utf-8"

/* ---- words ---- */

static const struct {
    const char *name;
    apigw_output_encoding enc;
} OUTPUTS[] = {
    { "json", APIGW_OUT_JSON },
    { "json-collection", APIGW_OUT_JSON_COLLECTION },
    { "xml", APIGW_OUT_XML },
    { "yaml", APIGW_OUT_YAML },
    { "string", APIGW_OUT_STRING },
    { "negotiate", APIGW_OUT_NEGOTIATE },
    { "no-op", APIGW_OUT_NOOP },
    { NULL, APIGW_OUT_JSON }
};

const char *apigw_output_encoding_parse(const char *word,
                                        apigw_output_encoding *out)
{
    int i;

    for (i = 0; word && OUTPUTS[i].name; i++) {
        if (strcasecmp(word, OUTPUTS[i].name) == 0) {
            *out = OUTPUTS[i].enc;
            return NULL;
        }
    }
    return "the output encoding must be one of json, json-collection, xml, "
           "yaml, string, negotiate or no-op";
}

const char *apigw_output_encoding_name(apigw_output_encoding enc)
{
    int i;

    for (i = 0; OUTPUTS[i].name; i++) {
        if (OUTPUTS[i].enc == enc) {
            return OUTPUTS[i].name;
        }
    }
    return "json";
}

/* ---- negotiation ---- */

static const struct {
    const char *type;
    apr_size_t slash;             /* offset of '/' in type */
    apigw_output_encoding enc;
} OFFERS[] = {
    { "application/json", 11, APIGW_OUT_JSON },
    { "application/xml", 11, APIGW_OUT_XML },
    { "text/xml", 4, APIGW_OUT_XML },
    { "application/yaml", 11, APIGW_OUT_YAML },
    { "application/x-yaml", 11, APIGW_OUT_YAML },
    { "text/yaml", 4, APIGW_OUT_YAML },
    { "text/x-yaml", 4, APIGW_OUT_YAML },
    { "text/plain", 4, APIGW_OUT_STRING },
};
#define N_OFFERS (sizeof(OFFERS) / sizeof(OFFERS[0]))

static int is_tchar(char c)
{
    return apr_isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static const char *skip_ows(const char *s)
{
    while (*s == ' ' || *s == '\t') {
        s++;
    }
    return s;
}

/* Skips to just after the ',' ending this element (or to the end),
 * stepping over quoted strings. */
static const char *skip_element(const char *s)
{
    while (*s && *s != ',') {
        if (*s == '"') {
            for (s++; *s && *s != '"'; s++) {
                if (*s == '\\' && s[1]) {
                    s++;
                }
            }
            if (*s) {
                s++;
            }
            continue;
        }
        s++;
    }
    return *s ? s + 1 : s;
}

/* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ), as
 * thousandths; -1 if malformed. */
static int parse_qvalue(const char *s, apr_size_t n)
{
    int v, i, scale = 100;

    if (n == 0 || (s[0] != '0' && s[0] != '1')) {
        return -1;
    }
    v = (s[0] - '0') * 1000;
    if (n == 1) {
        return v;
    }
    if (s[1] != '.' || n > 5) {
        return -1;
    }
    for (i = 2; i < (int)n; i++, scale /= 10) {
        if (!apr_isdigit(s[i])) {
            return -1;
        }
        v += (s[i] - '0') * scale;
    }
    return v > 1000 ? -1 : v;
}

/* Parses one media range at s; fills type/subtype spans and q (thousandths).
 * Returns 0 when malformed. Never reads past the element's end. */
static int parse_range(const char *s, const char **type, apr_size_t *tlen,
                       const char **sub, apr_size_t *slen, int *q)
{
    const char *c = skip_ows(s);

    *q = 1000;
    *type = c;
    while (is_tchar(*c)) {
        c++;
    }
    *tlen = (apr_size_t)(c - *type);
    if (*tlen == 0 || *c != '/') {
        return 0;
    }
    *sub = ++c;
    while (is_tchar(*c)) {
        c++;
    }
    *slen = (apr_size_t)(c - *sub);
    if (*slen == 0) {
        return 0;
    }
    if (**type == '*' && !(*slen == 1 && **sub == '*')) {
        return 0;
    }
    if (*tlen != 1 && **type == '*') {
        return 0;
    }
    for (;;) {
        const char *name, *val;
        apr_size_t nlen, vlen;

        c = skip_ows(c);
        if (*c == '\0' || *c == ',') {
            return 1;
        }
        if (*c != ';') {
            return 0;
        }
        c = skip_ows(c + 1);
        name = c;
        while (is_tchar(*c)) {
            c++;
        }
        nlen = (apr_size_t)(c - name);
        if (nlen == 0) {
            /* a lone ';' is tolerated */
            continue;
        }
        if (*c != '=') {
            return 0;
        }
        c++;
        val = c;
        if (*c == '"') {
            for (c++; *c && *c != '"'; c++) {
                if (*c == '\\' && c[1]) {
                    c++;
                }
            }
            if (*c != '"') {
                return 0;
            }
            c++;
        }
        else {
            while (is_tchar(*c)) {
                c++;
            }
        }
        vlen = (apr_size_t)(c - val);
        if (nlen == 1 && (*name == 'q' || *name == 'Q')) {
            *q = parse_qvalue(val, vlen);
            if (*q < 0) {
                return 0;
            }
        }
    }
}

apigw_output_encoding apigw_negotiate(const char *accept)
{
    int spec[N_OFFERS], q[N_OFFERS], pos[N_OFFERS];
    const char *s;
    int idx, best = -1;
    apr_size_t i;

    if (!accept) {
        return APIGW_OUT_JSON;
    }
    for (i = 0; i < N_OFFERS; i++) {
        spec[i] = 0;
        q[i] = 0;
        pos[i] = 0;
    }
    for (s = accept, idx = 0; *s; s = skip_element(s), idx++) {
        const char *type, *sub;
        apr_size_t tlen, slen;
        int rq, rspec;

        if (!parse_range(s, &type, &tlen, &sub, &slen, &rq)) {
            continue;
        }
        for (i = 0; i < N_OFFERS; i++) {
            const char *ot = OFFERS[i].type;
            apr_size_t ol = OFFERS[i].slash;

            if (tlen == 1 && *type == '*') {
                rspec = 1;
            }
            else if (tlen == ol && strncasecmp(type, ot, ol) == 0) {
                if (slen == 1 && *sub == '*') {
                    rspec = 2;
                }
                else if (slen == strlen(ot + ol + 1)
                         && strncasecmp(sub, ot + ol + 1, slen) == 0) {
                    rspec = 3;
                }
                else {
                    continue;
                }
            }
            else {
                continue;
            }
            if (rspec > spec[i]) {
                spec[i] = rspec;
                q[i] = rq;
                pos[i] = idx;
            }
        }
    }
    for (i = 0; i < N_OFFERS; i++) {
        if (spec[i] == 0 || q[i] == 0) {
            continue;
        }
        if (best < 0 || q[i] > q[best]
            || (q[i] == q[best] && pos[i] < pos[best])) {
            best = (int)i;
        }
    }
    return best < 0 ? APIGW_OUT_JSON : OFFERS[best].enc;
}

/* ---- numbers ---- */

apr_size_t apigw_format_real(double d, char *buf, apr_size_t size)
{
    char tmp[APIGW_REAL_BUFSIZE];
    apr_size_t i, o;
    int prec, dot = 0;

    if (size < APIGW_REAL_BUFSIZE) {
        if (size) {
            buf[0] = '\0';
        }
        return 0;
    }
    if (d != d || d > 1.7976931348623157e308 || d < -1.7976931348623157e308) {
        memcpy(buf, "null", 5);
        return 4;
    }
    /* The shortest of 15, 16, 17 significant digits that reads back the
     * same (%g drops trailing zeros, so 15 gives "0.1", not "0.100..."). */
    for (prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
        if (strtod(tmp, NULL) == d) {
            break;
        }
    }
    /* Same locale for snprintf and strtod above; now make the decimal
     * separator a '.' whatever the locale wrote. */
    for (i = 0, o = 0; tmp[i] && o < size - 3; i++) {
        char c = tmp[i];

        if (apr_isdigit(c) || c == '-' || c == '+' || c == 'e' || c == 'E') {
            buf[o++] = c;
        }
        else if (!dot) {
            buf[o++] = '.';
            dot = 1;
        }
        if (c == 'e' || c == 'E') {
            dot = 1;
        }
    }
    if (!dot) {
        buf[o++] = '.';
        buf[o++] = '0';
    }
    buf[o] = '\0';
    return o;
}

/* ---- output buffer ---- */

typedef struct {
    char *data;
    apr_size_t len;
    apr_size_t cap;
    int failed;
} obuf;

static int ob_room(obuf *b, apr_size_t n)
{
    apr_size_t cap;
    char *d;

    if (b->failed) {
        return 0;
    }
    if (b->cap - b->len > n) {
        return 1;
    }
    cap = b->cap ? b->cap : 256;
    while (cap - b->len <= n) {
        if (cap > ((apr_size_t)-1) / 2) {
            b->failed = 1;
            return 0;
        }
        cap *= 2;
    }
    d = realloc(b->data, cap);
    if (!d) {
        b->failed = 1;
        return 0;
    }
    b->data = d;
    b->cap = cap;
    return 1;
}

static void ob_put(obuf *b, const char *s, apr_size_t n)
{
    if (n && ob_room(b, n)) {
        memcpy(b->data + b->len, s, n);
        b->len += n;
    }
}

#define ob_lit(b, s) ob_put((b), (s), sizeof(s) - 1)

static void ob_putc(obuf *b, char c)
{
    if (ob_room(b, 1)) {
        b->data[b->len++] = c;
    }
}

/* Repeats bytes already written at [off, off+n). */
static void ob_again(obuf *b, apr_size_t off, apr_size_t n)
{
    if (n && ob_room(b, n)) {
        memcpy(b->data + b->len, b->data + off, n);
        b->len += n;
    }
}

static apr_status_t free_cleanup(void *data)
{
    free(data);
    return APR_SUCCESS;
}

/* Hands the buffer to p; NULL (and frees it) when writing failed. */
static const char *ob_finish(apr_pool_t *p, obuf *b, apr_size_t *len)
{
    if (!ob_room(b, 1)) {
        free(b->data);
        return NULL;
    }
    b->data[b->len] = '\0';
    apr_pool_cleanup_register(p, b->data, free_cleanup,
                              apr_pool_cleanup_null);
    *len = b->len;
    return b->data;
}

static void put_integer(obuf *b, json_int_t v)
{
    char num[32];
    int n = snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, v);

    ob_put(b, num, (apr_size_t)n);
}

/* ---- UTF-8 ---- */

/* Decodes the code point at s (n > 0 bytes left); sets *adv. Returns -1 for
 * an invalid sequence (overlong, surrogate, beyond U+10FFFF, truncated),
 * with *adv = 1. */
static long utf8_next(const unsigned char *s, apr_size_t n, apr_size_t *adv)
{
    unsigned char c = s[0];
    long cp;
    apr_size_t need, i;

    *adv = 1;
    if (c < 0x80) {
        return c;
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
        return -1;
    }
    if (n <= need) {
        return -1;
    }
    for (i = 1; i <= need; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return -1;
        }
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000)
        || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        return -1;
    }
    *adv = need + 1;
    return cp;
}

#define REPLACEMENT "\xef\xbf\xbd"

/* ---- JSON ---- */

static const char HEX[] = "0123456789abcdef";

static void json_put_string(obuf *b, const char *str, apr_size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    apr_size_t i = 0, run = 0, adv;

    ob_putc(b, '"');
    while (i < n) {
        unsigned char c = s[i];
        const char *esc = NULL;
        char u[6];
        long cp;

        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\' && c != '<'
            && c != '>' && c != '&') {
            i++;
            run++;
            continue;
        }
        if (c >= 0x80) {
            cp = utf8_next(s + i, n - i, &adv);
            if (cp >= 0 && cp != 0x2028 && cp != 0x2029) {
                i += adv;
                run += adv;
                continue;
            }
        }
        else {
            adv = 1;
            cp = c;
        }
        ob_put(b, (const char *)s + i - run, run);
        run = 0;
        switch (cp) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        case -1: esc = "\\ufffd"; break;
        default:
            u[0] = '\\';
            u[1] = 'u';
            u[2] = HEX[(cp >> 12) & 0xf];
            u[3] = HEX[(cp >> 8) & 0xf];
            u[4] = HEX[(cp >> 4) & 0xf];
            u[5] = HEX[cp & 0xf];
            ob_put(b, u, 6);
            break;
        }
        if (esc) {
            ob_put(b, esc, strlen(esc));
        }
        i += adv;
    }
    ob_put(b, (const char *)s + i - run, run);
    ob_putc(b, '"');
}

static void json_put_value(obuf *b, const json_t *v, int depth)
{
    char num[APIGW_REAL_BUFSIZE];
    apr_size_t n;

    if (depth > APIGW_ENCODE_MAX_DEPTH) {
        b->failed = 1;
        return;
    }
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *key;
        json_t *val;
        int first = 1;

        ob_putc(b, '{');
        json_object_foreach((json_t *)v, key, val) {
            if (!first) {
                ob_putc(b, ',');
            }
            first = 0;
            json_put_string(b, key, strlen(key));
            ob_putc(b, ':');
            json_put_value(b, val, depth + 1);
            if (b->failed) {
                return;
            }
        }
        ob_putc(b, '}');
        break;
    }
    case JSON_ARRAY: {
        size_t i, size = json_array_size(v);

        ob_putc(b, '[');
        for (i = 0; i < size; i++) {
            if (i) {
                ob_putc(b, ',');
            }
            json_put_value(b, json_array_get(v, i), depth + 1);
            if (b->failed) {
                return;
            }
        }
        ob_putc(b, ']');
        break;
    }
    case JSON_STRING:
        json_put_string(b, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        put_integer(b, json_integer_value(v));
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
        ob_lit(b, "null");
        break;
    }
}

/* ---- XML ---- */

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
        long cp = utf8_next(s + i, n - i, &adv);

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
        cp = c >= 0x80 ? utf8_next(s + i, n - i, &adv) : (adv = 1, c);
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
        put_integer(b, json_integer_value(v));
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

static void xml_put_element(obuf *b, apr_pool_t *scratch, const char *key,
                            apr_size_t klen, const json_t *v, int depth);

static int is_attr_key(const char *key, const json_t *v)
{
    return key[0] == '-' && key[1] != '\0' && xml_scalar(v);
}

/* The attributes, text and children of an object element whose start tag
 * is open ("<name" written). */
static void xml_put_object(obuf *b, apr_pool_t *scratch, apr_size_t name_off,
                           apr_size_t name_len, const json_t *obj, int depth)
{
    const char *key;
    json_t *val;
    const json_t *text = NULL;
    apr_hash_t *names = NULL;     /* attribute names written */
    apr_hash_t *as_attr = NULL;   /* JSON keys written as attributes */
    apr_pool_t *sub = NULL;
    int has_children = 0;

    /* attributes first */
    json_object_foreach((json_t *)obj, key, val) {
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
                    return;
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
    json_object_foreach((json_t *)obj, key, val) {
        if (val == text && strcmp(key, "#text") == 0) {
            continue;
        }
        if (as_attr && apr_hash_get(as_attr, key, APR_HASH_KEY_STRING)) {
            continue;
        }
        if (json_is_array(val)) {
            size_t i, size = json_array_size(val);

            for (i = 0; i < size && !b->failed; i++) {
                xml_put_element(b, scratch, key, strlen(key),
                                json_array_get(val, i), depth + 1);
            }
        }
        else {
            xml_put_element(b, scratch, key, strlen(key), val, depth + 1);
        }
        if (b->failed) {
            goto done;
        }
    }
    ob_lit(b, "</");
    ob_again(b, name_off, name_len);
    ob_putc(b, '>');
done:
    if (sub) {
        apr_pool_destroy(sub);
    }
}

static void xml_put_element(obuf *b, apr_pool_t *scratch, const char *key,
                            apr_size_t klen, const json_t *v, int depth)
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
        xml_put_object(b, scratch, name_off, name_len, v, depth);
        return;
    case JSON_ARRAY: {
        size_t i, size = json_array_size(v);

        if (size == 0) {
            ob_lit(b, "/>");
            return;
        }
        ob_putc(b, '>');
        for (i = 0; i < size && !b->failed; i++) {
            xml_put_element(b, scratch, "item", 4, json_array_get(v, i),
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

static void xml_put_doc(obuf *b, apr_pool_t *p, const json_t *doc)
{
    apr_pool_t *scratch;

    if (apr_pool_create(&scratch, p) != APR_SUCCESS) {
        b->failed = 1;
        return;
    }
    ob_lit(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    if (json_is_object(doc) && json_object_size(doc) == 1) {
        void *iter = json_object_iter((json_t *)doc);
        const char *key = json_object_iter_key(iter);
        json_t *val = json_object_iter_value(iter);

        if (!json_is_array(val) && key[0] != '-'
            && strcmp(key, "#text") != 0) {
            xml_put_element(b, scratch, key, strlen(key), val, 1);
            ob_putc(b, '\n');
            apr_pool_destroy(scratch);
            return;
        }
    }
    xml_put_element(b, scratch, "doc", 3, doc, 1);
    ob_putc(b, '\n');
    apr_pool_destroy(scratch);
}

/* ---- YAML ---- */

static int yaml_plain_ok(const char *s, apr_size_t n)
{
    static const char *const reserved[] = {
        "null", "true", "false", "yes", "no", "on", "off", "y", "n", NULL
    };
    apr_size_t i;
    int r;

    if (n == 0 || !(apr_isalpha(s[0]) || s[0] == '_') || s[n - 1] == ' ') {
        return 0;
    }
    for (i = 1; i < n; i++) {
        char c = s[i];

        if (!(apr_isalnum(c) || c == ' ' || c == '_' || c == '-' || c == '.'
              || c == '/' || c == '@')) {
            return 0;
        }
    }
    for (r = 0; reserved[r]; r++) {
        if (strlen(reserved[r]) == n && strncasecmp(s, reserved[r], n) == 0) {
            return 0;
        }
    }
    return 1;
}

static void yaml_put_string(obuf *b, const char *str, apr_size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    apr_size_t i = 0, run = 0, adv;

    if (yaml_plain_ok(str, n)) {
        ob_put(b, str, n);
        return;
    }
    ob_putc(b, '"');
    while (i < n) {
        unsigned char c = s[i];
        char x[6];
        long cp;

        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
            i++;
            run++;
            continue;
        }
        cp = c >= 0x80 ? utf8_next(s + i, n - i, &adv) : (adv = 1, c);
        if (cp > 0x9f && cp != 0x2028 && cp != 0x2029 && cp != 0xfeff
            && cp != 0xfffe && cp != 0xffff) {
            i += adv;
            run += adv;
            continue;
        }
        ob_put(b, (const char *)s + i - run, run);
        run = 0;
        switch (cp) {
        case '"': ob_lit(b, "\\\""); break;
        case '\\': ob_lit(b, "\\\\"); break;
        case '\n': ob_lit(b, "\\n"); break;
        case '\t': ob_lit(b, "\\t"); break;
        case '\r': ob_lit(b, "\\r"); break;
        case 0: ob_lit(b, "\\0"); break;
        case -1: ob_lit(b, "\\uFFFD"); break;
        default:
            if (cp <= 0xff) {
                x[0] = '\\';
                x[1] = 'x';
                x[2] = HEX[(cp >> 4) & 0xf];
                x[3] = HEX[cp & 0xf];
                ob_put(b, x, 4);
            }
            else {
                x[0] = '\\';
                x[1] = 'u';
                x[2] = HEX[(cp >> 12) & 0xf];
                x[3] = HEX[(cp >> 8) & 0xf];
                x[4] = HEX[(cp >> 4) & 0xf];
                x[5] = HEX[cp & 0xf];
                ob_put(b, x, 6);
            }
            break;
        }
        i += adv;
    }
    ob_put(b, (const char *)s + i - run, run);
    ob_putc(b, '"');
}

static void yaml_put_scalar(obuf *b, const json_t *v)
{
    char num[APIGW_REAL_BUFSIZE];
    apr_size_t n;
    char *e;

    switch (json_typeof(v)) {
    case JSON_STRING:
        yaml_put_string(b, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        put_integer(b, json_integer_value(v));
        break;
    case JSON_REAL:
        n = apigw_format_real(json_real_value(v), num, sizeof(num));
        e = memchr(num, 'e', n);
        if (e && !memchr(num, '.', n)) {
            /* "1e+300" -> "1.0e+300": a float to YAML 1.1 readers too */
            ob_put(b, num, (apr_size_t)(e - num));
            ob_lit(b, ".0");
            ob_put(b, e, n - (apr_size_t)(e - num));
        }
        else {
            ob_put(b, num, n);
        }
        break;
    case JSON_TRUE:
        ob_lit(b, "true");
        break;
    case JSON_FALSE:
        ob_lit(b, "false");
        break;
    case JSON_OBJECT:
        ob_lit(b, "{}");
        break;
    case JSON_ARRAY:
        ob_lit(b, "[]");
        break;
    default:
        ob_lit(b, "null");
        break;
    }
}

static void yaml_indent(obuf *b, int indent)
{
    if (ob_room(b, (apr_size_t)indent)) {
        memset(b->data + b->len, ' ', (apr_size_t)indent);
        b->len += (apr_size_t)indent;
    }
}

static int yaml_is_block(const json_t *v)
{
    return (json_is_object(v) && json_object_size(v) > 0)
           || (json_is_array(v) && json_array_size(v) > 0);
}

static void yaml_put_block(obuf *b, const json_t *v, int indent, int inline_first,
                           int depth);

/* After "key:" or "-": a scalar on the same line, or a nested block. */
static void yaml_put_after(obuf *b, const json_t *v, int indent, int in_seq,
                           int depth)
{
    if (depth + 1 > APIGW_ENCODE_MAX_DEPTH) {
        b->failed = 1;
        return;
    }
    if (!yaml_is_block(v)) {
        ob_putc(b, ' ');
        yaml_put_scalar(b, v);
        ob_putc(b, '\n');
    }
    else if (in_seq) {
        ob_putc(b, ' ');
        yaml_put_block(b, v, indent + 2, 1, depth + 1);
    }
    else {
        ob_putc(b, '\n');
        yaml_put_block(b, v, indent + 2, 0, depth + 1);
    }
}

static void yaml_put_block(obuf *b, const json_t *v, int indent, int inline_first,
                           int depth)
{
    int first = 1;

    if (depth > APIGW_ENCODE_MAX_DEPTH) {
        b->failed = 1;
        return;
    }
    if (json_is_object(v)) {
        const char *key;
        json_t *val;

        json_object_foreach((json_t *)v, key, val) {
            if (!(first && inline_first)) {
                yaml_indent(b, indent);
            }
            first = 0;
            yaml_put_string(b, key, strlen(key));
            ob_putc(b, ':');
            yaml_put_after(b, val, indent, 0, depth);
            if (b->failed) {
                return;
            }
        }
    }
    else {
        size_t i, size = json_array_size(v);

        for (i = 0; i < size; i++) {
            if (!(first && inline_first)) {
                yaml_indent(b, indent);
            }
            first = 0;
            ob_putc(b, '-');
            yaml_put_after(b, json_array_get(v, i), indent, 1, depth);
            if (b->failed) {
                return;
            }
        }
    }
}

static void yaml_put_doc(obuf *b, const json_t *doc)
{
    if (yaml_is_block(doc)) {
        yaml_put_block(b, doc, 0, 0, 1);
    }
    else {
        yaml_put_scalar(b, doc);
        ob_putc(b, '\n');
    }
}

/* ---- entry point ---- */

const char *apigw_encode(apr_pool_t *p, const json_t *doc,
                         apigw_output_encoding enc, apr_size_t *len,
                         const char **content_type)
{
    obuf b = { NULL, 0, 0, 0 };
    const char *ct, *body;
    const json_t *v;

    if (!doc) {
        return NULL;
    }
    switch (enc) {
    case APIGW_OUT_JSON_COLLECTION:
        ct = CT_JSON;
        v = json_is_object(doc) ? json_object_get(doc, "collection") : NULL;
        if (v) {
            json_put_value(&b, v, 1);
        }
        else {
            ob_lit(&b, "[]");
        }
        break;
    case APIGW_OUT_XML:
        ct = CT_XML;
        xml_put_doc(&b, p, doc);
        break;
    case APIGW_OUT_YAML:
        ct = CT_YAML;
        yaml_put_doc(&b, doc);
        break;
    case APIGW_OUT_STRING:
        ct = CT_STRING;
        v = json_is_object(doc) ? json_object_get(doc, "content") : NULL;
        if (json_is_string(v)) {
            ob_put(&b, json_string_value(v), json_string_length(v));
        }
        break;
    default:
        ct = CT_JSON;
        json_put_value(&b, doc, 1);
        break;
    }
    body = ob_finish(p, &b, len);
    if (body) {
        *content_type = ct;
    }
    return body;
}
