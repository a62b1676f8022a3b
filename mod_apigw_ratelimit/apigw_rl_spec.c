/* The settings of a limit and of a tier, and their checks; see
 * apigw_rl_spec.h. Messages name the field as a directive writes it
 * (field=value, a key, a tier's values), so the directive that prefixes
 * its own name and an admin API that prefixes a route's both read well. */
#include "apigw_rl_spec.h"
#include "apigw_rl_gcra.h"

#include <string.h>
#include <apr_cstr.h>
#include <apr_lib.h>
#include <apr_strings.h>

#define KEY_KINDS "ip, header:NAME, cookie:NAME, env:NAME or expr:EXPRESSION"

/* by its apigw_rl_by_kind */
static const char *const kind_names[] = {
    "endpoint", "ip", "header", "cookie", "env", "expr"
};

#define NKINDS ((int)(sizeof(kind_names) / sizeof(kind_names[0])))

static int known_kind(apigw_rl_by_kind kind)
{
    return (unsigned)kind < (unsigned)NKINDS;
}

/* ---- defaults ---- */

void apigw_rl_limit_defaults(apr_pool_t *p, apigw_rl_limit_spec *l)
{
    memset(l, 0, sizeof(*l));
    l->numbers.burst = 1;
    l->by = apr_array_make(p, 2, sizeof(apigw_rl_key));
    l->status = APIGW_RL_DEFAULT_STATUS;
}

void apigw_rl_tier_defaults(apr_pool_t *p, apigw_rl_tier_spec *t,
                            const apigw_rl_limit_spec *l)
{
    t->values = apr_array_make(p, 2, sizeof(const char *));
    t->numbers = l->numbers;
    t->numbers.average = 0;
}

/* ---- texts ---- */

const char *apigw_rl_seconds_text(apr_pool_t *p, apr_interval_time_t us)
{
    char *s = apr_psprintf(p, "%" APR_TIME_T_FMT ".%06" APR_TIME_T_FMT,
                           us / APR_USEC_PER_SEC, us % APR_USEC_PER_SEC);
    char *e = s + strlen(s) - 1;

    while (*e == '0') {
        *e-- = '\0';
    }
    if (*e == '.') {
        *e = '\0';
    }
    return s;
}

const char *apigw_rl_key_text(apr_pool_t *p, const apigw_rl_key *k)
{
    const char *kind = known_kind(k->kind) ? kind_names[k->kind] : "?";

    return k->name ? apr_pstrcat(p, kind, ":", k->name, NULL) : kind;
}

const char *apigw_rl_key_kinds(const char *field)
{
    return strcmp(field, "by") == 0 ? "endpoint, " KEY_KINDS : KEY_KINDS;
}

const char *apigw_rl_key_parse(apr_pool_t *p, const char *field,
                               const char *text, apigw_rl_key *out)
{
    const char *colon = strchr(text, ':');
    const char *kind = colon ? apr_pstrmemdup(p, text,
                                              (apr_size_t)(colon - text))
                             : text;
    int i;

    for (i = 0; i < NKINDS && apr_cstr_casecmp(kind, kind_names[i]); i++) {
    }
    if (i == NKINDS) {
        return apr_psprintf(p, "unknown key '%s' in %s= (use %s)", text,
                            field, apigw_rl_key_kinds(field));
    }
    out->kind = (apigw_rl_by_kind)i;
    out->name = colon ? colon + 1 : NULL;
    return NULL;
}

/* ---- checks ---- */

static const char *check_key(apr_pool_t *p, const char *field,
                             const apigw_rl_key *k)
{
    const char *text = apigw_rl_key_text(p, k);

    if (!known_kind(k->kind)
            || (k->kind == APIGW_RL_BY_ENDPOINT && strcmp(field, "by"))) {
        return apr_psprintf(p, "unknown key '%s' in %s= (use %s)", text,
                            field, apigw_rl_key_kinds(field));
    }
    if (k->kind == APIGW_RL_BY_ENDPOINT || k->kind == APIGW_RL_BY_IP) {
        return k->name ? apr_psprintf(p, "key '%s' in %s= takes no name "
                                      "(use %s)", text, field,
                                      kind_names[k->kind])
                       : NULL;
    }
    if (!k->name || !*k->name) {
        return apr_psprintf(p, "key '%s' in %s= needs %s, like %s", text,
                            field,
                            k->kind == APIGW_RL_BY_EXPR ? "an expression"
                                                        : "a name",
                            k->kind == APIGW_RL_BY_EXPR
                                ? "expr:%{REMOTE_USER}"
                                : apr_pstrcat(p, kind_names[k->kind],
                                              ":X-Api-Key", NULL));
    }
    return NULL;
}

/* names appear in JSON and in RateLimit-Policy's quoted strings */
static const char *check_name(apr_pool_t *p, const char *name)
{
    const char *c;

    for (c = name; *c; c++) {
        if (!apr_isalnum(*c) && !strchr("._:-", *c)) {
            break;
        }
    }
    if (!*name || *c) {
        return apr_psprintf(p, "name=%s is not a valid name (letters, "
                            "digits and . _ : -)", name);
    }
    return NULL;
}

static const char *check_numbers(apr_pool_t *p, const apigw_rl_numbers *n)
{
    apigw_rl_rate rt;
    const char *err;

    if (n->average > APIGW_RL_MAX_AVERAGE) {
        return apr_psprintf(p, "average=%" APR_UINT64_T_FMT " is out of "
                            "range (0 to %" APR_UINT64_T_FMT ")", n->average,
                            APIGW_RL_MAX_AVERAGE);
    }
    if (n->period <= 0) {
        return "period= must be greater than zero";
    }
    if (n->period > APIGW_RL_MAX_PERIOD) {
        return apr_psprintf(p, "period=%ss is longer than %d days",
                            apigw_rl_seconds_text(p, n->period),
                            (int)(apr_time_sec(APIGW_RL_MAX_PERIOD) / 86400));
    }
    if (n->burst < 1 || n->burst > APIGW_RL_MAX_BURST) {
        return apr_psprintf(p, "burst=%" APR_UINT64_T_FMT " is out of range "
                            "(1 to %" APR_UINT64_T_FMT ")", n->burst,
                            APIGW_RL_MAX_BURST);
    }
    if (n->delay < 0) {
        return "delay= must not be negative";
    }
    if (n->delay > APIGW_RL_MAX_DELAY) {
        return apr_psprintf(p, "delay=%ss is longer than the %d s a request "
                            "may wait", apigw_rl_seconds_text(p, n->delay),
                            (int)apr_time_sec(APIGW_RL_MAX_DELAY));
    }
    /* each number fits; together they must still count in nanoseconds */
    err = apigw_rl_rate_init(&rt, n->average, (apr_uint64_t)n->period * 1000,
                             n->burst, (apr_uint64_t)n->delay * 1000);
    if (err) {
        return apr_psprintf(p, "burst=%" APR_UINT64_T_FMT " with average=%"
                            APR_UINT64_T_FMT " period=%ss: %s", n->burst,
                            n->average, apigw_rl_seconds_text(p, n->period),
                            err);
    }
    return NULL;
}

const char *apigw_rl_limit_validate(apr_pool_t *p,
                                    const apigw_rl_limit_spec *l)
{
    const char *err;
    int i;

    if (l->name && (err = check_name(p, l->name)) != NULL) {
        return err;
    }
    if ((err = check_numbers(p, &l->numbers)) != NULL) {
        return err;
    }
    if (l->status < 400 || l->status > 599) {
        return apr_psprintf(p, "status=%d must be an HTTP error status from "
                            "400 to 599", l->status);
    }
    for (i = 0; l->by && i < l->by->nelts; i++) {
        err = check_key(p, "by", &APR_ARRAY_IDX(l->by, i, apigw_rl_key));
        if (err) {
            return err;
        }
    }
    if (l->tier) {
        if ((err = check_key(p, "tier", l->tier)) != NULL) {
            return err;
        }
        if (!l->name) {
            return "tier= needs name= (a tier names the limit it belongs to)";
        }
    }
    return NULL;
}

const char *apigw_rl_tier_validate(apr_pool_t *p,
                                   const apigw_rl_tier_spec *t)
{
    int i, j;

    if (!t->values || t->values->nelts == 0) {
        return "values: name at least one value of the tier key (e.g. gold)";
    }
    for (i = 0; i < t->values->nelts; i++) {
        const char *v = APR_ARRAY_IDX(t->values, i, const char *);

        if (!v || !*v) {
            return "values: a value of the tier key is empty";
        }
        for (j = 0; j < i; j++) {
            if (strcmp(v, APR_ARRAY_IDX(t->values, j, const char *)) == 0) {
                return apr_psprintf(p, "values: '%s' is given twice", v);
            }
        }
    }
    return check_numbers(p, &t->numbers);
}
