/* A JWT in compact serialisation split and decoded (strict unpadded
 * base64url, header and claims as JSON objects), and the claim lookups
 * by dotted path (see apigw_jwt.h). Messages never quote the token. */
#include "apigw_jwt.h"

#include <stdio.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_tables.h>

static apr_status_t release_json(void *data)
{
    json_decref(data);
    return APR_SUCCESS;
}

/* Decodes one base64url part as a JSON object, released by p. */
static const char *decode_object(apr_pool_t *p, const char *in,
                                 apr_size_t len, const char *what,
                                 json_t **out)
{
    unsigned char *raw;
    apr_size_t raw_len;
    json_error_t jerr;
    json_t *v;

    if (!apigw_b64url_decode(p, in, len, &raw, &raw_len)) {
        return apr_pstrcat(p, "malformed token: ", what, " is not base64url",
                           NULL);
    }
    v = json_loadb((const char *)raw, raw_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!v) {
        return apr_pstrcat(p, "malformed token: ", what, " is not JSON",
                           NULL);
    }
    apr_pool_cleanup_register(p, v, release_json, apr_pool_cleanup_null);
    if (!json_is_object(v)) {
        return apr_pstrcat(p, "malformed token: ", what,
                           " is not a JSON object", NULL);
    }
    *out = v;
    return NULL;
}

/* "alg" (required), "kid" (optional) and no "crit". */
static const char *read_header(apigw_jwt *out)
{
    json_t *alg = json_object_get(out->header, "alg");
    json_t *kid = json_object_get(out->header, "kid");

    if (!alg) {
        return "malformed token: no alg";
    }
    if (!json_is_string(alg)) {
        return "malformed token: alg is not a string";
    }
    if (kid && !json_is_string(kid)) {
        return "malformed token: kid is not a string";
    }
    if (json_object_get(out->header, "crit")) {
        return "unsupported crit header";
    }
    out->alg = json_string_value(alg);
    out->kid = kid ? json_string_value(kid) : NULL;
    return NULL;
}

const char *apigw_jwt_decode(apr_pool_t *p, const char *token, apr_size_t len,
                             apr_size_t max_len, apigw_jwt *out)
{
    const char *dot1, *dot2, *end;
    const char *err;
    unsigned char *sig;
    apr_size_t sig_len;

    memset(out, 0, sizeof(*out));
    /* APIGW_JWT_MAX_LEN is the ceiling; 0 means that */
    if (max_len == 0 || max_len > APIGW_JWT_MAX_LEN) {
        max_len = APIGW_JWT_MAX_LEN;
    }
    if (!token) {
        return "malformed token: empty";
    }
    if (len > max_len) {
        return "token too long";
    }
    if (memchr(token, '\0', len)) {
        return "malformed token: NUL byte";
    }
    end = token + len;
    dot1 = memchr(token, '.', len);
    dot2 = dot1 ? memchr(dot1 + 1, '.', (apr_size_t)(end - dot1 - 1)) : NULL;
    if (!dot2 || memchr(dot2 + 1, '.', (apr_size_t)(end - dot2 - 1))) {
        return "malformed token: not three parts";
    }
    if (dot2 + 1 == end) {
        return "malformed token: no signature";
    }
    if (!apigw_b64url_decode(p, dot2 + 1, (apr_size_t)(end - dot2 - 1),
                             &sig, &sig_len)) {
        return "malformed token: signature is not base64url";
    }
    if ((err = decode_object(p, token, (apr_size_t)(dot1 - token), "header",
                             &out->header)) != NULL
        || (err = read_header(out)) != NULL
        || (err = decode_object(p, dot1 + 1, (apr_size_t)(dot2 - dot1 - 1),
                                "payload", &out->claims)) != NULL) {
        memset(out, 0, sizeof(*out));
        return err;
    }
    out->signing_input = token;
    out->signing_input_len = (apr_size_t)(dot2 - token);
    out->sig = sig;
    out->sig_len = sig_len;
    return NULL;
}

/* ---- claims ---- */

json_t *apigw_jwt_claim(json_t *claims, const char *path)
{
    json_t *v;
    const char *seg, *dot;

    if (!json_is_object(claims) || !path) {
        return NULL;
    }
    if ((v = json_object_get(claims, path)) != NULL) {
        return v;
    }
    /* each name between dots, "" included, names a member of an object */
    v = claims;
    for (seg = path; v; seg = dot + 1) {
        if (!json_is_object(v)) {
            return NULL;
        }
        if ((dot = strchr(seg, '.')) == NULL) {
            return json_object_get(v, seg);
        }
        v = json_object_getn(v, seg, (size_t)(dot - seg));
    }
    return NULL;
}

/* A number's or boolean's JSON spelling in buf, or NULL for other types. */
static const char *scalar_spelling(const json_t *v, char *buf, size_t size)
{
    switch (json_typeof(v)) {
    case JSON_INTEGER:
        snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return buf;
    case JSON_REAL:
        snprintf(buf, size, "%.17g", json_real_value(v));
        return buf;
    case JSON_TRUE:
        return "true";
    case JSON_FALSE:
        return "false";
    default:
        return NULL;
    }
}

/* Does the string, number or boolean v hold value? */
static int scalar_has(const json_t *v, const char *value)
{
    char buf[64];
    const char *s;

    if (json_is_string(v)) {
        return json_string_length(v) == strlen(value)
               && memcmp(json_string_value(v), value,
                         json_string_length(v)) == 0;
    }
    s = scalar_spelling(v, buf, sizeof(buf));
    return s && strcmp(s, value) == 0;
}

int apigw_jwt_claim_has(const json_t *v, const char *value)
{
    size_t i;

    if (!v || !value) {
        return 0;
    }
    if (json_is_array(v)) {
        for (i = 0; i < json_array_size(v); i++) {
            if (scalar_has(json_array_get(v, i), value)) {
                return 1;
            }
        }
        return 0;
    }
    return scalar_has(v, value);
}

/* Is scope one of the space-separated words of list? */
static int has_word(const char *list, size_t list_len, const char *scope)
{
    size_t slen = strlen(scope), i = 0, start;

    while (i < list_len) {
        while (i < list_len && list[i] == ' ') {
            i++;
        }
        start = i;
        while (i < list_len && list[i] != ' ') {
            i++;
        }
        if (i - start == slen && slen > 0
            && memcmp(list + start, scope, slen) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Does the claim v, a string of words or an array of strings, grant scope? */
static int scope_claim_has(const json_t *v, const char *scope)
{
    size_t i;
    const json_t *e;

    if (json_is_string(v)) {
        return has_word(json_string_value(v), json_string_length(v), scope);
    }
    if (json_is_array(v)) {
        for (i = 0; i < json_array_size(v); i++) {
            e = json_array_get(v, i);
            if (json_is_string(e) && json_string_length(e) == strlen(scope)
                && memcmp(json_string_value(e), scope,
                          json_string_length(e)) == 0) {
                return 1;
            }
        }
    }
    return 0;
}

int apigw_jwt_has_scope(json_t *claims, const char *scope)
{
    if (!json_is_object(claims) || !scope || !*scope) {
        return 0;
    }
    return scope_claim_has(json_object_get(claims, "scope"), scope)
           || scope_claim_has(json_object_get(claims, "scp"), scope);
}

/* A string, number or boolean as text from p, or NULL. */
static const char *scalar_text(apr_pool_t *p, const json_t *v)
{
    char buf[64];
    const char *s;

    if (json_is_string(v)) {
        return apr_pstrmemdup(p, json_string_value(v), json_string_length(v));
    }
    s = scalar_spelling(v, buf, sizeof(buf));
    return s ? apr_pstrdup(p, s) : NULL;
}

const char *apigw_jwt_claim_text(apr_pool_t *p, const json_t *v)
{
    apr_array_header_t *parts;
    const char *s;
    size_t i;

    if (!v) {
        return NULL;
    }
    if (!json_is_array(v)) {
        return scalar_text(p, v);
    }
    parts = apr_array_make(p, 8, sizeof(const char *));
    for (i = 0; i < json_array_size(v); i++) {
        if ((s = scalar_text(p, json_array_get(v, i))) == NULL) {
            return NULL;
        }
        APR_ARRAY_PUSH(parts, const char *) = s;
    }
    return apr_array_pstrcat(p, parts, ',');
}
