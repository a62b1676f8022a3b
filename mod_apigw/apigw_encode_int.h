/* Output encodings, inside view: the growing output buffer every writer
 * appends to (apigw_encode_buf.c, with the UTF-8 reader the writers escape
 * with and the stack they walk objects' members with, in key order), and
 * the one function each writer file exposes to apigw_encode() in
 * apigw_encode.c. Only the apigw_encode*.c files include this.
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

/* ---- object members in key order (apigw_encode_buf.c) ---- */

/* One member of an object. */
typedef struct {
    const char *key;
    json_t *val;
} apigw_member;

/* The members of the objects being written, each object's in key order:
 * bytewise, as Go's encoders write a map (KrakenD's answers). A writer
 * pushes an object's members when it starts writing it and pops them
 * once written, so the stack holds one slice per open object. The slots
 * come from pool p (the caller's) and grow by doubling; a slice is
 * addressed by its first index, since growing moves the slots. */
typedef struct {
    apr_pool_t *p;
    apigw_member *m;
    apr_size_t used;
    apr_size_t cap;
} apigw_members;

/* Pushes obj's members, sorted (only an object of 2 or more members whose
 * keys are not in order already is sorted), and returns the index of the
 * first; *n is their number. When the slots cannot grow, sets b->failed
 * and returns with *n 0. */
apr_size_t apigw_members_push(apigw_members *ms, obuf *b, const json_t *obj,
                              apr_size_t *n);

/* Pops the slice pushed at base (and any pushed after it). */
static APR_INLINE void apigw_members_pop(apigw_members *ms, apr_size_t base)
{
    ms->used = base;
}

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

/* Each writes objects' members in key order, walking them with ms (left
 * as it was found: every push popped). */

/* apigw_encode_json.c: compact JSON of v. */
void apigw_encode_json(obuf *b, apigw_members *ms, const json_t *v);

/* apigw_encode_xml.c: one root element, without an XML declaration or a
 * final newline (as KrakenD); p holds scratch memory, released before
 * returning. */
void apigw_encode_xml(obuf *b, apigw_members *ms, apr_pool_t *p,
                      const json_t *doc);

/* apigw_encode_yaml.c: a YAML block (or a lone scalar) and a newline. */
void apigw_encode_yaml(obuf *b, apigw_members *ms, const json_t *doc);

#endif
