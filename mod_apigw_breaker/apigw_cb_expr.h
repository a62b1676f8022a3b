/* The circuit-breaker expression language (Traefik's): a pure parser and
 * evaluator, APR pools only, no httpd.
 *
 *   expr    := and ( "||" and )*
 *   and     := cmp ( "&&" cmp )*
 *   cmp     := operand [ ( ">" | ">=" | "<" | "<=" | "==" | "!=" ) operand ]
 *   operand := NUMBER | call | "(" expr ")"
 *   call    := "NetworkErrorRatio" "(" ")"
 *            | "ResponseCodeRatio" "(" INT "," INT "," INT "," INT ")"
 *            | "LatencyAtQuantileMS" "(" NUMBER ")"
 *
 * NUMBER is 12, 0.5 or .5 (no sign, no exponent). Operands of && and || are
 * conditions, operands of a comparison are numbers, and the whole
 * expression must be a condition. Each distinct function call is a "term":
 * the caller measures every term (apigw_cb_expr_measure over a window's
 * totals) and evaluates the condition over those values. */
#ifndef APIGW_CB_EXPR_H
#define APIGW_CB_EXPR_H

#include <apr_pools.h>

#include "apigw_cb_window.h"

#define APIGW_CB_EXPR_MAX_LEN 1024      /* characters of an expression */
#define APIGW_CB_EXPR_MAX_TERMS 16      /* distinct function calls */
#define APIGW_CB_EXPR_MAX_NODES 256
#define APIGW_CB_EXPR_MAX_DEPTH 32      /* nested parentheses */

typedef enum {
    APIGW_CB_TERM_NETWORK_ERROR_RATIO,
    APIGW_CB_TERM_RESPONSE_CODE_RATIO,
    APIGW_CB_TERM_LATENCY_AT_QUANTILE
} apigw_cb_term_kind;

typedef struct {
    apigw_cb_term_kind kind;
    int from, to, div_from, div_to;     /* ResponseCodeRatio's codes */
    int range, div_range;               /* their indexes in the range list */
    double quantile;                    /* LatencyAtQuantileMS, in % */
    const char *text;                   /* canonical, for logs and status */
} apigw_cb_term;

typedef struct apigw_cb_expr apigw_cb_expr;

/* Parses text into *out. Returns NULL, or a message (static or from p)
 * with *err_pos set to the 0-based offset in text where it went wrong. */
const char *apigw_cb_expr_parse(apr_pool_t *p, const char *text,
                                apigw_cb_expr **out, apr_size_t *err_pos);

/* The expression a preset name stands for, or NULL: errors-50, errors-30,
 * 5xx, high-latency. */
const char *apigw_cb_expr_preset(const char *name);

/* Comma-separated preset names, for messages. */
const char *apigw_cb_expr_preset_names(void);

int apigw_cb_expr_nterms(const apigw_cb_expr *e);
const apigw_cb_term *apigw_cb_expr_term(const apigw_cb_expr *e, int i);

/* The distinct status ranges [from, to) the ResponseCodeRatio calls need
 * counted, in the order a window is given them. */
int apigw_cb_expr_nranges(const apigw_cb_expr *e);
const apigw_cb_range *apigw_cb_expr_ranges(const apigw_cb_expr *e);

int apigw_cb_expr_uses_latency(const apigw_cb_expr *e);

/* The expression re-printed canonically (one space around operators). */
const char *apigw_cb_expr_text(const apigw_cb_expr *e);

/* values[i] = term i measured over t (ratios are 0 when their denominator
 * is 0; a quantile is 0 without samples). values has nterms entries. */
void apigw_cb_expr_measure(const apigw_cb_expr *e, const apigw_cb_totals *t,
                           double *values);

/* v written with at most decimals (0..9) digits after the point, trailing
 * zeros dropped ("0.5", "100"), whatever the locale says. */
const char *apigw_cb_num_text(apr_pool_t *p, double v, int decimals);

/* Does the condition hold for these term values? */
int apigw_cb_expr_eval(const apigw_cb_expr *e, const double *values);

#endif
