/* sources: mod_apigw_breaker/apigw_sus_session.c */
/* libFuzzer target for mod_apigw_breaker/apigw_sus_session.c: session
 * affinity, from a backend's Set-Cookie to the shared session table.
 *
 * Text mode. Each Set-Cookie value goes through apigw_sus_set_cookie_value
 * and an independent reference of the round trip: RFC 6265 5.2 as a
 * client stores the cookie (the pair up to the first ';', split at the
 * first '=', SP and HTAB trimmed around name and value, no '=' or an
 * empty name: ignored), the Cookie header the client sends back ("name=
 * value" among other cookies, RFC 6265 5.4), and httpd's ap_cookie_read
 * on it (pieces split at ',' and ';', leading space skipped, "name="
 * matched, a cookie given twice with different values refused). The
 * extraction must match exactly when the stored cookie has the name, and
 * give the very bytes ap_cookie_read gives (when those are empty, or
 * ap_cookie_read refuses, the request side has no session: an empty
 * value must not match, a refused one may). Names tried: the configured
 * one, the name the header sets and near misses of it (a byte more
 * before or after, a byte less). A matched value's key must be FNV-1a of
 * it, and a session put under it must be found by the request's key.
 *
 * Table mode. Sequences of put and find with input-chosen table sizes,
 * keys, members, times (forwards, and a little backwards as another
 * child's clock may be) and timeouts, against a model map key -> (member,
 * last use known within [lo, hi] ms, as a hit refreshes at most once a
 * second). After every step the table, read through the slot layout the
 * header documents, must hold exactly the model's keys, each once, within
 * 8 slots of key % n, with the model's member and a last use in [lo, hi];
 * a find must return the member iff the session is live, -1 otherwise,
 * and change nothing but its own slot's last use (to now, and only after
 * a second); a put changes one slot only. A session is forgotten only as
 * the header allows: its slot taken by a new key's put while expired, or
 * as the least recently used of a neighbourhood with no empty or expired
 * slot.
 *
 * Input: a first byte 'T' selects table mode, the rest being steps of 4
 * bytes after one byte of table size (see run_table). Otherwise text:
 * line 1 is the configured cookie name (SESSION when it is not a token),
 * every further line a Set-Cookie header value. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "apigw_sus_session.h"

#define FUZZ_TARGET "fuzz_affinity"
#include "fuzz_check.h"

#define T0 ((apr_time_t)1700000000 * APR_USEC_PER_SEC)
#define MAX_SLOTS 48
#define WINDOW 8
#define MAX_LINES 64

/* ---- reference FNV-1a, 64 bits ---- */

static apr_uint64_t ref_fnv(const char *s, size_t len)
{
    apr_uint64_t h = 0xcbf29ce484222325ULL;
    size_t i;

    for (i = 0; i < len; i++) {
        h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
    }
    return h == 0 ? 1 : h;
}

/* ==== text mode: Set-Cookie ==== */

static int tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int is_token(const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (!tchar((unsigned char)s[i])) {
            return 0;
        }
    }
    return len > 0;
}

/* RFC 6265 5.2, as a client stores a Set-Cookie: 1 with the cookie's name
 * and value, or 0 when the header is ignored. */
static int ref_store(const char *h, size_t *ns, size_t *nl, size_t *vs,
                     size_t *vl)
{
    size_t pair = 0, eq = (size_t)-1, i, a, b;

    while (h[pair] && h[pair] != ';') {
        pair++;
    }
    for (i = 0; i < pair; i++) {
        if (h[i] == '=') {
            eq = i;
            break;
        }
    }
    if (eq == (size_t)-1) {
        return 0;
    }
    for (a = 0, b = eq; a < b && (h[a] == ' ' || h[a] == '\t'); a++)
        ;
    for (; b > a && (h[b - 1] == ' ' || h[b - 1] == '\t'); b--)
        ;
    if (a == b) {
        return 0;
    }
    *ns = a;
    *nl = b - a;
    for (a = eq + 1, b = pair; a < b && (h[a] == ' ' || h[a] == '\t'); a++)
        ;
    for (; b > a && (h[b - 1] == ' ' || h[b - 1] == '\t'); b--)
        ;
    *vs = a;
    *vl = b - a;
    return 1;
}

static int c_isspace(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* httpd's ap_cookie_read on one Cookie header: 1 with *out (from p), 0
 * when the cookie is not there, -1 when it is there twice with different
 * values. Pieces are split at ',' then ';', empty ones skipped (as
 * apr_strtok does). */
static int ref_cookie_read(apr_pool_t *p, const char *header,
                           const char *name, char **out)
{
    char *copy = apr_pstrdup(p, header), *l1, *l2, *part, *piece;
    const char *prefix = apr_pstrcat(p, name, "=", NULL);
    size_t plen = strlen(prefix);
    int dup = 0;

    *out = NULL;
    for (part = apr_strtok(copy, ",", &l1); part;
         part = apr_strtok(NULL, ",", &l1)) {
        for (piece = apr_strtok(part, ";", &l2); piece;
             piece = apr_strtok(NULL, ";", &l2)) {
            while (c_isspace(*piece)) {
                piece++;
            }
            if (strncmp(piece, prefix, plen) != 0) {
                continue;
            }
            if (*out && strcmp(*out, piece + plen) != 0) {
                dup = 1;
            }
            *out = piece + plen;
        }
    }
    return dup ? -1 : *out != NULL;
}

/* One name against one header. */
static void check_cookie(apr_pool_t *p, const char *h, const char *name,
                         apigw_sus_session *table, int member)
{
    size_t ns, nl, vs, vl, hlen = strlen(h), len = strlen(name);
    const char *value = NULL;
    apr_size_t value_len = 0;
    char *sent = NULL, *cookie;
    int got, stored, read = 0;

    got = apigw_sus_set_cookie_value(h, name, len, &value, &value_len);
    stored = ref_store(h, &ns, &nl, &vs, &vl) && nl == len
             && memcmp(h + ns, name, len) == 0;
    if (stored) {
        /* what the client sends back, among other cookies */
        const char *v = apr_pstrmemdup(p, h + vs, vl);
        cookie = strcmp(name, "a0") && strcmp(name, "z9")
                 ? apr_pstrcat(p, "a0=1; ", name, "=", v, "; z9=2", NULL)
                 : apr_pstrcat(p, name, "=", v, NULL);
        read = ref_cookie_read(p, cookie, name, &sent);
        CHECK(read != 0, "[%s] %s: the client's cookie not read back", h,
              name);
    }
    if (!stored || (read == 1 && !*sent)) {
        CHECK(!got, "[%s] %s: matched \"%.*s\", want no session", h, name,
              (int)value_len, value);
        return;
    }
    if (read == -1) {
        return;                     /* the request side has no session */
    }
    CHECK(got, "[%s] %s: no match, want \"%s\"", h, name, sent);
    CHECK(value >= h && value_len <= hlen
          && (size_t)(value - h) <= hlen - value_len,
          "[%s] %s: value outside the header", h, name);
    CHECK(value_len == strlen(sent) && memcmp(value, sent, value_len) == 0,
          "[%s] %s:\n  got  \"%.*s\"\n  want \"%s\" (what ap_cookie_read "
          "gives)", h, name, (int)value_len, value, sent);
    CHECK(apigw_sus_session_key(value, value_len) == ref_fnv(sent,
                                                             strlen(sent)),
          "[%s] key of \"%s\"", h, sent);
    /* the response's session, then the client's next request */
    apigw_sus_session_put(table, MAX_SLOTS, apigw_sus_session_key(value,
                          value_len), member, T0, apr_time_from_sec(60));
    CHECK(apigw_sus_session_find(table, MAX_SLOTS, apigw_sus_session_key(
          sent, strlen(sent)), T0, apr_time_from_sec(60)) == member,
          "[%s] the next request's session is not found", h);
}

static void check_header(apr_pool_t *p, const char *h, const char *conf,
                         apigw_sus_session *table, int member)
{
    size_t ns, nl, vs, vl;

    check_cookie(p, h, conf, table, member);
    if (ref_store(h, &ns, &nl, &vs, &vl) && is_token(h + ns, nl)) {
        const char *own = apr_pstrmemdup(p, h + ns, nl);
        check_cookie(p, h, own, table, member);
        check_cookie(p, h, apr_pstrcat(p, own, "x", NULL), table, member);
        check_cookie(p, h, apr_pstrcat(p, "x", own, NULL), table, member);
        if (nl > 1) {
            check_cookie(p, h, apr_pstrmemdup(p, own, nl - 1), table, member);
            check_cookie(p, h, own + 1, table, member);
        }
    }
}

static void run_text(apr_pool_t *p, const uint8_t *data, size_t size)
{
    static apigw_sus_session table[MAX_SLOTS];
    const char *conf = "SESSION";
    size_t pos = 0;
    int line = 0;

    memset(table, 0, sizeof(table));
    while (pos <= size && line < MAX_LINES) {
        const uint8_t *nl = memchr(data + pos, '\n', size - pos);
        size_t len = nl ? (size_t)(nl - (data + pos)) : size - pos;
        char *text = apr_pstrmemdup(p, (const char *)data + pos, len);

        if (line == 0) {
            if (is_token(text, strlen(text))) {
                conf = text;
            }
        }
        else {
            /* an empty value through a NUL byte: still a header */
            check_header(p, text, conf, table, line % 7);
        }
        line++;
        pos += len + 1;
        if (!nl) {
            break;
        }
    }
}

/* ==== table mode ==== */

typedef struct {
    apr_uint64_t key;
    int member;
    apr_uint64_t lo, hi;            /* last use, ms */
} model_entry;

typedef struct {
    apigw_sus_session t[MAX_SLOTS];
    apr_uint32_t n;
    model_entry m[MAX_SLOTS];
    int nm;
} world;

static apr_uint64_t ms_of(apr_time_t now)
{
    return (apr_uint64_t)now / 1000;
}

static apr_uint64_t slot_used(const apigw_sus_session *s)
{
    return s->val >> 16;
}

static int slot_member(const apigw_sus_session *s)
{
    return (int)(s->val & 0xffff) - 1;
}

/* Live: last used at most timeout ago, or "after" now (another child's
 * clock). */
static int model_live(apr_uint64_t used, apr_time_t now,
                      apr_interval_time_t timeout)
{
    apr_uint64_t t = ms_of(now);

    return t <= used || (t - used) * 1000 <= (apr_uint64_t)timeout;
}

static model_entry *model_get(world *w, apr_uint64_t key)
{
    int i;

    for (i = 0; i < w->nm; i++) {
        if (w->m[i].key == key) {
            return &w->m[i];
        }
    }
    return NULL;
}

static void model_drop(world *w, apr_uint64_t key)
{
    model_entry *e = model_get(w, key);

    if (e) {
        *e = w->m[--w->nm];
    }
}

static apr_uint32_t distance(const world *w, apr_uint64_t key,
                             apr_uint32_t slot)
{
    apr_uint32_t home = (apr_uint32_t)(key % w->n);

    return (slot + w->n - home) % w->n;
}

static int in_window(const world *w, apr_uint64_t key, apr_uint32_t slot)
{
    return distance(w, key, slot) < (w->n < WINDOW ? w->n : WINDOW);
}

/* The table holds exactly the model's sessions. */
static void check_world(const world *w)
{
    apr_uint32_t i, j;
    int occupied = 0;

    for (i = 0; i < w->n; i++) {
        const apigw_sus_session *s = &w->t[i];
        const model_entry *e;

        if (!s->key) {
            continue;
        }
        occupied++;
        e = model_get((world *)w, s->key);
        CHECK(e, "slot %u holds key %llu the model does not have (forgotten "
              "or never put)", i, (unsigned long long)s->key);
        for (j = i + 1; j < w->n; j++) {
            CHECK(w->t[j].key != s->key, "key %llu in slots %u and %u",
                  (unsigned long long)s->key, i, j);
        }
        CHECK(in_window(w, s->key, i), "key %llu in slot %u, out of its 8 "
              "slots from %llu", (unsigned long long)s->key, i,
              (unsigned long long)(s->key % w->n));
        CHECK(slot_member(s) == e->member, "key %llu: member %d, want %d",
              (unsigned long long)s->key, slot_member(s), e->member);
        CHECK(slot_used(s) >= e->lo && slot_used(s) <= e->hi, "key %llu: last "
              "use %llu, want %llu..%llu", (unsigned long long)s->key,
              (unsigned long long)slot_used(s), (unsigned long long)e->lo,
              (unsigned long long)e->hi);
    }
    CHECK(occupied == w->nm, "table holds %d sessions, the model %d",
          occupied, w->nm);
}

static void check_others_same(const world *w, const apigw_sus_session *before,
                              apr_uint32_t except, const char *what)
{
    apr_uint32_t i;

    for (i = 0; i < w->n; i++) {
        CHECK(i == except || (before[i].key == w->t[i].key
                              && before[i].val == w->t[i].val),
              "%s changed slot %u", what, i);
    }
}

/* The slot of key, or n. */
static apr_uint32_t slot_of(const apigw_sus_session *t, apr_uint32_t n,
                            apr_uint64_t key)
{
    apr_uint32_t i;

    for (i = 0; i < n; i++) {
        if (t[i].key == key) {
            return i;
        }
    }
    return n;
}

static void step_find(world *w, apr_uint64_t key, apr_time_t now,
                      apr_interval_time_t timeout)
{
    apigw_sus_session before[MAX_SLOTS];
    model_entry *e = model_get(w, key);
    apr_uint32_t s = slot_of(w->t, w->n, key);
    int got, live;

    memcpy(before, w->t, sizeof(before));
    got = apigw_sus_session_find(w->t, w->n, key, now, timeout);
    if (!e) {
        CHECK(got == -1, "find of unknown key %llu gave %d",
              (unsigned long long)key, got);
        check_others_same(w, before, w->n, "a find of an unknown key");
        return;
    }
    live = model_live(slot_used(&before[s]), now, timeout);
    CHECK(!model_live(e->lo, now, timeout) || live, "model: surely live");
    CHECK(model_live(e->hi, now, timeout) || !live, "model: surely dead");
    CHECK(got == (live ? e->member : -1), "find of key %llu at %llu ms "
          "(timeout %lld us, last use %llu): %d, want %d",
          (unsigned long long)key, (unsigned long long)ms_of(now),
          (long long)timeout, (unsigned long long)slot_used(&before[s]), got,
          live ? e->member : -1);
    check_others_same(w, before, live ? s : w->n, "a find");
    if (!live) {
        return;
    }
    CHECK(w->t[s].key == key && slot_member(&w->t[s]) == e->member,
          "a find changed its session");
    if (w->t[s].val != before[s].val) {
        CHECK(slot_used(&w->t[s]) == ms_of(now)
              && ms_of(now) >= slot_used(&before[s]) + 1000,
              "refreshed %llu -> %llu at %llu ms",
              (unsigned long long)slot_used(&before[s]),
              (unsigned long long)slot_used(&w->t[s]),
              (unsigned long long)ms_of(now));
    }
    /* refreshed at most once a second: now the last use is within 1 s */
    if (e->hi < ms_of(now)) {
        e->hi = ms_of(now);
    }
    if (e->lo + 999 < ms_of(now)) {
        e->lo = ms_of(now) - 999;
    }
}

/* A new key took slot s from victim (0: it was empty). */
static void check_eviction(const world *w, const apigw_sus_session *before,
                           apr_uint64_t key, apr_uint32_t s, apr_time_t now,
                           apr_interval_time_t timeout)
{
    apr_uint32_t i, k, span = w->n < WINDOW ? w->n : WINDOW;
    apr_uint64_t victim = before[s].key;

    CHECK(in_window(w, key, s), "new key %llu put in slot %u",
          (unsigned long long)key, s);
    if (!victim || !model_live(slot_used(&before[s]), now, timeout)) {
        return;                     /* empty or expired: always allowed */
    }
    for (k = 0; k < span; k++) {
        i = (apr_uint32_t)(((key % w->n) + k) % w->n);
        CHECK(before[i].key && model_live(slot_used(&before[i]), now, timeout),
              "key %llu evicted live key %llu while slot %u was free",
              (unsigned long long)key, (unsigned long long)victim, i);
        CHECK(slot_used(&before[s]) <= slot_used(&before[i]), "key %llu "
              "evicted key %llu (used %llu), not the least recently used "
              "(slot %u, %llu)", (unsigned long long)key,
              (unsigned long long)victim,
              (unsigned long long)slot_used(&before[s]), i,
              (unsigned long long)slot_used(&before[i]));
    }
}

static void step_put(world *w, apr_uint64_t key, int member, apr_time_t now,
                     apr_interval_time_t timeout)
{
    apigw_sus_session before[MAX_SLOTS];
    model_entry *e = model_get(w, key);
    apr_uint32_t s;

    memcpy(before, w->t, sizeof(before));
    apigw_sus_session_put(w->t, w->n, key, member, now, timeout);
    if (member < 0 || member > APIGW_SUS_SESSION_MAX_MEMBER) {
        check_others_same(w, before, w->n, "a put of a bad member");
        return;
    }
    s = slot_of(w->t, w->n, key);
    CHECK(s < w->n, "put of key %llu: not in the table",
          (unsigned long long)key);
    check_others_same(w, before, s, "a put");
    if (!e) {
        CHECK(slot_of(before, w->n, key) == w->n, "model lost key %llu",
              (unsigned long long)key);
        check_eviction(w, before, key, s, now, timeout);
        if (before[s].key) {
            model_drop(w, before[s].key);
        }
        e = &w->m[w->nm++];
        e->key = key;
    }
    else {
        CHECK(before[s].key == key, "key %llu moved from its slot",
              (unsigned long long)key);
    }
    e->member = member;
    e->lo = e->hi = ms_of(now);
    CHECK(apigw_sus_session_find(w->t, w->n, key, now, timeout) == member,
          "key %llu not found right after its put", (unsigned long long)key);
}

static const apr_interval_time_t TIMEOUTS[8] = {
    0, 999, 1000, 1500000, 2000000, 10000000, 60000000, 3600000000LL
};

static apr_uint64_t key_of(unsigned char b, unsigned char extra)
{
    if (b < 0xe0) {
        return 1 + b % 20;          /* few keys: collisions in small tables */
    }
    if (b < 0xf0) {
        char s[2] = { (char)b, (char)extra };
        return apigw_sus_session_key(s, 2);
    }
    return ~(apr_uint64_t)0 - (b & 15);     /* key % n near the top */
}

static int member_of(unsigned char b)
{
    switch (b) {
    case 255: return -1;
    case 254: return APIGW_SUS_SESSION_MAX_MEMBER + 1;
    case 253: return APIGW_SUS_SESSION_MAX_MEMBER;
    case 252: return 70000;
    default:  return b % 6;
    }
}

/* Table size: one byte (n = 1 + b % 48). Each step: op, a, b, c.
 *   op % 4 == 0, 1: put key_of(a, c), member_of(b), TIMEOUTS[c % 8]
 *   op % 4 == 2:    find key_of(a, c), TIMEOUTS[c % 8]
 *   op % 4 == 3:    time moves by (a << 8 | b) ms, times (1 + c % 64),
 *                   or back by up to 2 s when op & 4
 * Every op but a move also advances time by op >> 3 ms. */
static void run_table(const uint8_t *data, size_t size)
{
    static world w;
    apigw_sus_session before[MAX_SLOTS];
    apr_time_t now = T0;
    size_t i;

    memset(&w, 0, sizeof(w));
    if (size < 1) {
        return;
    }
    w.n = 1 + data[0] % MAX_SLOTS;
    for (i = 1; i + 4 <= size; i += 4) {
        unsigned char op = data[i], a = data[i + 1], b = data[i + 2],
                      c = data[i + 3];
        switch (op % 4) {
        case 0:
        case 1:
            step_put(&w, key_of(a, c), member_of(b), now, TIMEOUTS[c % 8]);
            break;
        case 2:
            step_find(&w, key_of(a, c), now, TIMEOUTS[c % 8]);
            break;
        default:
            if (op & 4) {
                now -= (apr_time_t)((a << 8 | b) % 2000) * 1000;
            }
            else {
                now += (apr_time_t)(a << 8 | b) * (1 + c % 64) * 1000;
            }
            break;
        }
        if (op % 4 != 3) {
            now += (apr_time_t)(op >> 3) * 1000;
        }
        check_world(&w);
    }
    /* n == 0 is no table */
    memcpy(before, w.t, sizeof(before));
    apigw_sus_session_put(w.t, 0, 1, 0, now, 1000);
    CHECK(memcmp(before, w.t, sizeof(before)) == 0, "a put with n 0");
    CHECK(apigw_sus_session_find(w.t, 0, 1, now, 1000) == -1, "n 0");
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

    if (size > 8192) {
        return 0;
    }
    if (size && data[0] == 'T') {
        run_table(data + 1, size - 1);
        return 0;
    }
    if (apr_pool_create(&p, NULL) != APR_SUCCESS) {
        return 0;
    }
    run_text(p, data, size);
    apr_pool_destroy(p);
    return 0;
}
