/* JSON pointer → line (see apigw_kd_lines.h). A recursive walk over the
 * text with a hard depth limit; strings are decoded only as far as a
 * pointer needs (object keys), and every read is bounds-checked, so a text
 * the parser did not accept gives a partial map, never a fault. */
#include "apigw_kd_lines.h"

#include <apr_strings.h>
#include <string.h>

#define MAX_DEPTH 64

typedef struct {
    apr_pool_t *p;
    apr_hash_t *map;
    const char *s, *end;
    unsigned line;
} scanner;

static void skip_ws(scanner *sc)
{
    while (sc->s < sc->end) {
        char c = *sc->s;
        if (c == '\n') {
            sc->line++;
        }
        else if (c != ' ' && c != '\t' && c != '\r') {
            return;
        }
        sc->s++;
    }
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static unsigned read_hex4(scanner *sc)
{
    unsigned v = 0;
    int i, h;

    for (i = 0; i < 4; i++) {
        if (sc->s >= sc->end || (h = hexval(*sc->s)) < 0) {
            return 0xFFFD;
        }
        v = v * 16 + (unsigned)h;
        sc->s++;
    }
    return v;
}

static char *put_utf8(char *d, unsigned cp)
{
    if (cp < 0x80) {
        *d++ = (char)cp;
    }
    else if (cp < 0x800) {
        *d++ = (char)(0xC0 | (cp >> 6));
        *d++ = (char)(0x80 | (cp & 0x3F));
    }
    else if (cp < 0x10000) {
        *d++ = (char)(0xE0 | (cp >> 12));
        *d++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *d++ = (char)(0x80 | (cp & 0x3F));
    }
    else {
        *d++ = (char)(0xF0 | (cp >> 18));
        *d++ = (char)(0x80 | ((cp >> 12) & 0x3F));
        *d++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *d++ = (char)(0x80 | (cp & 0x3F));
    }
    return d;
}

/* A string at sc->s (the opening quote), decoded into the pool when want
 * is set (an object key), skipped otherwise. */
static const char *string(scanner *sc, int want)
{
    const char *start = ++sc->s;
    char *out = NULL, *d = NULL;

    if (want) {
        /* twice the escaped length: a broken "\u" (2 bytes) decodes to
         * U+FFFD (3 bytes) */
        const char *q = start;
        while (q < sc->end && *q != '"') {
            q += (*q == '\\' && q + 1 < sc->end) ? 2 : 1;
        }
        d = out = apr_palloc(sc->p, 2 * (apr_size_t)(q - start) + 4);
    }
    while (sc->s < sc->end && *sc->s != '"') {
        char c = *sc->s++;
        if (c == '\n') {
            sc->line++;          /* not valid JSON, but stay counted */
        }
        if (c != '\\') {
            if (d) *d++ = c;
            continue;
        }
        if (sc->s >= sc->end) {
            break;
        }
        c = *sc->s++;
        if (c == 'u') {
            unsigned cp = read_hex4(sc);
            if (cp >= 0xD800 && cp < 0xDC00 && sc->end - sc->s >= 6
                && sc->s[0] == '\\' && sc->s[1] == 'u') {
                unsigned lo;
                sc->s += 2;
                lo = read_hex4(sc);
                cp = (lo >= 0xDC00 && lo < 0xE000)
                     ? 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00)
                     : 0xFFFD;
            }
            else if (cp >= 0xD800 && cp < 0xE000) {
                cp = 0xFFFD;
            }
            if (d) d = put_utf8(d, cp);
        }
        else if (d) {
            *d++ = c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r'
                 : c == 'b' ? '\b' : c == 'f' ? '\f' : c;
        }
    }
    if (sc->s < sc->end) {
        sc->s++;                 /* the closing quote */
    }
    if (d) {
        *d = '\0';
    }
    return out;
}

static const char *join(apr_pool_t *p, const char *base, const char *key)
{
    apr_size_t n = strlen(key), i;
    char *esc = apr_palloc(p, 2 * n + 1), *d = esc;

    for (i = 0; i < n; i++) {
        if (key[i] == '~' || key[i] == '/') {
            *d++ = '~';
            *d++ = key[i] == '~' ? '0' : '1';
        }
        else {
            *d++ = key[i];
        }
    }
    *d = '\0';
    return apr_pstrcat(p, base, "/", esc, NULL);
}

static void value(scanner *sc, const char *ptr, int depth)
{
    unsigned *line;

    skip_ws(sc);
    if (sc->s >= sc->end) {
        return;
    }
    line = apr_palloc(sc->p, sizeof(*line));
    *line = sc->line;
    apr_hash_set(sc->map, ptr, APR_HASH_KEY_STRING, line);

    if (*sc->s == '{' || *sc->s == '[') {
        char close = *sc->s == '{' ? '}' : ']';
        int object = close == '}';
        apr_size_t index = 0;
        sc->s++;
        for (;;) {
            const char *child;
            skip_ws(sc);
            if (sc->s >= sc->end) {
                return;
            }
            if (*sc->s == close) {
                sc->s++;
                return;
            }
            if (*sc->s == ',') {
                sc->s++;
                continue;
            }
            if (object) {
                const char *key;
                if (*sc->s != '"') {
                    return;      /* not JSON: stop here */
                }
                key = string(sc, depth < MAX_DEPTH);
                skip_ws(sc);
                if (sc->s >= sc->end || *sc->s != ':') {
                    return;
                }
                sc->s++;
                child = key ? join(sc->p, ptr, key) : NULL;
            }
            else {
                child = depth < MAX_DEPTH
                        ? apr_psprintf(sc->p, "%s/%" APR_SIZE_T_FMT, ptr,
                                       index) : NULL;
                index++;
            }
            if (child) {
                const char *before = sc->s;
                value(sc, child, depth + 1);
                if (sc->s == before) {
                    return;      /* not JSON ("[}"): no progress, stop */
                }
            }
            else {
                /* too deep: skip the value without recording it */
                const char *before = sc->s;
                int nest = 0;
                while (sc->s < sc->end) {
                    char c = *sc->s;
                    if (c == '"') {
                        string(sc, 0);
                        continue;
                    }
                    if (c == '\n') sc->line++;
                    if (c == '{' || c == '[') nest++;
                    else if (c == '}' || c == ']') {
                        if (nest == 0) break;
                        nest--;
                    }
                    else if (c == ',' && nest == 0) break;
                    sc->s++;
                }
                if (sc->s == before) {
                    return;
                }
            }
        }
    }
    if (*sc->s == '"') {
        string(sc, 0);
        return;
    }
    while (sc->s < sc->end && *sc->s != ',' && *sc->s != '}'
           && *sc->s != ']' && *sc->s != '\n' && *sc->s != ' '
           && *sc->s != '\t' && *sc->s != '\r') {
        sc->s++;                 /* a number, true, false, null */
    }
}

apr_hash_t *apigw_kd_lines(apr_pool_t *p, const char *text, apr_size_t len)
{
    scanner sc;

    sc.p = p;
    sc.map = apr_hash_make(p);
    sc.s = text;
    sc.end = text + len;
    sc.line = 1;
    value(&sc, "", 0);
    return sc.map;
}

unsigned apigw_kd_line_of(apr_hash_t *lines, apr_pool_t *p,
                          const char *pointer)
{
    char *ptr = apr_pstrdup(p, pointer), *slash;
    const unsigned *line;

    for (;;) {
        if ((line = apr_hash_get(lines, ptr, APR_HASH_KEY_STRING)) != NULL) {
            return *line;
        }
        if (!*ptr || !(slash = strrchr(ptr, '/'))) {
            return 0;
        }
        *slash = '\0';
    }
}
