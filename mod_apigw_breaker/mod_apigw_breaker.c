/* mod_apigw_breaker: circuit breakers and balancer-member suspension. This
 * file is the table of contents: the module record, composing the two
 * halves' configs, directives and hooks (see apigw_br_module.h). */
#include "apigw_br_module.h"
#include "apigw_cb.h"
#include "apigw_sus.h"

static void *apigw_br_create_dir_conf(apr_pool_t *p, char *dir)
{
    apigw_br_dir_conf *c = apr_pcalloc(p, sizeof(*c));
    (void)dir;
    c->cb = apigw_cb_create_dir_conf(p);
    c->sus = apigw_sus_create_dir_conf(p);
    return c;
}

static void *apigw_br_merge_dir_conf(apr_pool_t *p, void *basev, void *addv)
{
    apigw_br_dir_conf *base = basev, *add = addv;
    apigw_br_dir_conf *c = apr_pcalloc(p, sizeof(*c));
    c->cb = apigw_cb_merge_dir_conf(p, base->cb, add->cb);
    c->sus = apigw_sus_merge_dir_conf(p, base->sus, add->sus);
    return c;
}

static void *apigw_br_create_server_conf(apr_pool_t *p, server_rec *s)
{
    apigw_br_server_conf *c = apr_pcalloc(p, sizeof(*c));
    c->cb = apigw_cb_create_server_conf(p, s);
    c->sus = apigw_sus_create_server_conf(p, s);
    return c;
}

static void *apigw_br_merge_server_conf(apr_pool_t *p, void *basev,
                                        void *addv)
{
    apigw_br_server_conf *base = basev, *add = addv;
    apigw_br_server_conf *c = apr_pcalloc(p, sizeof(*c));
    c->cb = apigw_cb_merge_server_conf(p, base->cb, add->cb);
    c->sus = apigw_sus_merge_server_conf(p, base->sus, add->sus);
    return c;
}

static const command_rec apigw_br_cmds[] = {
    APIGW_CB_CMDS
    APIGW_SUS_CMDS
    {NULL}
};

static void apigw_br_register_hooks(apr_pool_t *p)
{
    apigw_cb_register_hooks(p);
    apigw_sus_register_hooks(p);
}

AP_DECLARE_MODULE(apigw_breaker) = {
    STANDARD20_MODULE_STUFF,
    apigw_br_create_dir_conf,
    apigw_br_merge_dir_conf,
    apigw_br_create_server_conf,
    apigw_br_merge_server_conf,
    apigw_br_cmds,
    apigw_br_register_hooks
};
