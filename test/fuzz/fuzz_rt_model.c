/* sources: mod_apigw/apigw_rt_model.c mod_apigw/apigw_rt_model_json.c mod_apigw/apigw_policy_validate.c mod_apigw/apigw_policy_origin.c mod_apigw/apigw_policy_rewrite.c mod_apigw/apigw_route.c mod_apigw/apigw_template.c common/apigw_parse.c mod_apigw_ratelimit/apigw_rl_spec.c mod_apigw_ratelimit/apigw_rl_gcra.c mod_apigw_breaker/apigw_cb_settings.c mod_apigw_breaker/apigw_cb_expr.c mod_apigw_breaker/apigw_cb_window.c mod_apigw_breaker/apigw_cb_url.c mod_apigw_breaker/apigw_sus_policy.c mod_apigw_breaker/apigw_sus_codes.c */
/* libs: -ljansson -lpcre2-8 */
/* cflags: -I/usr/include/apache2 */
/* libFuzzer target for mod_apigw/apigw_rt_model*.c, the runtime route
 * model. The input is a request body, tried as a register (POST) body, as
 * a PATCH over a fixed route, and as a stored row's policies column.
 * (run.sh passes the libs line to the compiler as well: it carries the
 * httpd header path the policy structs need.) Checks:
 * - a refusal names a field and a problem, neither holding a control
 *   character (they reach logs and JSON answers);
 * - what is accepted encodes, and the encoding decodes to a route that
 *   encodes the same (a fixed point), through the API and the store's row;
 * - the model's mirrored rate-limit and breaker rules never accept what
 *   mod_apigw_ratelimit's or mod_apigw_breaker's validators refuse (bar
 *   breaker expressions, which the model leaves to the breaker);
 * - a PATCH never changes its base. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "apigw_rt_model.h"
#include "apigw_rl_spec.h"
#include "apigw_cb_settings.h"

#define FUZZ_TARGET "fuzz_rt_model"
#include "fuzz_check.h"

static apr_pool_t *root_pool;

static const char base_json[] =
    "{\"path\":\"/v1/{a}/*\",\"targetUrl\":\"http://h:8080/x/{a}/{*}\","
    "\"methods\":[\"GET\",\"POST\"],\"cors\":{\"allowOrigins\":[\"*\"]},"
    "\"rateLimit\":{\"average\":5,\"period\":\"1s\"},\"timeoutSeconds\":9}";

/* ---- the other modules' validators ---- */

static const char *real_rate_limit(apr_pool_t *p,
                                   const apigw_rt_rate_limit *rl)
{
    apigw_rl_limit_spec l;
    const char *err;

    apigw_rl_limit_defaults(p, &l);
    l.numbers.average = rl->average;
    l.numbers.period = rl->period;
    l.numbers.burst = rl->burst;
    if (rl->by
        && (err = apigw_rl_key_parse(p, "by", rl->by, apr_array_push(l.by)))) {
        return err;
    }
    return apigw_rl_limit_validate(p, &l);
}

static const char *real_breaker(apr_pool_t *p, const apigw_rt_breaker *cb)
{
    apigw_cb_settings s;

    apigw_cb_settings_defaults(&s);
    s.expression = cb->preset ? cb->preset : cb->expression;
    s.timing.check = cb->check;
    s.timing.fallback = cb->fallback;
    s.timing.recovery = cb->recovery;
    return apigw_cb_breaker_validate(p, &s);
}

static const apigw_rt_checks real = { real_rate_limit, real_breaker, NULL };

/* ---- checks ---- */

static void check_refusal(const apigw_rt_error *e, const apigw_rt_route *r)
{
    const char *s;

    CHECK(r == NULL, "a refusal with a route");
    CHECK(e->field && e->message && *e->message, "an empty refusal");
    for (s = e->field; *s; s++) {
        CHECK((unsigned char)*s >= 0x20 && *s != 0x7f,
              "control character in field %s", e->field);
    }
    for (s = e->message; *s; s++) {
        CHECK((unsigned char)*s >= 0x20 && *s != 0x7f,
              "control character in message of %s", e->field);
    }
}

/* r encodes to a fixed point, through the API and through the store. */
static void check_round_trips(apr_pool_t *p, apigw_rt_route *r)
{
    const apigw_rt_error *e;
    apigw_rt_route *again = NULL, *back = NULL;
    apigw_route_record rec;
    char *text = apigw_rt_route_encode(p, r), *text2;

    CHECK(text, "an accepted route does not encode");
    e = apigw_rt_route_decode(p, text, strlen(text), &real, &again);
    CHECK(!e, "its encoding is refused: %s: %s\n%s", e->field, e->message,
          text);
    text2 = apigw_rt_route_encode(p, again);
    CHECK(!strcmp(text, text2), "not a fixed point:\n%s\n%s", text, text2);

    r->id = apigw_rt_uuid(p);
    CHECK(r->id && apigw_rt_is_uuid(r->id), "no uuid");
    r->created_at = r->updated_at = apr_time_from_sec(1700000000);
    text = apigw_rt_route_encode(p, r);
    apigw_rt_route_to_record(p, r, &rec);
    CHECK(rec.policies, "no policies column");
    e = apigw_rt_route_from_record(p, NULL, &rec, &real, &back);
    CHECK(!e, "its row is refused: %s: %s\n%s", e->field, e->message,
          rec.policies);
    text2 = apigw_rt_route_encode(p, back);
    CHECK(!strcmp(text, text2), "the row differs:\n%s\n%s", text, text2);
}

/* What the model alone accepts, the other modules accept too (but for a
 * breaker's expression, which only the breaker parses). */
static void check_mirrors(apr_pool_t *p, const apigw_rt_route *lax)
{
    const char *err;

    if (lax->rate_limit) {
        err = real_rate_limit(p, lax->rate_limit);
        CHECK(!err, "the limiter refuses what the model accepted: %s", err);
    }
    if (lax->breaker && lax->breaker->preset) {
        err = real_breaker(p, lax->breaker);
        CHECK(!err, "the breaker refuses what the model accepted: %s", err);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    apr_initialize();
    apr_pool_create(&root_pool, NULL);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    const apigw_rt_error *e, *e_lax;
    apigw_rt_route *r = NULL, *lax = NULL, *base = NULL, *patched = NULL;
    apigw_route_record rec;
    apr_pool_t *p;
    char *before;

    apr_pool_create(&p, root_pool);

    /* register */
    e = apigw_rt_route_decode(p, in, size, &real, &r);
    e_lax = apigw_rt_route_decode(p, in, size, NULL, &lax);
    if (e) {
        check_refusal(e, r);
    }
    if (e_lax) {
        check_refusal(e_lax, lax);
        CHECK(e, "accepted with the other modules' checks, refused without");
    }
    else {
        check_mirrors(p, lax);
    }
    if (!e) {
        check_round_trips(p, r);
    }

    /* PATCH over a fixed route */
    e = apigw_rt_route_decode(p, base_json, sizeof(base_json) - 1, &real,
                              &base);
    CHECK(!e, "the base route is refused: %s: %s", e->field, e->message);
    before = apigw_rt_route_encode(p, base);
    e = apigw_rt_route_patch(p, base, in, size, &real, &patched);
    if (e) {
        check_refusal(e, patched);
    }
    else {
        check_round_trips(p, patched);
    }
    CHECK(!strcmp(before, apigw_rt_route_encode(p, base)),
          "a PATCH changed its base");

    /* a stored row's policies */
    base->id = apigw_rt_uuid(p);
    apigw_rt_route_to_record(p, base, &rec);
    rec.policies = apr_pstrmemdup(p, in, size);
    {
        /* validation's memory in a scratch pool, as the builder has it */
        apr_pool_t *scratch;

        apr_pool_create(&scratch, p);
        e = apigw_rt_route_from_record(p, scratch, &rec, &real, &r);
        apr_pool_clear(scratch);
    }
    if (e) {
        check_refusal(e, r);
    }

    apr_pool_destroy(p);
    return 0;
}
