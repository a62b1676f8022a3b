/* The settings of one circuit breaker: defaults and validation (see
 * apigw_cb_settings.h). */
#include "apigw_cb_settings.h"
#include "apigw_cb_expr.h"
#include "apigw_cb_url.h"

#include <string.h>

#include <apr_strings.h>

void apigw_cb_settings_defaults(apigw_cb_settings *s)
{
    memset(s, 0, sizeof(*s));
    s->timing.check = APIGW_CB_DEFAULT_CHECK;
    s->timing.fallback = APIGW_CB_DEFAULT_FALLBACK;
    s->timing.recovery = APIGW_CB_DEFAULT_RECOVERY;
    s->status = APIGW_CB_DEFAULT_STATUS;
    s->min_requests = APIGW_CB_DEFAULT_MIN_REQUESTS;
}

const char *apigw_cb_settings_text(const apigw_cb_settings *b)
{
    const char *preset = b->expression ? apigw_cb_expr_preset(b->expression)
                                       : NULL;

    return preset ? preset : b->expression;
}

static const char *check_expression(apr_pool_t *p,
                                    const apigw_cb_settings *b)
{
    const char *text = apigw_cb_settings_text(b), *err;
    apigw_cb_expr *expr;
    apr_size_t pos, len;

    if (!text || !*text) {
        return apr_psprintf(p, "the expression is missing: give one in "
                            "quotes, like \"NetworkErrorRatio() > 0.5\", or "
                            "a preset (%s)", apigw_cb_expr_preset_names());
    }
    /* not a preset, no operator and no call: a mistyped preset, most
     * likely */
    if (!apigw_cb_expr_preset(b->expression)
        && !strpbrk(text, "<>=!&|()")) {
        return apr_psprintf(p, "'%s' is neither a preset (%s) nor an "
                            "expression like \"NetworkErrorRatio() > 0.5\"",
                            text, apigw_cb_expr_preset_names());
    }
    err = apigw_cb_expr_parse(p, text, &expr, &pos);
    if (!err) {
        return NULL;
    }
    len = strlen(text);
    if (pos >= len) {
        return apr_psprintf(p, "expression \"%s\": error at position %"
                            APR_SIZE_T_FMT " (the end): %s", text, len + 1,
                            err);
    }
    return apr_psprintf(p, "expression \"%s\": error at position %"
                        APR_SIZE_T_FMT " (at \"%.20s%s\"): %s", text, pos + 1,
                        text + pos, len - pos > 20 ? "..." : "", err);
}

static const char *check_duration(apr_pool_t *p, const char *field,
                                  apr_interval_time_t d, int zero_ok)
{
    if (d < 0 || (d == 0 && !zero_ok)) {
        return apr_psprintf(p, "%s= must be %s", field,
                            zero_ok ? "zero or more" : "greater than zero");
    }
    if (d != 0 && d < apr_time_from_msec(1)) {
        return apr_psprintf(p, "%s= must be at least 1ms", field);
    }
    return NULL;
}

static const char *check_timing(apr_pool_t *p, const apigw_cb_timing *t)
{
    const char *err;

    if ((err = check_duration(p, "check", t->check, 0)) != NULL
        || (err = check_duration(p, "fallback", t->fallback, 0)) != NULL
        || (err = check_duration(p, "recovery", t->recovery, 1)) != NULL) {
        return err;
    }
    return NULL;
}

static const char *check_fallback(apr_pool_t *p, const char *url)
{
    const char *origin, *prefix, *err;

    if (!url) {
        return NULL;
    }
    err = apigw_cb_url_parse_fallback(p, url, &origin, &prefix);
    return err ? apr_psprintf(p, "fallback-backend=%s %s", url, err) : NULL;
}

const char *apigw_cb_breaker_validate(apr_pool_t *p,
                                      const apigw_cb_settings *b)
{
    const char *err;

    if ((err = check_expression(p, b)) != NULL
        || (err = check_timing(p, &b->timing)) != NULL) {
        return err;
    }
    if (b->status < 400 || b->status > 599) {
        return apr_psprintf(p, "status=%d must be an HTTP error status from "
                            "400 to 599", b->status);
    }
    if (b->min_requests > APIGW_CB_MAX_MIN_REQUESTS) {
        return apr_psprintf(p, "min-requests=%" APR_UINT64_T_FMT " must be "
                            "a whole number from 0 to %" APR_UINT64_T_FMT,
                            b->min_requests, APIGW_CB_MAX_MIN_REQUESTS);
    }
    if ((err = check_fallback(p, b->fallback_backend)) != NULL) {
        return err;
    }
    if (b->scope_backend != 0 && b->scope_backend != 1) {
        return "scope= must be endpoint (one state for the section) or "
               "backend (one per backend it proxies to)";
    }
    return NULL;
}
