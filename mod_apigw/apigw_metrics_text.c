/* The metrics exposition text (see apigw_metrics_text.h): the buffer, the
 * escaping of label values, the sample lines of both formats and the
 * Accept header's choice between them. Pure: APR only. */
#include "apigw_metrics_text.h"

#include "apr_strings.h"

#include <string.h>
#include <strings.h>

struct apigw_mtext {
    apr_pool_t *p;
    char *buf;
    apr_size_t len, cap;
    int om;
};

apigw_mtext *apigw_mtext_create(apr_pool_t *p, int openmetrics,
                                apr_size_t hint)
{
    apigw_mtext *t = apr_pcalloc(p, sizeof(*t));

    t->p = p;
    t->om = openmetrics;
    t->cap = hint < 256 ? 256 : hint;
    t->buf = apr_palloc(p, t->cap);
    t->buf[0] = '\0';
    return t;
}

static void reserve(apigw_mtext *t, apr_size_t more)
{
    char *nb;
    apr_size_t cap = t->cap;

    if (t->len + more + 1 <= cap) {
        return;
    }
    while (t->len + more + 1 > cap) {
        cap *= 2;
    }
    nb = apr_palloc(t->p, cap);
    memcpy(nb, t->buf, t->len + 1);
    t->buf = nb;
    t->cap = cap;
}

static void put(apigw_mtext *t, const char *s, apr_size_t n)
{
    reserve(t, n);
    memcpy(t->buf + t->len, s, n);
    t->len += n;
    t->buf[t->len] = '\0';
}

static void puts_(apigw_mtext *t, const char *s)
{
    put(t, s, strlen(s));
}

static void put_u64(apigw_mtext *t, apr_uint64_t v)
{
    char tmp[24];
    int i = (int)sizeof(tmp);

    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put(t, tmp + i, sizeof(tmp) - (apr_size_t)i);
}

/* The length of the valid UTF-8 sequence at s (1..4), or 0. */
static apr_size_t utf8_len(const unsigned char *s)
{
    unsigned char c = s[0];
    apr_size_t n, i;
    unsigned long cp;

    if (c < 0x80) {
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        cp = c & 0x1F;
    }
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        cp = c & 0x0F;
    }
    else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        cp = c & 0x07;
    }
    else {
        return 0;
    }
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            return 0;               /* also stops at the NUL */
        }
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF)))
        || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF))) {
        return 0;                   /* overlong, surrogate, out of range */
    }
    return n;
}

const char *apigw_mtext_escape(apr_pool_t *p, const char *value)
{
    const unsigned char *s = (const unsigned char *)(value ? value : "");
    apr_size_t n = strlen((const char *)s);
    /* at worst every byte becomes U+FFFD (3 bytes) */
    char *out = apr_palloc(p, n * 3 + 1), *o = out;

    while (*s) {
        apr_size_t k;

        switch (*s) {
        case '\\':
            *o++ = '\\';
            *o++ = '\\';
            s++;
            continue;
        case '"':
            *o++ = '\\';
            *o++ = '"';
            s++;
            continue;
        case '\n':
            *o++ = '\\';
            *o++ = 'n';
            s++;
            continue;
        default:
            break;
        }
        if ((k = utf8_len(s)) == 0) {
            memcpy(o, "\xEF\xBF\xBD", 3);
            o += 3;
            s++;
            continue;
        }
        memcpy(o, s, k);
        o += k;
        s += k;
    }
    *o = '\0';
    return out;
}

const char *apigw_mtext_labels(apr_pool_t *p, const char *const *names,
                               const char *const *values, int n)
{
    const char *out = "";
    int i;

    for (i = 0; i < n; i++) {
        out = apr_pstrcat(p, out, i ? "," : "", names[i], "=\"",
                          apigw_mtext_escape(p, values[i]), "\"", NULL);
    }
    return out;
}

static void help_text(apigw_mtext *t, const char *help)
{
    const char *s;

    for (s = help; *s; s++) {
        if (*s == '\\') {
            puts_(t, "\\\\");
        }
        else if (*s == '\n') {
            puts_(t, "\\n");
        }
        else if (*s == '"' && t->om) {
            puts_(t, "\\\"");
        }
        else {
            put(t, s, 1);
        }
    }
}

void apigw_mtext_family(apigw_mtext *t, const char *name, apigw_mtype type,
                        const char *help)
{
    static const char *const types[] = { "counter", "gauge", "histogram" };
    const char *total = type == APIGW_MTYPE_COUNTER && !t->om ? "_total" : "";

    puts_(t, "# HELP ");
    puts_(t, name);
    puts_(t, total);
    puts_(t, " ");
    help_text(t, help);
    puts_(t, "\n# TYPE ");
    puts_(t, name);
    puts_(t, total);
    puts_(t, " ");
    puts_(t, types[type]);
    puts_(t, "\n");
}

/* name+suffix, then {labels,x1x2x3} (the x parts: one more pair, written
 * as they are; NULL x1 for none) and the space before the value. */
static void series(apigw_mtext *t, const char *name, const char *suffix,
                   const char *labels, const char *x1, const char *x2,
                   const char *x3)
{
    int any = labels && *labels;

    puts_(t, name);
    puts_(t, suffix);
    if (!any && !x1) {
        puts_(t, " ");
        return;
    }
    puts_(t, "{");
    if (any) {
        puts_(t, labels);
    }
    if (x1) {
        if (any) {
            puts_(t, ",");
        }
        puts_(t, x1);
        puts_(t, x2 ? x2 : "");
        puts_(t, x3 ? x3 : "");
    }
    puts_(t, "} ");
}

void apigw_mtext_counter(apigw_mtext *t, const char *name, const char *labels,
                         const char *extra, apr_uint64_t value)
{
    series(t, name, "_total", labels, extra, NULL, NULL);
    put_u64(t, value);
    puts_(t, "\n");
}

void apigw_mtext_gauge(apigw_mtext *t, const char *name, const char *labels,
                       const char *extra, apr_int64_t value)
{
    series(t, name, "", labels, extra, NULL, NULL);
    if (value < 0) {
        puts_(t, "-");
        put_u64(t, (apr_uint64_t)0 - (apr_uint64_t)value);
    }
    else {
        put_u64(t, (apr_uint64_t)value);
    }
    puts_(t, "\n");
}

void apigw_mtext_histogram(apigw_mtext *t, const char *name,
                           const char *labels, const char *const *bounds,
                           int nbounds, const apr_uint64_t *counts,
                           apr_uint64_t sum_us)
{
    apr_uint64_t cum = 0;
    char frac[8];
    int i;

    for (i = 0; i <= nbounds; i++) {
        const char *le = i < nbounds ? bounds[i] : "+Inf";

        cum += counts[i];
        series(t, name, "_bucket", labels, "le=\"", le, "\"");
        put_u64(t, cum);
        puts_(t, "\n");
    }
    series(t, name, "_count", labels, NULL, NULL, NULL);
    put_u64(t, cum);
    puts_(t, "\n");
    series(t, name, "_sum", labels, NULL, NULL, NULL);
    put_u64(t, sum_us / 1000000);
    apr_snprintf(frac, sizeof(frac), ".%06u", (unsigned)(sum_us % 1000000));
    puts_(t, frac);
    puts_(t, "\n");
}

const char *apigw_mtext_finish(apigw_mtext *t, apr_size_t *len)
{
    if (t->om) {
        puts_(t, "# EOF\n");
    }
    *len = t->len;
    return t->buf;
}

/* ---- Accept ---- */

static int is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* q as thousandths (RFC 9110 qvalue), -1 when malformed. */
static int qvalue(const char *v, apr_size_t n)
{
    int q, digits = 0;
    apr_size_t i = 1;

    if (n == 0 || (v[0] != '0' && v[0] != '1')) {
        return -1;
    }
    q = (v[0] - '0') * 1000;
    if (n > 1) {
        if (v[1] != '.') {
            return -1;
        }
        for (i = 2; i < n; i++) {
            if (v[i] < '0' || v[i] > '9' || ++digits > 3) {
                return -1;
            }
            q += (v[i] - '0') * (digits == 1 ? 100 : digits == 2 ? 10 : 1);
        }
    }
    return q > 1000 ? -1 : q;
}

static int token_is(const char *s, apr_size_t n, const char *word)
{
    return strlen(word) == n && strncasecmp(s, word, n) == 0;
}

/* One media range of an Accept header, [s, end): *om whether it names
 * OpenMetrics 1.0 text; the result its q (thousandths, -1 malformed). */
static int media_range(const char *s, const char *end, int *om)
{
    const char *p = s, *semi;
    int q = 1000, version_ok = 1, is_om;
    apr_size_t n;

    while (p < end && is_space(*p)) {
        p++;
    }
    semi = memchr(p, ';', (apr_size_t)(end - p));
    n = (apr_size_t)((semi ? semi : end) - p);
    while (n && is_space(p[n - 1])) {
        n--;
    }
    if (n == 0) {
        return -1;                  /* an empty element of the list */
    }
    is_om = token_is(p, n, "application/openmetrics-text");
    while (semi) {
        const char *k = semi + 1, *eq, *v, *next;
        apr_size_t kn, vn;

        next = memchr(k, ';', (apr_size_t)(end - k));
        semi = next;
        next = next ? next : end;
        while (k < next && is_space(*k)) {
            k++;
        }
        eq = memchr(k, '=', (apr_size_t)(next - k));
        if (!eq) {
            continue;
        }
        kn = (apr_size_t)(eq - k);
        while (kn && is_space(k[kn - 1])) {
            kn--;
        }
        v = eq + 1;
        while (v < next && is_space(*v)) {
            v++;
        }
        vn = (apr_size_t)(next - v);
        while (vn && is_space(v[vn - 1])) {
            vn--;
        }
        if (vn >= 2 && v[0] == '"' && v[vn - 1] == '"') {
            v++;
            vn -= 2;
        }
        if (token_is(k, kn, "q")) {
            q = qvalue(v, vn);
        }
        else if (token_is(k, kn, "version")) {
            version_ok = token_is(v, vn, "1.0.0");
        }
    }
    *om = is_om && version_ok;
    return q;
}

int apigw_mtext_wants_openmetrics(const char *accept)
{
    int best_om = 0, best_other = 0, pos = 0, om_pos = 0, other_pos = 0;
    const char *s = accept;

    if (!accept) {
        return 0;
    }
    while (*s) {
        const char *end = strchr(s, ',');
        int om = 0, q;

        end = end ? end : s + strlen(s);
        q = media_range(s, end, &om);
        pos++;
        if (om && q > best_om) {
            best_om = q;
            om_pos = pos;
        }
        else if (!om && q > best_other) {
            best_other = q;
            other_pos = pos;
        }
        s = *end ? end + 1 : end;
    }
    /* the better q, or the first listed of equals */
    return best_om > 0 && (best_om > best_other
                           || (best_om == best_other && om_pos < other_pos));
}
