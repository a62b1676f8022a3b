/* sources: mod_apigw/apigw_policy_validate.c mod_apigw/apigw_policy_origin.c common/apigw_parse.c */
/* cflags: -I/usr/include/apache2 */
/* libFuzzer target for the header rules' validation,
 * apigw_header_rules_validate() in mod_apigw/apigw_policy_validate.c: what
 * configtest (ApiRequestHeader/ApiResponseHeader, through
 * apigw_header_rule_parse, which calls it) and the admin API
 * (requestHeaders, responseHeaders) accept. Also the CORS header name
 * lists (apigw_cors_validate), which share the name check.
 *
 * The model, written from RFC 9110 and httpd 2.4's ap_expr lexer:
 *   - a name is a token: one or more of ALPHA DIGIT and !#$%&'*+-.^_`|~
 *   - set and add need a value, unset takes none; an action other than
 *     these is refused;
 *   - a value's bytes are field-vchar, SP or HTAB: no CR, LF, NUL or other
 *     control character (0x00-0x1f but HTAB, 0x7f);
 *   - a value holding '%' or '\' is an ap_expr string, and what its text
 *     turns into must obey the same rule: "\n" "\r" "\b" "\f" and an octal
 *     escape ("\15", "\012", "\0") of a control character are refused,
 *     while "\t", "\\r" (an escaped backslash, then 'r'), "\x0d" (httpd 2.4
 *     has no hex escapes: the text "x0d") are not. What a %{variable}
 *     holds is checked at run time, not here; text ap_expr would not parse
 *     anyway, and escapes inside a %{name:argument}, may go either way.
 *     (Checked against httpd 2.4.71: mod_headers "expr=a\101b" sends
 *     "aAb", "a\x41b" sends "ax41b", "a\0b" sends "a", "a\bb" is a control
 *     character.)
 * Every list is checked whole and rule by rule: a refusal names the field
 * "<list>[i]" of the first rule the model must refuse, or of an earlier
 * one it may; an acceptance means no rule must be refused; an accepted
 * set/add rule's name and value hold no byte illegal in a header field.
 * A refusal's problem quotes the name, or names the header.
 *
 * Input: lines, one rule each (at most MAX_RULES): the first byte the
 * action ('s' set, 'a' add, 'u' unset, anything else an unknown action),
 * then the name, then, if there is a TAB, the value (all after the first
 * TAB). No hop-by-hop or framing names (Host, Content-Length,
 * Transfer-Encoding, Connection...) are refused: the code does not claim
 * to, so the model does not either. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "apigw_policy_validate.h"

#define FUZZ_TARGET "fuzz_headers"
#include "fuzz_check.h"

/* The model's own loops stay out of the coverage feedback (as in
 * fuzz_route.c). */
#define MODEL __attribute__((no_sanitize("coverage"), noinline))

#define MAX_RULES 16

typedef enum { V_OK, V_MAY, V_MUST } verdict;   /* refuse: no, either, yes */

/* ---- RFC 9110 ---- */

static MODEL int tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static MODEL int token(const char *s)
{
    if (!s || !*s) {
        return 0;
    }
    for (; *s; s++) {
        if (!tchar((unsigned char)*s)) {
            return 0;
        }
    }
    return 1;
}

/* field-vchar (VCHAR, obs-text), SP, HTAB */
static MODEL int field_byte(unsigned char c)
{
    return c == '\t' || c == ' ' || (c >= 0x21 && c <= 0x7e) || c >= 0x80;
}

static MODEL int ctl_value(unsigned v)
{
    return (v < 0x20 && v != '\t') || v == 0x7f;
}

/* ---- ap_expr string text (httpd 2.4 util_expr_scan.l, <str> state) ---- */

/* One escape at s (s[0] == '\\'): its length, and what it makes: 0 a byte
 * in *byte, 1 a parse error. */
static MODEL int escape(const char *s, size_t *len, unsigned *byte)
{
    size_t digits = 0, octal = 0;
    unsigned v = 0;

    while (s[1 + digits] >= '0' && s[1 + digits] <= '9') {
        digits++;
    }
    while (octal < 3 && s[1 + octal] >= '0' && s[1 + octal] <= '7') {
        v = v * 8 + (unsigned)(s[1 + octal] - '0');
        octal++;
    }
    if (digits) {
        /* flex takes the longest match: "\\[0-9]+" (an error) beats
         * "\\[0-7]{1,3}" when it is longer; equal, the octal rule */
        if (digits > octal || v > 0xff) {
            return 1;
        }
        *len = 1 + octal;
        *byte = v;
        return 0;
    }
    *len = 2;
    switch (s[1]) {
    case '\0':
        *len = 1;                   /* a lone '\' at the end: itself */
        *byte = '\\';
        return 0;
    case 'n':
        *byte = '\n';
        return 0;
    case 'r':
        *byte = '\r';
        return 0;
    case 't':
        *byte = '\t';
        return 0;
    case 'b':
        *byte = '\b';
        return 0;
    case 'f':
        *byte = '\f';
        return 0;
    }
    *byte = (unsigned char)s[1];    /* "\\", "\%", "\x"...: the byte */
    return 0;
}

/* What the validator must do with value v of a set/add rule. */
static MODEL verdict value_verdict(const char *v)
{
    const char *s;
    verdict worst = V_OK;

    for (s = v; *s; s++) {
        if (!field_byte((unsigned char)*s)) {
            return V_MUST;
        }
    }
    if (!strpbrk(v, "%\\")) {
        return V_OK;                /* used as it is */
    }
    for (s = v; *s; ) {
        size_t len;
        unsigned byte;

        if (s[0] == '%' && s[1] == '{') {
            if (s[2] == ':') {
                /* %{: expression :} — not modelled */
                return worst == V_MUST ? V_MUST : V_MAY;
            }
            s += 2;
            if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z'))) {
                return worst == V_MUST ? V_MUST : V_MAY;   /* parse error */
            }
            while ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')
                   || (*s >= '0' && *s <= '9') || *s == '_') {
                s++;
            }
            if (*s == ':') {
                /* the argument: a lookup key, not output; its escapes
                 * may be refused or not */
                for (s++; *s && *s != '}'; ) {
                    if (*s != '\\') {
                        s++;
                        continue;
                    }
                    if (escape(s, &len, &byte)) {
                        return worst == V_MUST ? V_MUST : V_MAY;
                    }
                    if (ctl_value(byte)) {
                        worst = worst == V_MUST ? V_MUST : V_MAY;
                    }
                    s += len;
                }
            }
            if (*s != '}') {
                return worst == V_MUST ? V_MUST : V_MAY;   /* unterminated */
            }
            s++;
            continue;
        }
        if (*s == '\\') {
            if (escape(s, &len, &byte)) {
                return worst == V_MUST ? V_MUST : V_MAY;
            }
            if (ctl_value(byte)) {
                return V_MUST;
            }
            s += len;
            continue;
        }
        s++;                        /* text, "$1", a '%' alone */
    }
    return worst;
}

typedef struct {
    apigw_hdr_action action;
    const char *name;
    const char *value;
    verdict v;
} mrule;

static MODEL verdict rule_verdict(const mrule *r)
{
    if (!token(r->name)) {
        return V_MUST;
    }
    switch (r->action) {
    case APIGW_HDR_UNSET:
        return r->value ? V_MUST : V_OK;
    case APIGW_HDR_SET:
    case APIGW_HDR_ADD:
        return r->value ? value_verdict(r->value) : V_MUST;
    }
    return V_MUST;                  /* unknown action */
}

/* ---- checks ---- */

static apr_array_header_t *list_of(apr_pool_t *p, const mrule *rules, int from,
                                   int to)
{
    apr_array_header_t *a = apr_array_make(p, to - from + 1,
                                           sizeof(apigw_header_rule));
    int i;

    for (i = from; i < to; i++) {
        apigw_header_rule *h = apr_array_push(a);
        memset(h, 0, sizeof(*h));
        h->action = rules[i].action;
        h->name = rules[i].name;
        h->value = rules[i].value;
    }
    return a;
}

/* The validator's answer on rules[from..to), as field "list", against the
 * model; returns the index refused, or -1. */
static int check_list(apr_pool_t *p, const char *list, const mrule *rules,
                      int from, int to)
{
    const apigw_invalid *inv;
    const mrule *bad;
    const char *want_field;
    int i, j = -1;

    inv = apigw_header_rules_validate(p, list, list_of(p, rules, from, to));
    if (!inv) {
        for (i = from; i < to; i++) {
            const unsigned char *s;
            CHECK(rules[i].v != V_MUST, "%s[%d]: action %d name \"%s\" value "
                  "\"%s\" accepted", list, i - from, (int)rules[i].action,
                  rules[i].name, rules[i].value ? rules[i].value : "(none)");
            /* whatever the model: accepted is legal in a header */
            CHECK(token(rules[i].name), "name \"%s\" accepted",
                  rules[i].name);
            for (s = (const unsigned char *)(rules[i].value
                                             ? rules[i].value : "");
                 *s; s++) {
                CHECK(field_byte(*s), "value \"%s\" accepted with byte 0x%02x",
                      rules[i].value, *s);
            }
        }
        return -1;
    }
    CHECK(inv->field && inv->problem && *inv->problem, "a refusal without "
          "a field or a problem");
    CHECK(sscanf(inv->field, "%*[a-zA-Z][%d]", &j) == 1 && j >= 0
          && from + j < to, "field \"%s\"", inv->field);
    want_field = apr_psprintf(p, "%s[%d]", list, j);
    CHECK(strcmp(inv->field, want_field) == 0, "field \"%s\", not \"%s\"",
          inv->field, want_field);
    bad = &rules[from + j];
    CHECK(bad->v != V_OK, "%s: action %d name \"%s\" value \"%s\" refused: "
          "%s", inv->field, (int)bad->action, bad->name,
          bad->value ? bad->value : "(none)", inv->problem);
    for (i = from; i < from + j; i++) {
        CHECK(rules[i].v != V_MUST, "%s refused, but %s[%d] (\"%s\") must be "
              "first", inv->field, list, i - from, rules[i].name);
    }
    /* the problem says which header: its name, quoted when it is the
     * problem; an unknown action (only the admin API can send one) is
     * the exception */
    if (bad->action <= APIGW_HDR_UNSET || !token(bad->name)) {
        CHECK(strstr(inv->problem, bad->name), "%s: \"%s\" does not name "
              "\"%s\"", inv->field, inv->problem, bad->name);
    }
    return from + j;
}

/* CORS lists share the token rule: allowHeaders takes "*" too. */
static void check_cors(apr_pool_t *p, const mrule *rules, int n)
{
    apigw_cors_policy c;
    apr_array_header_t *names = apr_array_make(p, n + 1, sizeof(const char *));
    const apigw_invalid *inv;
    int i, first_bad = -1, first_bad_star = -1;

    for (i = 0; i < n; i++) {
        APR_ARRAY_PUSH(names, const char *) = rules[i].name;
        if (!token(rules[i].name)) {
            if (first_bad < 0) {
                first_bad = i;
            }
            if (first_bad_star < 0 && strcmp(rules[i].name, "*") != 0) {
                first_bad_star = i;
            }
        }
    }
    memset(&c, 0, sizeof(c));
    c.enabled = 1;
    c.credentials = -1;
    c.max_age = -1;
    c.headers = names;
    inv = apigw_cors_validate(p, &c);
    if (first_bad_star < 0) {
        CHECK(!inv, "allowHeaders refused: %s %s", inv->field, inv->problem);
    }
    else {
        const char *want = apr_psprintf(p, "cors.allowHeaders[%d]",
                                        first_bad_star);
        CHECK(inv && strcmp(inv->field, want) == 0, "allowHeaders: %s, want "
              "%s", inv ? inv->field : "accepted", want);
    }
    c.headers = NULL;
    c.expose = names;
    inv = apigw_cors_validate(p, &c);
    if (first_bad < 0) {
        CHECK(!inv, "exposeHeaders refused: %s %s", inv->field, inv->problem);
    }
    else {
        const char *want = apr_psprintf(p, "cors.exposeHeaders[%d]",
                                        first_bad);
        CHECK(inv && strcmp(inv->field, want) == 0, "exposeHeaders: %s, want "
              "%s", inv ? inv->field : "accepted", want);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    apr_initialize();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    mrule rules[MAX_RULES];
    size_t pos = 0;
    int n = 0, i, whole_req, whole_resp;

    if (size > 8192 || apr_pool_create(&p, NULL) != APR_SUCCESS) {
        return 0;
    }
    while (pos < size && n < MAX_RULES) {
        const uint8_t *nl = memchr(data + pos, '\n', size - pos);
        size_t len = nl ? (size_t)(nl - (data + pos)) : size - pos;
        const char *text = apr_pstrmemdup(p, (const char *)data + pos, len);
        mrule *r = &rules[n++];
        const char *tab;

        switch (text[0]) {
        case 's':
            r->action = APIGW_HDR_SET;
            break;
        case 'a':
            r->action = APIGW_HDR_ADD;
            break;
        case 'u':
            r->action = APIGW_HDR_UNSET;
            break;
        default:
            r->action = (apigw_hdr_action)(APIGW_HDR_UNSET + 1
                                           + (unsigned char)text[0] % 4);
        }
        text += text[0] != '\0';
        tab = strchr(text, '\t');
        r->name = tab ? apr_pstrmemdup(p, text, (size_t)(tab - text)) : text;
        r->value = tab ? tab + 1 : NULL;
        r->v = rule_verdict(r);
        pos += len + 1;
    }

    for (i = 0; i < n; i++) {
        int j = check_list(p, "requestHeaders", rules, i, i + 1);
        CHECK((j == i) == (rules[i].v == V_MUST) || rules[i].v == V_MAY,
              "rule %d alone", i);
    }
    whole_req = check_list(p, "requestHeaders", rules, 0, n);
    whole_resp = check_list(p, "responseHeaders", rules, 0, n);
    CHECK(whole_req == whole_resp, "requestHeaders refused [%d], "
          "responseHeaders [%d]", whole_req, whole_resp);
    check_cors(p, rules, n);
    apr_pool_destroy(p);
    return 0;
}
