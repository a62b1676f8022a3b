/* Output encodings, inside view: the growing output buffer every writer
 * appends to (apigw_encode_buf.c, with the UTF-8 reader the writers escape
 * with), and the one function each writer file exposes to apigw_encode()
 * in apigw_encode.c. Only the apigw_encode*.c files include this.
 *
 * The buffer is one malloc'ed block that apigw_ob_finish hands to the
 * caller's pool (freed by a pool cleanup), so a large body is neither
 * copied nor kept twice. Once an append fails (out of memory, or a writer
 * gives up on a document nested too deep) the buffer stays failed and
 * every later append is a no-op. */
#ifndef APIGW_ENCODE_INT_H
#define APIGW_ENCODE_INT_H

#include <string.h>

#include <apr.h>
#include <apr_pools.h>
#include <jansson.h>

typedef struct {
    char *data;
    apr_size_t len;
    apr_size_t cap;
    int failed;
} obuf;

/* ---- the buffer (apigw_encode_buf.c) ---- */

/* Grows b to hold n more bytes and a NUL; 0 (b->failed set) when it
 * cannot. ob_room's slow path. */
int apigw_ob_grow(obuf *b, apr_size_t n);

/* Hands the buffer to p and sets *len; NULL (and frees it) when writing
 * failed. */
const char *apigw_ob_finish(apr_pool_t *p, obuf *b, apr_size_t *len);

/* Appends v in decimal. */
void apigw_ob_integer(obuf *b, json_int_t v);

/* Decodes the code point at s (n > 0 bytes left); sets *adv. Returns -1 for
 * an invalid sequence (overlong, surrogate, beyond U+10FFFF, truncated),
 * with *adv = 1. */
long apigw_utf8_next(const unsigned char *s, apr_size_t n, apr_size_t *adv);

/* Whether n more bytes (and a NUL) fit, growing b if need be. */
static APR_INLINE int ob_room(obuf *b, apr_size_t n)
{
    if (b->failed) {
        return 0;
    }
    if (b->cap - b->len > n) {
        return 1;
    }
    return apigw_ob_grow(b, n);
}

static APR_INLINE void ob_put(obuf *b, const char *s, apr_size_t n)
{
    if (n && ob_room(b, n)) {
        memcpy(b->data + b->len, s, n);
        b->len += n;
    }
}

#define ob_lit(b, s) ob_put((b), (s), sizeof(s) - 1)

static APR_INLINE void ob_putc(obuf *b, char c)
{
    if (ob_room(b, 1)) {
        b->data[b->len++] = c;
    }
}

/* Repeats bytes already written at [off, off+n). */
static APR_INLINE void ob_again(obuf *b, apr_size_t off, apr_size_t n)
{
    if (n && ob_room(b, n)) {
        memcpy(b->data + b->len, b->data + off, n);
        b->len += n;
    }
}

/* ---- the writers, each appending a whole document to b ---- */

/* apigw_encode_json.c: compact JSON of v. */
void apigw_encode_json(obuf *b, const json_t *v);

/* apigw_encode_xml.c: the XML declaration and one root element; p holds
 * scratch memory, released before returning. */
void apigw_encode_xml(obuf *b, apr_pool_t *p, const json_t *doc);

/* apigw_encode_yaml.c: a YAML block (or a lone scalar) and a newline. */
void apigw_encode_yaml(obuf *b, const json_t *doc);

#endif
