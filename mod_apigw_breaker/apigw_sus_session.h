/* The session-affinity table of a load-balance group: which member a
 * session (a cookie's or a header's value) was sent to, in shared memory,
 * without a lock; and the session a backend's Set-Cookie starts. Pure
 * code over APR and compiler atomics.
 *
 *   slot:  +-----------------+-------------------------------------+
 *          | key (64 bits)   | last use, ms (48 bits) | member + 1 |
 *          +-----------------+-------------------------------------+
 *
 * A key is looked for in 8 neighbouring slots (slot key % n and the 7
 * after it, round the table); a new one takes an empty or expired slot
 * there, else the least recently used: the only ways a session is
 * forgotten. Two sessions sharing a 64-bit key (~2^-64) would share a
 * member, nothing worse. */
#ifndef APIGW_SUS_SESSION_H
#define APIGW_SUS_SESSION_H

#include <apr.h>
#include <apr_time.h>

typedef struct {
    apr_uint64_t key;               /* 0: empty */
    apr_uint64_t val;
} apigw_sus_session;

#define APIGW_SUS_SESSION_MAX_MEMBER 65534

/* The key of a session value (FNV-1a, never 0). */
apr_uint64_t apigw_sus_session_key(const char *value, apr_size_t len);

/* The member index a live session was sent to, or -1. A hit refreshes
 * the session's last use (at most once a second). */
int apigw_sus_session_find(apigw_sus_session *t, apr_uint32_t n,
                           apr_uint64_t key, apr_time_t now,
                           apr_interval_time_t timeout);

/* Records that a session goes to member (0 to
 * APIGW_SUS_SESSION_MAX_MEMBER; any other member, or n 0, changes
 * nothing). A key is never 0: it comes from apigw_sus_session_key. */
void apigw_sus_session_put(apigw_sus_session *t, apr_uint32_t n,
                           apr_uint64_t key, int member, apr_time_t now,
                           apr_interval_time_t timeout);

/* The value of the cookie called name (name_len bytes, a token) in one
 * Set-Cookie header value, as the request side will read it when the
 * client sends it back: the name=value pair up to the first ';', split at
 * its first '=', the name matched exactly (case counts), white space
 * (SP, HTAB) around the name and the value dropped, as RFC 6265 5.2 has a
 * client store it; quotes are part of the value (the client sends them
 * back); the value ends at a ',' too, where httpd's ap_cookie_read ends
 * it on the request side. Returns 1 with *value (inside header) and
 * *value_len > 0, or 0 when the header sets another cookie or an empty
 * value (the cookie being cleared). */
int apigw_sus_set_cookie_value(const char *header, const char *name,
                               apr_size_t name_len, const char **value,
                               apr_size_t *value_len);

#endif
