/* Suspension policies (see apigw_sus_policy.h): the fields of one policy
 * checked and applied, and the suspension state machine; pure. */
#include "apigw_sus_policy.h"

#include <stdio.h>
#include <string.h>

#include <apr_strings.h>

#define FACTOR_MIN 1.0
#define FACTOR_MAX 1000.0
#define RETRIES_MAX 1000

void apigw_sus_policy_defaults(apigw_sus_policy *p)
{
    memset(p, 0, sizeof(*p));
    p->initial = APIGW_SUS_DEFAULT_INITIAL;
    p->factor = APIGW_SUS_DEFAULT_FACTOR;
    p->max = APIGW_SUS_DEFAULT_MAX;
    p->timeout_codes.transport = APIGW_SUS_DEFAULT_TIMEOUT_CODES;
}

int apigw_sus_suspension_enabled(const apigw_sus_policy *p)
{
    return p->initial > 0 && p->max > 0;
}

/* The rules, each once, for a policy and for the fields of one line. */

static int factor_ok(double factor)
{
    return factor >= FACTOR_MIN && factor <= FACTOR_MAX;  /* NaN fails */
}

static int retries_ok(int retries)
{
    return retries >= 0 && retries <= RETRIES_MAX;
}

static int max_below_initial(apr_interval_time_t initial,
                             apr_interval_time_t max)
{
    return initial > 0 && max > 0 && max < initial;
}

static int max_zero_alone(apr_interval_time_t initial,
                          apr_interval_time_t max)
{
    return initial > 0 && max == 0;
}

const char *apigw_sus_policy_check(const apigw_sus_policy *p)
{
    if (!factor_ok(p->factor)) {
        return "factor must be a number from 1 to 1000";
    }
    if (max_below_initial(p->initial, p->max)) {
        return "max must not be shorter than initial";
    }
    if (max_zero_alone(p->initial, p->max)) {
        return "max=0 disables suspension: write initial=0 as well";
    }
    if (!retries_ok(p->retries)) {
        return "retries must be from 0 to 1000";
    }
    if (p->retry_delay < 0) {
        return "retry-delay must not be negative";
    }
    return NULL;
}

/* initial= and max=: a duration, or 0 or -1 for no suspension. */
static const char *check_length(apr_pool_t *p, const char *field,
                                apr_interval_time_t d)
{
    return d < -1 ? apr_psprintf(p, "%s= must be a duration, or 0 or -1 "
                                 "for no suspension", field)
                  : NULL;
}

static const char *check_lengths(apr_pool_t *p, const apigw_sus_fields *f)
{
    const char *err;

    if (f->initial_set
        && (err = check_length(p, "initial", f->initial)) != NULL) {
        return err;
    }
    if (f->max_set && (err = check_length(p, "max", f->max)) != NULL) {
        return err;
    }
    if (!f->initial_set || !f->max_set) {
        return NULL;    /* the other may come from the balancer's line */
    }
    if (max_below_initial(f->initial, f->max)) {
        return "max= must not be shorter than initial=";
    }
    if (max_zero_alone(f->initial, f->max)) {
        return "max=0 disables suspension: write initial=0 as well";
    }
    return NULL;
}

/* A factor as a person reads it: libc's %.15g (APR's writes 0.5 as ".5";
 * 15 digits keep 1000.00001 from showing as 1000). */
static const char *factor_text(apr_pool_t *p, double factor)
{
    char buf[40];

    snprintf(buf, sizeof(buf), "%.15g", factor);
    return apr_pstrdup(p, buf);
}

const char *apigw_sus_policy_validate(apr_pool_t *p,
                                      const apigw_sus_fields *f)
{
    const char *err;

    if (f->factor_set && !factor_ok(f->factor)) {
        return apr_psprintf(p, "factor=%s: a number from 1 to 1000 is needed "
                            "(2 doubles each suspension)",
                            factor_text(p, f->factor));
    }
    if ((err = check_lengths(p, f)) != NULL) {
        return err;
    }
    if (f->retries_set && !retries_ok(f->retries)) {
        return apr_psprintf(p, "retries=%d: a whole number from 0 to %d is "
                            "needed", f->retries, RETRIES_MAX);
    }
    if (f->retry_delay_set && f->retry_delay < 0) {
        return "retry-delay= must not be negative";
    }
    return NULL;
}

void apigw_sus_policy_apply(apigw_sus_policy *p, const apigw_sus_fields *f)
{
    if (f->suspend_codes_set) {
        p->suspend_codes = f->suspend_codes;
        p->suspend_codes_set = 1;
    }
    if (f->initial_set) {
        p->initial = f->initial;
    }
    if (f->factor_set) {
        p->factor = f->factor;
    }
    if (f->max_set) {
        p->max = f->max;
    }
    if (f->mark_line) {
        p->timeout_state = 1;
    }
    if (f->timeout_codes_set) {
        p->timeout_codes = f->timeout_codes;
    }
    if (f->retries_set) {
        p->retries = f->retries;
    }
    if (f->retry_delay_set) {
        p->retry_delay = f->retry_delay;
    }
}

apr_interval_time_t apigw_sus_next_suspension(const apigw_sus_policy *p,
                                              apr_interval_time_t last)
{
    double next;

    if (!apigw_sus_suspension_enabled(p)) {
        return 0;
    }
    if (last <= 0) {
        return p->initial < p->max ? p->initial : p->max;
    }
    next = (double)last * p->factor;
    if (next >= (double)p->max) {
        return p->max;
    }
    return (apr_interval_time_t)next;
}

apigw_sus_class apigw_sus_classify(const apigw_sus_policy *p,
                                   const apigw_sus_outcome *o)
{
    if (o->transport) {
        if (p->suspend_codes_set
            && apigw_sus_codes_has_transport(&p->suspend_codes, o->transport)) {
            return APIGW_SUS_FAIL_SUSPEND;
        }
        if (p->timeout_state
            && apigw_sus_codes_has_transport(&p->timeout_codes, o->transport)) {
            return APIGW_SUS_FAIL_TIMEOUT;
        }
        return p->suspend_codes_set ? APIGW_SUS_NEUTRAL : APIGW_SUS_FAIL_SUSPEND;
    }
    if (p->suspend_codes_set
        && apigw_sus_codes_has_status(&p->suspend_codes, o->status)) {
        return APIGW_SUS_FAIL_SUSPEND;
    }
    if (p->timeout_state
        && apigw_sus_codes_has_status(&p->timeout_codes, o->status)) {
        return APIGW_SUS_FAIL_TIMEOUT;
    }
    return APIGW_SUS_SUCCESS;
}

apr_uint32_t apigw_sus_reason_of(const apigw_sus_outcome *o)
{
    if (o->transport) {
        return o->transport;
    }
    if (o->status >= APIGW_SUS_STATUS_MIN && o->status <= APIGW_SUS_STATUS_MAX) {
        return (apr_uint32_t)o->status;
    }
    return 0;
}

const char *apigw_sus_reason_name(apr_pool_t *p, apr_uint32_t reason)
{
    if (reason >= APIGW_SUS_STATUS_MIN && reason <= APIGW_SUS_STATUS_MAX) {
        return apr_psprintf(p, "%u", (unsigned int)reason);
    }
    /* NULL for 0 and for anything but one transport bit */
    return apigw_sus_transport_name(reason);
}

int apigw_sus_error_kind(const apigw_sus_outcome *o)
{
    int bit;

    if (o->transport) {
        for (bit = 0; bit < 6; bit++) {
            if (o->transport == (1u << bit)) {
                return bit;
            }
        }
        return -1;
    }
    if (o->status >= 500 && o->status <= 504) {
        return 6 + (o->status - 500);
    }
    return o->status >= 505 && o->status <= 599 ? 11 : -1;
}

const char *apigw_sus_error_kind_name(int kind)
{
    static const char *const statuses[] = {
        "500", "501", "502", "503", "504", "5xx"
    };

    if (kind >= 0 && kind < 6) {
        return apigw_sus_transport_name(1u << kind);  /* bits in kind order */
    }
    return kind >= 6 && kind < APIGW_SUS_ERROR_KINDS ? statuses[kind - 6]
                                                     : NULL;
}

int apigw_sus_state_dirty(const apigw_sus_state *st)
{
    return st->state != APIGW_SUS_ACTIVE || st->last != 0 || st->timeouts != 0;
}

static void keep(apigw_sus_effect *eff)
{
    eff->action = APIGW_SUS_KEEP;
}

/* The member is in a window (suspension or retry delay) that is not over:
 * put it back in error for what is left of that window, in case something
 * (mod_proxy's forced recovery, a concurrent mark) changed it. */
static void reassert(const apigw_sus_state *st, apigw_sus_effect *eff)
{
    eff->action = APIGW_SUS_MARK;
    eff->error_time = st->since;
    eff->retry = st->length;
}

static void suspend(const apigw_sus_policy *p, apigw_sus_state *st,
                    apr_uint32_t reason, apr_time_t now,
                    apigw_sus_effect *eff)
{
    apr_interval_time_t len = apigw_sus_next_suspension(p, st->last);

    if (len <= 0) {
        /* suspension disabled: fail over only */
        st->state = APIGW_SUS_ACTIVE;
        st->reason = 0;
        st->since = now;
        st->length = 0;
        eff->action = APIGW_SUS_UNMARK;
        return;
    }
    st->state = APIGW_SUS_SUSPENDED;
    st->reason = reason;
    st->since = now;
    st->length = len;
    st->last = len;
    st->suspensions++;
    eff->action = APIGW_SUS_MARK;
    eff->error_time = now;
    eff->retry = len;
    eff->changed = 1;
}

void apigw_sus_step(const apigw_sus_policy *p, apigw_sus_state *st,
                    apigw_sus_class cls, apr_uint32_t reason,
                    apr_time_t attempt_start, apr_time_t now,
                    apigw_sus_effect *eff)
{
    int in_window = st->state != APIGW_SUS_ACTIVE && st->length > 0
                    && now < st->since + st->length;
    int stale = attempt_start < st->since;

    memset(eff, 0, sizeof(*eff));
    switch (cls) {
    case APIGW_SUS_SUCCESS:
        if (!apigw_sus_state_dirty(st)
            || (stale && st->state != APIGW_SUS_ACTIVE)) {
            keep(eff);
            return;
        }
        eff->changed = st->state != APIGW_SUS_ACTIVE;
        st->state = APIGW_SUS_ACTIVE;
        st->reason = 0;
        st->since = now;
        st->length = 0;
        st->last = 0;
        st->timeouts = 0;
        st->suspensions = 0;
        eff->action = APIGW_SUS_ACTIVATE;
        eff->retry = apigw_sus_next_suspension(p, 0);
        return;

    case APIGW_SUS_NEUTRAL:
        if (in_window) {
            reassert(st, eff);
        }
        else if (st->state == APIGW_SUS_ACTIVE) {
            eff->action = APIGW_SUS_UNMARK;
        }
        else {
            keep(eff);
        }
        return;

    case APIGW_SUS_FAIL_SUSPEND:
    case APIGW_SUS_FAIL_TIMEOUT:
        if (in_window) {
            reassert(st, eff);
            return;
        }
        if (stale) {
            if (st->state == APIGW_SUS_ACTIVE) {
                eff->action = APIGW_SUS_UNMARK;
            }
            else {
                keep(eff);
            }
            return;
        }
        /* a member whose suspension is over failed its probe: suspend it
         * longer whatever the error; otherwise a timeout-state error uses
         * up one retry first */
        if (cls == APIGW_SUS_FAIL_TIMEOUT && st->state != APIGW_SUS_SUSPENDED
            && p->timeout_state && st->timeouts < (apr_uint32_t)p->retries) {
            st->timeouts++;
            st->state = APIGW_SUS_TIMEOUT;
            st->reason = reason;
            st->since = now;
            st->length = p->retry_delay;
            eff->changed = 1;
            if (p->retry_delay > 0) {
                eff->action = APIGW_SUS_MARK;
                eff->error_time = now;
                eff->retry = p->retry_delay;
            }
            else {
                eff->action = APIGW_SUS_UNMARK;
            }
            return;
        }
        suspend(p, st, reason, now, eff);
        return;
    }
    keep(eff);
}
