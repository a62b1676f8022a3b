/* Configuration of the suspension half of mod_apigw_breaker: its
 * directives, create/merge, and the structs its files share. Member
 * policies are server-wide and keyed by balancer (and member) name,
 * because a member's state is one for every request; retries and the
 * timeout action are per directory, so a <Proxy balancer://...> section,
 * a <Location> or an <ApiEndpoint> can set them for its own requests. */
#ifndef APIGW_SUS_CONFIG_H
#define APIGW_SUS_CONFIG_H

#include "apigw_br_module.h"
#include "apigw_sus_policy.h"

#include "httpd.h"
#include "http_config.h"
#include "mod_proxy.h"

/* The policy lines of one balancer, or of one of its members. */
typedef struct {
    const char *balancer;               /* "balancer://name", lower case */
    const char *member;                 /* a BalancerMember URL, or NULL */
    apigw_sus_fields f;
    const char *file;                   /* the first line naming it */
    unsigned int line;
} apigw_sus_rule;

typedef enum {
    APIGW_SUS_AFFINITY_NONE,
    APIGW_SUS_AFFINITY_COOKIE,          /* transport session: a cookie */
    APIGW_SUS_AFFINITY_HEADER           /* client id: a request header */
} apigw_sus_affinity_kind;

typedef struct {
    const char *balancer;
    apigw_sus_affinity_kind kind;
    const char *name;                   /* the cookie or header */
    apr_interval_time_t timeout;        /* idle session lifetime */
    int sessions;                       /* table size */
    const char *file;
    unsigned int line;
} apigw_sus_affinity_conf;

#define APIGW_SUS_DEFAULT_SESSION_TIMEOUT apr_time_from_sec(600)
#define APIGW_SUS_DEFAULT_SESSIONS 4096

typedef enum {
    APIGW_SUS_ACTION_UNSET = -1,
    APIGW_SUS_ACTION_FAULT = 0,         /* 504 JSON */
    APIGW_SUS_ACTION_DISCARD,           /* close without an answer */
    APIGW_SUS_ACTION_NEVER              /* no gateway timeout */
} apigw_sus_timeout_action;

struct apigw_sus_dir_conf {
    int retries;                        /* -1: unset */
    apr_interval_time_t retry_delay;    /* with retries */
    apr_interval_time_t within;         /* 0: the default budget */
    int timeout_action;                 /* apigw_sus_timeout_action */
};

struct apigw_sus_pool;

struct apigw_sus_server_conf {
    apr_array_header_t *rules;          /* apigw_sus_rule *, declared here */
    apr_array_header_t *affinities;     /* apigw_sus_affinity_conf * */
    struct apigw_sus_server_conf *base; /* a virtual host's main server */
    /* made in post_config: every balancer of this server */
    apr_hash_t *pools;                  /* proxy_balancer_shared * -> pool */
    apr_hash_t *pools_by_name;          /* "balancer://name" -> pool */
};

/* The suspension half's server config of s. */
struct apigw_sus_server_conf *apigw_sus_server(const server_rec *s);
/* ...and its directory config in force for r. */
const struct apigw_sus_dir_conf *apigw_sus_dir(const request_rec *r);

/* The rule for a balancer (member NULL) or one of its members in s's
 * config, its own lines first, then its main server's; NULL if none. */
const apigw_sus_rule *apigw_sus_find_rule(const struct apigw_sus_server_conf *sc,
                                          const char *balancer,
                                          const char *member);
const apigw_sus_affinity_conf *apigw_sus_find_affinity(
    const struct apigw_sus_server_conf *sc, const char *balancer);

/* The policy of a balancer's member (member NULL: the balancer-wide one,
 * for members added at run time) from the rules of sc, or NULL when no
 * rule names either. *err is set when the combination is invalid. */
apigw_sus_policy *apigw_sus_resolve(apr_pool_t *p,
                                    const struct apigw_sus_server_conf *sc,
                                    const char *balancer, const char *member,
                                    const char **err);

/* Does a BalancerMember URL name this worker? (case-insensitive, a
 * trailing '/' ignored) */
int apigw_sus_member_is(const proxy_worker *w, const char *url);

struct apigw_sus_dir_conf *apigw_sus_create_dir_conf(apr_pool_t *p);
struct apigw_sus_dir_conf *apigw_sus_merge_dir_conf(
    apr_pool_t *p, struct apigw_sus_dir_conf *base,
    struct apigw_sus_dir_conf *add);
struct apigw_sus_server_conf *apigw_sus_create_server_conf(apr_pool_t *p,
                                                           server_rec *s);
struct apigw_sus_server_conf *apigw_sus_merge_server_conf(
    apr_pool_t *p, struct apigw_sus_server_conf *base,
    struct apigw_sus_server_conf *add);

/* check_config: every balancer and member the directives name exists,
 * and each member's policy, its balancer's fields and its own together,
 * is valid. */
int apigw_sus_config_check(apr_pool_t *pconf, apr_pool_t *plog,
                           apr_pool_t *ptemp, server_rec *s);

/* Directive handlers, one per directive; mconfig is the module's
 * apigw_br_dir_conf. */
const char *apigw_sus_cmd_suspend(cmd_parms *cmd, void *mconfig,
                                  const char *args);
const char *apigw_sus_cmd_mark(cmd_parms *cmd, void *mconfig,
                               const char *args);
const char *apigw_sus_cmd_affinity(cmd_parms *cmd, void *mconfig,
                                   const char *args);
const char *apigw_sus_cmd_retries(cmd_parms *cmd, void *mconfig,
                                  const char *args);
const char *apigw_sus_cmd_timeout_action(cmd_parms *cmd, void *mconfig,
                                         const char *arg);

/* The suspension directives, spliced into the module's table. */
#define APIGW_SUS_CMDS                                                      \
    AP_INIT_RAW_ARGS("ApiBalancerSuspend", apigw_sus_cmd_suspend, NULL,     \
        RSRC_CONF | ACCESS_CONF,                                            \
        "balancer://NAME [MEMBER-URL] [codes=LIST] [initial=DURATION] "     \
        "[factor=N] [max=DURATION]: suspend failing members"),              \
    AP_INIT_RAW_ARGS("ApiBalancerMarkForSuspension", apigw_sus_cmd_mark,    \
        NULL, RSRC_CONF | ACCESS_CONF,                                      \
        "balancer://NAME [MEMBER-URL] [codes=LIST] [retries=N] "            \
        "[retry-delay=DURATION]: the timeout state before suspension"),     \
    AP_INIT_RAW_ARGS("ApiBalancerAffinity", apigw_sus_cmd_affinity, NULL,   \
        RSRC_CONF | ACCESS_CONF,                                            \
        "balancer://NAME none|cookie=NAME|header=NAME "                     \
        "[timeout=DURATION] [sessions=N]: session affinity"),               \
    AP_INIT_RAW_ARGS("ApiBalancerRetries", apigw_sus_cmd_retries, NULL,     \
        RSRC_CONF | ACCESS_CONF,                                            \
        "COUNT [delay=DURATION] [within=DURATION]: retry failed requests "  \
        "to balancer:// backends on another member"),                       \
    AP_INIT_TAKE1("ApiBalancerTimeoutAction", apigw_sus_cmd_timeout_action, \
        NULL, RSRC_CONF | ACCESS_CONF,                                      \
        "fault|discard|never: what a timed-out balancer:// backend gets"),

#endif
