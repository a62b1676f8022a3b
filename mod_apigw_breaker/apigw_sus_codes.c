/* Error-code lists of the suspension policies (see apigw_sus_codes.h):
 * parsing, membership and the canonical form. */
#include "apigw_sus_codes.h"

#include <string.h>
#include <strings.h>
#include <apr_strings.h>
#include <apr_lib.h>

typedef struct {
    const char *name;
    apr_uint32_t bit;
} transport_name;

/* The order here is the canonical order of apigw_sus_codes_format. */
static const transport_name transport_names[] = {
    { "connect-refused", APIGW_SUS_CONNECT_REFUSED },
    { "connect-timeout", APIGW_SUS_CONNECT_TIMEOUT },
    { "read-timeout", APIGW_SUS_READ_TIMEOUT },
    { "closed", APIGW_SUS_CLOSED },
    { "tls", APIGW_SUS_TLS },
    { "dns", APIGW_SUS_DNS },
    { NULL, 0 }
};

/* WSO2/Synapse transport error codes (NhttpConstants) and what each means
 * here. Synapse has no separate TLS or DNS codes: both surface as 101503. */
typedef struct {
    const char *code;
    apr_uint32_t bits;
} wso2_code;

static const wso2_code wso2_codes[] = {
    { "101000", APIGW_SUS_CLOSED },          /* receiver I/O error sending */
    { "101001", APIGW_SUS_CLOSED },          /* receiver I/O error receiving */
    { "101500", APIGW_SUS_CLOSED },          /* sender I/O error sending */
    { "101501", APIGW_SUS_CLOSED },          /* sender I/O error receiving */
    { "101503", APIGW_SUS_CONNECT_REFUSED | APIGW_SUS_DNS
                | APIGW_SUS_TLS },           /* connection failed */
    { "101504", APIGW_SUS_READ_TIMEOUT },    /* connection timed out */
    { "101505", APIGW_SUS_CLOSED },          /* connection closed */
    { "101506", APIGW_SUS_CLOSED },          /* protocol violation */
    { "101507", APIGW_SUS_CONNECT_REFUSED }, /* connection cancelled */
    { "101508", APIGW_SUS_CONNECT_TIMEOUT }, /* connect timed out */
    { "101509", APIGW_SUS_CLOSED },          /* send aborted */
    { "101510", APIGW_SUS_CLOSED },          /* response processing failed */
    { NULL, 0 }
};

#define IS_SEP(c) ((c) == ',' || (c) == ' ' || (c) == '\t')
#define MAX_TOKEN_SHOWN 40

static void set_status(apigw_sus_codes *c, int status)
{
    c->status[status / 64] |= (apr_uint64_t)1 << (status % 64);
}

int apigw_sus_codes_has_status(const apigw_sus_codes *c, int status)
{
    if (status < APIGW_SUS_STATUS_MIN || status > APIGW_SUS_STATUS_MAX) {
        return 0;
    }
    return (c->status[status / 64] >> (status % 64)) & 1;
}

int apigw_sus_codes_has_transport(const apigw_sus_codes *c, apr_uint32_t bit)
{
    return (c->transport & bit) != 0;
}

int apigw_sus_codes_is_empty(const apigw_sus_codes *c)
{
    int i;

    if (c->transport) {
        return 0;
    }
    for (i = 0; i < APIGW_SUS_STATUS_WORDS; i++) {
        if (c->status[i]) {
            return 0;
        }
    }
    return 1;
}

const char *apigw_sus_transport_name(apr_uint32_t bit)
{
    const transport_name *t;

    for (t = transport_names; t->name; t++) {
        if (t->bit == bit) {
            return t->name;
        }
    }
    return NULL;
}

static int all_digits(const char *s, apr_size_t len)
{
    apr_size_t i;

    for (i = 0; i < len; i++) {
        if (!apr_isdigit(s[i])) {
            return 0;
        }
    }
    return len > 0;
}

/* "503" -> 503, or -1 when not three digits within 100-599. */
static int status_of(const char *s, apr_size_t len)
{
    int v;

    if (len != 3 || !all_digits(s, len)) {
        return -1;
    }
    v = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
    return (v >= APIGW_SUS_STATUS_MIN && v <= APIGW_SUS_STATUS_MAX) ? v : -1;
}

static const char *bad_token(apr_pool_t *p, const char *tok, apr_size_t len,
                             const char *why)
{
    int shown = (int)(len > MAX_TOKEN_SHOWN ? MAX_TOKEN_SHOWN : len);

    return apr_psprintf(p, "error code '%.*s%s': %s", shown, tok,
                        len > MAX_TOKEN_SHOWN ? "..." : "", why);
}

#define UNKNOWN_CODE "unknown (use connect-refused, connect-timeout, " \
    "read-timeout, closed, tls, dns, an HTTP status 100-599, a range such " \
    "as 500-504 or 5xx, or a WSO2 code such as 101503)"

static const char *parse_token(apr_pool_t *p, const char *tok, apr_size_t len,
                               apigw_sus_codes *out)
{
    const transport_name *t;
    const wso2_code *w;
    const char *dash;
    int lo, hi, s;

    for (t = transport_names; t->name; t++) {
        if (strlen(t->name) == len && strncasecmp(t->name, tok, len) == 0) {
            out->transport |= t->bit;
            return NULL;
        }
    }
    if (len == 6 && all_digits(tok, len)) {
        for (w = wso2_codes; w->code; w++) {
            if (memcmp(w->code, tok, 6) == 0) {
                out->transport |= w->bits;
                return NULL;
            }
        }
        return bad_token(p, tok, len, "not a WSO2 transport error code "
                         "this gateway knows (101000, 101001, 101500, "
                         "101501, 101503-101510)");
    }
    if (len == 3 && tok[0] >= '1' && tok[0] <= '5'
        && (tok[1] == 'x' || tok[1] == 'X') && (tok[2] == 'x' || tok[2] == 'X')) {
        lo = (tok[0] - '0') * 100;
        for (s = lo; s < lo + 100; s++) {
            set_status(out, s);
        }
        return NULL;
    }
    if (all_digits(tok, len)) {
        if ((s = status_of(tok, len)) < 0) {
            return bad_token(p, tok, len, "not an HTTP status (100-599)");
        }
        set_status(out, s);
        return NULL;
    }
    dash = memchr(tok, '-', len);
    if (dash && all_digits(tok, (apr_size_t)(dash - tok))
        && all_digits(dash + 1, len - (apr_size_t)(dash - tok) - 1)) {
        lo = status_of(tok, (apr_size_t)(dash - tok));
        hi = status_of(dash + 1, len - (apr_size_t)(dash - tok) - 1);
        if (lo < 0 || hi < 0) {
            return bad_token(p, tok, len, "a range needs two HTTP statuses "
                             "(100-599), such as 500-504");
        }
        if (lo > hi) {
            return bad_token(p, tok, len, "the range is empty (its first "
                             "status is above its last)");
        }
        for (s = lo; s <= hi; s++) {
            set_status(out, s);
        }
        return NULL;
    }
    return bad_token(p, tok, len, UNKNOWN_CODE);
}

const char *apigw_sus_codes_parse(apr_pool_t *p, const char *list,
                                  apigw_sus_codes *out)
{
    const char *s = list ? list : "";
    int tokens = 0;

    memset(out, 0, sizeof(*out));
    while (*s) {
        const char *start;
        const char *err;

        while (IS_SEP(*s)) {
            s++;
        }
        if (!*s) {
            break;
        }
        start = s;
        while (*s && !IS_SEP(*s)) {
            s++;
        }
        err = parse_token(p, start, (apr_size_t)(s - start), out);
        if (err) {
            memset(out, 0, sizeof(*out));
            return err;
        }
        tokens++;
    }
    if (!tokens) {
        return "the error code list is empty (leave codes= out to mean "
               "any transport error)";
    }
    return NULL;
}

const char *apigw_sus_codes_format(apr_pool_t *p, const apigw_sus_codes *c)
{
    const transport_name *t;
    const char *out = "";
    const char *sep = "";
    int s;

    for (t = transport_names; t->name; t++) {
        if (c->transport & t->bit) {
            out = apr_pstrcat(p, out, sep, t->name, NULL);
            sep = ",";
        }
    }
    for (s = APIGW_SUS_STATUS_MIN; s <= APIGW_SUS_STATUS_MAX; s++) {
        int end = s;

        if (!apigw_sus_codes_has_status(c, s)) {
            continue;
        }
        while (end + 1 <= APIGW_SUS_STATUS_MAX
               && apigw_sus_codes_has_status(c, end + 1)) {
            end++;
        }
        out = (end == s) ? apr_psprintf(p, "%s%s%d", out, sep, s)
                         : apr_psprintf(p, "%s%s%d-%d", out, sep, s, end);
        sep = ",";
        s = end;
    }
    return out;
}
