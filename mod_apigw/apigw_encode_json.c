/* The JSON writer (ApiOutputEncoding json and json-collection): compact
 * JSON with Go's HTML-safe escapes and object keys in byte order (as Go's
 * encoding/json writes a map), and apigw_format_real, the shortest exact
 * text of a real that the XML and YAML writers use too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_lib.h>

#include "apigw_encode.h"
#include "apigw_encode_int.h"

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
            cp = apigw_utf8_next(s + i, n - i, &adv);
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

static void json_put_value(obuf *b, apigw_members *ms, const json_t *v,
                           int depth)
{
    char num[APIGW_REAL_BUFSIZE];
    apr_size_t n;

    if (depth > APIGW_ENCODE_MAX_DEPTH) {
        b->failed = 1;
        return;
    }
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        apr_size_t base, size, i;

        base = apigw_members_push(ms, b, v, &size);
        ob_putc(b, '{');
        for (i = 0; i < size; i++) {
            const apigw_member *m = &ms->m[base + i];

            if (i) {
                ob_putc(b, ',');
            }
            json_put_string(b, m->key, strlen(m->key));
            ob_putc(b, ':');
            json_put_value(b, ms, m->val, depth + 1);
            if (b->failed) {
                break;
            }
        }
        apigw_members_pop(ms, base);
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
            json_put_value(b, ms, json_array_get(v, i), depth + 1);
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
        ob_lit(b, "null");
        break;
    }
}

void apigw_encode_json(obuf *b, apigw_members *ms, const json_t *v)
{
    json_put_value(b, ms, v, 1);
}
