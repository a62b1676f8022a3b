/* The GraphQL executor: a request's bounds, operation choice, variable
 * and argument coercion, execution (fields collected with @skip and
 * @include, root fields through the caller's resolvers, mutations one
 * after the other) and value completion along the schema with null
 * bubbling, and the answer in the specification's JSON form. Also the
 * value helpers the schema builder and validator share (printing,
 * literal coercion). */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "apigw_gql_int.h"
#include "apigw_gql_parse.h"

/* A JSON value shown in a message is cut here: messages stay short. */
#define SHOW_MAX 120
/* Parser nesting when the caller sets no depth bound: the parser
 * recurses, so it is always bounded. */
#define PARSE_DEPTH_CAP 128
/* How apigw_gql_parse.c words its depth error, which only the bound
 * causes. */
#define DEPTH_WORDS "nested deeper than"

#define CODE_PARSE "GRAPHQL_PARSE_FAILED"
#define CODE_VALIDATION "GRAPHQL_VALIDATION_FAILED"
#define CODE_INPUT "BAD_USER_INPUT"
#define CODE_OPERATION "OPERATION_RESOLUTION_FAILURE"
#define CODE_INTERNAL "INTERNAL_SERVER_ERROR"

/* ---- errors ---- */

/* The length of the valid UTF-8 sequence at s (at most n bytes), 0 when
 * none starts there. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t len, i;
    unsigned cp;

    if (s[0] < 0x80) {
        return 1;
    }
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        len = 2;
        cp = s[0] & 0x1f;
    }
    else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        len = 3;
        cp = s[0] & 0x0f;
    }
    else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        len = 4;
        cp = s[0] & 0x07;
    }
    else {
        return 0;
    }
    if (len > n) {
        return 0;
    }
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)))
        || (len == 4 && (cp < 0x10000 || cp > 0x10ffff))) {
        return 0;
    }
    return len;
}

/* A JSON string of text that may hold bytes that are not UTF-8 (an
 * operation name as the request gave it): those are written \xNN. */
static json_t *safe_string(const char *text)
{
    json_t *j = json_string(text);
    const unsigned char *s = (const unsigned char *)text;
    size_t n = strlen(text), i = 0, o = 0, k;
    char *buf;

    if (j) {
        return j;
    }
    buf = malloc(n * 4 + 1);
    if (!buf) {
        return json_string("(unprintable)");
    }
    while (i < n) {
        k = utf8_len(s + i, n - i);
        if (k) {
            memcpy(buf + o, s + i, k);
            o += k;
            i += k;
        }
        else {
            o += (size_t)snprintf(buf + o, 5, "\\x%02X", s[i++]);
        }
    }
    buf[o] = '\0';
    j = json_string(buf);
    free(buf);
    return j ? j : json_string("(unprintable)");
}

json_t *gql_error(const char *message, const apigw_gql_loc *loc,
                  json_t *path, const char *code, const char *field)
{
    json_t *e = json_object(), *ext = json_object();

    json_object_set_new(e, "message", safe_string(message));
    if (loc) {
        json_t *l = json_object();
        json_object_set_new(l, "line", json_integer(loc->line));
        json_object_set_new(l, "column", json_integer(loc->column));
        json_object_set_new(e, "locations", json_pack("[o]", l));
    }
    if (path) {
        json_object_set_new(e, "path", path);
    }
    json_object_set_new(ext, "code", json_string(code));
    if (field) {
        json_object_set_new(ext, "field", safe_string(field));
    }
    json_object_set_new(e, "extensions", ext);
    return e;
}

/* ---- printing ---- */

static const char *print_string(apr_pool_t *p, const char *s)
{
    apr_size_t n = strlen(s), i, o = 0;
    char *out = apr_palloc(p, n * 6 + 3);

    out[o++] = '"';
    for (i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\') {
            out[o++] = '\\';
            out[o++] = (char)ch;
        }
        else if (ch == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        }
        else if (ch < 0x20 || ch == 0x7f) {
            o += (apr_size_t)apr_snprintf(out + o, 7, "\\u%04X", ch);
        }
        else {
            out[o++] = (char)ch;
        }
    }
    out[o++] = '"';
    out[o] = '\0';
    return out;
}

/* A value printed in one pass, at most max bytes (then "..."). */
typedef struct {
    apr_pool_t *p;
    char *buf;
    apr_size_t len, cap, max;
} print_buf;

static void print_put(print_buf *b, const char *s)
{
    apr_size_t n = strlen(s);

    if (b->len >= b->max) {
        return;
    }
    if (n > b->max - b->len) {
        n = b->max - b->len;
    }
    if (b->len + n + 1 > b->cap) {
        apr_size_t cap = b->cap * 2 > b->len + n + 1 ? b->cap * 2
                                                     : b->len + n + 1;
        char *bigger = apr_palloc(b->p, cap);

        memcpy(bigger, b->buf, b->len);
        b->buf = bigger;
        b->cap = cap;
    }
    memcpy(b->buf + b->len, s, n);
    b->len += n;
}

static void print_value(print_buf *b, const apigw_gql_value *v)
{
    int i;

    switch (v->kind) {
    case APIGW_GQL_VARIABLE:
        print_put(b, "$");
        print_put(b, v->text);
        break;
    case APIGW_GQL_STRING:
        print_put(b, print_string(b->p, v->text));
        break;
    case APIGW_GQL_BOOLEAN:
        print_put(b, v->boolean ? "true" : "false");
        break;
    case APIGW_GQL_NULL:
        print_put(b, "null");
        break;
    case APIGW_GQL_LIST:
        print_put(b, "[");
        for (i = 0; i < v->items->nelts && b->len < b->max; i++) {
            print_put(b, i ? ", " : "");
            print_value(b, APR_ARRAY_IDX(v->items, i,
                                         const apigw_gql_value *));
        }
        print_put(b, "]");
        break;
    case APIGW_GQL_OBJECT:
        print_put(b, "{");
        for (i = 0; i < v->fields->nelts && b->len < b->max; i++) {
            const apigw_gql_argument *a =
                APR_ARRAY_IDX(v->fields, i, const apigw_gql_argument *);
            print_put(b, i ? ", " : "");
            print_put(b, a->name);
            print_put(b, ": ");
            print_value(b, a->value);
        }
        print_put(b, "}");
        break;
    default:
        print_put(b, v->text);   /* INT, FLOAT, ENUM: as written */
    }
}

static const char *print_max(apr_pool_t *p, const apigw_gql_value *v,
                             apr_size_t max)
{
    print_buf b = { p, NULL, 0, 0, max };

    b.cap = 64;
    b.buf = apr_palloc(p, b.cap);
    print_value(&b, v);
    b.buf[b.len] = '\0';
    return b.len >= max ? apr_pstrcat(p, b.buf, "...", NULL) : b.buf;
}

const char *gql_print_value(apr_pool_t *p, const apigw_gql_value *v)
{
    return print_max(p, v, (apr_size_t)-1 / 2);
}

const char *gql_print_short(apr_pool_t *p, const apigw_gql_value *v)
{
    return print_max(p, v, SHOW_MAX);
}

int gql_value_equal(const apigw_gql_value *a, const apigw_gql_value *b)
{
    int i;

    if (a->kind != b->kind) {
        return 0;
    }
    switch (a->kind) {
    case APIGW_GQL_BOOLEAN:
        return a->boolean == b->boolean;
    case APIGW_GQL_NULL:
        return 1;
    case APIGW_GQL_LIST:
        if (a->items->nelts != b->items->nelts) {
            return 0;
        }
        for (i = 0; i < a->items->nelts; i++) {
            if (!gql_value_equal(APR_ARRAY_IDX(a->items, i,
                                               const apigw_gql_value *),
                                 APR_ARRAY_IDX(b->items, i,
                                               const apigw_gql_value *))) {
                return 0;
            }
        }
        return 1;
    case APIGW_GQL_OBJECT:
        if (a->fields->nelts != b->fields->nelts) {
            return 0;
        }
        for (i = 0; i < a->fields->nelts; i++) {
            const apigw_gql_argument *x =
                APR_ARRAY_IDX(a->fields, i, const apigw_gql_argument *);
            const apigw_gql_argument *y =
                APR_ARRAY_IDX(b->fields, i, const apigw_gql_argument *);
            if (strcmp(x->name, y->name) != 0
                || !gql_value_equal(x->value, y->value)) {
                return 0;
            }
        }
        return 1;
    default:
        return strcmp(a->text, b->text) == 0;
    }
}

const char *gql_show_json(apr_pool_t *p, const json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    const char *out;

    if (!s) {
        return "(a value)";
    }
    if (strlen(s) > SHOW_MAX) {
        out = apr_pstrcat(p, apr_pstrndup(p, s, SHOW_MAX), "...", NULL);
    }
    else {
        out = apr_pstrdup(p, s);
    }
    free(s);
    return out;
}

/* ---- scalars ---- */

/* An Int literal's text as a 32-bit integer. */
static int int32_text(const char *text, json_int_t *out)
{
    long long v;
    char *end;

    errno = 0;
    v = strtoll(text, &end, 10);
    if (errno || *end || v < INT32_MIN || v > INT32_MAX) {
        return -1;
    }
    *out = (json_int_t)v;
    return 0;
}

/* A number literal as JSON: an integer when it is one that fits, a real
 * otherwise; NULL when not finite. */
static json_t *number_text(const char *text, int is_int)
{
    char *end;
    double d;

    if (is_int) {
        long long v;
        errno = 0;
        v = strtoll(text, &end, 10);
        if (!errno && !*end) {
            return json_integer((json_int_t)v);
        }
    }
    errno = 0;
    d = strtod(text, &end);
    if (*end || !isfinite(d)) {
        return NULL;
    }
    return json_real(d);
}

/* A literal of a custom scalar, untyped: JSON as it reads. */
static json_t *untyped_literal(const apigw_gql_value *v, json_t *vars)
{
    json_t *out, *item;
    int i;

    switch (v->kind) {
    case APIGW_GQL_VARIABLE:
        item = vars ? json_object_get(vars, v->text) : NULL;
        return item ? json_incref(item) : json_null();
    case APIGW_GQL_INT:
        return number_text(v->text, 1);
    case APIGW_GQL_FLOAT:
        return number_text(v->text, 0);
    case APIGW_GQL_STRING:
    case APIGW_GQL_ENUM:
        return json_string(v->text);
    case APIGW_GQL_BOOLEAN:
        return json_boolean(v->boolean);
    case APIGW_GQL_NULL:
        return json_null();
    case APIGW_GQL_LIST:
        out = json_array();
        for (i = 0; i < v->items->nelts; i++) {
            item = untyped_literal(APR_ARRAY_IDX(v->items, i,
                                                 const apigw_gql_value *),
                                   vars);
            if (!item) {
                json_decref(out);
                return NULL;
            }
            json_array_append_new(out, item);
        }
        return out;
    default:
        out = json_object();
        for (i = 0; i < v->fields->nelts; i++) {
            const apigw_gql_argument *a =
                APR_ARRAY_IDX(v->fields, i, const apigw_gql_argument *);
            item = untyped_literal(a->value, vars);
            if (!item) {
                json_decref(out);
                return NULL;
            }
            json_object_set_new(out, a->name, item);
        }
        return out;
    }
}

/* A leaf literal (not a variable) as a value of t; NULL when invalid. */
static json_t *leaf_literal(const gql_type *t, const apigw_gql_value *v)
{
    json_int_t i;

    if (t->kind == APIGW_GQL_DEF_ENUM) {
        if (v->kind != APIGW_GQL_ENUM
            || !apr_hash_get(t->value_index, v->text, APR_HASH_KEY_STRING)) {
            return NULL;
        }
        return json_string(v->text);
    }
    switch (t->scalar) {
    case GQL_S_INT:
        if (v->kind != APIGW_GQL_INT || int32_text(v->text, &i) != 0) {
            return NULL;
        }
        return json_integer(i);
    case GQL_S_FLOAT:
        if (v->kind != APIGW_GQL_INT && v->kind != APIGW_GQL_FLOAT) {
            return NULL;
        }
        return number_text(v->text, 0);
    case GQL_S_STRING:
        return v->kind == APIGW_GQL_STRING ? json_string(v->text) : NULL;
    case GQL_S_BOOLEAN:
        return v->kind == APIGW_GQL_BOOLEAN ? json_boolean(v->boolean)
                                            : NULL;
    case GQL_S_ID:
        return v->kind == APIGW_GQL_STRING || v->kind == APIGW_GQL_INT
            ? json_string(v->text) : NULL;
    default:
        return untyped_literal(v, NULL);
    }
}

int gql_leaf_literal_ok(const gql_type *t, const apigw_gql_value *v)
{
    json_t *j;

    if (t->kind == APIGW_GQL_DEF_SCALAR && t->scalar == GQL_S_CUSTOM) {
        return 1;              /* variables inside are checked apart */
    }
    j = leaf_literal(t, v);
    json_decref(j);
    return j != NULL;
}

static int coerce_object_literal(apr_pool_t *p, const gql_type *t,
                                 const apigw_gql_value *v, json_t *vars,
                                 json_t **out);

int gql_coerce_literal(apr_pool_t *p, const gql_tref *t,
                       const apigw_gql_value *v, json_t *vars,
                       json_t **out)
{
    json_t *item;
    int i;

    *out = NULL;
    if (v->kind == APIGW_GQL_VARIABLE) {
        item = vars ? json_object_get(vars, v->text) : NULL;
        if (!item || (json_is_null(item)
                      && t->kind == APIGW_GQL_TYPE_NON_NULL)) {
            return -1;
        }
        *out = json_incref(item);
        return 0;
    }
    if (t->kind == APIGW_GQL_TYPE_NON_NULL) {
        if (v->kind == APIGW_GQL_NULL) {
            return -1;
        }
        return gql_coerce_literal(p, t->of, v, vars, out);
    }
    if (v->kind == APIGW_GQL_NULL) {
        *out = json_null();
        return 0;
    }
    if (t->kind == APIGW_GQL_TYPE_LIST) {
        if (v->kind != APIGW_GQL_LIST) {
            if (gql_coerce_literal(p, t->of, v, vars, &item) != 0) {
                return -1;
            }
            *out = json_pack("[o]", item);
            return 0;
        }
        *out = json_array();
        for (i = 0; i < v->items->nelts; i++) {
            const apigw_gql_value *iv =
                APR_ARRAY_IDX(v->items, i, const apigw_gql_value *);
            if (iv->kind == APIGW_GQL_VARIABLE
                && !(vars && json_object_get(vars, iv->text))
                && t->of->kind != APIGW_GQL_TYPE_NON_NULL) {
                item = json_null();    /* a missing variable is null here */
            }
            else if (gql_coerce_literal(p, t->of, iv, vars, &item) != 0) {
                json_decref(*out);
                *out = NULL;
                return -1;
            }
            json_array_append_new(*out, item);
        }
        return 0;
    }
    if (t->named->kind == APIGW_GQL_DEF_INPUT_OBJECT) {
        return coerce_object_literal(p, t->named, v, vars, out);
    }
    if (t->named->kind == APIGW_GQL_DEF_SCALAR
        && t->named->scalar == GQL_S_CUSTOM) {
        *out = untyped_literal(v, vars);
    }
    else {
        *out = leaf_literal(t->named, v);
    }
    return *out ? 0 : -1;
}

static const apigw_gql_argument *find_arg(const apr_array_header_t *args,
                                          const char *name)
{
    int i;

    for (i = 0; args && i < args->nelts; i++) {
        const apigw_gql_argument *a =
            APR_ARRAY_IDX(args, i, const apigw_gql_argument *);
        if (strcmp(a->name, name) == 0) {
            return a;
        }
    }
    return NULL;
}

static int coerce_object_literal(apr_pool_t *p, const gql_type *t,
                                 const apigw_gql_value *v, json_t *vars,
                                 json_t **out)
{
    json_t *obj, *item;
    int i;

    if (v->kind != APIGW_GQL_OBJECT) {
        return -1;
    }
    for (i = 0; i < v->fields->nelts; i++) {
        const apigw_gql_argument *a =
            APR_ARRAY_IDX(v->fields, i, const apigw_gql_argument *);
        if (!gql_arg_get(t->input_index, a->name)) {
            return -1;
        }
    }
    obj = json_object();
    for (i = 0; i < t->input_fields->nelts; i++) {
        const gql_arg *f = APR_ARRAY_IDX(t->input_fields, i, gql_arg *);
        const apigw_gql_argument *a = find_arg(v->fields, f->name);
        int rc = 0;

        if (a && (a->value->kind != APIGW_GQL_VARIABLE
                  || (vars && json_object_get(vars, a->value->text)))) {
            rc = gql_coerce_literal(p, f->type, a->value, vars, &item);
        }
        else if (f->default_value) {
            rc = gql_coerce_literal(p, f->type, f->default_value, NULL,
                                    &item);
        }
        else if (f->type->kind == APIGW_GQL_TYPE_NON_NULL) {
            rc = -1;
            item = NULL;
        }
        else {
            continue;
        }
        if (rc != 0) {
            json_decref(obj);
            return -1;
        }
        json_object_set_new(obj, f->name, item);
    }
    *out = obj;
    return 0;
}

/* ---- input values from JSON (variables) ---- */

/* Where coercion failed, and why, in graphql-js's words. */
typedef struct {
    const char *path;          /* "input.methods[1]" */
    const char *message;
    const json_t *value;       /* the part that failed */
} coerce_err;

/* An Int: a JSON integer, or a real with no fraction, in 32 bits. */
static json_t *int_json(apr_pool_t *p, const json_t *v, coerce_err *e)
{
    double d;

    if (json_is_integer(v)) {
        if (json_integer_value(v) >= INT32_MIN
            && json_integer_value(v) <= INT32_MAX) {
            return json_integer(json_integer_value(v));
        }
    }
    else if (json_is_real(v)
             && json_real_value(v) == floor(json_real_value(v))) {
        d = json_real_value(v);
        if (d >= INT32_MIN && d <= INT32_MAX) {
            return json_integer((json_int_t)d);
        }
    }
    else {
        e->message = apr_psprintf(p, "Int cannot represent non-integer "
                                  "value: %s", gql_show_json(p, v));
        return NULL;
    }
    e->message = apr_psprintf(p, "Int cannot represent non 32-bit signed "
                              "integer value: %s", gql_show_json(p, v));
    return NULL;
}

static json_t *leaf_json_fail(apr_pool_t *p, coerce_err *e, const char *fmt,
                              const char *name, const json_t *v)
{
    e->message = apr_psprintf(p, fmt, name, gql_show_json(p, v));
    return NULL;
}

/* A leaf's JSON input, or NULL with e->message. */
static json_t *leaf_json(apr_pool_t *p, const gql_type *t, json_t *v,
                         coerce_err *e)
{
    if (t->kind == APIGW_GQL_DEF_ENUM) {
        if (!json_is_string(v)) {
            return leaf_json_fail(p, e, "Enum \"%s\" cannot represent "
                                  "non-string value: %s.", t->name, v);
        }
        if (!apr_hash_get(t->value_index, json_string_value(v),
                          APR_HASH_KEY_STRING)) {
            e->message = apr_psprintf(p, "Value %s does not exist in \"%s\" "
                                      "enum.", gql_show_json(p, v), t->name);
            return NULL;
        }
        return json_incref(v);
    }
    switch (t->scalar) {
    case GQL_S_INT:
        return int_json(p, v, e);
    case GQL_S_FLOAT:
        if (!json_is_number(v)) {
            return leaf_json_fail(p, e, "%s cannot represent non numeric "
                                  "value: %s", "Float", v);
        }
        return json_real(json_number_value(v));
    case GQL_S_STRING:
        if (!json_is_string(v)) {
            return leaf_json_fail(p, e, "%s cannot represent a non string "
                                  "value: %s", "String", v);
        }
        return json_incref(v);
    case GQL_S_BOOLEAN:
        if (!json_is_boolean(v)) {
            return leaf_json_fail(p, e, "%s cannot represent a non boolean "
                                  "value: %s", "Boolean", v);
        }
        return json_incref(v);
    case GQL_S_ID:
        if (json_is_integer(v)) {
            return json_string(apr_psprintf(p, "%" JSON_INTEGER_FORMAT,
                                            json_integer_value(v)));
        }
        if (!json_is_string(v)) {
            return leaf_json_fail(p, e, "%s cannot represent value: %s", "ID",
                                  v);
        }
        return json_incref(v);
    default:
        return json_incref(v);  /* a custom scalar takes any JSON */
    }
}

static json_t *coerce_json(apr_pool_t *p, const gql_tref *t, json_t *v,
                           const char *path, coerce_err *e);

static json_t *coerce_json_object(apr_pool_t *p, const gql_type *t,
                                  json_t *v, const char *path, coerce_err *e)
{
    json_t *obj, *item;
    const char *key;
    int i;

    if (!json_is_object(v)) {
        e->path = path;
        e->message = apr_psprintf(p, "Expected type \"%s\" to be an object.",
                                  t->name);
        return NULL;
    }
    obj = json_object();
    for (i = 0; i < t->input_fields->nelts; i++) {
        const gql_arg *f = APR_ARRAY_IDX(t->input_fields, i, gql_arg *);
        json_t *given = json_object_get(v, f->name);

        if (given) {
            item = coerce_json(p, f->type, given,
                               apr_pstrcat(p, path, ".", f->name, NULL), e);
        }
        else if (f->default_value) {
            if (gql_coerce_literal(p, f->type, f->default_value, NULL,
                                   &item) != 0) {
                item = NULL;
                e->path = path;
                e->message = "invalid default value";
            }
        }
        else if (f->type->kind == APIGW_GQL_TYPE_NON_NULL) {
            e->path = path;
            e->message = apr_psprintf(p, "Field \"%s\" of required type "
                                      "\"%s\" was not provided.", f->name,
                                      gql_tref_str(p, f->type));
            item = NULL;
        }
        else {
            continue;
        }
        if (!item) {
            json_decref(obj);
            return NULL;
        }
        json_object_set_new(obj, f->name, item);
    }
    json_object_foreach(v, key, item) {
        if (!gql_arg_get(t->input_index, key)) {
            e->path = path;
            e->message = apr_psprintf(p, "Field \"%s\" is not defined by "
                                      "type \"%s\".", key, t->name);
            json_decref(obj);
            return NULL;
        }
    }
    return obj;
}

static json_t *coerce_json_at(apr_pool_t *p, const gql_tref *t, json_t *v,
                              const char *path, coerce_err *e)
{
    json_t *out, *item;
    size_t i;

    if (t->kind == APIGW_GQL_TYPE_NON_NULL) {
        if (json_is_null(v)) {
            e->path = path;
            e->message = apr_psprintf(p, "Expected non-nullable type \"%s\" "
                                      "not to be null.", gql_tref_str(p, t));
            return NULL;
        }
        return coerce_json(p, t->of, v, path, e);
    }
    if (json_is_null(v)) {
        return json_null();
    }
    if (t->kind == APIGW_GQL_TYPE_LIST) {
        if (!json_is_array(v)) {
            /* one value where a list is expected: a list of it */
            item = coerce_json(p, t->of, v, path, e);
            return item ? json_pack("[o]", item) : NULL;
        }
        out = json_array();
        json_array_foreach(v, i, item) {
            json_t *c = coerce_json(p, t->of, item,
                                    apr_psprintf(p, "%s[%lu]", path,
                                                 (unsigned long)i), e);
            if (!c) {
                json_decref(out);
                return NULL;
            }
            json_array_append_new(out, c);
        }
        return out;
    }
    if (t->named->kind == APIGW_GQL_DEF_INPUT_OBJECT) {
        return coerce_json_object(p, t->named, v, path, e);
    }
    out = leaf_json(p, t->named, v, e);
    if (!out) {
        e->path = path;
    }
    return out;
}

/* v (a variable's JSON, or part of it at path) as a value of t: a new
 * reference, or NULL with e filled by the deepest part that failed. */
static json_t *coerce_json(apr_pool_t *p, const gql_tref *t, json_t *v,
                           const char *path, coerce_err *e)
{
    json_t *out = coerce_json_at(p, t, v, path, e);

    if (!out && !e->value) {
        e->value = v;
        e->path = path;
    }
    return out;
}

/* ---- bounds ---- */

/* What a fragment costs once expanded, computed once per request: the
 * sizes a "fragment bomb" reaches are found without expanding it. */
typedef struct {
    int state;                 /* 0 not yet, 1 being counted, 2 done */
    apr_uint64_t fields;
    unsigned depth;
} frag_cost;

typedef struct {
    apr_pool_t *p;
    apr_hash_t *fragments;     /* name -> apigw_gql_fragment * */
    apr_hash_t *costs;         /* name -> frag_cost * */
    unsigned nest;             /* fragments being costed, one in another */
    int chain_too_long;        /* nest passed MAX_SPREAD_CHAIN */
} cost_ctx;

/* How deep fragments may spread one another (a in b in c ...): every
 * walk of the document follows spreads by recursion, so a chain of
 * thousands in a small document is refused here, first. */
#define MAX_SPREAD_CHAIN 64

/* Saturating: 2^40 is far beyond any bound and cannot overflow. */
#define COST_CAP ((apr_uint64_t)1 << 40)

static apr_uint64_t cost_add(apr_uint64_t a, apr_uint64_t b)
{
    return a + b > COST_CAP ? COST_CAP : a + b;
}

static void cost_of(cost_ctx *c, const apr_array_header_t *sels,
                    apr_uint64_t *fields, unsigned *depth);

static const frag_cost *fragment_cost(cost_ctx *c, const char *name)
{
    static const frag_cost none = { 2, 0, 0 };
    const apigw_gql_fragment *f = apr_hash_get(c->fragments, name,
                                               APR_HASH_KEY_STRING);
    frag_cost *fc = apr_hash_get(c->costs, name, APR_HASH_KEY_STRING);

    if (!f) {
        return &none;          /* unknown: validation says so */
    }
    if (fc) {
        return fc->state == 2 ? fc : &none;   /* a cycle: validation too */
    }
    if (c->nest >= MAX_SPREAD_CHAIN) {
        c->chain_too_long = 1;
        return &none;
    }
    fc = apr_pcalloc(c->p, sizeof(*fc));
    fc->state = 1;
    apr_hash_set(c->costs, name, APR_HASH_KEY_STRING, fc);
    c->nest++;
    cost_of(c, f->selections, &fc->fields, &fc->depth);
    c->nest--;
    fc->state = 2;
    return fc;
}

/* Field selections and depth of a selection set, fragments expanded
 * (each spread counts every time it is used). */
static void cost_of(cost_ctx *c, const apr_array_header_t *sels,
                    apr_uint64_t *fields, unsigned *depth)
{
    int i;

    *fields = 0;
    *depth = 0;
    for (i = 0; sels && i < sels->nelts; i++) {
        const apigw_gql_selection *s =
            APR_ARRAY_IDX(sels, i, const apigw_gql_selection *);
        apr_uint64_t f = 0;
        unsigned d = 0;

        if (s->kind == APIGW_GQL_FRAGMENT_SPREAD) {
            const frag_cost *fc = fragment_cost(c, s->name);
            f = fc->fields;
            d = fc->depth;
        }
        else {
            cost_of(c, s->selections, &f, &d);
            if (s->kind == APIGW_GQL_FIELD) {
                f = cost_add(f, 1);
                d++;
            }
        }
        *fields = cost_add(*fields, f);
        *depth = d > *depth ? d : *depth;
    }
}

static apr_hash_t *fragments_of(apr_pool_t *p, const apigw_gql_document *doc)
{
    apr_hash_t *h = apr_hash_make(p);
    int i;

    for (i = 0; i < doc->definitions->nelts; i++) {
        const apigw_gql_definition *d =
            APR_ARRAY_IDX(doc->definitions, i, const apigw_gql_definition *);
        if (d->kind == APIGW_GQL_DEF_FRAGMENT
            && !apr_hash_get(h, d->u.fragment->name, APR_HASH_KEY_STRING)) {
            apr_hash_set(h, d->u.fragment->name, APR_HASH_KEY_STRING,
                         d->u.fragment);
        }
    }
    return h;
}

/* NULL, or the message of the first bound the document exceeds. */
/* Does the document name operation an operation of its own? */
static int names_operation(const apigw_gql_document *doc,
                           const char *operation)
{
    int i;

    for (i = 0; operation && i < doc->definitions->nelts; i++) {
        const apigw_gql_definition *d =
            APR_ARRAY_IDX(doc->definitions, i, const apigw_gql_definition *);
        if (d->kind == APIGW_GQL_DEF_OPERATION && d->u.operation->name
            && strcmp(d->u.operation->name, operation) == 0) {
            return 1;
        }
    }
    return 0;
}

/* The bounds hold the operation that would run (all of them when the
 * name names none: the request is refused later anyway). */
static const char *check_bounds(apr_pool_t *p, const apigw_gql_document *doc,
                                apr_hash_t *fragments,
                                const apigw_gql_limits *lim,
                                const char *operation)
{
    int only = names_operation(doc, operation);
    apr_hash_index_t *hi;
    cost_ctx c;
    apr_uint64_t fields = 0;
    unsigned depth = 0;
    int i;

    if (lim->max_aliases && doc->aliases > lim->max_aliases) {
        return apr_psprintf(p, "The query has %u aliases, more than the %u "
                            "ApiGraphQLMaxAliases allows.", doc->aliases,
                            lim->max_aliases);
    }
    c.p = p;
    c.fragments = fragments;
    c.costs = apr_hash_make(p);
    c.nest = 0;
    c.chain_too_long = 0;
    for (i = 0; i < doc->definitions->nelts; i++) {
        const apigw_gql_definition *d =
            APR_ARRAY_IDX(doc->definitions, i, const apigw_gql_definition *);
        apr_uint64_t f;
        unsigned dp;

        if (d->kind != APIGW_GQL_DEF_OPERATION
            || (only && (!d->u.operation->name
                         || strcmp(d->u.operation->name, operation) != 0))) {
            continue;
        }
        cost_of(&c, d->u.operation->selections, &f, &dp);
        fields = cost_add(fields, f);
        depth = dp > depth ? dp : depth;
    }
    /* every fragment's chain, used or not: validation walks them all */
    for (hi = apr_hash_first(p, fragments); hi && !c.chain_too_long;
         hi = apr_hash_next(hi)) {
        const void *name;

        apr_hash_this(hi, &name, NULL, NULL);
        fragment_cost(&c, name);
    }
    if (c.chain_too_long) {
        return apr_psprintf(p, "The query's fragments spread one another "
                            "more than %d deep.", MAX_SPREAD_CHAIN);
    }
    /* without a bound, the parser's own still holds with fragments
     * expanded: validation and execution recurse as deep */
    if (depth > (lim->max_depth ? lim->max_depth : PARSE_DEPTH_CAP)) {
        return apr_psprintf(p, "The query nests fields %u deep, more than "
                            "the %u ApiGraphQLMaxDepth allows.", depth,
                            lim->max_depth ? lim->max_depth
                                           : PARSE_DEPTH_CAP);
    }
    if (lim->max_fields && fields > lim->max_fields) {
        return apr_psprintf(p, "The query selects %s%" APR_UINT64_T_FMT
                            " fields with its fragments expanded, more than "
                            "the %u ApiGraphQLMaxFields allows.",
                            fields == COST_CAP ? "over " : "", fields,
                            lim->max_fields);
    }
    return NULL;
}

/* ---- execution ---- */

typedef struct {
    apr_pool_t *p;
    const apigw_gql_schema *s;
    apr_hash_t *fragments;
    json_t *vars;              /* coerced variable values */
    json_t *errors;
    json_t *keep;              /* what gql_val's borrow, released last */
    apigw_gql_resolve_fn *resolve;
    void *baton;
    apr_hash_t *field_maps;    /* (group, type) -> field_map: the fields of
                                * every item of a list are collected once */
    /* the data's text, written as it is completed (no tree of the answer
     * is built: a thousand routes are a few hundred kilobytes, not tens
     * of thousands of allocations); a null that bubbles up cuts the text
     * back to where its parent began. malloc'ed, given to the pool at
     * the end. */
    char *out;
    apr_size_t out_len;
    apr_size_t out_cap;
    int out_failed;            /* 1: no memory, 2: over MAX_ANSWER: the
                                * answer is an error */
} exec_ctx;

/* ---- the answer's text ---- */

/* The largest answer written: a few aliases of a big list are refused
 * rather than answered with hundreds of megabytes. */
#define MAX_ANSWER (16 * 1024 * 1024)

static void out_reserve(exec_ctx *c, apr_size_t n)
{
    apr_size_t cap;
    char *bigger;

    if (c->out_len + n + 1 <= c->out_cap || c->out_failed) {
        return;
    }
    if (c->out_len + n + 1 > MAX_ANSWER) {
        c->out_failed = 2;
        return;
    }
    cap = c->out_cap ? c->out_cap * 2 : 16384;
    while (cap < c->out_len + n + 1) {
        cap *= 2;
    }
    if (!(bigger = realloc(c->out, cap))) {
        c->out_failed = 1;
        return;
    }
    c->out = bigger;
    c->out_cap = cap;
}

static void out_put(exec_ctx *c, const char *s, apr_size_t n)
{
    out_reserve(c, n);
    if (!c->out_failed) {
        memcpy(c->out + c->out_len, s, n);
        c->out_len += n;
    }
}

#define OUT_LIT(c, lit) out_put((c), (lit), sizeof(lit) - 1)

/* s as a JSON string (UTF-8 kept as it is, as jansson writes it). */
static void out_string(exec_ctx *c, const char *s, apr_size_t n)
{
    static const char hex[] = "0123456789abcdef";
    apr_size_t i, run = 0;

    out_reserve(c, n + 2);
    OUT_LIT(c, "\"");
    for (i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        char esc[6];

        if (ch >= 0x20 && ch != '"' && ch != '\\') {
            continue;
        }
        out_put(c, s + run, i - run);
        run = i + 1;
        esc[0] = '\\';
        switch (ch) {
        case '"': esc[1] = '"'; out_put(c, esc, 2); break;
        case '\\': esc[1] = '\\'; out_put(c, esc, 2); break;
        case '\n': esc[1] = 'n'; out_put(c, esc, 2); break;
        case '\r': esc[1] = 'r'; out_put(c, esc, 2); break;
        case '\t': esc[1] = 't'; out_put(c, esc, 2); break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[ch >> 4];
            esc[5] = hex[ch & 0xF];
            out_put(c, esc, 6);
        }
    }
    out_put(c, s + run, n - run);
    OUT_LIT(c, "\"");
}

/* A scalar JSON value (a leaf's serialized value). */
static void out_scalar(exec_ctx *c, json_t *v)
{
    char num[64];
    char *text;

    switch (json_typeof(v)) {
    case JSON_STRING:
        out_string(c, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        /* libc's: APR's formatter does not know JSON_INTEGER_FORMAT */
        out_put(c, num, (apr_size_t)snprintf(num, sizeof(num),
                "%" JSON_INTEGER_FORMAT, json_integer_value(v)));
        break;
    case JSON_TRUE:
        OUT_LIT(c, "true");
        break;
    case JSON_FALSE:
        OUT_LIT(c, "false");
        break;
    case JSON_REAL:
        /* jansson's own way with reals, so a Float reads back the same */
        text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        if (text) {
            out_put(c, text, strlen(text));
            free(text);
            break;
        }
        /* fall through */
    default:
        OUT_LIT(c, "null");
    }
}

static apr_status_t out_free(void *data)
{
    free(data);
    return APR_SUCCESS;
}

/* A response path, from the leaf up; lives on the stack. */
typedef struct path_seg path_seg;
struct path_seg {
    const path_seg *up;
    const char *key;           /* NULL: index */
    size_t index;
};

/* Response keys in the order first selected, and the field selections
 * of each. */
typedef struct {
    apr_array_header_t *keys;  /* const char * */
    apr_hash_t *groups;        /* key -> apr_array_header_t * of
                                * const apigw_gql_selection * */
} field_map;

static json_t *path_json(const path_seg *path)
{
    json_t *a = json_array();

    for (; path; path = path->up) {
        json_array_insert_new(a, 0, path->key ? json_string(path->key)
                                   : json_integer((json_int_t)path->index));
    }
    return a;
}

static void field_error(exec_ctx *c, const apigw_gql_selection *f,
                        const path_seg *path, const char *message,
                        const char *code, const char *field)
{
    json_array_append_new(c->errors, gql_error(message, &f->loc,
                                               path_json(path), code, field));
}

/* @skip(if:) and @include(if:): should this selection be left out? */
static int skipped(exec_ctx *c, const apr_array_header_t *dirs)
{
    int i;

    for (i = 0; dirs && i < dirs->nelts; i++) {
        const apigw_gql_directive *d =
            APR_ARRAY_IDX(dirs, i, const apigw_gql_directive *);
        const apigw_gql_argument *a;
        int is_skip = strcmp(d->name, "skip") == 0, cond;

        if (!is_skip && strcmp(d->name, "include") != 0) {
            continue;
        }
        a = find_arg(d->arguments, "if");
        if (!a) {
            continue;
        }
        if (a->value->kind == APIGW_GQL_VARIABLE) {
            cond = json_is_true(json_object_get(c->vars, a->value->text));
        }
        else {
            cond = a->value->kind == APIGW_GQL_BOOLEAN && a->value->boolean;
        }
        if (is_skip ? cond : !cond) {
            return 1;
        }
    }
    return 0;
}

static int fragment_applies(const apigw_gql_schema *s, const char *cond,
                            const gql_type *obj)
{
    const gql_type *t;

    if (!cond) {
        return 1;
    }
    t = gql_type_get(s, cond);
    return t && gql_possible(t, obj);
}

static void collect_fields(exec_ctx *c, const gql_type *obj,
                           const apr_array_header_t *sels,
                           apr_hash_t *visited, field_map *m)
{
    int i;

    for (i = 0; sels && i < sels->nelts; i++) {
        const apigw_gql_selection *s =
            APR_ARRAY_IDX(sels, i, const apigw_gql_selection *);
        const apigw_gql_fragment *f;

        if (skipped(c, s->directives)) {
            continue;
        }
        if (s->kind == APIGW_GQL_FIELD) {
            const char *key = s->alias ? s->alias : s->name;
            apr_array_header_t *g = apr_hash_get(m->groups, key,
                                                 APR_HASH_KEY_STRING);
            if (!g) {
                g = apr_array_make(c->p, 2, sizeof(apigw_gql_selection *));
                apr_hash_set(m->groups, key, APR_HASH_KEY_STRING, g);
                APR_ARRAY_PUSH(m->keys, const char *) = key;
            }
            APR_ARRAY_PUSH(g, const apigw_gql_selection *) = s;
        }
        else if (s->kind == APIGW_GQL_INLINE_FRAGMENT) {
            if (fragment_applies(c->s, s->type_condition, obj)) {
                collect_fields(c, obj, s->selections, visited, m);
            }
        }
        else if (!apr_hash_get(visited, s->name, APR_HASH_KEY_STRING)) {
            apr_hash_set(visited, s->name, APR_HASH_KEY_STRING, "");
            f = apr_hash_get(c->fragments, s->name, APR_HASH_KEY_STRING);
            if (f && fragment_applies(c->s, f->type_condition, obj)) {
                collect_fields(c, obj, f->selections, visited, m);
            }
        }
    }
}

static field_map *field_map_make(apr_pool_t *p)
{
    field_map *m = apr_palloc(p, sizeof(*m));

    m->keys = apr_array_make(p, 8, sizeof(const char *));
    m->groups = apr_hash_make(p);
    return m;
}

static int complete(exec_ctx *c, const gql_tref *t,
                    const apr_array_header_t *group, const gql_val *v,
                    const char *label, const path_seg *path);

static int execute_fields(exec_ctx *c, const gql_type *obj,
                          const gql_val *src, const field_map *m,
                          const path_seg *path);

/* The coerced arguments of a field or directive, a new object; NULL
 * with *err when one cannot be coerced. */
static json_t *coerce_args(exec_ctx *c, const apr_array_header_t *defs,
                           const apr_array_header_t *given, const char **err)
{
    json_t *obj = json_object(), *v;
    int i;

    for (i = 0; i < defs->nelts; i++) {
        const gql_arg *a = APR_ARRAY_IDX(defs, i, const gql_arg *);
        const apigw_gql_argument *g = find_arg(given, a->name);
        int non_null = a->type->kind == APIGW_GQL_TYPE_NON_NULL;

        v = NULL;
        if (g && g->value->kind == APIGW_GQL_VARIABLE
            && !json_object_get(c->vars, g->value->text)) {
            g = NULL;          /* a variable without a value: as if absent */
        }
        if (g) {
            if (gql_coerce_literal(c->p, a->type, g->value, c->vars, &v)) {
                *err = apr_psprintf(c->p, "Argument \"%s\" has invalid "
                                    "value %s.", a->name,
                                    gql_print_short(c->p, g->value));
            }
        }
        else if (a->default_value) {
            if (gql_coerce_literal(c->p, a->type, a->default_value, NULL,
                                   &v)) {
                *err = apr_psprintf(c->p, "Argument \"%s\" has an invalid "
                                    "default value.", a->name);
            }
        }
        else if (non_null) {
            *err = apr_psprintf(c->p, "Argument \"%s\" of required type "
                                "\"%s\" was not provided.", a->name,
                                gql_tref_str(c->p, a->type));
        }
        else {
            continue;
        }
        if (!v) {
            json_decref(obj);
            return NULL;
        }
        json_object_set_new(obj, a->name, v);
    }
    return obj;
}

static gql_val json_val(json_t *j)
{
    gql_val v;

    memset(&v, 0, sizeof(v));
    v.kind = GQL_V_JSON;
    v.json = j;
    return v;
}

static gql_val intro_val(gql_intro_kind k, const void *ptr)
{
    gql_val v;

    memset(&v, 0, sizeof(v));
    v.kind = GQL_V_INTRO;
    v.ikind = k;
    v.ptr = ptr;
    return v;
}

/* Is t in __schema.types (the predefined scalars nothing uses are not)? */
static int type_listed(const apigw_gql_schema *s, const gql_type *t)
{
    int i;

    for (i = 0; i < s->type_list->nelts; i++) {
        if (APR_ARRAY_IDX(s->type_list, i, const gql_type *) == t) {
            return 1;
        }
    }
    return 0;
}

/* A root field: the caller's resolver, or introspection's entry points.
 * Returns 0 and *v, or -1 after reporting the fault. */
static int resolve_root(exec_ctx *c, const gql_type *obj,
                        const gql_field *def, json_t *args,
                        const apr_array_header_t *group,
                        const path_seg *path, gql_val *v)
{
    const apigw_gql_selection *f =
        APR_ARRAY_IDX(group, 0, const apigw_gql_selection *);
    apigw_gql_fault fault;
    json_t *r;

    if (def == c->s->schema_field) {
        *v = intro_val(GQL_I_SCHEMA, c->s);
        return 0;
    }
    if (def == c->s->type_field) {
        const gql_type *t = gql_type_get(
            c->s, json_string_value(json_object_get(args, "name")));
        *v = t && type_listed(c->s, t) ? intro_val(GQL_I_TYPE, &t->ref)
                                       : json_val(NULL);
        return 0;
    }
    memset(&fault, 0, sizeof(fault));
    r = c->resolve(c->baton, c->p, obj->name, def->name, args, &fault);
    if (!r) {
        field_error(c, f, path, fault.message ? fault.message
                                              : "The field failed.",
                    fault.code ? fault.code : CODE_INTERNAL, fault.field);
        return -1;
    }
    json_array_append_new(c->keep, r);
    *v = json_val(r);
    return 0;
}

/* One response key of an object: 0 and *out, -1 when its null must
 * reach the parent, 1 when the field is not one of the type's. */
static int execute_field(exec_ctx *c, const gql_type *obj, const gql_val *src,
                         const apr_array_header_t *group,
                         const path_seg *path)
{
    const apigw_gql_selection *f =
        APR_ARRAY_IDX(group, 0, const apigw_gql_selection *);
    const gql_field *def = gql_field_get(c->s, obj, f->name);
    const char *err = NULL;
    json_t *args;
    gql_val v;
    int rc = 0;

    if (!def) {
        return 1;
    }
    if (def == c->s->typename_field) {
        out_string(c, obj->name, strlen(obj->name));
        return 0;
    }
    /* the common case, a member of a resolver's JSON: no argument to
     * coerce (validation saw to it that none is given) */
    if (src->kind == GQL_V_JSON && def->args->nelts == 0) {
        v = json_val(json_object_get(src->json, f->name));
        return complete(c, def->type, group, &v, def->label, path);
    }
    args = coerce_args(c, def->args, f->arguments, &err);
    if (!args) {
        field_error(c, f, path, err, CODE_INPUT, NULL);
        rc = -1;
    }
    else if (src->kind == GQL_V_ROOT) {
        rc = resolve_root(c, obj, def, args, group, path, &v);
    }
    else if (src->kind == GQL_V_INTRO) {
        gql_intro_field(c->p, c->s, src, def->name, args, c->keep, &v);
    }
    else {
        v = json_val(json_object_get(src->json, f->name));
    }
    json_decref(args);
    if (rc == 0) {
        return complete(c, def->type, group, &v, def->label, path);
    }
    /* the field is null, and so is its parent when it may not be */
    if (def->type->kind == APIGW_GQL_TYPE_NON_NULL) {
        return -1;
    }
    OUT_LIT(c, "null");
    return 0;
}

static int execute_fields(exec_ctx *c, const gql_type *obj,
                          const gql_val *src, const field_map *m,
                          const path_seg *path)
{
    apr_size_t start = c->out_len, mark;
    int i, rc, first = 1;

    OUT_LIT(c, "{");
    for (i = 0; i < m->keys->nelts; i++) {
        const char *key = APR_ARRAY_IDX(m->keys, i, const char *);
        path_seg seg = { path, key, 0 };

        mark = c->out_len;
        if (!first) {
            OUT_LIT(c, ",");
        }
        out_string(c, key, strlen(key));
        OUT_LIT(c, ":");
        rc = execute_field(c, obj, src, apr_hash_get(m->groups, key,
                                                     APR_HASH_KEY_STRING),
                           &seg);
        if (rc < 0) {
            /* the rest is not run: its answer would be thrown away */
            c->out_len = start;
            return -1;
        }
        if (rc == 0) {
            first = 0;
        }
        else {
            c->out_len = mark;     /* not a field of the type */
        }
    }
    OUT_LIT(c, "}");
    return 0;
}

static int completion_error(exec_ctx *c, const apr_array_header_t *group,
                            const path_seg *path, const char *message)
{
    field_error(c, APR_ARRAY_IDX(group, 0, const apigw_gql_selection *), path,
                message, CODE_INTERNAL, NULL);
    return -1;
}

/* An output leaf: a new JSON value, or NULL with *err. */
static json_t *serialize_leaf(apr_pool_t *p, const gql_type *t, json_t *v,
                              const char **err)
{
    coerce_err e;
    json_t *out = NULL;
    const char *why;

    memset(&e, 0, sizeof(e));
    if (t->kind == APIGW_GQL_DEF_ENUM) {
        if (json_is_string(v) && apr_hash_get(t->value_index,
                                              json_string_value(v),
                                              APR_HASH_KEY_STRING)) {
            return json_incref(v);
        }
        why = apr_psprintf(p, "Enum \"%s\" cannot represent value", t->name);
    }
    else if (t->scalar == GQL_S_INT) {
        out = int_json(p, v, &e);
        if (!out) {
            *err = e.message;
        }
        return out;
    }
    else if (t->scalar == GQL_S_FLOAT) {
        out = json_is_number(v) ? json_incref(v) : NULL;
        why = "Float cannot represent non numeric value";
    }
    else if (t->scalar == GQL_S_BOOLEAN) {
        out = json_is_boolean(v) ? json_incref(v) : NULL;
        why = "Boolean cannot represent a non boolean value";
    }
    else if (t->scalar == GQL_S_STRING || t->scalar == GQL_S_ID) {
        /* as graphql-js: a String also shows booleans and integers, an ID
         * integers */
        if (json_is_string(v)) {
            out = json_incref(v);
        }
        else if (json_is_integer(v)) {
            out = json_string(apr_psprintf(p, "%" JSON_INTEGER_FORMAT,
                                           json_integer_value(v)));
        }
        else if (json_is_boolean(v) && t->scalar == GQL_S_STRING) {
            out = json_string(json_is_true(v) ? "true" : "false");
        }
        why = apr_pstrcat(p, t->name, " cannot represent value", NULL);
    }
    else {
        out = json_is_object(v) || json_is_array(v) ? NULL : json_incref(v);
        why = apr_pstrcat(p, t->name, " cannot represent value", NULL);
    }
    if (!out) {
        *err = apr_psprintf(p, "%s: %s", why, gql_show_json(p, v));
    }
    return out;
}

/* The object type an abstract type's value is: its "__typename" member
 * when it names one, or the only possible type. */
static const gql_type *runtime_type(exec_ctx *c, const gql_type *t,
                                    const gql_val *v)
{
    const char *name = v->kind == GQL_V_JSON
        ? json_string_value(json_object_get(v->json, "__typename")) : NULL;
    const gql_type *obj;

    if (!gql_is_abstract(t)) {
        return t;
    }
    if (name) {
        obj = gql_type_get(c->s, name);
        return obj && obj->kind == APIGW_GQL_DEF_OBJECT
               && gql_possible(t, obj) ? obj : NULL;
    }
    if (t->possible && t->possible->nelts == 1) {
        return APR_ARRAY_IDX(t->possible, 0, const gql_type *);
    }
    return NULL;
}

/* The key of a collected field map. */
typedef struct {
    const apr_array_header_t *group;
    const gql_type *obj;
} map_key;

static int complete_object(exec_ctx *c, const gql_type *t,
                           const apr_array_header_t *group, const gql_val *v,
                           const char *label, const path_seg *path)
{
    const gql_type *obj;
    map_key key;
    field_map *m;
    apr_hash_t *visited;
    int i;

    if (v->kind == GQL_V_LIST
        || (v->kind == GQL_V_JSON && !json_is_object(v->json))) {
        return completion_error(c, group, path, apr_psprintf(
            c->p, "Expected a value of type \"%s\" for field \"%s\", found "
            "%s.", t->name, label, v->kind == GQL_V_JSON
            ? gql_show_json(c->p, v->json) : "a list"));
    }
    obj = runtime_type(c, t, v);
    if (!obj) {
        return completion_error(c, group, path, apr_psprintf(
            c->p, "Abstract type \"%s\" must resolve to an object type at "
            "runtime for field \"%s\": its value has no \"__typename\" "
            "naming one.", t->name, label));
    }
    /* the fields depend on the selections, the type and the variables
     * only (@skip, @include): collected once per execution */
    key.group = group;
    key.obj = obj;
    if (!(m = apr_hash_get(c->field_maps, &key, sizeof(key)))) {
        map_key *k = apr_pmemdup(c->p, &key, sizeof(key));

        m = field_map_make(c->p);
        visited = apr_hash_make(c->p);
        for (i = 0; i < group->nelts; i++) {
            collect_fields(c, obj, APR_ARRAY_IDX(group, i,
                                                 const apigw_gql_selection *)
                                       ->selections, visited, m);
        }
        apr_hash_set(c->field_maps, k, sizeof(*k), m);
    }
    return execute_fields(c, obj, v, m, path);
}

static int complete_list(exec_ctx *c, const gql_tref *t,
                         const apr_array_header_t *group, const gql_val *v,
                         const char *label, const path_seg *path)
{
    apr_size_t start = c->out_len;
    size_t i, n;

    if (v->kind == GQL_V_LIST) {
        n = (size_t)v->items->nelts;
    }
    else if (v->kind == GQL_V_JSON && json_is_array(v->json)) {
        n = json_array_size(v->json);
    }
    else {
        return completion_error(c, group, path, apr_psprintf(
            c->p, "Expected Iterable, but did not find one for field "
            "\"%s\".", label));
    }
    OUT_LIT(c, "[");
    for (i = 0; i < n; i++) {
        path_seg seg = { path, NULL, i };
        gql_val iv = v->kind == GQL_V_LIST
            ? APR_ARRAY_IDX(v->items, (int)i, gql_val)
            : json_val(json_array_get(v->json, i));

        if (i) {
            OUT_LIT(c, ",");
        }
        if (complete(c, t->of, group, &iv, label, &seg) != 0) {
            c->out_len = start;
            return -1;
        }
    }
    OUT_LIT(c, "]");
    return 0;
}

/* v completed along a nullable t: 0 (a value written), 1 (null
 * written), or -1 (an error: nothing written). */
static int complete_nullable(exec_ctx *c, const gql_tref *t,
                             const apr_array_header_t *group,
                             const gql_val *v, const char *label,
                             const path_seg *path)
{
    const char *err = NULL;
    json_t *leaf;

    if (v->kind == GQL_V_JSON && (!v->json || json_is_null(v->json))) {
        OUT_LIT(c, "null");
        return 1;
    }
    if (t->kind == APIGW_GQL_TYPE_LIST) {
        return complete_list(c, t, group, v, label, path);
    }
    if (gql_is_leaf(t->named)) {
        if (v->kind != GQL_V_JSON) {
            return completion_error(c, group, path, "A leaf field was not "
                                    "answered with a JSON value.");
        }
        if (!(leaf = serialize_leaf(c->p, t->named, v->json, &err))) {
            return completion_error(c, group, path, err);
        }
        out_scalar(c, leaf);
        json_decref(leaf);
        return 0;
    }
    return complete_object(c, t->named, group, v, label, path);
}

/* 0 with the value written, or -1: an error that makes the value null
 * is reported, and the null goes up to the nearest nullable position
 * (which writes it). */
static int complete(exec_ctx *c, const gql_tref *t,
                    const apr_array_header_t *group, const gql_val *v,
                    const char *label, const path_seg *path)
{
    apr_size_t start = c->out_len;
    int rc;

    if (t->kind == APIGW_GQL_TYPE_NON_NULL) {
        rc = complete_nullable(c, t->of, group, v, label, path);
        if (rc == 1) {
            c->out_len = start;
            return completion_error(c, group, path, apr_psprintf(
                c->p, "Cannot return null for non-nullable field %s.",
                label));
        }
        return rc < 0 ? -1 : 0;
    }
    if (complete_nullable(c, t, group, v, label, path) < 0) {
        c->out_len = start;
        OUT_LIT(c, "null");
    }
    return 0;
}

/* ---- the request ---- */

typedef struct {
    apr_pool_t *p;
    json_t *errors;
} refusal;

static void refuse(refusal *r, const char *message, const apigw_gql_loc *loc,
                   const char *code)
{
    json_array_append_new(r->errors, gql_error(message, loc, NULL, code,
                                               NULL));
}

/* The operation to run, or NULL after refusing. */
static const apigw_gql_operation *choose_operation(
    refusal *r, const apigw_gql_document *doc, const char *name)
{
    const apigw_gql_operation *found = NULL;
    int i, n = 0;

    for (i = 0; i < doc->definitions->nelts; i++) {
        const apigw_gql_definition *d =
            APR_ARRAY_IDX(doc->definitions, i, const apigw_gql_definition *);
        const apigw_gql_operation *op;

        if (d->kind != APIGW_GQL_DEF_OPERATION) {
            continue;
        }
        op = d->u.operation;
        n++;
        if (name ? (op->name && strcmp(op->name, name) == 0) : !found) {
            found = op;
        }
    }
    if (name && !found) {
        refuse(r, apr_psprintf(r->p, "Unknown operation named \"%s\".", name),
               NULL, CODE_OPERATION);
        return NULL;
    }
    if (!name && n > 1) {
        refuse(r, "Must provide operation name if query contains multiple "
               "operations.", NULL, CODE_OPERATION);
        return NULL;
    }
    if (!found) {
        refuse(r, "Must provide an operation.", NULL, CODE_OPERATION);
    }
    return found;
}

/* The operation's variables coerced from the request's, or NULL after
 * refusing (every variable's error is reported). */
static json_t *coerce_variables(refusal *r, const apigw_gql_schema *s,
                                const apigw_gql_operation *op, json_t *given)
{
    json_t *out = json_object(), *v, *c;
    int i, ok = 1;

    if (given && !json_is_object(given)) {
        refuse(r, "Variables must be provided as a JSON object.", NULL,
               CODE_INPUT);
        json_decref(out);
        return NULL;
    }
    for (i = 0; i < op->variables->nelts; i++) {
        const apigw_gql_variable_def *d =
            APR_ARRAY_IDX(op->variables, i, const apigw_gql_variable_def *);
        const gql_tref *t = gql_tref_from_ast(r->p, s, d->type);
        const char *tn;
        coerce_err e;

        if (!t) {
            continue;          /* validation has said so */
        }
        tn = gql_tref_str(r->p, t);
        v = given ? json_object_get(given, d->name) : NULL;
        if (!v) {
            if (d->default_value) {
                if (gql_coerce_literal(r->p, t, d->default_value, NULL,
                                       &c) == 0) {
                    json_object_set_new(out, d->name, c);
                }
            }
            else if (t->kind == APIGW_GQL_TYPE_NON_NULL) {
                refuse(r, apr_psprintf(r->p, "Variable \"$%s\" of required "
                                       "type \"%s\" was not provided.",
                                       d->name, tn), &d->loc, CODE_INPUT);
                ok = 0;
            }
            continue;
        }
        if (json_is_null(v) && t->kind == APIGW_GQL_TYPE_NON_NULL) {
            refuse(r, apr_psprintf(r->p, "Variable \"$%s\" of non-null type "
                                   "\"%s\" must not be null.", d->name, tn),
                   &d->loc, CODE_INPUT);
            ok = 0;
            continue;
        }
        memset(&e, 0, sizeof(e));
        c = coerce_json(r->p, t, v, d->name, &e);
        if (!c) {
            refuse(r, apr_psprintf(r->p, "Variable \"$%s\" got invalid value "
                                   "%s%s%s%s; %s", d->name,
                                   gql_show_json(r->p, e.value),
                                   strcmp(e.path, d->name) ? " at \"" : "",
                                   strcmp(e.path, d->name) ? e.path : "",
                                   strcmp(e.path, d->name) ? "\"" : "",
                                   e.message), &d->loc, CODE_INPUT);
            ok = 0;
            continue;
        }
        json_object_set_new(out, d->name, c);
    }
    if (!ok) {
        json_decref(out);
        return NULL;
    }
    return out;
}

static const char *dump(apr_pool_t *p, json_t *response)
{
    char *s = json_dumps(response, JSON_COMPACT | JSON_PRESERVE_ORDER);
    const char *out;

    if (!s) {
        return "{\"errors\":[{\"message\":\"The answer could not be "
               "written.\",\"extensions\":{\"code\":\""
               CODE_INTERNAL "\"}}]}";
    }
    out = apr_pstrdup(p, s);
    free(s);
    return out;
}

static const char *errors_only(apr_pool_t *p, json_t *errors)
{
    json_t *resp = json_object();
    const char *out;

    json_object_set(resp, "errors", errors);
    out = dump(p, resp);
    json_decref(resp);
    return out;
}

static const char *run(exec_ctx *c, const apigw_gql_operation *op)
{
    const gql_type *root = op->kind == APIGW_GQL_MUTATION ? c->s->mutation
                                                          : c->s->query;
    field_map *m = field_map_make(c->p);
    gql_val src;
    char *errors = NULL;

    memset(&src, 0, sizeof(src));
    src.kind = GQL_V_ROOT;
    collect_fields(c, root, op->selections, apr_hash_make(c->p), m);
    OUT_LIT(c, "{\"data\":");
    if (execute_fields(c, root, &src, m, NULL) != 0) {
        OUT_LIT(c, "null");
    }
    if (json_array_size(c->errors)) {
        errors = json_dumps(c->errors, JSON_COMPACT | JSON_PRESERVE_ORDER);
        OUT_LIT(c, ",\"errors\":");
        if (errors) {
            out_put(c, errors, strlen(errors));
            free(errors);
        }
        else {
            OUT_LIT(c, "[]");
        }
    }
    OUT_LIT(c, "}");
    if (c->out_failed || !c->out) {
        int too_big = c->out_failed == 2;

        free(c->out);
        c->out = NULL;
        return too_big
            ? "{\"errors\":[{\"message\":\"The answer would be larger "
              "than 16 MB: ask for fewer fields, aliases or routes.\","
              "\"extensions\":{\"code\":\"" CODE_INPUT "\"}}]}"
            : "{\"errors\":[{\"message\":\"The answer could not be "
              "written.\",\"extensions\":{\"code\":\""
              CODE_INTERNAL "\"}}]}";
    }
    c->out[c->out_len] = '\0';
    apr_pool_cleanup_register(c->p, c->out, out_free, apr_pool_cleanup_null);
    return c->out;
}

/* The checks before anything runs: size, syntax, bounds, validation,
 * the operation. Returns the operation, or NULL after refusing. */
static const apigw_gql_operation *admit(refusal *r,
                                        const apigw_gql_schema *schema,
                                        const apigw_gql_limits *lim,
                                        const char *query, apr_size_t qlen,
                                        const char *operation_name,
                                        apr_hash_t **fragments)
{
    const apigw_gql_syntax_error *se;
    apigw_gql_document *doc;
    const char *msg;
    unsigned depth = lim->max_depth && lim->max_depth < PARSE_DEPTH_CAP
                     ? lim->max_depth : PARSE_DEPTH_CAP;

    if (lim->max_bytes && qlen > lim->max_bytes) {
        refuse(r, apr_psprintf(r->p, "The query is %" APR_SIZE_T_FMT
                               " bytes, more than the %" APR_SIZE_T_FMT
                               " ApiGraphQLMaxBytes allows.", qlen,
                               lim->max_bytes), NULL, CODE_INPUT);
        return NULL;
    }
    se = apigw_gql_parse(r->p, query, qlen, depth, &doc);
    if (se && strstr(se->message, DEPTH_WORDS)) {
        /* the parser stopped at the bound: a bound, not a syntax error */
        refuse(r, apr_psprintf(r->p, "The query is nested deeper than the "
                               "%u levels ApiGraphQLMaxDepth allows.", depth),
               &se->loc, CODE_INPUT);
        return NULL;
    }
    if (se) {
        refuse(r, se->message, &se->loc, CODE_PARSE);
        return NULL;
    }
    *fragments = fragments_of(r->p, doc);
    msg = check_bounds(r->p, doc, *fragments, lim, operation_name);
    if (msg) {
        refuse(r, msg, NULL, CODE_INPUT);
        return NULL;
    }
    if (gql_validate(r->p, schema, doc, r->errors) > 0) {
        return NULL;
    }
    return choose_operation(r, doc, operation_name);
}

apigw_gql_outcome apigw_gql_execute(apr_pool_t *p,
                                    const apigw_gql_schema *schema,
                                    const apigw_gql_limits *limits,
                                    const char *query, apr_size_t qlen,
                                    json_t *variables,
                                    const char *operation_name,
                                    int allow_mutation,
                                    apigw_gql_resolve_fn *resolve,
                                    void *baton, const char **response)
{
    refusal r;
    exec_ctx c;
    const apigw_gql_operation *op;
    apr_hash_t *fragments = NULL;
    apigw_gql_outcome outcome = APIGW_GQL_REFUSED;

    r.p = p;
    r.errors = json_array();
    op = admit(&r, schema, limits, query, qlen, operation_name, &fragments);
    if (op && op->kind == APIGW_GQL_MUTATION && !allow_mutation) {
        refuse(&r, "Can only perform a mutation operation from a POST "
               "request.", &op->loc, "BAD_REQUEST");
        outcome = APIGW_GQL_MUTATION_BY_GET;
        op = NULL;
    }
    memset(&c, 0, sizeof(c));
    if (op) {
        c.vars = coerce_variables(&r, schema, op, variables);
    }
    if (!c.vars) {
        *response = errors_only(p, r.errors);
        json_decref(r.errors);
        return outcome;
    }
    c.p = p;
    c.s = schema;
    c.fragments = fragments;
    c.errors = r.errors;
    c.keep = json_array();
    c.field_maps = apr_hash_make(p);
    c.resolve = resolve;
    c.baton = baton;
    *response = run(&c, op);
    json_decref(c.keep);
    json_decref(c.vars);
    json_decref(c.errors);
    return APIGW_GQL_EXECUTED;
}
