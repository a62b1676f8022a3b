/* Output encodings of aggregated endpoints: the ApiOutputEncoding word,
 * Accept negotiation, and apigw_encode(), which runs the writer for the
 * encoding (JSON in apigw_encode_json.c, XML in apigw_encode_xml.c, YAML
 * in apigw_encode_yaml.c) or writes the json-collection and string bodies
 * itself, and gives the body its content type. What each writes is
 * described in apigw_encode.h. */
#include <string.h>

#include <apr_lib.h>

#include "apigw_encode.h"
#include "apigw_encode_int.h"

#define CT_JSON   "application/json; charset=utf-8"
/* KrakenD's, without a charset: UTF-8 is XML's default */
#define CT_XML    "application/xml"
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

/* What KrakenD's negotiated renderer offers, in its order (lura's
 * router/gin negotiatedRender: gin.MIMEJSON, MIMEPlain, MIMEXML,
 * MIMEYAML), and what each is written as: text/plain is YAML. */
static const struct {
    const char *type;
    apr_size_t slash;             /* offset of '/' in type */
    apigw_output_encoding enc;
} OFFERS[] = {
    { "application/json", 11, APIGW_OUT_JSON },
    { "text/plain", 4, APIGW_OUT_YAML },
    { "application/xml", 11, APIGW_OUT_XML },
    { "application/x-yaml", 11, APIGW_OUT_YAML },
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

/* ---- entry point ---- */

const char *apigw_encode(apr_pool_t *p, const json_t *doc,
                         apigw_output_encoding enc, apr_size_t *len,
                         const char **content_type)
{
    obuf b = { NULL, 0, 0, 0 };
    apigw_members ms = { p, NULL, 0, 0 };
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
            apigw_encode_json(&b, &ms, v);
        }
        else {
            ob_lit(&b, "[]");
        }
        break;
    case APIGW_OUT_XML:
        ct = CT_XML;
        apigw_encode_xml(&b, &ms, p, doc);
        break;
    case APIGW_OUT_YAML:
        ct = CT_YAML;
        apigw_encode_yaml(&b, &ms, doc);
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
        apigw_encode_json(&b, &ms, doc);
        break;
    }
    body = apigw_ob_finish(p, &b, len);
    if (body) {
        *content_type = ct;
    }
    return body;
}
