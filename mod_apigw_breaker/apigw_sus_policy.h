/* Suspension policies as pure state machines (no httpd): which failures
 * count, and how a balancer member moves between active, the timeout
 * state and suspended, WSO2/Synapse style. apigw_sus_balancer.c keeps one
 * apigw_sus_state per member in shared memory and applies the effects to
 * mod_proxy_balancer's own error state.
 *
 *            success                      success
 *   ACTIVE <---------- TIMEOUT   ACTIVE <---------- SUSPENDED
 *      |   timeout-code  ^  |       |   suspend-code    ^   |
 *      +-----------------+  |       +-------------------+   | probe fails:
 *                           | retries used up               | previous x factor,
 *                           +------------------------------>+ capped at max
 *
 * First suspension: initial; each further one (a probe that fails once a
 * suspension is over): previous x factor, at most max; any success resets
 * the progression. In the timeout state the member is skipped for
 * retry-delay after each error, and suspended once it has used up its
 * retries.
 *
 * A policy is written as apigw_sus_fields (an ApiBalancerSuspend and an
 * ApiBalancerMarkForSuspension line of a balancer or a member, or an
 * admin API's route): checked by apigw_sus_policy_validate, then applied
 * over the defaults (a member's fields over its balancer's) to make the
 * apigw_sus_policy a member runs with. */
#ifndef APIGW_SUS_POLICY_H
#define APIGW_SUS_POLICY_H

#include "apigw_sus_codes.h"

#include <apr_time.h>

typedef struct {
    /* suspend-on-failure */
    apigw_sus_codes suspend_codes;
    int suspend_codes_set;          /* 0: any transport error suspends */
    apr_interval_time_t initial;    /* <= 0: suspension disabled */
    double factor;                  /* >= 1 */
    apr_interval_time_t max;
    /* mark-for-suspension (the timeout state) */
    int timeout_state;              /* 0: no timeout state */
    apigw_sus_codes timeout_codes;
    int retries;                    /* timeout-state errors before suspension */
    apr_interval_time_t retry_delay;
} apigw_sus_policy;

/* Defaults of a policy's fields. */
#define APIGW_SUS_DEFAULT_INITIAL apr_time_from_sec(30)
#define APIGW_SUS_DEFAULT_FACTOR 1.0
#define APIGW_SUS_DEFAULT_MAX apr_time_from_sec(300)
#define APIGW_SUS_DEFAULT_TIMEOUT_CODES \
    (APIGW_SUS_CONNECT_TIMEOUT | APIGW_SUS_READ_TIMEOUT | APIGW_SUS_CLOSED)

/* Fills p with the defaults: any transport error suspends for 30s, no
 * progression, no timeout state. */
void apigw_sus_policy_defaults(apigw_sus_policy *p);

/* Checks a filled policy, the combination of its balancer's and its
 * member's fields; NULL or a static message. */
const char *apigw_sus_policy_check(const apigw_sus_policy *p);

/* What one balancer's or member's lines set, field by field: the fields
 * set override the ones below them (the balancer's, then the defaults). */
typedef struct {
    apigw_sus_codes suspend_codes;
    apigw_sus_codes timeout_codes;
    apr_interval_time_t initial;        /* -1 or 0: no suspension */
    apr_interval_time_t max;
    apr_interval_time_t retry_delay;
    double factor;
    int retries;
    unsigned int suspend_line:1;        /* an ApiBalancerSuspend names it */
    unsigned int mark_line:1;           /* an ApiBalancerMarkForSuspension */
    unsigned int suspend_codes_set:1;
    unsigned int timeout_codes_set:1;
    unsigned int initial_set:1;
    unsigned int max_set:1;
    unsigned int factor_set:1;
    unsigned int retries_set:1;
    unsigned int retry_delay_set:1;
} apigw_sus_fields;

/* NULL when the fields set are valid, alone and together, else a message
 * from p naming the field as the directives write it ("factor=0.5: ...",
 * "max= must not be shorter than initial="). What only the combination
 * with the balancer's fields can tell is apigw_sus_policy_check's. */
const char *apigw_sus_policy_validate(apr_pool_t *p,
                                      const apigw_sus_fields *f);

/* Applies the fields f sets over p. */
void apigw_sus_policy_apply(apigw_sus_policy *p, const apigw_sus_fields *f);

int apigw_sus_suspension_enabled(const apigw_sus_policy *p);

/* The length of the suspension that follows one of length last (0: the
 * first): initial, then last x factor capped at max. */
apr_interval_time_t apigw_sus_next_suspension(const apigw_sus_policy *p,
                                              apr_interval_time_t last);

/* What one attempt on a member came to. */
typedef struct {
    apr_uint32_t transport;         /* one APIGW_SUS_* bit, or 0 */
    int status;                     /* the member's HTTP status, or 0 */
} apigw_sus_outcome;

typedef enum {
    APIGW_SUS_SUCCESS,              /* the member answered */
    APIGW_SUS_FAIL_SUSPEND,         /* a suspend-on-failure error */
    APIGW_SUS_FAIL_TIMEOUT,         /* a mark-for-suspension error */
    APIGW_SUS_NEUTRAL               /* an error the policy does not count */
} apigw_sus_class;

/* Sorts an outcome by the policy. A transport error in the suspend codes
 * suspends; else one in the timeout codes (when there is a timeout state)
 * marks; else, without suspend codes, any transport error suspends. An
 * HTTP status counts only when a list names it; any other answer is a
 * success. */
apigw_sus_class apigw_sus_classify(const apigw_sus_policy *p,
                                   const apigw_sus_outcome *o);

/* The error code an outcome is, as a member's state keeps it
 * (apigw_sus_state.reason): one APIGW_SUS_* transport bit (0x01-0x20), or
 * the member's HTTP status (100-599); 0 for none. The two ranges do not
 * overlap. */
apr_uint32_t apigw_sus_reason_of(const apigw_sus_outcome *o);

/* The name of such a code as an error-code list writes it
 * ("connect-refused", "503"), from p; NULL for 0 or a value no outcome
 * gives. */
const char *apigw_sus_reason_name(apr_pool_t *p, apr_uint32_t reason);

/* The kinds of error a member's counters sort its failed attempts into:
 * the six transport errors, then its HTTP statuses 500-504, then any other
 * 5xx. Bounded, so they can be metric labels. */
#define APIGW_SUS_ERROR_KINDS 12

/* The kind of error an outcome is (0 .. APIGW_SUS_ERROR_KINDS-1), or -1
 * when it is none (the member answered, with a status below 500). */
int apigw_sus_error_kind(const apigw_sus_outcome *o);

/* A kind's name, as an error-code list writes it: "connect-refused",
 * "503", and "5xx" for the other 5xx statuses; NULL out of range. */
const char *apigw_sus_error_kind_name(int kind);

/* A member's state (lives in shared memory). */
#define APIGW_SUS_ACTIVE 0u
#define APIGW_SUS_TIMEOUT 1u
#define APIGW_SUS_SUSPENDED 2u

typedef struct {
    apr_uint32_t state;             /* APIGW_SUS_ACTIVE, _TIMEOUT, _SUSPENDED */
    apr_uint32_t timeouts;          /* timeout-state errors since the last success */
    apr_uint32_t suspensions;       /* suspensions since the last success */
    apr_uint32_t reason;            /* the code (apigw_sus_reason_of) that
                                     * last put it in the timeout state or
                                     * suspended it; 0 while active */
    apr_time_t since;               /* when the state was entered */
    apr_interval_time_t length;     /* its window: suspension or retry delay */
    apr_interval_time_t last;       /* last suspension's length, 0: none */
} apigw_sus_state;

/* Is there anything for a success to reset? (The common case reads this
 * without a lock.) */
int apigw_sus_state_dirty(const apigw_sus_state *st);

typedef enum {
    APIGW_SUS_KEEP,                 /* leave the member as it is */
    APIGW_SUS_ACTIVATE,             /* usable again; retry back to initial */
    APIGW_SUS_UNMARK,               /* undo an error mark mod_proxy set for
                                     * this very attempt, if any */
    APIGW_SUS_MARK                  /* in error from error_time for retry */
} apigw_sus_action;

typedef struct {
    apigw_sus_action action;
    apr_time_t error_time;          /* MARK */
    apr_interval_time_t retry;      /* MARK and ACTIVATE */
    int changed;                    /* a new state worth a log line */
} apigw_sus_effect;

/* One outcome of an attempt that started at attempt_start, seen at now:
 * updates st and says what to do to the member. reason is the outcome's
 * code (apigw_sus_reason_of), kept in st when the outcome puts the member
 * in the timeout state or suspends it; the state's reason is cleared
 * whenever the member is active again. Outcomes of attempts that began
 * before the member's current state (requests in flight when it failed)
 * neither escalate nor reset it. */
void apigw_sus_step(const apigw_sus_policy *p, apigw_sus_state *st,
                    apigw_sus_class cls, apr_uint32_t reason,
                    apr_time_t attempt_start, apr_time_t now,
                    apigw_sus_effect *eff);

#endif
