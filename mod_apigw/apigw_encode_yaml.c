/* The YAML writer (ApiOutputEncoding yaml): YAML 1.2 block style that
 * YAML 1.1 readers read the same, keys in byte order (as KrakenD's YAML
 * writer), plain scalars only where nothing else can be read, as
 * described in apigw_encode.h. */
#include <string.h>

#include <apr_lib.h>

#include "apigw_encode.h"
#include "apigw_encode_int.h"

static const char HEX[] = "0123456789abcdef";

/* YAML puts the ':' of an implicit key ("key: value") at most 1024
 * characters after the key's start (libyaml and PyYAML refuse a longer
 * one); a key written longer than this many bytes (never fewer than its
 * characters) is written as an explicit "? key" with ": value" on the
 * next line. */
#define YAML_MAX_IMPLICIT_KEY 1024

/* ASCII punctuation a plain scalar may hold after its first character:
 * none is an indicator there in block context (':' is handled apart;
 * '#', '"', '\\', ',' and brackets are left to double quotes). */
#define YAML_PLAIN_INNER "_-./@?=&%+~!$()*;'<>^|`"

/* Whether s can be written plain and read back as this same string by
 * YAML 1.2 and 1.1 readers (block context): it starts with a letter,
 * '_', a character beyond ASCII, or '-' and then a letter or '_'
 * ("-type", the xml decoder's attribute keys; so never a number, a
 * timestamp, "~", "<<", ...); then letters, digits, ' ', the characters
 * above, characters beyond ASCII (not C1 controls, line or paragraph
 * separators, U+FEFF, U+FFFE, U+FFFF, nor invalid UTF-8), and ':' when
 * a character other than ' ' follows ("https://x", not "a: b" nor
 * "a:"); no trailing ' '; and it is not null, true, false, yes, no, on,
 * off, y or n in any case. */
static int yaml_plain_ok(const char *str, apr_size_t n)
{
    static const char *const reserved[] = {
        "null", "true", "false", "yes", "no", "on", "off", "y", "n", NULL
    };
    const unsigned char *s = (const unsigned char *)str;
    apr_size_t i = 0, adv;
    int r;

    if (n == 0 || s[n - 1] == ' ') {
        return 0;
    }
    if (s[0] == '-') {
        i = 1;
        if (n == 1 || !(apr_isalpha(s[1]) || s[1] == '_')) {
            return 0;
        }
    }
    else if (!(apr_isalpha(s[0]) || s[0] == '_' || s[0] >= 0x80)) {
        return 0;
    }
    for (; i < n; i += adv) {
        unsigned char c = s[i];
        long cp;

        adv = 1;
        if (c >= 0x80) {
            cp = apigw_utf8_next(s + i, n - i, &adv);
            if (cp < 0xa0 || cp == 0x2028 || cp == 0x2029 || cp == 0xfeff
                || cp == 0xfffe || cp == 0xffff) {
                return 0;
            }
        }
        else if (c == ':') {
            if (i + 1 == n || s[i + 1] == ' ') {
                return 0;
            }
        }
        else if (!apr_isalnum(c) && c != ' '
                 && (c == '\0' || !strchr(YAML_PLAIN_INNER, c))) {
            return 0;
        }
    }
    for (r = 0; reserved[r]; r++) {
        if (strlen(reserved[r]) == n
            && strncasecmp(str, reserved[r], n) == 0) {
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
        cp = c >= 0x80 ? apigw_utf8_next(s + i, n - i, &adv) : (adv = 1, c);
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
        apigw_ob_integer(b, json_integer_value(v));
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

static void yaml_put_block(obuf *b, apigw_members *ms, const json_t *v,
                           int indent, int inline_first, int depth);

/* After "key:" or "-": a scalar on the same line, or a nested block. */
static void yaml_put_after(obuf *b, apigw_members *ms, const json_t *v,
                           int indent, int in_seq, int depth)
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
        yaml_put_block(b, ms, v, indent + 2, 1, depth + 1);
    }
    else {
        ob_putc(b, '\n');
        yaml_put_block(b, ms, v, indent + 2, 0, depth + 1);
    }
}

static void yaml_put_block(obuf *b, apigw_members *ms, const json_t *v,
                           int indent, int inline_first, int depth)
{
    int first = 1;

    if (depth > APIGW_ENCODE_MAX_DEPTH) {
        b->failed = 1;
        return;
    }
    if (json_is_object(v)) {
        apr_size_t base, size, i;

        base = apigw_members_push(ms, b, v, &size);
        for (i = 0; i < size; i++) {
            const char *key = ms->m[base + i].key;
            const json_t *val = ms->m[base + i].val;
            apr_size_t off;

            if (!(first && inline_first)) {
                yaml_indent(b, indent);
            }
            first = 0;
            off = b->len;
            yaml_put_string(b, key, strlen(key));
            if (b->len - off > YAML_MAX_IMPLICIT_KEY && ob_room(b, 2)) {
                memmove(b->data + off + 2, b->data + off, b->len - off);
                memcpy(b->data + off, "? ", 2);
                b->len += 2;
                ob_putc(b, '\n');
                yaml_indent(b, indent);
            }
            ob_putc(b, ':');
            yaml_put_after(b, ms, val, indent, 0, depth);
            if (b->failed) {
                break;
            }
        }
        apigw_members_pop(ms, base);
    }
    else {
        size_t i, size = json_array_size(v);

        for (i = 0; i < size; i++) {
            if (!(first && inline_first)) {
                yaml_indent(b, indent);
            }
            first = 0;
            ob_putc(b, '-');
            yaml_put_after(b, ms, json_array_get(v, i), indent, 1, depth);
            if (b->failed) {
                return;
            }
        }
    }
}

void apigw_encode_yaml(obuf *b, apigw_members *ms, const json_t *doc)
{
    if (yaml_is_block(doc)) {
        yaml_put_block(b, ms, doc, 0, 0, 1);
    }
    else {
        yaml_put_scalar(b, doc);
        ob_putc(b, '\n');
    }
}
