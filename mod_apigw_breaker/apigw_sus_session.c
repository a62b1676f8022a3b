/* The session-affinity table and the Set-Cookie value of a session
 * (see apigw_sus_session.h). */
#include "apigw_sus_session.h"

#include <string.h>

#define PROBES 8
#define MEMBER_BITS 16
#define MEMBER_MASK ((apr_uint64_t)0xffff)

apr_uint64_t apigw_sus_session_key(const char *value, apr_size_t len)
{
    apr_uint64_t h = 14695981039346656037ULL;
    apr_size_t i;

    for (i = 0; i < len; i++) {
        h ^= (unsigned char)value[i];
        h *= 1099511628211ULL;
    }
    return h ? h : 1;
}

static apr_uint64_t now_ms(apr_time_t now)
{
    return (apr_uint64_t)(now / 1000) & (((apr_uint64_t)1 << 48) - 1);
}

static apr_uint64_t pack(int member, apr_time_t now)
{
    return (now_ms(now) << MEMBER_BITS) | (apr_uint64_t)(member + 1);
}

static int live(apr_uint64_t val, apr_time_t now, apr_interval_time_t timeout)
{
    apr_uint64_t used = val >> MEMBER_BITS;
    apr_uint64_t t = now_ms(now);

    if (!val) {
        return 0;
    }
    if (t <= used) {
        return 1;                   /* written by a child a little ahead */
    }
    return (t - used) * 1000 <= (apr_uint64_t)timeout;
}

int apigw_sus_session_find(apigw_sus_session *t, apr_uint32_t n,
                           apr_uint64_t key, apr_time_t now,
                           apr_interval_time_t timeout)
{
    apr_uint32_t i, start;

    if (!n) {
        return -1;
    }
    start = (apr_uint32_t)(key % n);
    for (i = 0; i < PROBES && i < n; i++) {
        apigw_sus_session *s = &t[(start + i) % n];
        apr_uint64_t val;

        if (__atomic_load_n(&s->key, __ATOMIC_ACQUIRE) != key) {
            continue;
        }
        val = __atomic_load_n(&s->val, __ATOMIC_ACQUIRE);
        if (!live(val, now, timeout)) {
            return -1;
        }
        if (now_ms(now) >= (val >> MEMBER_BITS) + 1000) {
            __atomic_store_n(&s->val, pack((int)(val & MEMBER_MASK) - 1, now),
                             __ATOMIC_RELEASE);
        }
        return (int)(val & MEMBER_MASK) - 1;
    }
    return -1;
}

void apigw_sus_session_put(apigw_sus_session *t, apr_uint32_t n,
                           apr_uint64_t key, int member, apr_time_t now,
                           apr_interval_time_t timeout)
{
    apr_uint32_t i, start;
    apigw_sus_session *oldest = NULL;
    apr_uint64_t oldest_val = ~(apr_uint64_t)0;

    if (!n || member < 0 || member > APIGW_SUS_SESSION_MAX_MEMBER) {
        return;
    }
    start = (apr_uint32_t)(key % n);
    /* the key's own slot first */
    for (i = 0; i < PROBES && i < n; i++) {
        apigw_sus_session *s = &t[(start + i) % n];
        if (__atomic_load_n(&s->key, __ATOMIC_ACQUIRE) == key) {
            __atomic_store_n(&s->val, pack(member, now), __ATOMIC_RELEASE);
            return;
        }
    }
    /* then an empty or expired slot, else the least recently used */
    for (i = 0; i < PROBES && i < n; i++) {
        apigw_sus_session *s = &t[(start + i) % n];
        apr_uint64_t k = __atomic_load_n(&s->key, __ATOMIC_ACQUIRE);
        apr_uint64_t v = __atomic_load_n(&s->val, __ATOMIC_ACQUIRE);

        if (k == 0 || !live(v, now, timeout)) {
            if (__atomic_compare_exchange_n(&s->key, &k, key, 0,
                                            __ATOMIC_ACQ_REL,
                                            __ATOMIC_ACQUIRE)) {
                __atomic_store_n(&s->val, pack(member, now), __ATOMIC_RELEASE);
                return;
            }
            continue;
        }
        if ((v >> MEMBER_BITS) < oldest_val) {
            oldest_val = v >> MEMBER_BITS;
            oldest = s;
        }
    }
    if (oldest) {
        apr_uint64_t k = __atomic_load_n(&oldest->key, __ATOMIC_ACQUIRE);
        if (__atomic_compare_exchange_n(&oldest->key, &k, key, 0,
                                        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            __atomic_store_n(&oldest->val, pack(member, now), __ATOMIC_RELEASE);
        }
    }
}

/* ---- Set-Cookie ---- */

static int is_wsp(char c)
{
    return c == ' ' || c == '\t';
}

/* [*s, *e) without SP and HTAB at either end. */
static void trim_wsp(const char **s, const char **e)
{
    while (*s < *e && is_wsp(**s)) {
        (*s)++;
    }
    while (*e > *s && is_wsp((*e)[-1])) {
        (*e)--;
    }
}

int apigw_sus_set_cookie_value(const char *header, const char *name,
                               apr_size_t name_len, const char **value,
                               apr_size_t *value_len)
{
    const char *end = header + strcspn(header, ";");
    const char *eq = memchr(header, '=', (apr_size_t)(end - header));
    const char *ns = header, *ne = eq, *vs, *comma;

    if (!eq) {
        return 0;
    }
    trim_wsp(&ns, &ne);
    if ((apr_size_t)(ne - ns) != name_len || memcmp(ns, name, name_len) != 0) {
        return 0;
    }
    vs = eq + 1;
    trim_wsp(&vs, &end);
    if ((comma = memchr(vs, ',', (apr_size_t)(end - vs))) != NULL) {
        end = comma;
    }
    if (end == vs) {
        return 0;
    }
    *value = vs;
    *value_len = (apr_size_t)(end - vs);
    return 1;
}
