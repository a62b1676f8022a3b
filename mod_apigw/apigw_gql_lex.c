/* The GraphQL lexer (apigw_gql_lex.h): source bytes to tokens, with the
 * ignored tokens skipped, UTF-8 checked, string values decoded and block
 * strings dedented, and lines and columns kept. Nothing here recurses;
 * every byte is looked at a bounded number of times. */
#include <stdarg.h>
#include <string.h>

#include <apr_strings.h>

#include "apigw_gql_lex.h"

/* How many code points of a token's value a message quotes. */
#define MSG_VALUE_MAX 60

typedef apigw_gql_lexer lexer;
typedef apigw_gql_token token;

static int is_name_start(int c)
{
    return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int is_name_char(int c)
{
    return is_name_start(c) || (c >= '0' && c <= '9');
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

/* The byte at off, or -1 past the end. */
static int at(const lexer *lx, apr_size_t off)
{
    return off < lx->len ? lx->src[off] : -1;
}

/* The length of the well-formed UTF-8 sequence at s (n bytes left), with
 * its code point in *cp; 0 when it is not one (a stray continuation byte,
 * an overlong form, a surrogate, beyond U+10FFFF, cut short). */
static apr_size_t utf8_decode(const unsigned char *s, apr_size_t n,
                              unsigned *cp)
{
    unsigned c = s[0], lo = 0x80, hi = 0xBF, v;
    apr_size_t need, i;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
        v = c & 0x1F;
    }
    else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        v = c & 0x0F;
        lo = c == 0xE0 ? 0xA0 : 0x80;
        hi = c == 0xED ? 0x9F : 0xBF;
    }
    else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        v = c & 0x07;
        lo = c == 0xF0 ? 0x90 : 0x80;
        hi = c == 0xF4 ? 0x8F : 0xBF;
    }
    else {
        return 0;
    }
    for (i = 1; i <= need; i++) {
        if (i >= n || s[i] < lo || s[i] > hi) {
            return 0;
        }
        v = (v << 6) | (s[i] & 0x3F);
        lo = 0x80;
        hi = 0xBF;
    }
    *cp = v;
    return need + 1;
}

/* The column of byte off, which is on the current line at or after the
 * mark. Every byte before off is valid UTF-8 (the lexer stops at the
 * first bad one), so code points are the bytes that are not
 * continuation bytes. */
static unsigned column_at(lexer *lx, apr_size_t off)
{
    apr_size_t i;
    unsigned col = lx->mark_col;

    for (i = lx->mark; i < off; i++) {
        if ((lx->src[i] & 0xC0) != 0x80) {
            col++;
        }
    }
    lx->mark = off;
    lx->mark_col = col;
    return col;
}

static apigw_gql_loc loc_at(lexer *lx, apr_size_t off)
{
    apigw_gql_loc loc;

    loc.line = lx->line;
    loc.column = column_at(lx, off);
    return loc;
}

/* A line terminator ends at off (exclusive): the next line starts. */
static void new_line(lexer *lx, apr_size_t off)
{
    lx->line++;
    lx->mark = off;
    lx->mark_col = 1;
}

int apigw_gql_lex_fail(lexer *lx, apigw_gql_loc loc, const char *fmt, ...)
{
    apigw_gql_syntax_error *e = apr_palloc(lx->p, sizeof(*e));
    va_list ap;

    va_start(ap, fmt);
    e->message = apr_pstrcat(lx->p, "Syntax Error: ",
                             apr_pvsprintf(lx->p, fmt, ap), NULL);
    va_end(ap);
    e->loc = loc;
    lx->err = e;
    return -1;
}

/* ---- printable text for messages ---- */

/* s[0..n) as a message may hold it: at most max code points (then "..."
 * when more follow), control characters (C0, DEL, C1) and bytes that are
 * not UTF-8 written as \xNN per byte. */
static const char *printable(apr_pool_t *p, const unsigned char *s,
                             apr_size_t n, apr_size_t max)
{
    char *out = apr_palloc(p, (max < n ? max : n) * 16 + 4);
    apr_size_t i = 0, o = 0, count = 0, k, step;
    unsigned cp;

    while (i < n && count < max) {
        step = utf8_decode(s + i, n - i, &cp);
        if (step == 0 || cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) {
            step = step ? step : 1;
            for (k = 0; k < step; k++) {
                o += (apr_size_t)apr_snprintf(out + o, 5, "\\x%02X",
                                              s[i + k]);
            }
        }
        else {
            memcpy(out + o, s + i, step);
            o += step;
        }
        i += step;
        count++;
    }
    if (i < n) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
    return out;
}

/* graphql-js's printCodePointAt: "c" for printable ASCII ('"' for the
 * quote), U+XXXX for other characters, <EOF> at the end; \xNN for a byte
 * that is not UTF-8. */
static const char *print_char_at(lexer *lx, apr_size_t off)
{
    unsigned cp;
    apr_size_t n;

    if (off >= lx->len) {
        return "<EOF>";
    }
    n = utf8_decode(lx->src + off, lx->len - off, &cp);
    if (n == 0) {
        return apr_psprintf(lx->p, "\\x%02X", lx->src[off]);
    }
    if (cp == '"') {
        return "'\"'";
    }
    if (cp >= 0x20 && cp <= 0x7E) {
        return apr_psprintf(lx->p, "\"%c\"", (char)cp);
    }
    return apr_psprintf(lx->p, "U+%04X", cp);
}

/* The source from off on, n code points at most, for a message. */
static const char *excerpt(lexer *lx, apr_size_t off, apr_size_t n)
{
    apr_size_t end = off, count = 0, step;
    unsigned cp;

    while (end < lx->len && count < n) {
        step = utf8_decode(lx->src + end, lx->len - end, &cp);
        end += step ? step : 1;
        count++;
    }
    return printable(lx->p, lx->src + off, end - off, n);
}

static const char *const KIND_DESC[] = {
    "<SOF>", "<EOF>", "\"!\"", "\"$\"", "\"&\"", "\"(\"", "\")\"",
    "\"...\"", "\":\"", "\"=\"", "\"@\"", "\"[\"", "\"]\"", "\"{\"",
    "\"|\"", "\"}\"", "Name", "Int", "Float", "String", "BlockString"
};

const char *apigw_gql_kind_desc(apigw_gql_tok_kind kind)
{
    return KIND_DESC[kind];
}

const char *apigw_gql_tok_desc(lexer *lx, const token *t)
{
    const unsigned char *s;
    apr_size_t n;

    switch (t->kind) {
    case APIGW_GQL_T_NAME:
    case APIGW_GQL_T_INT:
    case APIGW_GQL_T_FLOAT:
        s = lx->src + t->start;
        n = t->end - t->start;
        break;
    case APIGW_GQL_T_STRING:
    case APIGW_GQL_T_BLOCK_STRING:
        s = (const unsigned char *)t->value;
        n = t->value_len;
        break;
    default:
        return KIND_DESC[t->kind];
    }
    return apr_pstrcat(lx->p, KIND_DESC[t->kind], " \"",
                       printable(lx->p, s, n, MSG_VALUE_MAX), "\"", NULL);
}

int apigw_gql_tok_is(const lexer *lx, const char *kw)
{
    apr_size_t n = strlen(kw);

    return lx->tok.kind == APIGW_GQL_T_NAME
           && lx->tok.end - lx->tok.start == n
           && memcmp(lx->src + lx->tok.start, kw, n) == 0;
}

/* ---- the scratch buffer string values are decoded into ---- */

static void buf_need(lexer *lx, apr_size_t more)
{
    char *b;
    apr_size_t cap;

    if (lx->buf_cap - lx->buf_len >= more) {
        return;
    }
    cap = lx->buf_cap ? lx->buf_cap : 256;
    while (cap - lx->buf_len < more) {
        cap *= 2;
    }
    /* the old buffer stays in the pool: growth doubles, so all buffers
     * together stay within twice the longest string */
    b = apr_palloc(lx->p, cap);
    if (lx->buf_len) {
        memcpy(b, lx->buf, lx->buf_len);
    }
    lx->buf = b;
    lx->buf_cap = cap;
}

static void buf_put(lexer *lx, const void *s, apr_size_t n)
{
    if (n == 0) {
        return;
    }
    buf_need(lx, n);
    memcpy(lx->buf + lx->buf_len, s, n);
    lx->buf_len += n;
}

static void buf_put_cp(lexer *lx, unsigned cp)
{
    unsigned char u[4];
    apr_size_t n;

    if (cp < 0x80) {
        u[0] = (unsigned char)cp;
        n = 1;
    }
    else if (cp < 0x800) {
        u[0] = (unsigned char)(0xC0 | (cp >> 6));
        u[1] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 2;
    }
    else if (cp < 0x10000) {
        u[0] = (unsigned char)(0xE0 | (cp >> 12));
        u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 3;
    }
    else {
        u[0] = (unsigned char)(0xF0 | (cp >> 18));
        u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    buf_put(lx, u, n);
}

/* ---- ignored tokens ---- */

/* A source character of a comment or string at off: its length, or 0 at
 * a NUL or a byte that is not UTF-8 (the caller reports it). */
/* The length of the source character at off, or 0 when it may not
 * appear: invalid UTF-8, or a C0 control other than tab (graphql-js's
 * SourceCharacter, which graphql-core's parser keeps too: a document
 * either refuses, this one refuses; line terminators are the callers'). */
static apr_size_t source_char(const lexer *lx, apr_size_t off)
{
    unsigned char c = (unsigned char)lx->src[off];
    unsigned cp;

    if (c < 0x20 && c != '\t') {
        return 0;
    }
    return utf8_decode(lx->src + off, lx->len - off, &cp);
}

static void skip_ignored(lexer *lx)
{
    apr_size_t n;
    int c;

    for (;;) {
        c = at(lx, lx->pos);
        if (c == ' ' || c == '\t' || c == ',') {
            lx->pos++;
        }
        else if (c == '\n') {
            new_line(lx, ++lx->pos);
        }
        else if (c == '\r') {
            lx->pos += at(lx, lx->pos + 1) == '\n' ? 2 : 1;
            new_line(lx, lx->pos);
        }
        else if (c == 0xEF && at(lx, lx->pos + 1) == 0xBB
                 && at(lx, lx->pos + 2) == 0xBF) {
            lx->pos += 3;      /* U+FEFF, the BOM, is ignored anywhere */
        }
        else if (c == '#') {
            /* a comment ends at a line terminator, or at a character it
             * may not hold, which is then reported as a token */
            lx->pos++;
            while (lx->pos < lx->len && lx->src[lx->pos] != '\n'
                   && lx->src[lx->pos] != '\r'
                   && (n = source_char(lx, lx->pos)) != 0) {
                lx->pos += n;
            }
        }
        else {
            return;
        }
    }
}

/* ---- numbers ---- */

static int read_digits(lexer *lx, apr_size_t *off)
{
    if (!is_digit(at(lx, *off))) {
        return apigw_gql_lex_fail(lx, loc_at(lx, *off),
                                  "Invalid number, expected digit but got: %s.",
                                  print_char_at(lx, *off));
    }
    while (is_digit(at(lx, *off))) {
        (*off)++;
    }
    return 0;
}

/* IntValue or FloatValue; neither may be followed by a NameStart or '.'
 * (so "1.", "123abc" and "0x1" are errors, not two tokens). */
static int read_number(lexer *lx, token *t)
{
    apr_size_t off = lx->pos;
    int is_float = 0, c;

    if (at(lx, off) == '-') {
        off++;
    }
    if (at(lx, off) == '0') {
        off++;
        if (is_digit(at(lx, off))) {
            return apigw_gql_lex_fail(lx, loc_at(lx, off),
                                      "Invalid number, unexpected digit "
                                      "after 0: %s.", print_char_at(lx, off));
        }
    }
    else if (read_digits(lx, &off) < 0) {
        return -1;
    }
    if (at(lx, off) == '.') {
        is_float = 1;
        off++;
        if (read_digits(lx, &off) < 0) {
            return -1;
        }
    }
    c = at(lx, off);
    if (c == 'e' || c == 'E') {
        is_float = 1;
        off++;
        c = at(lx, off);
        if (c == '+' || c == '-') {
            off++;
        }
        if (read_digits(lx, &off) < 0) {
            return -1;
        }
    }
    c = at(lx, off);
    if (c == '.' || is_name_start(c)) {
        return apigw_gql_lex_fail(lx, loc_at(lx, off),
                                  "Invalid number, expected digit but got: %s.",
                                  print_char_at(lx, off));
    }
    t->kind = is_float ? APIGW_GQL_T_FLOAT : APIGW_GQL_T_INT;
    lx->pos = off;
    return 0;
}

/* ---- strings ---- */

static int hex_value(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Four hex digits at off, or -1. */
static long hex4(const lexer *lx, apr_size_t off)
{
    long v = 0;
    int i, h;

    for (i = 0; i < 4; i++) {
        h = hex_value(at(lx, off + (apr_size_t)i));
        if (h < 0) {
            return -1;
        }
        v = (v << 4) | h;
    }
    return v;
}

static int bad_unicode_escape(lexer *lx, apr_size_t off, apr_size_t n)
{
    return apigw_gql_lex_fail(lx, loc_at(lx, off),
                              "Invalid Unicode escape sequence: \"%s\".",
                              excerpt(lx, off, n));
}

/* \uXXXX, and a surrogate pair of two of them; a lone surrogate and
 * U+0000 (the values are C strings) are refused. */
static int read_unicode_escape(lexer *lx, apr_size_t off, apr_size_t *size,
                               unsigned *cp)
{
    long v, lo;

    v = hex4(lx, off + 2);
    if (v > 0 && (v < 0xD800 || v > 0xDFFF)) {
        *size = 6;
        *cp = (unsigned)v;
        return 0;
    }
    if (v >= 0xD800 && v <= 0xDBFF && at(lx, off + 6) == '\\'
        && at(lx, off + 7) == 'u') {
        lo = hex4(lx, off + 8);
        if (lo >= 0xDC00 && lo <= 0xDFFF) {
            *size = 12;
            *cp = 0x10000 + (((unsigned)v - 0xD800) << 10)
                  + ((unsigned)lo - 0xDC00);
            return 0;
        }
    }
    return bad_unicode_escape(lx, off, 6);
}

static int read_escape(lexer *lx, apr_size_t *off)
{
    apr_size_t size = 2;
    unsigned cp = 0;

    switch (at(lx, *off + 1)) {
    case '"': cp = '"'; break;
    case '\\': cp = '\\'; break;
    case '/': cp = '/'; break;
    case 'b': cp = '\b'; break;
    case 'f': cp = '\f'; break;
    case 'n': cp = '\n'; break;
    case 'r': cp = '\r'; break;
    case 't': cp = '\t'; break;
    case 'u':
        if (read_unicode_escape(lx, *off, &size, &cp) < 0) {
            return -1;
        }
        break;
    default:
        return apigw_gql_lex_fail(lx, loc_at(lx, *off),
                                  "Invalid character escape sequence: \"%s\".",
                                  excerpt(lx, *off, 2));
    }
    buf_put_cp(lx, cp);
    *off += size;
    return 0;
}

static int bad_string_char(lexer *lx, apr_size_t off)
{
    return apigw_gql_lex_fail(lx, loc_at(lx, off),
                              "Invalid character within String: %s.",
                              print_char_at(lx, off));
}

static void set_value(lexer *lx, token *t)
{
    /* not apr_pstrmemdup: "" leaves the buffer unallocated, and it
     * answers NULL for that */
    char *v = apr_palloc(lx->p, lx->buf_len + 1);

    if (lx->buf_len) {
        memcpy(v, lx->buf, lx->buf_len);
    }
    v[lx->buf_len] = '\0';
    t->value = v;
    t->value_len = lx->buf_len;
}

static int read_string(lexer *lx, token *t)
{
    apr_size_t off = lx->pos + 1, run, n;
    int c;

    lx->buf_len = 0;
    for (;;) {
        /* copy a run of plain ASCII at once */
        run = off;
        while (run < lx->len && lx->src[run] >= 0x20 && lx->src[run] < 0x80
               && lx->src[run] != '"' && lx->src[run] != '\\') {
            run++;
        }
        buf_put(lx, lx->src + off, run - off);
        off = run;
        c = at(lx, off);
        if (c < 0 || c == '\n' || c == '\r') {
            return apigw_gql_lex_fail(lx, loc_at(lx, off),
                                      "Unterminated string.");
        }
        if (c == '"') {
            break;
        }
        if (c == '\\') {
            if (read_escape(lx, &off) < 0) {
                return -1;
            }
            continue;
        }
        n = source_char(lx, off);
        if (n == 0) {
            return bad_string_char(lx, off);
        }
        buf_put(lx, lx->src + off, n);
        off += n;
    }
    t->kind = APIGW_GQL_T_STRING;
    set_value(lx, t);
    lx->pos = off + 1;
    return 0;
}

static int is_ws(char c)
{
    return c == ' ' || c == '\t';
}

/* The specification's BlockStringValue: raw[0..n) (line terminators
 * already made "\n") without the common indentation of the lines after
 * the first, and without leading and trailing blank lines. */
static void block_dedent(lexer *lx, token *t, const char *raw, apr_size_t n)
{
    apr_size_t i = 0, line = 0, first = (apr_size_t)-1, last = 0;
    apr_size_t indent = (apr_size_t)-1, ws, start, end;
    char *out = apr_palloc(lx->p, n + 1), *o = out;

    /* pass 1: the common indentation and the first and last lines that
     * are not blank */
    for (i = 0, line = 0; i <= n; line++) {
        start = i;
        while (i < n && raw[i] != '\n') {
            i++;
        }
        for (ws = 0; start + ws < i && is_ws(raw[start + ws]); ws++) {
        }
        if (start + ws < i) {
            if (line > 0 && ws < indent) {
                indent = ws;
            }
            if (first == (apr_size_t)-1) {
                first = line;
            }
            last = line;
        }
        i++;
    }
    /* pass 2: the lines from first to last, dedented, joined by "\n" */
    if (first != (apr_size_t)-1) {
        for (i = 0, line = 0; i <= n && line <= last; line++) {
            start = i;
            while (i < n && raw[i] != '\n') {
                i++;
            }
            end = i++;
            if (line < first) {
                continue;
            }
            if (line > 0 && indent != (apr_size_t)-1) {
                start = end - start > indent ? start + indent : end;
            }
            if (line > first) {
                *o++ = '\n';
            }
            memcpy(o, raw + start, end - start);
            o += end - start;
        }
    }
    *o = '\0';
    t->value = out;
    t->value_len = (apr_size_t)(o - out);
}

static int read_block_string(lexer *lx, token *t)
{
    apr_size_t off = lx->pos + 3, n;
    int c;

    lx->buf_len = 0;
    for (;;) {
        c = at(lx, off);
        if (c < 0) {
            return apigw_gql_lex_fail(lx, loc_at(lx, off),
                                      "Unterminated string.");
        }
        if (c == '"' && at(lx, off + 1) == '"' && at(lx, off + 2) == '"') {
            break;
        }
        if (c == '\\' && at(lx, off + 1) == '"' && at(lx, off + 2) == '"'
            && at(lx, off + 3) == '"') {
            buf_put(lx, "\"\"\"", 3);
            off += 4;
        }
        else if (c == '\n' || c == '\r') {
            off += c == '\r' && at(lx, off + 1) == '\n' ? 2 : 1;
            buf_put(lx, "\n", 1);
            new_line(lx, off);
        }
        else if ((n = source_char(lx, off)) != 0) {
            buf_put(lx, lx->src + off, n);
            off += n;
        }
        else {
            return bad_string_char(lx, off);
        }
    }
    t->kind = APIGW_GQL_T_BLOCK_STRING;
    block_dedent(lx, t, lx->buf, lx->buf_len);
    lx->pos = off + 3;
    return 0;
}

/* ---- tokens ---- */

static int unexpected_char(lexer *lx)
{
    apigw_gql_loc loc = loc_at(lx, lx->pos);
    unsigned cp;

    if (lx->src[lx->pos] == '\'') {
        return apigw_gql_lex_fail(lx, loc, "Unexpected single quote "
                                  "character ('), did you mean to use a "
                                  "double quote (\")?");
    }
    if (utf8_decode(lx->src + lx->pos, lx->len - lx->pos, &cp) == 0) {
        return apigw_gql_lex_fail(lx, loc, "Invalid character: %s.",
                                  print_char_at(lx, lx->pos));
    }
    return apigw_gql_lex_fail(lx, loc, "Unexpected character: %s.",
                              print_char_at(lx, lx->pos));
}

static int punctuator(int c, apigw_gql_tok_kind *kind)
{
    switch (c) {
    case '!': *kind = APIGW_GQL_T_BANG; return 1;
    case '$': *kind = APIGW_GQL_T_DOLLAR; return 1;
    case '&': *kind = APIGW_GQL_T_AMP; return 1;
    case '(': *kind = APIGW_GQL_T_PAREN_L; return 1;
    case ')': *kind = APIGW_GQL_T_PAREN_R; return 1;
    case ':': *kind = APIGW_GQL_T_COLON; return 1;
    case '=': *kind = APIGW_GQL_T_EQUALS; return 1;
    case '@': *kind = APIGW_GQL_T_AT; return 1;
    case '[': *kind = APIGW_GQL_T_BRACKET_L; return 1;
    case ']': *kind = APIGW_GQL_T_BRACKET_R; return 1;
    case '{': *kind = APIGW_GQL_T_BRACE_L; return 1;
    case '|': *kind = APIGW_GQL_T_PIPE; return 1;
    case '}': *kind = APIGW_GQL_T_BRACE_R; return 1;
    default: return 0;
    }
}

void apigw_gql_lex_init(lexer *lx, apr_pool_t *p, const char *src,
                        apr_size_t len)
{
    memset(lx, 0, sizeof(*lx));
    lx->p = p;
    lx->src = (const unsigned char *)src;
    lx->len = len;
    lx->line = 1;
    lx->mark_col = 1;
    lx->tok.kind = APIGW_GQL_T_SOF;
    lx->tok.loc.line = 1;
    lx->tok.loc.column = 1;
}

int apigw_gql_lex_next(lexer *lx)
{
    token *t = &lx->tok;
    int c, rc = 0;

    skip_ignored(lx);
    t->start = lx->pos;
    t->loc = loc_at(lx, lx->pos);
    t->value = NULL;
    t->value_len = 0;
    c = at(lx, lx->pos);
    if (c < 0) {
        t->kind = APIGW_GQL_T_EOF;
    }
    else if (punctuator(c, &t->kind)) {
        lx->pos++;
    }
    else if (c == '.' && at(lx, lx->pos + 1) == '.'
             && at(lx, lx->pos + 2) == '.') {
        t->kind = APIGW_GQL_T_SPREAD;
        lx->pos += 3;
    }
    else if (is_name_start(c)) {
        t->kind = APIGW_GQL_T_NAME;
        while (is_name_char(at(lx, lx->pos))) {
            lx->pos++;
        }
    }
    else if (is_digit(c) || c == '-') {
        rc = read_number(lx, t);
    }
    else if (c == '"') {
        rc = at(lx, lx->pos + 1) == '"' && at(lx, lx->pos + 2) == '"'
             ? read_block_string(lx, t) : read_string(lx, t);
    }
    else {
        return unexpected_char(lx);
    }
    t->end = lx->pos;
    return rc;
}
