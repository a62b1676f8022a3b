/* The circuit-breaker expression language (see apigw_cb_expr.h): a
 * tokenizer, a recursive-descent parser that type-checks as it goes and
 * reports the offset of the first mistake, the canonical printer, the
 * measuring of terms over a window and the evaluator. */
#include "apigw_cb_expr.h"

#include <string.h>

#include <apr_strings.h>

typedef enum {
    N_OR, N_AND, N_CMP, N_NUM, N_TERM
} node_kind;

typedef enum {
    OP_GT, OP_GE, OP_LT, OP_LE, OP_EQ, OP_NE
} cmp_op;

static const char *const op_text[] = { ">", ">=", "<", "<=", "==", "!=" };

typedef struct {
    unsigned char kind;     /* node_kind */
    unsigned char op;       /* cmp_op for N_CMP */
    int a, b;               /* operands: node indexes */
    int term;               /* N_TERM */
    double num;             /* N_NUM */
    const char *lex;        /* N_NUM: as written (printed back exactly) */
} node;

struct apigw_cb_expr {
    node nodes[APIGW_CB_EXPR_MAX_NODES];
    int nnodes;
    int root;
    apigw_cb_term terms[APIGW_CB_EXPR_MAX_TERMS];
    int nterms;
    apigw_cb_range ranges[APIGW_CB_MAX_RANGES];
    int nranges;
    int uses_latency;
    const char *text;
};

/* ---- presets ---- */

typedef struct {
    const char *name;
    const char *expr;
} preset;

static const preset presets[] = {
    { "errors-50", "NetworkErrorRatio() > 0.5 || "
                   "ResponseCodeRatio(500, 600, 0, 600) > 0.5" },
    { "errors-30", "NetworkErrorRatio() > 0.3 || "
                   "ResponseCodeRatio(500, 600, 0, 600) > 0.3" },
    { "5xx", "ResponseCodeRatio(500, 600, 0, 600) > 0.25" },
    { "high-latency", "LatencyAtQuantileMS(50.0) > 100" },
    { NULL, NULL }
};

const char *apigw_cb_expr_preset(const char *name)
{
    int i;

    for (i = 0; presets[i].name; i++) {
        if (strcmp(presets[i].name, name) == 0) {
            return presets[i].expr;
        }
    }
    return NULL;
}

const char *apigw_cb_expr_preset_names(void)
{
    return "errors-50, errors-30, 5xx, high-latency";
}

/* ---- tokens ---- */

typedef enum {
    T_END, T_NUM, T_IDENT, T_LPAREN, T_RPAREN, T_COMMA, T_OR, T_AND,
    T_CMP, T_ERROR
} tok_kind;

typedef enum { TY_BOOL, TY_NUM } type;

typedef struct {
    apr_pool_t *p;
    const char *s;
    apr_size_t len;
    apr_size_t pos;         /* where the tokenizer continues */
    tok_kind tok;
    apr_size_t tok_pos;
    apr_size_t tok_len;
    cmp_op op;
    double num;
    int num_is_int;
    const char *err;
    apr_size_t err_pos;
    int depth;
    apigw_cb_expr *e;
} parser;

#define MAX_NUMBER_LEN 24

static int fail(parser *ps, apr_size_t pos, const char *msg)
{
    if (!ps->err) {
        ps->err = msg;
        ps->err_pos = pos;
    }
    return -1;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_ident_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_ident(char c)
{
    return is_ident_start(c) || is_digit(c);
}

/* A number: digits, or digits '.' digits, or '.' digits, at most
 * MAX_NUMBER_LEN significant ones. Decimal digits are accumulated exactly
 * enough for thresholds; no locale involved. */
static void lex_number(parser *ps)
{
    const char *s = ps->s;
    apr_size_t i = ps->pos;
    double v = 0, scale = 1;
    int int_digits = 0, frac_digits = 0;

    while (i < ps->len && is_digit(s[i])) {
        v = v * 10 + (s[i] - '0');
        /* leading zeros are not significant: they do not count */
        if (int_digits || s[i] != '0') {
            int_digits++;
        }
        i++;
    }
    ps->num_is_int = 1;
    if (i < ps->len && s[i] == '.') {
        ps->num_is_int = 0;
        i++;
        while (i < ps->len && is_digit(s[i])) {
            scale /= 10;
            v += (s[i] - '0') * scale;
            i++;
            frac_digits++;
        }
        if (frac_digits == 0) {
            ps->tok = T_ERROR;
            fail(ps, i, "a number needs digits after its '.'");
            return;
        }
    }
    if (i < ps->len && (is_ident_start(s[i]) || s[i] == '.')) {
        ps->tok = T_ERROR;
        fail(ps, i, "unexpected character after a number");
        return;
    }
    if (int_digits + frac_digits > MAX_NUMBER_LEN) {
        ps->tok = T_ERROR;
        fail(ps, ps->pos, "number too long");
        return;
    }
    ps->tok = T_NUM;
    ps->num = v;
    ps->tok_len = i - ps->pos;
    ps->pos = i;
}

static void next(parser *ps)
{
    const char *s = ps->s;
    char c, d;

    while (ps->pos < ps->len && (s[ps->pos] == ' ' || s[ps->pos] == '\t'
                                 || s[ps->pos] == '\n' || s[ps->pos] == '\r')) {
        ps->pos++;
    }
    ps->tok_pos = ps->pos;
    ps->tok_len = 1;
    if (ps->err) {
        ps->tok = T_ERROR;
        return;
    }
    if (ps->pos >= ps->len) {
        ps->tok = T_END;
        ps->tok_len = 0;
        return;
    }
    c = s[ps->pos];
    d = ps->pos + 1 < ps->len ? s[ps->pos + 1] : '\0';
    if (is_digit(c) || (c == '.' && is_digit(d))) {
        lex_number(ps);
        return;
    }
    if (is_ident_start(c)) {
        apr_size_t i = ps->pos;
        while (i < ps->len && is_ident(s[i])) {
            i++;
        }
        ps->tok = T_IDENT;
        ps->tok_len = i - ps->pos;
        ps->pos = i;
        return;
    }
    ps->pos++;
    switch (c) {
    case '(':
        ps->tok = T_LPAREN;
        return;
    case ')':
        ps->tok = T_RPAREN;
        return;
    case ',':
        ps->tok = T_COMMA;
        return;
    case '|':
    case '&':
        if (d != c) {
            ps->tok = T_ERROR;
            fail(ps, ps->tok_pos, c == '|' ? "use '||' for \"or\""
                                           : "use '&&' for \"and\"");
            return;
        }
        ps->pos++;
        ps->tok = c == '|' ? T_OR : T_AND;
        ps->tok_len = 2;
        return;
    case '>':
    case '<':
        ps->tok = T_CMP;
        if (d == '=') {
            ps->pos++;
            ps->tok_len = 2;
            ps->op = c == '>' ? OP_GE : OP_LE;
        }
        else {
            ps->op = c == '>' ? OP_GT : OP_LT;
        }
        return;
    case '=':
    case '!':
        if (d != '=') {
            ps->tok = T_ERROR;
            fail(ps, ps->tok_pos, c == '=' ? "use '==' to compare"
                                           : "'!' is only known in '!='");
            return;
        }
        ps->pos++;
        ps->tok = T_CMP;
        ps->tok_len = 2;
        ps->op = c == '=' ? OP_EQ : OP_NE;
        return;
    default:
        ps->tok = T_ERROR;
        fail(ps, ps->tok_pos, ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f)
                              ? "unexpected character (not printable ASCII)"
                              : apr_psprintf(ps->p, "unexpected character '%c'",
                                             c));
        return;
    }
}

static const char *tok_desc(parser *ps)
{
    switch (ps->tok) {
    case T_END:
        return "the end of the expression";
    case T_ERROR:
        return "an error";
    default:
        return apr_psprintf(ps->p, "'%.*s'", (int)(ps->tok_len > 20 ? 20
                                                   : ps->tok_len),
                            ps->s + ps->tok_pos);
    }
}

/* ---- tree ---- */

static int add_node(parser *ps, node_kind kind, int a, int b)
{
    node *n;

    if (ps->e->nnodes >= APIGW_CB_EXPR_MAX_NODES) {
        return fail(ps, ps->tok_pos, "expression too complex");
    }
    n = &ps->e->nodes[ps->e->nnodes];
    memset(n, 0, sizeof(*n));
    n->kind = (unsigned char)kind;
    n->a = a;
    n->b = b;
    return ps->e->nnodes++;
}

static int range_index(parser *ps, int from, int to, apr_size_t pos)
{
    apigw_cb_expr *e = ps->e;
    int i;

    for (i = 0; i < e->nranges; i++) {
        if (e->ranges[i].from == from && e->ranges[i].to == to) {
            return i;
        }
    }
    if (e->nranges >= APIGW_CB_MAX_RANGES) {
        return fail(ps, pos, apr_psprintf(ps->p, "too many different status "
                                          "ranges (at most %d)",
                                          APIGW_CB_MAX_RANGES));
    }
    e->ranges[e->nranges].from = from;
    e->ranges[e->nranges].to = to;
    return e->nranges++;
}

const char *apigw_cb_num_text(apr_pool_t *p, double v, int decimals)
{
    static const apr_uint64_t scale[] = { 1, 10, 100, 1000, 10000, 100000,
                                          1000000, 10000000, 100000000,
                                          1000000000 };
    apr_uint64_t ip, fp;
    char frac[16];
    int neg = v < 0, len;

    if (!(v == v)) {
        return "0";                 /* NaN: cannot come from a window */
    }
    if (neg) {
        v = -v;
    }
    if (decimals < 0) {
        decimals = 0;
    }
    if (decimals > 9) {
        decimals = 9;
    }
    /* the scaled value must fit 64 bits: fewer decimals for big ones */
    while (decimals > 0 && v * (double)scale[decimals] >= 1e18) {
        decimals--;
    }
    if (v >= 1e18) {
        return apr_psprintf(p, "%s%.0f", neg ? "-" : "", v);
    }
    /* integer arithmetic: no locale decides the decimal point */
    fp = (apr_uint64_t)(v * (double)scale[decimals] + 0.5);
    ip = fp / scale[decimals];
    fp %= scale[decimals];
    len = decimals;
    frac[len] = '\0';
    while (len > 0) {
        frac[--len] = (char)('0' + fp % 10);
        fp /= 10;
    }
    for (len = decimals; len > 0 && frac[len - 1] == '0'; len--) {
        frac[len - 1] = '\0';
    }
    return apr_psprintf(p, "%s%" APR_UINT64_T_FMT "%s%s", neg ? "-" : "", ip,
                        len ? "." : "", frac);
}

/* A number token as written, with "0" before a leading '.'. */
static const char *lexeme(parser *ps)
{
    const char *s = apr_pstrmemdup(ps->p, ps->s + ps->tok_pos, ps->tok_len);

    return *s == '.' ? apr_pstrcat(ps->p, "0", s, NULL) : s;
}

/* The term for a call, shared by identical calls. */
static int term_node(parser *ps, const apigw_cb_term *t, apr_size_t pos)
{
    apigw_cb_expr *e = ps->e;
    int i, n;

    for (i = 0; i < e->nterms; i++) {
        const apigw_cb_term *o = &e->terms[i];
        if (o->kind == t->kind && o->from == t->from && o->to == t->to
            && o->div_from == t->div_from && o->div_to == t->div_to
            && o->quantile == t->quantile) {
            break;
        }
    }
    if (i == e->nterms) {
        apigw_cb_term *nt;

        if (e->nterms >= APIGW_CB_EXPR_MAX_TERMS) {
            return fail(ps, pos, apr_psprintf(ps->p, "too many different "
                                              "function calls (at most %d)",
                                              APIGW_CB_EXPR_MAX_TERMS));
        }
        nt = &e->terms[e->nterms];
        *nt = *t;
        switch (t->kind) {
        case APIGW_CB_TERM_NETWORK_ERROR_RATIO:
            nt->text = "NetworkErrorRatio()";
            break;
        case APIGW_CB_TERM_RESPONSE_CODE_RATIO:
            if ((nt->range = range_index(ps, t->from, t->to, pos)) < 0
                || (nt->div_range = range_index(ps, t->div_from, t->div_to,
                                                pos)) < 0) {
                return -1;
            }
            nt->text = apr_psprintf(ps->p, "ResponseCodeRatio(%d, %d, %d, %d)",
                                    t->from, t->to, t->div_from, t->div_to);
            break;
        case APIGW_CB_TERM_LATENCY_AT_QUANTILE:
            e->uses_latency = 1;
            /* written as given (exact), with a decimal point, as Traefik
             * writes it: LatencyAtQuantileMS(50.0) */
            nt->text = apr_pstrcat(ps->p, "LatencyAtQuantileMS(", t->text,
                                   strchr(t->text, '.') ? "" : ".0", ")",
                                   NULL);
            break;
        }
        e->nterms++;
    }
    if ((n = add_node(ps, N_TERM, -1, -1)) < 0) {
        return -1;
    }
    e->nodes[n].term = i;
    return n;
}

/* ---- grammar ---- */

static int parse_or(parser *ps, type *ty);

static int expect(parser *ps, tok_kind kind, const char *what)
{
    if (ps->tok != kind) {
        return fail(ps, ps->tok_pos, apr_psprintf(ps->p, "expected %s, found "
                                                  "%s", what, tok_desc(ps)));
    }
    next(ps);
    return ps->err ? -1 : 0;
}

/* An integer argument of ResponseCodeRatio: a status code bound. */
static int int_arg(parser *ps, int *out)
{
    if (ps->tok != T_NUM) {
        return fail(ps, ps->tok_pos, apr_psprintf(ps->p, "expected a status "
                                                  "code, found %s",
                                                  tok_desc(ps)));
    }
    if (!ps->num_is_int || ps->num > 1000) {
        return fail(ps, ps->tok_pos, "a status code bound is a whole number "
                                     "from 0 to 1000");
    }
    *out = (int)ps->num;
    next(ps);
    return ps->err ? -1 : 0;
}

static int parse_call(parser *ps)
{
    static const char *const known = "NetworkErrorRatio(), "
        "ResponseCodeRatio(from, to, divFrom, divTo) or "
        "LatencyAtQuantileMS(q)";
    const char *name = apr_pstrmemdup(ps->p, ps->s + ps->tok_pos,
                                      ps->tok_len);
    apr_size_t name_pos = ps->tok_pos, args_pos;
    apigw_cb_term t;

    memset(&t, 0, sizeof(t));
    if (strcmp(name, "NetworkErrorRatio") == 0) {
        t.kind = APIGW_CB_TERM_NETWORK_ERROR_RATIO;
    }
    else if (strcmp(name, "ResponseCodeRatio") == 0) {
        t.kind = APIGW_CB_TERM_RESPONSE_CODE_RATIO;
    }
    else if (strcmp(name, "LatencyAtQuantileMS") == 0) {
        t.kind = APIGW_CB_TERM_LATENCY_AT_QUANTILE;
    }
    else {
        return fail(ps, name_pos, apr_psprintf(ps->p, "unknown function '%s' "
                                               "(use %s)", name, known));
    }
    next(ps);
    if (expect(ps, T_LPAREN, apr_psprintf(ps->p, "'(' after %s", name)) < 0) {
        return -1;
    }
    args_pos = ps->tok_pos;
    switch (t.kind) {
    case APIGW_CB_TERM_NETWORK_ERROR_RATIO:
        if (ps->tok != T_RPAREN) {
            return fail(ps, ps->tok_pos, "NetworkErrorRatio() takes no "
                                         "arguments");
        }
        break;
    case APIGW_CB_TERM_RESPONSE_CODE_RATIO:
        if (int_arg(ps, &t.from) < 0
            || expect(ps, T_COMMA, "',' and the next of 4 arguments") < 0
            || int_arg(ps, &t.to) < 0
            || expect(ps, T_COMMA, "',' and the next of 4 arguments") < 0
            || int_arg(ps, &t.div_from) < 0
            || expect(ps, T_COMMA, "',' and the next of 4 arguments") < 0
            || int_arg(ps, &t.div_to) < 0) {
            return -1;
        }
        if (ps->tok == T_COMMA) {
            return fail(ps, ps->tok_pos, "ResponseCodeRatio takes 4 "
                                         "arguments");
        }
        if (t.from >= t.to || t.div_from >= t.div_to) {
            return fail(ps, args_pos, "ResponseCodeRatio(from, to, divFrom, "
                                      "divTo) needs from < to and "
                                      "divFrom < divTo");
        }
        break;
    case APIGW_CB_TERM_LATENCY_AT_QUANTILE:
        if (ps->tok != T_NUM) {
            return fail(ps, ps->tok_pos, apr_psprintf(ps->p, "expected a "
                                                      "quantile in percent, "
                                                      "found %s",
                                                      tok_desc(ps)));
        }
        if (!(ps->num > 0) || ps->num > 100) {
            return fail(ps, ps->tok_pos, "the quantile is a percentage: "
                                         "greater than 0, at most 100");
        }
        t.quantile = ps->num;
        t.text = lexeme(ps);
        next(ps);
        if (ps->tok == T_COMMA) {
            return fail(ps, ps->tok_pos, "LatencyAtQuantileMS takes one "
                                         "argument");
        }
        break;
    }
    if (ps->err || expect(ps, T_RPAREN, apr_psprintf(ps->p, "')' to close "
                                                     "%s(", name)) < 0) {
        return -1;
    }
    return term_node(ps, &t, name_pos);
}

static int parse_operand(parser *ps, type *ty)
{
    int n;

    switch (ps->tok) {
    case T_NUM:
        if ((n = add_node(ps, N_NUM, -1, -1)) < 0) {
            return -1;
        }
        ps->e->nodes[n].num = ps->num;
        ps->e->nodes[n].lex = lexeme(ps);
        *ty = TY_NUM;
        next(ps);
        return ps->err ? -1 : n;
    case T_IDENT:
        *ty = TY_NUM;
        return parse_call(ps);
    case T_LPAREN: {
        apr_size_t open = ps->tok_pos;

        if (++ps->depth > APIGW_CB_EXPR_MAX_DEPTH) {
            return fail(ps, open, "parentheses nested too deeply");
        }
        next(ps);
        if ((n = parse_or(ps, ty)) < 0) {
            return -1;
        }
        if (ps->tok != T_RPAREN) {
            return fail(ps, ps->tok_pos, apr_psprintf(ps->p, "expected ')' to "
                                                      "close the '(' at "
                                                      "position %" APR_SIZE_T_FMT
                                                      ", found %s", open + 1,
                                                      tok_desc(ps)));
        }
        ps->depth--;
        next(ps);
        return ps->err ? -1 : n;
    }
    case T_END:
        return fail(ps, ps->tok_pos, "the expression ends where a number, a "
                                     "function or '(' should follow");
    case T_ERROR:
        return -1;
    default:
        return fail(ps, ps->tok_pos, apr_psprintf(ps->p, "expected a number, "
                                                  "a function or '(', found "
                                                  "%s", tok_desc(ps)));
    }
}

static int parse_cmp(parser *ps, type *ty)
{
    apr_size_t op_pos, right_pos;
    type lt, rt;
    cmp_op op;
    int l, r, n;

    if ((l = parse_operand(ps, &lt)) < 0) {
        return -1;
    }
    if (ps->tok != T_CMP) {
        *ty = lt;
        return l;
    }
    op = ps->op;
    op_pos = ps->tok_pos;
    if (lt != TY_NUM) {
        return fail(ps, op_pos, apr_psprintf(ps->p, "'%s' compares numbers, "
                                             "but its left side is a "
                                             "condition", op_text[op]));
    }
    next(ps);
    right_pos = ps->tok_pos;
    if (ps->err || (r = parse_operand(ps, &rt)) < 0) {
        return -1;
    }
    if (rt != TY_NUM) {
        return fail(ps, right_pos, apr_psprintf(ps->p, "'%s' compares "
                                                "numbers, but its right side "
                                                "is a condition", op_text[op]));
    }
    if (ps->tok == T_CMP) {
        return fail(ps, ps->tok_pos, "comparisons cannot be chained; join "
                                     "them with && or ||");
    }
    if ((n = add_node(ps, N_CMP, l, r)) < 0) {
        return -1;
    }
    ps->e->nodes[n].op = (unsigned char)op;
    *ty = TY_BOOL;
    return n;
}

/* One level of && or ||: operands from sub, all of them conditions. */
static int parse_logic(parser *ps, type *ty, tok_kind tok, node_kind kind,
                       int (*sub)(parser *, type *))
{
    const char *name = tok == T_OR ? "||" : "&&";
    type lt, rt;
    int l, r;

    if ((l = sub(ps, &lt)) < 0) {
        return -1;
    }
    while (ps->tok == tok) {
        apr_size_t op_pos = ps->tok_pos, right_pos;

        if (lt != TY_BOOL) {
            return fail(ps, op_pos, apr_psprintf(ps->p, "'%s' joins "
                                                 "conditions, but its left "
                                                 "side is a number (compare "
                                                 "it, like ... > 0.5)", name));
        }
        next(ps);
        right_pos = ps->tok_pos;
        if (ps->err || (r = sub(ps, &rt)) < 0) {
            return -1;
        }
        if (rt != TY_BOOL) {
            return fail(ps, right_pos, apr_psprintf(ps->p, "'%s' joins "
                                                    "conditions, but its "
                                                    "right side is a number "
                                                    "(compare it, like ... > "
                                                    "0.5)", name));
        }
        if ((l = add_node(ps, kind, l, r)) < 0) {
            return -1;
        }
    }
    *ty = lt;
    return l;
}

static int parse_and(parser *ps, type *ty)
{
    return parse_logic(ps, ty, T_AND, N_AND, parse_cmp);
}

static int parse_or(parser *ps, type *ty)
{
    return parse_logic(ps, ty, T_OR, N_OR, parse_and);
}

/* ---- printing ---- */

static int prec(const node *n)
{
    switch (n->kind) {
    case N_OR:
        return 1;
    case N_AND:
        return 2;
    case N_CMP:
        return 3;
    default:
        return 4;
    }
}

static const char *node_text(apr_pool_t *p, const apigw_cb_expr *e, int i,
                             int parent_prec)
{
    const node *n = &e->nodes[i];
    const char *s;

    switch (n->kind) {
    case N_NUM:
        return n->lex;
    case N_TERM:
        return e->terms[n->term].text;
    case N_CMP:
        s = apr_pstrcat(p, node_text(p, e, n->a, 4), " ", op_text[n->op], " ",
                        node_text(p, e, n->b, 4), NULL);
        break;
    default:
        s = apr_pstrcat(p, node_text(p, e, n->a, prec(n)),
                        n->kind == N_OR ? " || " : " && ",
                        node_text(p, e, n->b, prec(n) + 1), NULL);
        break;
    }
    return prec(n) < parent_prec ? apr_pstrcat(p, "(", s, ")", NULL) : s;
}

/* ---- the interface ---- */

const char *apigw_cb_expr_parse(apr_pool_t *p, const char *text,
                                apigw_cb_expr **out, apr_size_t *err_pos)
{
    parser ps;
    type ty = TY_NUM;
    int root;

    *err_pos = 0;
    memset(&ps, 0, sizeof(ps));
    ps.p = p;
    ps.s = text;
    ps.len = strlen(text);
    if (ps.len > APIGW_CB_EXPR_MAX_LEN) {
        *err_pos = APIGW_CB_EXPR_MAX_LEN;
        return apr_psprintf(p, "expression too long (at most %d characters)",
                            APIGW_CB_EXPR_MAX_LEN);
    }
    ps.e = apr_pcalloc(p, sizeof(*ps.e));
    next(&ps);
    if (ps.tok == T_END) {
        return "empty expression";
    }
    root = ps.err ? -1 : parse_or(&ps, &ty);
    if (root >= 0 && ps.tok != T_END) {
        fail(&ps, ps.tok_pos, apr_psprintf(p, "unexpected %s (a condition "
                                           "ends here; join more with && or "
                                           "||)", tok_desc(&ps)));
    }
    if (!ps.err && ty != TY_BOOL) {
        fail(&ps, 0, "the expression is a number, not a condition; compare "
                     "it, like NetworkErrorRatio() > 0.5");
    }
    if (ps.err) {
        *err_pos = ps.err_pos;
        return ps.err;
    }
    ps.e->root = root;
    ps.e->text = node_text(p, ps.e, root, 0);
    *out = ps.e;
    return NULL;
}

int apigw_cb_expr_nterms(const apigw_cb_expr *e)
{
    return e->nterms;
}

const apigw_cb_term *apigw_cb_expr_term(const apigw_cb_expr *e, int i)
{
    return (i >= 0 && i < e->nterms) ? &e->terms[i] : NULL;
}

int apigw_cb_expr_nranges(const apigw_cb_expr *e)
{
    return e->nranges;
}

const apigw_cb_range *apigw_cb_expr_ranges(const apigw_cb_expr *e)
{
    return e->ranges;
}

int apigw_cb_expr_uses_latency(const apigw_cb_expr *e)
{
    return e->uses_latency;
}

const char *apigw_cb_expr_text(const apigw_cb_expr *e)
{
    return e->text;
}

void apigw_cb_expr_measure(const apigw_cb_expr *e, const apigw_cb_totals *t,
                           double *values)
{
    int i;

    for (i = 0; i < e->nterms; i++) {
        const apigw_cb_term *term = &e->terms[i];
        apr_uint64_t den;

        switch (term->kind) {
        case APIGW_CB_TERM_NETWORK_ERROR_RATIO:
            values[i] = t->total ? (double)t->neterr / (double)t->total : 0;
            break;
        case APIGW_CB_TERM_RESPONSE_CODE_RATIO:
            den = t->ranges[term->div_range];
            values[i] = den ? (double)t->ranges[term->range] / (double)den : 0;
            break;
        case APIGW_CB_TERM_LATENCY_AT_QUANTILE:
            values[i] = t->with_hist
                        ? apigw_cb_totals_quantile_ms(t, term->quantile) : 0;
            break;
        }
    }
}

static double value_of(const apigw_cb_expr *e, int i, const double *values)
{
    const node *n = &e->nodes[i];
    return n->kind == N_NUM ? n->num : values[n->term];
}

static int holds(const apigw_cb_expr *e, int i, const double *values)
{
    const node *n = &e->nodes[i];
    double a, b;

    switch (n->kind) {
    case N_OR:
        return holds(e, n->a, values) || holds(e, n->b, values);
    case N_AND:
        return holds(e, n->a, values) && holds(e, n->b, values);
    case N_CMP:
        a = value_of(e, n->a, values);
        b = value_of(e, n->b, values);
        switch (n->op) {
        case OP_GT:
            return a > b;
        case OP_GE:
            return a >= b;
        case OP_LT:
            return a < b;
        case OP_LE:
            return a <= b;
        case OP_EQ:
            return a == b;
        default:
            return a != b;
        }
    default:
        return 0;           /* a number is never the root: parse refuses */
    }
}

int apigw_cb_expr_eval(const apigw_cb_expr *e, const double *values)
{
    return holds(e, e->root, values);
}
