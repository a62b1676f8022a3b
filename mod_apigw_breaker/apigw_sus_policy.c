/* Suspension policies as pure state machines (see apigw_sus_policy.h). */
#include "apigw_sus_policy.h"

#include <string.h>

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

const char *apigw_sus_policy_check(const apigw_sus_policy *p)
{
    if (!(p->factor >= 1.0 && p->factor <= 1000.0)) {
        return "factor must be a number from 1 to 1000";
    }
    if (p->initial > 0 && p->max > 0 && p->max < p->initial) {
        return "max must not be shorter than initial";
    }
    if (p->initial > 0 && p->max == 0) {
        return "max=0 disables suspension: write initial=0 as well";
    }
    if (p->retries < 0 || p->retries > 1000) {
        return "retries must be from 0 to 1000";
    }
    if (p->retry_delay < 0) {
        return "retry-delay must not be negative";
    }
    return NULL;
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
                    apr_time_t now, apigw_sus_effect *eff)
{
    apr_interval_time_t len = apigw_sus_next_suspension(p, st->last);

    if (len <= 0) {
        /* suspension disabled: fail over only */
        st->state = APIGW_SUS_ACTIVE;
        st->since = now;
        st->length = 0;
        eff->action = APIGW_SUS_UNMARK;
        return;
    }
    st->state = APIGW_SUS_SUSPENDED;
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
                    apigw_sus_class cls, apr_time_t attempt_start,
                    apr_time_t now, apigw_sus_effect *eff)
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
        suspend(p, st, now, eff);
        return;
    }
    keep(eff);
}
