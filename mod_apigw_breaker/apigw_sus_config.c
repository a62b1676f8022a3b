/* Member suspension: the directives (a policy's lines read into
 * apigw_sus_fields and checked by apigw_sus_policy_validate), create/merge
 * of the configs, resolving a member's policy from its balancer's and its
 * own lines, and the configtest checks (check_config) that every named
 * balancer and member exists and every member's policy holds together. */
#include "apigw_sus_config.h"
#include "apigw_parse.h"
#include "apigw_log.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <strings.h>

#include "http_log.h"
#include "apr_strings.h"
#include "apr_lib.h"

APLOG_USE_MODULE(apigw_breaker);

#define BALANCER_SCHEME "balancer://"
#define BALANCER_SCHEME_LEN (sizeof(BALANCER_SCHEME) - 1)

/* ---- create / merge ---- */

struct apigw_sus_dir_conf *apigw_sus_create_dir_conf(apr_pool_t *p)
{
    struct apigw_sus_dir_conf *c = apr_pcalloc(p, sizeof(*c));
    c->retries = -1;
    c->timeout_action = APIGW_SUS_ACTION_UNSET;
    return c;
}

struct apigw_sus_dir_conf *apigw_sus_merge_dir_conf(
    apr_pool_t *p, struct apigw_sus_dir_conf *base,
    struct apigw_sus_dir_conf *add)
{
    struct apigw_sus_dir_conf *c = apr_pcalloc(p, sizeof(*c));
    /* count, delay and budget come from one ApiBalancerRetries line */
    const struct apigw_sus_dir_conf *r = add->retries >= 0 ? add : base;

    c->retries = r->retries;
    c->retry_delay = r->retry_delay;
    c->within = r->within;
    c->timeout_action = add->timeout_action != APIGW_SUS_ACTION_UNSET
                        ? add->timeout_action : base->timeout_action;
    return c;
}

struct apigw_sus_server_conf *apigw_sus_create_server_conf(apr_pool_t *p,
                                                           server_rec *s)
{
    struct apigw_sus_server_conf *c = apr_pcalloc(p, sizeof(*c));
    (void)s;
    c->rules = apr_array_make(p, 4, sizeof(apigw_sus_rule *));
    c->affinities = apr_array_make(p, 2, sizeof(apigw_sus_affinity_conf *));
    return c;
}

struct apigw_sus_server_conf *apigw_sus_merge_server_conf(
    apr_pool_t *p, struct apigw_sus_server_conf *base,
    struct apigw_sus_server_conf *add)
{
    struct apigw_sus_server_conf *c = apr_pcalloc(p, sizeof(*c));
    /* a virtual host's own lines first, then the main server's (a balancer
     * of the main server is inherited by virtual hosts) */
    c->rules = add->rules;
    c->affinities = add->affinities;
    c->base = base;
    return c;
}

struct apigw_sus_server_conf *apigw_sus_server(const server_rec *s)
{
    apigw_br_server_conf *bc = ap_get_module_config(s->module_config,
                                                    &apigw_breaker_module);
    return bc->sus;
}

const struct apigw_sus_dir_conf *apigw_sus_dir(const request_rec *r)
{
    apigw_br_dir_conf *bc = ap_get_module_config(r->per_dir_config,
                                                 &apigw_breaker_module);
    return bc ? bc->sus : NULL;
}

/* ---- names ---- */

/* "balancer://Pool/x" -> "balancer://pool", or NULL when not a balancer. */
static const char *balancer_name(apr_pool_t *p, const char *url)
{
    char *name, *slash;

    if (strncasecmp(url, BALANCER_SCHEME, BALANCER_SCHEME_LEN) != 0
        || !url[BALANCER_SCHEME_LEN] || url[BALANCER_SCHEME_LEN] == '/') {
        return NULL;
    }
    name = apr_pstrdup(p, url);
    if ((slash = strchr(name + BALANCER_SCHEME_LEN, '/')) != NULL) {
        *slash = '\0';
    }
    ap_str_tolower(name);
    return name;
}

/* Compares two URLs case-insensitively, ignoring one trailing '/'. */
static int same_url(const char *a, const char *b)
{
    apr_size_t la = strlen(a), lb = strlen(b);

    if (la && a[la - 1] == '/') {
        la--;
    }
    if (lb && b[lb - 1] == '/') {
        lb--;
    }
    return la == lb && strncasecmp(a, b, la) == 0;
}

int apigw_sus_member_is(const proxy_worker *w, const char *url)
{
    return same_url(w->s->name_ex, url);
}

static int rule_is(const apigw_sus_rule *r, const char *balancer,
                   const char *member)
{
    if (strcmp(r->balancer, balancer) != 0) {
        return 0;
    }
    if (!member || !r->member) {
        return !member && !r->member;
    }
    return same_url(r->member, member);
}

const apigw_sus_rule *apigw_sus_find_rule(const struct apigw_sus_server_conf *sc,
                                          const char *balancer,
                                          const char *member)
{
    for (; sc; sc = sc->base) {
        int i;
        for (i = 0; i < sc->rules->nelts; i++) {
            const apigw_sus_rule *r = APR_ARRAY_IDX(sc->rules, i,
                                                    apigw_sus_rule *);
            if (rule_is(r, balancer, member)) {
                return r;
            }
        }
    }
    return NULL;
}

const apigw_sus_affinity_conf *apigw_sus_find_affinity(
    const struct apigw_sus_server_conf *sc, const char *balancer)
{
    for (; sc; sc = sc->base) {
        int i;
        for (i = 0; i < sc->affinities->nelts; i++) {
            const apigw_sus_affinity_conf *a =
                APR_ARRAY_IDX(sc->affinities, i, apigw_sus_affinity_conf *);
            if (strcmp(a->balancer, balancer) == 0) {
                return a;
            }
        }
    }
    return NULL;
}

/* ---- resolving a member's policy ---- */

apigw_sus_policy *apigw_sus_resolve(apr_pool_t *p,
                                    const struct apigw_sus_server_conf *sc,
                                    const char *balancer, const char *member,
                                    const char **err)
{
    const apigw_sus_rule *rb = apigw_sus_find_rule(sc, balancer, NULL);
    const apigw_sus_rule *rm = member ? apigw_sus_find_rule(sc, balancer, member)
                                      : NULL;
    apigw_sus_policy *pol;

    *err = NULL;
    if (!rb && !rm) {
        return NULL;
    }
    pol = apr_palloc(p, sizeof(*pol));
    apigw_sus_policy_defaults(pol);
    if (rb) {
        apigw_sus_policy_apply(pol, &rb->f);
    }
    if (rm) {
        apigw_sus_policy_apply(pol, &rm->f);
    }
    *err = apigw_sus_policy_check(pol);
    return pol;
}

/* ---- directive helpers ---- */

/* Inside <Proxy balancer://NAME> sets *section to NAME; elsewhere in a
 * section (<Location>, <ApiEndpoint>...) these directives are refused. */
static const char *server_wide_context(cmd_parms *cmd, const char **section)
{
    const ap_directive_t *parent = cmd->directive->parent;

    *section = NULL;
    if (!cmd->path) {
        return NULL;
    }
    if (parent && strcasecmp(parent->directive, "<Proxy") == 0
        && (*section = balancer_name(cmd->temp_pool, cmd->path)) != NULL) {
        return NULL;
    }
    return apr_psprintf(cmd->pool, "%s belongs in the server config, a "
                        "virtual host or a <Proxy balancer://...> section",
                        cmd->cmd->name);
}

/* Reads the positional words of a balancer-wide directive: the balancer
 * (which may be left out inside its <Proxy> section) and, where member is
 * not NULL, an optional member URL. *args is left at the first option. */
static const char *target_words(cmd_parms *cmd, const char **args,
                                const char **balancer, const char **member)
{
    const char *section, *err, *word;
    const char *b = NULL, *m = NULL;

    if ((err = server_wide_context(cmd, &section)) != NULL) {
        return err;
    }
    for (;;) {
        const char *before = *args;
        word = ap_getword_conf(cmd->temp_pool, args);
        if (!*word || ap_strchr_c(word, '=')) {
            *args = before;
            break;
        }
        if (!b && !m && balancer_name(cmd->temp_pool, word)) {
            b = balancer_name(cmd->pool, word);
        }
        else if (member && !m && ap_strstr_c(word, "://")
                 && !balancer_name(cmd->temp_pool, word)) {
            m = apr_pstrdup(cmd->pool, word);
        }
        else {
            return apr_psprintf(cmd->pool, "%s: unexpected '%s' (expected "
                                "balancer://NAME%s, then key=value options)",
                                cmd->cmd->name, word,
                                member ? " [MEMBER-URL]" : "");
        }
    }
    if (!b) {
        if (!section) {
            return apr_psprintf(cmd->pool, "%s needs the balancer it applies "
                                "to: %s balancer://NAME ...", cmd->cmd->name,
                                cmd->cmd->name);
        }
        b = apr_pstrdup(cmd->pool, section);
    }
    else if (section && strcmp(b, section) != 0) {
        return apr_psprintf(cmd->pool, "%s %s inside <Proxy %s>: name the "
                            "section's own balancer, or leave it out",
                            cmd->cmd->name, b, section);
    }
    *balancer = b;
    if (member) {
        *member = m;
    }
    return NULL;
}

/* Splits "key=value"; NULL when the word has no '='. */
static const char *split_option(apr_pool_t *p, const char *word,
                                const char **value)
{
    const char *eq = ap_strchr_c(word, '=');

    if (!eq) {
        return NULL;
    }
    *value = eq + 1;
    return apr_pstrmemdup(p, word, (apr_size_t)(eq - word));
}

static const char *parse_duration_opt(cmd_parms *cmd, const char *key,
                                      const char *value, int allow_minus_one,
                                      apr_interval_time_t *out)
{
    const char *err;

    if (allow_minus_one && strcmp(value, "-1") == 0) {
        *out = -1;
        return NULL;
    }
    if ((err = apigw_parse_duration(value, out)) != NULL) {
        return apr_psprintf(cmd->pool, "%s: %s=%s: %s", cmd->cmd->name, key,
                            value, err);
    }
    return NULL;
}

/* A whole number, sign allowed, that fits an int. */
static int whole_number(const char *value, int *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(value, &end, 10);
    if (!*value || *end || errno || v < INT_MIN || v > INT_MAX) {
        return 0;
    }
    *out = (int)v;
    return 1;
}

static const char *parse_int_opt(cmd_parms *cmd, const char *key,
                                 const char *value, int lo, int hi, int *out)
{
    if (!whole_number(value, out) || *out < lo || *out > hi) {
        return apr_psprintf(cmd->pool, "%s: %s=%s: a whole number from %d "
                            "to %d is needed", cmd->cmd->name, key, value, lo,
                            hi);
    }
    return NULL;
}

/* The number a policy field is given; its range is the policy's to check
 * (apigw_sus_policy_validate). */
static const char *parse_factor_opt(cmd_parms *cmd, const char *value,
                                    double *out)
{
    char *end;

    *out = strtod(value, &end);
    if (!*value || *end) {
        return apr_psprintf(cmd->pool, "%s: factor=%s: a number from 1 to "
                            "1000 is needed (2 doubles each suspension)",
                            cmd->cmd->name, value);
    }
    return NULL;
}

static const char *parse_retries_opt(cmd_parms *cmd, const char *value,
                                     int *out)
{
    if (!whole_number(value, out)) {
        return apr_psprintf(cmd->pool, "%s: retries=%s: a whole number is "
                            "needed", cmd->cmd->name, value);
    }
    return NULL;
}

static const char *parse_codes_opt(cmd_parms *cmd, const char *value,
                                   apigw_sus_codes *out)
{
    const char *err = apigw_sus_codes_parse(cmd->temp_pool, value, out);

    return err ? apr_psprintf(cmd->pool, "%s: codes=%s: %s", cmd->cmd->name,
                              value, err)
               : NULL;
}

static apigw_sus_rule *rule_for(cmd_parms *cmd, const char *balancer,
                                const char *member)
{
    struct apigw_sus_server_conf *sc = apigw_sus_server(cmd->server);
    apigw_sus_rule *r;
    int i;

    for (i = 0; i < sc->rules->nelts; i++) {
        r = APR_ARRAY_IDX(sc->rules, i, apigw_sus_rule *);
        if (rule_is(r, balancer, member)) {
            return r;
        }
    }
    r = apr_pcalloc(cmd->pool, sizeof(*r));
    r->balancer = balancer;
    r->member = member;
    r->file = cmd->directive->filename;
    r->line = (unsigned)cmd->directive->line_num;
    APR_ARRAY_PUSH(sc->rules, apigw_sus_rule *) = r;
    return r;
}

static const char *target_text(apr_pool_t *p, const apigw_sus_rule *r)
{
    return r->member ? apr_pstrcat(p, r->balancer, " ", r->member, NULL)
                     : r->balancer;
}

/* The fields of one policy line, checked as the admin API checks a
 * route's. */
static const char *validate_fields(cmd_parms *cmd, const apigw_sus_fields *f)
{
    const char *err = apigw_sus_policy_validate(cmd->temp_pool, f);

    return err ? apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name, err)
               : NULL;
}

/* ---- ApiBalancerSuspend ---- */

const char *apigw_sus_cmd_suspend(cmd_parms *cmd, void *mconfig,
                                  const char *args)
{
    const char *balancer, *member, *err, *word, *key, *value;
    apigw_sus_fields f;
    apigw_sus_rule *r;

    (void)mconfig;
    if ((err = target_words(cmd, &args, &balancer, &member)) != NULL) {
        return err;
    }
    memset(&f, 0, sizeof(f));
    while (*(word = ap_getword_conf(cmd->temp_pool, &args))) {
        if (!(key = split_option(cmd->temp_pool, word, &value))) {
            return apr_psprintf(cmd->pool, "%s: unexpected '%s' (options "
                                "are codes=, initial=, factor=, max=)",
                                cmd->cmd->name, word);
        }
        if (strcasecmp(key, "codes") == 0) {
            err = parse_codes_opt(cmd, value, &f.suspend_codes);
            f.suspend_codes_set = 1;
        }
        else if (strcasecmp(key, "initial") == 0) {
            err = parse_duration_opt(cmd, key, value, 1, &f.initial);
            f.initial_set = 1;
        }
        else if (strcasecmp(key, "max") == 0) {
            err = parse_duration_opt(cmd, key, value, 1, &f.max);
            f.max_set = 1;
        }
        else if (strcasecmp(key, "factor") == 0) {
            err = parse_factor_opt(cmd, value, &f.factor);
            f.factor_set = 1;
        }
        else {
            err = apr_psprintf(cmd->pool, "%s: unknown option '%s' (options "
                               "are codes=, initial=, factor=, max=)",
                               cmd->cmd->name, key);
        }
        if (err) {
            return err;
        }
    }
    if ((err = validate_fields(cmd, &f)) != NULL) {
        return err;
    }
    r = rule_for(cmd, balancer, member);
    if (r->f.suspend_line) {
        return apr_psprintf(cmd->pool, "%s for %s is already given at %s:%u",
                            cmd->cmd->name, target_text(cmd->pool, r),
                            r->file, r->line);
    }
    f.mark_line = r->f.mark_line;
    f.timeout_codes = r->f.timeout_codes;
    f.timeout_codes_set = r->f.timeout_codes_set;
    f.retries = r->f.retries;
    f.retries_set = r->f.retries_set;
    f.retry_delay = r->f.retry_delay;
    f.retry_delay_set = r->f.retry_delay_set;
    f.suspend_line = 1;
    r->f = f;
    return NULL;
}

/* ---- ApiBalancerMarkForSuspension ---- */

const char *apigw_sus_cmd_mark(cmd_parms *cmd, void *mconfig,
                               const char *args)
{
    const char *balancer, *member, *err, *word, *key, *value;
    apigw_sus_fields f;
    apigw_sus_rule *r;

    (void)mconfig;
    if ((err = target_words(cmd, &args, &balancer, &member)) != NULL) {
        return err;
    }
    memset(&f, 0, sizeof(f));
    while (*(word = ap_getword_conf(cmd->temp_pool, &args))) {
        if (!(key = split_option(cmd->temp_pool, word, &value))) {
            return apr_psprintf(cmd->pool, "%s: unexpected '%s' (options "
                                "are codes=, retries=, retry-delay=)",
                                cmd->cmd->name, word);
        }
        if (strcasecmp(key, "codes") == 0) {
            err = parse_codes_opt(cmd, value, &f.timeout_codes);
            f.timeout_codes_set = 1;
        }
        else if (strcasecmp(key, "retries") == 0) {
            err = parse_retries_opt(cmd, value, &f.retries);
            f.retries_set = 1;
        }
        else if (strcasecmp(key, "retry-delay") == 0) {
            err = parse_duration_opt(cmd, key, value, 0, &f.retry_delay);
            f.retry_delay_set = 1;
        }
        else {
            err = apr_psprintf(cmd->pool, "%s: unknown option '%s' (options "
                               "are codes=, retries=, retry-delay=)",
                               cmd->cmd->name, key);
        }
        if (err) {
            return err;
        }
    }
    if ((err = validate_fields(cmd, &f)) != NULL) {
        return err;
    }
    r = rule_for(cmd, balancer, member);
    if (r->f.mark_line) {
        return apr_psprintf(cmd->pool, "%s for %s is already given at %s:%u",
                            cmd->cmd->name, target_text(cmd->pool, r),
                            r->file, r->line);
    }
    r->f.mark_line = 1;
    if (f.timeout_codes_set) {
        r->f.timeout_codes = f.timeout_codes;
        r->f.timeout_codes_set = 1;
    }
    r->f.retries = f.retries;
    r->f.retries_set = f.retries_set;
    r->f.retry_delay = f.retry_delay;
    r->f.retry_delay_set = f.retry_delay_set;
    return NULL;
}

/* ---- ApiBalancerAffinity ---- */

static int is_token(const char *s)
{
    if (!*s) {
        return 0;
    }
    for (; *s; s++) {
        if (!apr_isalnum(*s) && !ap_strchr_c("!#$%&'*+-.^_`|~", *s)) {
            return 0;
        }
    }
    return 1;
}

const char *apigw_sus_cmd_affinity(cmd_parms *cmd, void *mconfig,
                                   const char *args)
{
    struct apigw_sus_server_conf *sc = apigw_sus_server(cmd->server);
    apigw_sus_affinity_conf *a;
    const char *balancer, *err, *word, *key, *value;
    int i, kind_set = 0;

    (void)mconfig;
    if ((err = target_words(cmd, &args, &balancer, NULL)) != NULL) {
        return err;
    }
    for (i = 0; i < sc->affinities->nelts; i++) {
        a = APR_ARRAY_IDX(sc->affinities, i, apigw_sus_affinity_conf *);
        if (strcmp(a->balancer, balancer) == 0) {
            return apr_psprintf(cmd->pool, "%s for %s is already given at "
                                "%s:%u", cmd->cmd->name, balancer, a->file,
                                a->line);
        }
    }
    a = apr_pcalloc(cmd->pool, sizeof(*a));
    a->balancer = balancer;
    a->timeout = APIGW_SUS_DEFAULT_SESSION_TIMEOUT;
    a->sessions = APIGW_SUS_DEFAULT_SESSIONS;
    a->file = cmd->directive->filename;
    a->line = (unsigned)cmd->directive->line_num;
    while (*(word = ap_getword_conf(cmd->temp_pool, &args))) {
        key = split_option(cmd->temp_pool, word, &value);
        err = NULL;
        if (!key && strcasecmp(word, "none") == 0) {
            a->kind = APIGW_SUS_AFFINITY_NONE;
            kind_set = 1;
        }
        else if (!key) {
            err = apr_psprintf(cmd->pool, "%s: unexpected '%s' (none, "
                               "cookie=NAME or header=NAME, then timeout=, "
                               "sessions=)", cmd->cmd->name, word);
        }
        else if (strcasecmp(key, "cookie") == 0
                 || strcasecmp(key, "header") == 0) {
            if (kind_set) {
                err = apr_psprintf(cmd->pool, "%s: one of none, cookie= or "
                                   "header=", cmd->cmd->name);
            }
            else if (!is_token(value)) {
                err = apr_psprintf(cmd->pool, "%s: %s=%s is not a valid %s "
                                   "name", cmd->cmd->name, key, value, key);
            }
            a->kind = strcasecmp(key, "cookie") == 0
                      ? APIGW_SUS_AFFINITY_COOKIE : APIGW_SUS_AFFINITY_HEADER;
            a->name = apr_pstrdup(cmd->pool, value);
            kind_set = 1;
        }
        else if (strcasecmp(key, "timeout") == 0) {
            err = parse_duration_opt(cmd, key, value, 0, &a->timeout);
            if (!err && a->timeout < apr_time_from_sec(1)) {
                err = apr_psprintf(cmd->pool, "%s: timeout= must be at least "
                                   "1s", cmd->cmd->name);
            }
        }
        else if (strcasecmp(key, "sessions") == 0) {
            err = parse_int_opt(cmd, key, value, 16, 1 << 20, &a->sessions);
        }
        else {
            err = apr_psprintf(cmd->pool, "%s: unknown option '%s' (options "
                               "are cookie=, header=, timeout=, sessions=)",
                               cmd->cmd->name, key);
        }
        if (err) {
            return err;
        }
    }
    if (!kind_set) {
        return apr_psprintf(cmd->pool, "%s %s: say none, cookie=NAME or "
                            "header=NAME", cmd->cmd->name, balancer);
    }
    APR_ARRAY_PUSH(sc->affinities, apigw_sus_affinity_conf *) = a;
    return NULL;
}

/* ---- ApiBalancerRetries and ApiBalancerTimeoutAction (per directory) ---- */

const char *apigw_sus_cmd_retries(cmd_parms *cmd, void *mconfig,
                                  const char *args)
{
    struct apigw_sus_dir_conf *dc = ((apigw_br_dir_conf *)mconfig)->sus;
    const char *word, *key, *value, *err;
    int count;

    word = ap_getword_conf(cmd->temp_pool, &args);
    if ((err = parse_int_opt(cmd, "count", word, 0, 20, &count)) != NULL) {
        return apr_psprintf(cmd->pool, "%s COUNT [delay=DURATION] "
                            "[within=DURATION]: COUNT must be a whole number "
                            "from 0 to 20, not '%s'", cmd->cmd->name, word);
    }
    dc->retries = count;
    dc->retry_delay = 0;
    dc->within = 0;
    while (*(word = ap_getword_conf(cmd->temp_pool, &args))) {
        if (!(key = split_option(cmd->temp_pool, word, &value))) {
            err = apr_psprintf(cmd->pool, "%s: unexpected '%s' (options are "
                               "delay=, within=)", cmd->cmd->name, word);
        }
        else if (strcasecmp(key, "delay") == 0) {
            err = parse_duration_opt(cmd, key, value, 0, &dc->retry_delay);
        }
        else if (strcasecmp(key, "within") == 0) {
            err = parse_duration_opt(cmd, key, value, 0, &dc->within);
            if (!err && dc->within <= 0) {
                err = apr_psprintf(cmd->pool, "%s: within= must be longer "
                                   "than 0", cmd->cmd->name);
            }
        }
        else {
            err = apr_psprintf(cmd->pool, "%s: unknown option '%s' (options "
                               "are delay=, within=)", cmd->cmd->name, key);
        }
        if (err) {
            return err;
        }
    }
    return NULL;
}

const char *apigw_sus_cmd_timeout_action(cmd_parms *cmd, void *mconfig,
                                         const char *arg)
{
    struct apigw_sus_dir_conf *dc = ((apigw_br_dir_conf *)mconfig)->sus;

    if (strcasecmp(arg, "fault") == 0) {
        dc->timeout_action = APIGW_SUS_ACTION_FAULT;
    }
    else if (strcasecmp(arg, "discard") == 0) {
        dc->timeout_action = APIGW_SUS_ACTION_DISCARD;
    }
    else if (strcasecmp(arg, "never") == 0) {
        dc->timeout_action = APIGW_SUS_ACTION_NEVER;
    }
    else {
        return apr_psprintf(cmd->pool, "%s %s: use fault, discard or never",
                            cmd->cmd->name, arg);
    }
    return NULL;
}

/* ---- configtest checks ---- */

static proxy_worker *member_of(proxy_balancer *b, const char *url)
{
    int i;

    for (i = 0; i < b->workers->nelts; i++) {
        proxy_worker *w = APR_ARRAY_IDX(b->workers, i, proxy_worker *);
        if (apigw_sus_member_is(w, url)) {
            return w;
        }
    }
    return NULL;
}

static const char *member_list(apr_pool_t *p, proxy_balancer *b)
{
    const char *list = "";
    int i;

    for (i = 0; i < b->workers->nelts; i++) {
        proxy_worker *w = APR_ARRAY_IDX(b->workers, i, proxy_worker *);
        list = apr_pstrcat(p, list, i ? ", " : "", w->s->name_ex, NULL);
    }
    return *list ? list : "none";
}

static int check_rule(apr_pool_t *ptemp, server_rec *s,
                      const struct apigw_sus_server_conf *sc,
                      proxy_server_conf *pc, const apigw_sus_rule *r)
{
    const char *what = r->f.suspend_line ? "ApiBalancerSuspend"
                                         : "ApiBalancerMarkForSuspension";
    proxy_balancer *b = ap_proxy_get_balancer(ptemp, pc, r->balancer, 0);
    const char *err;

    if (!b) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, APIGW_LOGNO(02500)
                     "%s %s (%s:%u): no <Proxy %s> is defined for this "
                     "server", what, r->balancer, r->file, r->line,
                     r->balancer);
        return !OK;
    }
    if (r->member && !member_of(b, r->member)) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, APIGW_LOGNO(02501)
                     "%s %s %s (%s:%u): %s has no such BalancerMember (its "
                     "members: %s)", what, r->balancer, r->member, r->file,
                     r->line, r->balancer, member_list(ptemp, b));
        return !OK;
    }
    apigw_sus_resolve(ptemp, sc, r->balancer, r->member, &err);
    if (err) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, APIGW_LOGNO(02502)
                     "%s %s (%s:%u): %s", what,
                     target_text(ptemp, r), r->file, r->line, err);
        return !OK;
    }
    return OK;
}

int apigw_sus_config_check(apr_pool_t *pconf, apr_pool_t *plog,
                           apr_pool_t *ptemp, server_rec *s)
{
    int rv = OK;

    (void)pconf;
    (void)plog;
    for (; s; s = s->next) {
        const struct apigw_sus_server_conf *sc = apigw_sus_server(s);
        proxy_server_conf *pc = ap_get_module_config(s->module_config,
                                                     &proxy_module);
        int i;

        for (i = 0; i < sc->rules->nelts; i++) {
            if (check_rule(ptemp, s, sc, pc, APR_ARRAY_IDX(sc->rules, i,
                                                           apigw_sus_rule *))
                != OK) {
                rv = !OK;
            }
        }
        for (i = 0; i < sc->affinities->nelts; i++) {
            const apigw_sus_affinity_conf *a =
                APR_ARRAY_IDX(sc->affinities, i, apigw_sus_affinity_conf *);
            if (!ap_proxy_get_balancer(ptemp, pc, a->balancer, 0)) {
                ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, APIGW_LOGNO(02500)
                             "ApiBalancerAffinity %s (%s:%u): no <Proxy %s> "
                             "is defined for this server", a->balancer,
                             a->file, a->line, a->balancer);
                rv = !OK;
            }
        }
    }
    return rv;
}
