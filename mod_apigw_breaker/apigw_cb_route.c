/* Owns the circuit breakers of runtime routes: apigw_cb_route_prepare and
 * apigw_cb_route_attach (the optional functions of apigw_contract.h,
 * registered in mod_apigw_breaker.c), the breaker a request carries, and
 * the lookup of its state in the pool of runtime slots. See
 * apigw_cb_route.h.
 *
 * prepare runs in a child, from any thread, concurrently with requests
 * and other prepares: it only allocates from its caller's pool and reads
 * constant tables. attach runs at translate_name; the breaker is then
 * enforced by apigw_cb_request.c's hooks as a section's would be. */
#include "apigw_cb_route.h"

#include "apr_strings.h"

#include <string.h>

/* r->pool's user data: the attached breaker */
#define ATTACHED_KEY "apigw_cb_route"

/* What an identity starts with; a section's starts with "<". */
#define IDENT_PREFIX "route="

/* ---- the messages of the admin API ---- */

/* A message of apigw_cb_breaker_validate (it names the field as the
 * directive writes it: "check= must be ...", "expression \"X\": error
 * at ...") as the admin API names it: "circuitBreaker.checkSeconds: must
 * be ...", "circuitBreaker.expression: error at ...". */
static const char *api_message(apr_pool_t *p, const char *m,
                               const apigw_rt_breaker *spec,
                               const char *text)
{
    static const struct {
        const char *key;
        const char *field;
    } durations[] = {
        { "check", "checkSeconds" },
        { "fallback", "fallbackSeconds" },
        { "recovery", "recoverySeconds" },
        { NULL, NULL }
    };
    const char *quoted;
    int i;

    for (i = 0; durations[i].key; i++) {
        apr_size_t len = strlen(durations[i].key);

        if (strncmp(m, durations[i].key, len) == 0 && m[len] == '=') {
            m += len + 1;
            while (*m == ' ') {
                m++;
            }
            return apr_pstrcat(p, "circuitBreaker.", durations[i].field,
                               ": ", m, NULL);
        }
    }
    /* the rest is about the expression: drop its repetition */
    quoted = apr_psprintf(p, "expression \"%s\": ", text);
    if (strncmp(m, quoted, strlen(quoted)) == 0) {
        m += strlen(quoted);
    }
    return apr_pstrcat(p, spec->preset ? "circuitBreaker.preset: "
                                       : "circuitBreaker.expression: ",
                       m, NULL);
}

/* ---- prepare ---- */

/* Text of a duration for the identity: microseconds. */
static const char *us(apr_pool_t *p, apr_interval_time_t t)
{
    return apr_psprintf(p, "%" APR_TIME_T_FMT, t);
}

const char *apigw_cb_route_prepare(apr_pool_t *p, const char *route_id,
                                   const apigw_rt_breaker *spec,
                                   void **breaker)
{
    apigw_cb_route *rt;
    apigw_cb_breaker *b;
    apigw_cb_settings s;
    const char *err;
    apr_size_t pos;

    *breaker = NULL;
    if (!spec) {
        return "circuitBreaker: missing";
    }
    if (!route_id || !*route_id) {
        return "circuitBreaker: the route has no id";
    }
    if (!spec->preset == !spec->expression) {
        return apr_psprintf(p, "circuitBreaker: give either a preset (%s) "
                            "or an expression, like \"NetworkErrorRatio() "
                            "> 0.5\"", apigw_cb_expr_preset_names());
    }
    if (spec->preset && !apigw_cb_expr_preset(spec->preset)) {
        return apr_psprintf(p, "circuitBreaker.preset: unknown preset '%s' "
                            "(use %s)", spec->preset,
                            apigw_cb_expr_preset_names());
    }
    if (spec->expression && !*spec->expression) {
        return "circuitBreaker.expression: is empty; give one like "
               "\"NetworkErrorRatio() > 0.5\"";
    }
    apigw_cb_settings_defaults(&s);
    s.expression = spec->preset ? spec->preset : spec->expression;
    s.timing.check = spec->check;
    s.timing.fallback = spec->fallback;
    s.timing.recovery = spec->recovery;
    if ((err = apigw_cb_breaker_validate(p, &s)) != NULL) {
        return api_message(p, err, spec, apigw_cb_settings_text(&s));
    }
    rt = apr_pcalloc(p, sizeof(*rt));
    rt->route_id = apr_pstrdup(p, route_id);
    b = &rt->breaker;
    b->set = s;
    b->preset = spec->preset;
    /* validated: it parses */
    if ((err = apigw_cb_expr_parse(p, apigw_cb_settings_text(&s), &b->expr,
                                   &pos)) != NULL) {
        return apr_pstrcat(p, "circuitBreaker: ", err, NULL);
    }
    b->section = apr_pstrcat(p, "runtime route ", rt->route_id, NULL);
    b->file = NULL;
    b->line = 0;
    b->id = apr_pstrcat(p, IDENT_PREFIX, rt->route_id, "|",
                        apigw_cb_expr_text(b->expr), "|check=",
                        us(p, s.timing.check), "|fallback=",
                        us(p, s.timing.fallback), "|recovery=",
                        us(p, s.timing.recovery), NULL);
    b->owner = apigw_cb_key(b->id, NULL);
    *breaker = rt;
    return NULL;
}

/* ---- attach ---- */

void apigw_cb_route_attach(request_rec *r, void *breaker)
{
    apr_pool_userdata_setn(breaker, ATTACHED_KEY, NULL, r->pool);
}

const apigw_cb_route *apigw_cb_route_attached(request_rec *r)
{
    void *breaker = NULL;

    apr_pool_userdata_get(&breaker, ATTACHED_KEY, r->pool);
    return breaker;
}

/* ---- the state ---- */

apigw_cb_slot *apigw_cb_route_slot(apigw_cb_table *pool,
                                   const apigw_cb_route *rt, apr_time_t now)
{
    if (!pool) {
        return NULL;
    }
    return apigw_cb_pool_claim(pool, rt->breaker.owner, rt->breaker.owner,
                               rt->route_id, now, APIGW_CB_ROUTE_IDLE_SECS);
}
