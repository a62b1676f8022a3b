/* Balancers as the suspension half sees them: one apigw_sus_pool per
 * balancer of each server, with its members' policies (process-local,
 * read-only after post_config) and their states (shared memory), and the
 * one place where an attempt's outcome changes a member. */
#ifndef APIGW_SUS_BALANCER_H
#define APIGW_SUS_BALANCER_H

#include "apigw_sus_config.h"
#include "apigw_sus_session.h"

/* Shared memory, one block per balancer of each server:
 *
 *   +------------------------+
 *   | apigw_sus_shared       |  round-robin counter
 *   +------------------------+
 *   | apigw_sus_slot [n]     |  n = the balancer's max_workers, indexed by
 *   |                        |  worker->s->index like its own slotmem
 *   +------------------------+
 *   | apigw_sus_session [m]  |  m = ApiBalancerAffinity sessions=, or 0
 *   +------------------------+
 */
typedef struct {
    apr_uint64_t rr;                /* atomic: next round-robin turn */
} apigw_sus_shared;

typedef struct {
    apigw_sus_state st;             /* changed under the module's mutex */
    apr_uint32_t dirty;             /* read without it: anything to reset? */
    apr_uint32_t worker_hash;       /* owner: its worker->s->hash.def */
    apr_time_t probe_until;         /* CAS: a probe is out until then */
    /* counted for every member, with a policy or not (relaxed atomics,
     * no mutex): attempts with an outcome, and its failures by kind
     * (apigw_sus_error_kind). An index is one member's for the whole
     * generation: balancer-manager adds members, never removes one. */
    apr_uint64_t attempts;
    apr_uint64_t errors[APIGW_SUS_ERROR_KINDS];
} apigw_sus_slot;

typedef struct apigw_sus_pool {
    proxy_balancer *balancer;       /* this server's copy */
    server_rec *s;
    const char *name;               /* "balancer://name" */
    apr_uint32_t nslots;
    const apigw_sus_policy **policy; /* [nslots]: configured members */
    const apigw_sus_policy *fallback; /* members added later, or NULL */
    int managed;                    /* does any member have a policy? */
    apigw_sus_shared *shared;
    apigw_sus_slot *slots;
    const apigw_sus_affinity_conf *affinity; /* NULL: none */
    apigw_sus_session *sessions;
} apigw_sus_pool;

/* The pool of a balancer as r's server knows it, or NULL. */
apigw_sus_pool *apigw_sus_pool_of(const server_rec *s,
                                  const proxy_balancer *b);

/* The pool a "balancer://name/..." URL goes to in server s, or NULL. */
apigw_sus_pool *apigw_sus_pool_of_url(const server_rec *s, apr_pool_t *p,
                                      const char *url);

/* Does any balancer have an ApiBalancerAffinity? (read-only after
 * post_config) */
extern int apigw_sus_affinity_in_use;

/* A member's policy, or NULL when it has none. */
const apigw_sus_policy *apigw_sus_policy_of(const apigw_sus_pool *pool,
                                            const proxy_worker *w);

/* The member's slot (NULL for an index out of range). */
apigw_sus_slot *apigw_sus_slot_of(const apigw_sus_pool *pool,
                                  const proxy_worker *w);

/* The outcome of one attempt on member w (that started at attempt_start)
 * is counted in its slot (attempts, errors by kind: any member) and, when
 * it has a policy, moves its state and, through mod_proxy_balancer's own
 * fields, its error state. Takes the module's mutex only when something
 * changes. */
void apigw_sus_report(request_rec *r, apigw_sus_pool *pool, proxy_worker *w,
                      const apigw_sus_outcome *o, apr_time_t attempt_start);

/* Ends member w's suspension or timeout state now, as an operator's
 * action: its progression starts afresh (under the module's mutex, when
 * it has a policy), and it is enabled and out of mod_proxy's error state
 * (balancer-manager's "enable", then what mod_proxy does when a retry is
 * due). pool may be NULL (a balancer of no suspension policy). 0, and
 * nothing changed, when the mutex cannot be taken (logged); else 1. */
int apigw_sus_resume(request_rec *r, apigw_sus_pool *pool, proxy_worker *w);

/* Is member w in the probe after a suspension, and if so may this request
 * be that probe? Claims the probe for it (until the outcome is reported,
 * or ttl). */
int apigw_sus_probe_claim(apigw_sus_pool *pool, proxy_worker *w,
                          apr_time_t now, apr_interval_time_t ttl,
                          int *claimed);

/* Gives a claimed probe back. */
void apigw_sus_probe_release(apigw_sus_pool *pool, proxy_worker *w);

/* "read-timeout", "HTTP 503": an outcome for log lines. */
const char *apigw_sus_outcome_text(apr_pool_t *p, const apigw_sus_outcome *o);

/* pre_config: the mutex type, so a Mutex line can set it. */
int apigw_sus_balancer_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                                  apr_pool_t *ptemp);

/* post_config (after mod_proxy_balancer's): the pools of every server's
 * balancers, their shared memory and the mutex. */
int apigw_sus_balancer_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                                   apr_pool_t *ptemp, server_rec *s);

/* child_init: the mutex in the child. */
void apigw_sus_balancer_child_init(apr_pool_t *pchild, server_rec *s);

#endif
