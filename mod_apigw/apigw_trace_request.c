/* W3C Trace Context through an endpoint request (see
 * apigw_trace_request.h): at fixups the request's trace is continued from
 * the client's traceparent or started here (sampled at ApiTraceSample),
 * each backend call gets a traceparent with a span id of its own, child of
 * the gateway's span, and the valid tracestate; an invalid header is
 * replaced, never forwarded. The directives ApiTraceContext and
 * ApiTraceSample. At log_transaction a sampled request's spans (the
 * gateway's and one per backend call) go to ApiTraceExport's queue
 * (apigw_trace_export.c).
 *
 * Ids come from a per-thread xorshift128+ generator seeded once per thread
 * from httpd's ap_random_insecure_bytes (which takes a process-wide lock):
 * ids need to be unique, not secret. */
#include "apigw_trace_request.h"
#include "apigw_config.h"
#include "apigw_request.h"
#include "apigw_fetch.h"
#include "apigw_contract.h"
#include "apigw_json.h"
#include "apigw_json_error.h"

#include "http_log.h"
#include "apr_strings.h"

#include <stdlib.h>
#include <string.h>
#include <math.h>

APLOG_USE_MODULE(apigw);

static __thread apr_uint64_t rng[2];
static __thread int rng_seeded;

static apr_uint64_t next_random(void)
{
    apr_uint64_t x, y;

    if (!rng_seeded) {
        do {
            ap_random_insecure_bytes(rng, sizeof(rng));
        } while (rng[0] == 0 && rng[1] == 0);
        rng_seeded = 1;
    }
    x = rng[0];
    y = rng[1];
    rng[0] = y;
    x ^= x << 23;
    rng[1] = x ^ y ^ (x >> 17) ^ (y >> 26);
    return rng[1] + y;
}

/* n random bytes, not all zero (a zero id is invalid). */
static void random_id(unsigned char *out, apr_size_t n)
{
    apr_size_t i;
    apr_uint64_t v = 0;

    do {
        int nonzero = 0;

        for (i = 0; i < n; i++) {
            if (i % 8 == 0) {
                v = next_random();
            }
            out[i] = (unsigned char)(v >> (8 * (i % 8)));
            nonzero |= out[i];
        }
        if (nonzero) {
            return;
        }
    } while (1);
}

static const char *hex(apr_pool_t *p, const unsigned char *b, apr_size_t n)
{
    static const char digits[] = "0123456789abcdef";
    char *s = apr_palloc(p, 2 * n + 1);
    apr_size_t i;

    for (i = 0; i < n; i++) {
        s[2 * i] = digits[b[i] >> 4];
        s[2 * i + 1] = digits[b[i] & 0x0f];
    }
    s[2 * n] = '\0';
    return s;
}

apigw_trace_state *apigw_trace_begin(request_rec *r,
                                     const apr_table_t *client)
{
    const apigw_server_conf *sc = ap_get_module_config(
        r->server->module_config, &apigw_module);
    apigw_trace_state *t;
    apigw_traceparent tp;

    if (sc->trace_context == 0) {
        return NULL;
    }
    t = apr_pcalloc(r->pool, sizeof(*t));
    if (apigw_traceparent_parse(apr_table_get(client, "traceparent"), &tp)) {
        const char *state = apr_table_get(client, "tracestate");

        memcpy(t->trace_id, tp.trace_id, sizeof(t->trace_id));
        memcpy(t->parent_id, tp.parent_id, sizeof(t->parent_id));
        t->flags = tp.flags & APIGW_TRACE_SAMPLED;
        t->continued = 1;
        t->tracestate = state && apigw_tracestate_valid(state) ? state : NULL;
    }
    else {
        double ratio = sc->trace_sample >= 0 ? sc->trace_sample : 1.0;

        random_id(t->trace_id, sizeof(t->trace_id));
        t->flags = apigw_trace_sample(ratio, next_random())
                   ? APIGW_TRACE_SAMPLED : 0;
    }
    random_id(t->span_id, sizeof(t->span_id));
    if ((t->flags & APIGW_TRACE_SAMPLED) && apigw_trace_export_on()) {
        t->calls = apr_array_make(r->pool, 2, sizeof(apigw_trace_call_rec));
    }
    apr_table_setn(r->notes, APIGW_NOTE_TRACE_ID,
                   hex(r->pool, t->trace_id, sizeof(t->trace_id)));
    apr_table_setn(r->notes, APIGW_NOTE_SPAN_ID,
                   hex(r->pool, t->span_id, sizeof(t->span_id)));
    apr_table_setn(r->notes, APIGW_NOTE_TRACE_SAMPLED,
                   (t->flags & APIGW_TRACE_SAMPLED) ? "1" : "0");
    return t;
}

const char *apigw_trace_call(request_rec *r, apigw_trace_state *t,
                             const char *name, const void *fetch)
{
    unsigned char id[APIGW_SPAN_ID_LEN];

    random_id(id, sizeof(id));
    if (t->calls) {
        apigw_trace_call_rec *c = apr_array_push(t->calls);

        memcpy(c->span_id, id, sizeof(id));
        c->name = name;
        c->fetch = fetch;
    }
    return apigw_traceparent_format(r->pool, t->trace_id, id, t->flags);
}

void apigw_trace_headers(request_rec *r, apigw_trace_state *t,
                         const char *name, apr_table_t *headers)
{
    apr_table_setn(headers, "traceparent", apigw_trace_call(r, t, name,
                                                            NULL));
    if (t->tracestate) {
        apr_table_setn(headers, "tracestate", t->tracestate);
    }
    else {
        apr_table_unset(headers, "tracestate");
    }
}

/* ---- spans, for ApiTraceExport ---- */

static void attr_str(apr_array_header_t *a, apr_pool_t *p, const char *key,
                     const char *value)
{
    if (value) {
        APR_ARRAY_PUSH(a, const char *) = apr_pstrcat(p, "{\"key\":\"", key,
            "\",\"value\":{\"stringValue\":",
            apigw_json_str(p, apigw_utf8_clean(p, value)), "}}",
            NULL);
    }
}

static void attr_int(apr_array_header_t *a, apr_pool_t *p, const char *key,
                     apr_int64_t value)
{
    APR_ARRAY_PUSH(a, const char *) = apr_psprintf(p, "{\"key\":\"%s\","
        "\"value\":{\"intValue\":\"%" APR_INT64_T_FMT "\"}}", key, value);
}

/* One OTLP span object. kind: 2 server, 3 client; an error status for a
 * 5xx answer or a failed call (error_type). */
static const char *span_json(apr_pool_t *p, const apigw_trace_state *t,
                             const unsigned char *span,
                             const unsigned char *parent, const char *name,
                             int kind, apr_time_t start, apr_time_t end,
                             int status, const char *error_type,
                             apr_array_header_t *attrs)
{
    int failed = error_type != NULL || status >= 500;

    if (status) {
        attr_int(attrs, p, "http.response.status_code", status);
    }
    attr_str(attrs, p, "error.type", error_type ? error_type
             : status >= 500 ? apr_itoa(p, status) : NULL);
    return apr_psprintf(p, "{\"traceId\":\"%s\",\"spanId\":\"%s\"%s%s%s,"
        "\"name\":%s,\"kind\":%d,\"startTimeUnixNano\":\"%" APR_TIME_T_FMT
        "000\",\"endTimeUnixNano\":\"%" APR_TIME_T_FMT "000\","
        "\"attributes\":[%s],\"status\":{\"code\":%d}}",
        hex(p, t->trace_id, sizeof(t->trace_id)),
        hex(p, span, APIGW_SPAN_ID_LEN),
        parent ? ",\"parentSpanId\":\"" : "",
        parent ? hex(p, parent, APIGW_SPAN_ID_LEN) : "", parent ? "\"" : "",
        apigw_json_str(p, apigw_utf8_clean(p, name)), kind, start,
        end > start ? end : start,
        apr_array_pstrcat(p, attrs, ','), failed ? 2 : 0);
}

static const char *fetch_error(const apigw_fetch *f)
{
    switch (f->outcome) {
    case APIGW_FETCH_OK:
        return NULL;
    case APIGW_FETCH_CONNECT:
        return "connect";
    case APIGW_FETCH_TIMEOUT:
        return "timeout";
    case APIGW_FETCH_TOO_BIG:
        return "too-big";
    case APIGW_FETCH_CANCELLED:
        return "cancelled";
    default:
        return "broken";
    }
}

/* The backend calls' spans, children of the gateway's. */
static void call_spans(request_rec *r, const apigw_request *rq,
                       apr_array_header_t *out)
{
    const apigw_trace_state *t = rq->trace;
    int i;

    for (i = 0; i < t->calls->nelts; i++) {
        const apigw_trace_call_rec *c = &APR_ARRAY_IDX(t->calls, i,
                                                       apigw_trace_call_rec);
        const apigw_fetch *f = c->fetch;
        apr_array_header_t *attrs = apr_array_make(r->pool, 4,
                                                   sizeof(const char *));
        apr_time_t start = rq->backend_start, end = rq->backend_end;
        int status = r->status;
        const char *error = NULL;

        if (!start) {
            continue;                  /* never called (refused, cached) */
        }
        if (f) {
            if (f->outcome == APIGW_FETCH_NOT_RUN) {
                continue;
            }
            start = f->started ? f->started : start;
            end = start + f->elapsed;
            status = f->outcome == APIGW_FETCH_OK ? f->status : 0;
            error = fetch_error(f);
        }
        attr_str(attrs, r->pool, "apigw.backend", c->name);
        APR_ARRAY_PUSH(out, const char *) = span_json(r->pool, t, c->span_id,
            t->span_id, apr_pstrcat(r->pool, "backend ", c->name, NULL), 3,
            start, end, status, error, attrs);
    }
}

int apigw_trace_log(request_rec *r)
{
    const apigw_request *rq = apigw_request_get(r);
    apr_array_header_t *spans, *attrs;
    const apigw_trace_state *t;
    const char *status_note, *text;
    int status;

    if (!rq || !(t = rq->trace) || !t->calls || !rq->endpoint) {
        return DECLINED;
    }
    spans = apr_array_make(r->pool, 1 + t->calls->nelts, sizeof(char *));
    attrs = apr_array_make(r->pool, 8, sizeof(const char *));
    attr_str(attrs, r->pool, "http.request.method", r->method);
    attr_str(attrs, r->pool, "http.route", rq->endpoint->pattern);
    attr_str(attrs, r->pool, "apigw.route_id", rq->endpoint->route_id);
    attr_str(attrs, r->pool, "apigw.environment",
             apr_table_get(r->notes, APIGW_NOTE_ENVIRONMENT));
    attr_str(attrs, r->pool, "apigw.ratelimit",
             apr_table_get(r->notes, APIGW_NOTE_RATELIMIT));
    attr_str(attrs, r->pool, "apigw.breaker",
             apr_table_get(r->notes, APIGW_NOTE_BREAKER));
    attr_str(attrs, r->pool, "apigw.cache",
             apr_table_get(r->notes, APIGW_NOTE_CACHE));
    status_note = apr_table_get(r->notes, APIGW_NOTE_STATUS);
    status = status_note ? atoi(status_note) : r->status;
    APR_ARRAY_PUSH(spans, const char *) = span_json(r->pool, t, t->span_id,
        t->continued ? t->parent_id : NULL,
        apr_pstrcat(r->pool, r->method, " ", rq->endpoint->pattern, NULL), 2,
        r->request_time, apr_time_now(), status, NULL, attrs);
    call_spans(r, rq, spans);
    text = apr_array_pstrcat(r->pool, spans, ',');
    apigw_trace_export_push(text, strlen(text));
    return OK;
}

/* ---- directives (server config, virtual host) ---- */

const char *apigw_trace_set_context(cmd_parms *cmd, void *dconf, int flag)
{
    const char *err;
    apigw_server_conf *sc = apigw_cmd_server_conf(cmd, &err);

    (void)dconf;
    if (!sc) {
        return err;
    }
    sc->trace_context = flag;
    return NULL;
}

const char *apigw_trace_set_sample(cmd_parms *cmd, void *dconf,
                                   const char *arg)
{
    const char *err;
    apigw_server_conf *sc = apigw_cmd_server_conf(cmd, &err);
    char *end;
    double v;

    (void)dconf;
    if (!sc) {
        return err;
    }
    v = strtod(arg, &end);
    if (end == arg || *end || !isfinite(v) || v < 0 || v > 1) {
        return apr_psprintf(cmd->pool, "ApiTraceSample %s: a ratio from 0 "
                            "to 1 is expected, e.g. 0.1", arg);
    }
    sc->trace_sample = v;
    return NULL;
}
