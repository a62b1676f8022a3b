/* The session-affinity table of a load-balance group: which member a
 * session (a cookie's or a header's value) was sent to, in shared memory,
 * without a lock. Pure code over APR and compiler atomics.
 *
 *   slot:  +-----------------+-------------------------------------+
 *          | key (64 bits)   | last use, ms (48 bits) | member + 1 |
 *          +-----------------+-------------------------------------+
 *
 * A key is looked for in 8 neighbouring slots; a new one takes an empty
 * or expired slot there, else the least recently used. Two sessions
 * sharing a 64-bit key (~2^-64) would share a member, nothing worse. */
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

/* Records that a session goes to member. */
void apigw_sus_session_put(apigw_sus_session *t, apr_uint32_t n,
                           apr_uint64_t key, int member, apr_time_t now,
                           apr_interval_time_t timeout);

#endif
