/* Header shaping: ApiRequestHeader (to the backend) and ApiResponseHeader
 * (to the client) rules, set/add/unset with values that may use ap_expr,
 * and the security headers preset (ApiSecurityHeaders).
 *
 * A value is an ap_expr string ("%{REMOTE_ADDR}", "%{req:Host}", plain
 * text), compiled at startup; a value without '%' or '\' is used as it is.
 * CR/LF (and other control characters) in a written value are refused at
 * configtest (apigw_header_rules_validate); a value that evaluates to one
 * at run time is not set. */
#include "apigw_policy_conf.h"
#include "apigw_policy_validate.h"
#include "apigw_config.h"
#include "apigw_log.h"

#include "http_log.h"
#include "apr_strings.h"

APLOG_USE_MODULE(apigw);

const char *apigw_header_rule_parse(cmd_parms *cmd, apr_array_header_t **rules,
                                    const char *field, const char *action,
                                    const char *name, const char *value)
{
    apigw_header_rule *rule;
    const apigw_invalid *inv;
    const char *err = NULL;

    if (!*rules) {
        *rules = apr_array_make(cmd->pool, 4, sizeof(apigw_header_rule));
    }
    rule = apr_array_push(*rules);
    memset(rule, 0, sizeof(*rule));
    if (ap_cstr_casecmp(action, "set") == 0) {
        rule->action = APIGW_HDR_SET;
    }
    else if (ap_cstr_casecmp(action, "add") == 0) {
        rule->action = APIGW_HDR_ADD;
    }
    else if (ap_cstr_casecmp(action, "unset") == 0) {
        rule->action = APIGW_HDR_UNSET;
    }
    else {
        return apr_psprintf(cmd->pool, "%s: unknown action '%s' (set, add or "
                            "unset)", cmd->cmd->name, action);
    }
    rule->name = name;
    rule->value = value;
    if ((inv = apigw_header_rules_validate(cmd->pool, field, *rules)) != NULL) {
        return apr_psprintf(cmd->pool, "%s %s: %s", cmd->cmd->name, action,
                            inv->problem);
    }
    if (value && (strchr(value, '%') || strchr(value, '\\'))) {
        rule->expr = ap_expr_parse_cmd(cmd, value, AP_EXPR_FLAG_STRING_RESULT,
                                       &err, NULL);
        if (err) {
            return apr_psprintf(cmd->pool, "%s %s %s: cannot parse the "
                                "expression \"%s\": %s", cmd->cmd->name,
                                action, name, value, err);
        }
    }
    return NULL;
}

static const char *rule_value(request_rec *r, const apigw_header_rule *rule)
{
    const char *err = NULL, *v, *s;

    if (!rule->expr) {
        return rule->value;
    }
    v = ap_expr_str_exec(r, rule->expr, &err);
    if (err || !v) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, APIGW_LOGNO(00620)
                      "header %s: the expression failed (%s); not set",
                      rule->name, err ? err : "no value");
        return NULL;
    }
    for (s = v; *s; s++) {
        if (((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f) {
            ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, APIGW_LOGNO(00621)
                          "header %s: the value holds a control character; "
                          "not set", rule->name);
            return NULL;
        }
    }
    return v;
}

void apigw_headers_apply(request_rec *r, const apr_array_header_t *rules,
                         apr_table_t *t, apr_table_t *also_remove)
{
    int i;

    if (also_remove && (also_remove == t || apr_is_empty_table(also_remove))) {
        also_remove = NULL;         /* nothing there to remove */
    }
    for (i = 0; rules && i < rules->nelts; i++) {
        const apigw_header_rule *rule = &APR_ARRAY_IDX(rules, i,
                                                       apigw_header_rule);
        const char *v;

        switch (rule->action) {
        case APIGW_HDR_UNSET:
            apr_table_unset(t, rule->name);
            if (also_remove) {
                apr_table_unset(also_remove, rule->name);
            }
            break;
        case APIGW_HDR_SET:
            if ((v = rule_value(r, rule)) != NULL) {
                apr_table_setn(t, rule->name, v);
                if (also_remove) {
                    apr_table_unset(also_remove, rule->name);
                }
            }
            break;
        case APIGW_HDR_ADD:
            if ((v = rule_value(r, rule)) != NULL) {
                apr_table_addn(t, rule->name, v);
            }
            break;
        }
    }
}

/* The preset: one switch for what every API response should carry. */
static const char *const security_headers[][2] = {
    { "Strict-Transport-Security", "max-age=31536000; includeSubDomains" },
    { "X-Content-Type-Options", "nosniff" },
    { "X-Frame-Options", "DENY" },
    { "Referrer-Policy", "no-referrer" },
    { NULL, NULL }
};

void apigw_security_headers_apply(apr_table_t *t)
{
    int i;

    for (i = 0; security_headers[i][0]; i++) {
        apr_table_setn(t, security_headers[i][0], security_headers[i][1]);
    }
}
