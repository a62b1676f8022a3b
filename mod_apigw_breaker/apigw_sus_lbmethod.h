/* The lbmethods of failover and load-balance groups, the providers
 * mod_apigw_breaker.c registers for mod_proxy_balancer: "failover"
 * (members in declared order, primary first) and "roundrobin" (one
 * member after the other). */
#ifndef APIGW_SUS_LBMETHOD_H
#define APIGW_SUS_LBMETHOD_H

#include "mod_proxy.h"

/* Does balancer b use the failover lbmethod (now: balancer-manager can
 * change it)? */
int apigw_sus_lbmethod_is_failover(const proxy_balancer *b);

/* The providers, registered as PROXY_LBMETHOD "failover" and
 * "roundrobin". */
extern const proxy_balancer_method apigw_sus_lbmethod_failover;
extern const proxy_balancer_method apigw_sus_lbmethod_roundrobin;

#endif
