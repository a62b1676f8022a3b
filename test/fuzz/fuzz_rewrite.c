/* sources: mod_apigw/apigw_policy_rewrite.c */
/* libs: -lpcre2-8 */
/* libFuzzer target for mod_apigw/apigw_policy_rewrite.c (ApiPathRewrite,
 * pathRewrite). Compiles rules from the input and applies them, one at a
 * time and all together in order, to the input's path and a few others,
 * comparing with an independent reference:
 *
 *   - compile: refused exactly when the model finds a reason (no
 *     argument, a control character, strip-prefix/add-prefix with a second
 *     argument, not starting with '/' or holding '?', '#' or a space; regex
 *     without a replacement, not compiling, a replacement other than text
 *     with $N, ${N} and $$, naming a group the pattern lacks, or holding
 *     '?', '#' or a space; an unknown kind), and the message is one of
 *     those reasons. $N reads every digit, as PCRE2 does when it applies
 *     the replacement, so what configtest accepts never fails later as an
 *     unknown group.
 *   - strip-prefix/add-prefix: the documented rules (docs/guides/edge-policies.md) (whole segments, a
 *     trailing '/' of the prefix ignored, "/" strips nothing).
 *   - regex: pcre2_match (JIT, the code's limits, a 1 MB JIT stack) and
 *     the model's own expansion of the replacement: first match only,
 *     $N/${N} the group's text, a group that did not take part empty, $$
 *     a '$'; no match leaves the path alone; a result lacking a leading
 *     '/' gets one.
 *   - a rule whose result has a "." or ".." segment (also spelt %2e)
 *     that its input had not fails: it would climb out of a prefix.
 *   - all together: rule by rule in order; a failed rule fails the lot.
 *
 * Properties of every result: starts with '/'; no control character,
 * space, '?' or '#' unless the path had one; no longer than the path plus
 * the rule text plus one copy of the path per group reference. A failure
 * has a message; only PCRE2's match, depth and heap limits may fail where
 * the reference did not, and "JIT stack limit" only where the reference's
 * 1 MB JIT stack did not do either (the code retries on one that size).
 * No single rewrite may take more than MAX_CPU_SECONDS of CPU: the code
 * bounds PCRE2's work per match, so a hostile rule on an 8 KB path stays
 * in milliseconds. (The reference matches with the JIT too: the
 * interpreter restarts its step count at every start position, so on a
 * hostile pattern it can take a minute within the same limits.)
 *
 * Input: line 1 is the path ('/' put in front when missing); every further
 * line a rule (at most MAX_RULES): its first byte the kind ('s'
 * strip-prefix, 'a' add-prefix, 'r' regex; any other byte, with the rest
 * of the line up to a TAB, is passed as the kind's name), then the
 * argument, then optionally a TAB and the replacement (all after the first
 * TAB, further TABs included). Paths tried: the input's, "/", a few fixed
 * ones, and the input's repeated to about 8 KB (LimitRequestLine). */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pcre2.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "apigw_policy_rewrite.h"

#define FUZZ_TARGET "fuzz_rewrite"
#include "fuzz_check.h"

/* The model's own loops say nothing about the library; they stay out of
 * the coverage feedback (as in fuzz_route.c). */
#define MODEL __attribute__((no_sanitize("coverage"), noinline))

#define MAX_RULES 8
#define LONG_PATH 8000
#define MAX_OUT (1u << 20)          /* reference results past this: skipped */
#define MAX_CPU_SECONDS 0.5
/* The reference's limits: the code's own; a limit hit by the reference is
 * never compared. */
#define REF_MATCH_LIMIT 100000
#define REF_HEAP_LIMIT_KIB 8192
#define REF_JIT_STACK (1024 * 1024)

static const char *const FIXED_PATHS[] = {
    "/", "/api/v1/users/42", "/a/b/", "//x", "/%2e%2e/x", "/v1../admin",
    NULL
};

enum {                              /* reasons to refuse a rule */
    R_ARG = 1 << 0, R_CTL = 1 << 1, R_ONE = 1 << 2, R_SLASH = 1 << 3,
    R_HOLD = 1 << 4, R_NEEDS_REPL = 1 << 5, R_COMPILE = 1 << 6,
    R_SYNTAX = 1 << 7, R_GROUPS = 1 << 8, R_KIND = 1 << 9, R_UTF = 1 << 10
};

static const struct { int reason; const char *says; } REASONS[] = {
    { R_ARG, "needs an argument" },
    { R_CTL, "control characters" },
    { R_ONE, "takes one argument" },
    { R_SLASH, "must start with '/'" },
    { R_HOLD, "cannot hold" },
    { R_NEEDS_REPL, "needs a pattern and a replacement" },
    { R_COMPILE, "does not compile" },
    { R_SYNTAX, "write $N or ${N}" },
    { R_GROUPS, "group(s)" },
    { R_KIND, "unknown rewrite" },
    { R_UTF, "not UTF-8" },
    { 0, NULL }
};

enum { K_STRIP, K_ADD, K_REGEX, K_OTHER };

typedef struct {
    int kind;
    const char *kind_name;
    const char *arg;
    const char *repl;              /* NULL: none given */
    pcre2_code *code;              /* the reference's own, regex only */
    uint32_t groups;
    int refs;                      /* group references in repl */
    apigw_rewrite_rule *rule;      /* the code's, when it compiled */
} mrule;

/* OUT_UNKNOWN: a PCRE2 limit hit by the reference; OUT_TOO_BIG: a
 * result past MAX_OUT, not worth building twice */
typedef enum { OUT_OK, OUT_FAIL, OUT_UNKNOWN, OUT_TOO_BIG } outcome;

static pcre2_match_context *ref_mctx;

/* s for a message: at most 200 bytes of it (paths reach 8 KB). */
static const char *clip(const char *s)
{
    static char bufs[4][240];
    static int next;
    char *b = bufs[next++ & 3];
    size_t n = s ? strlen(s) : 0;

    if (!s) {
        return "(null)";
    }
    if (n <= 200) {
        return s;
    }
    snprintf(b, sizeof(bufs[0]), "%.200s...(%zu bytes)", s, n);
    return b;
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int is_ctl(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

static MODEL int has_ctl(const char *s)
{
    for (; *s; s++) {
        if (is_ctl((unsigned char)*s)) {
            return 1;
        }
    }
    return 0;
}

/* ---- the replacement, as PCRE2 reads it (no PCRE2_SUBSTITUTE_EXTENDED)
 * and as the code documents it: "$$", "$N" (every digit), "${N}"; any
 * other '$' is malformed. Calls emit for each piece: a literal byte
 * (group < 0) or a group. Returns -1 when malformed, else the highest
 * group (saturated at 1000000). ---- */

typedef void (*piece_fn)(void *ctx, int group, char c);

static MODEL long parse_repl(const char *r, piece_fn emit, void *ctx, int *refs)
{
    long high = 0;
    const char *s = r;

    *refs = 0;
    while (*s) {
        long n = 0;
        int braced = 0, digits = 0;

        if (*s != '$') {
            if (emit) {
                emit(ctx, -1, *s);
            }
            s++;
            continue;
        }
        s++;
        if (*s == '$') {
            if (emit) {
                emit(ctx, -1, '$');
            }
            s++;
            continue;
        }
        if (*s == '{') {
            braced = 1;
            s++;
        }
        while (*s >= '0' && *s <= '9') {
            if (n < 1000000) {
                n = n * 10 + (*s - '0');
            }
            s++;
            digits++;
        }
        if (n > 1000000) {
            n = 1000000;
        }
        if (!digits || (braced && *s != '}')) {
            return -1;
        }
        if (braced) {
            s++;
        }
        if (emit) {
            emit(ctx, (int)n, 0);
        }
        (*refs)++;
        if (n > high) {
            high = n;
        }
    }
    return high;
}

/* ---- compile: the reasons to refuse ---- */

/* UTF-8 as RFC 3629 has it: shortest forms, no surrogates, at most
 * U+10FFFF. */
static MODEL int valid_utf8(const unsigned char *s)
{
    while (*s) {
        unsigned c = *s, need, min, cp, k;
        if (c < 0x80) {
            s++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            need = 1, min = 0x80, cp = c & 0x1f;
        }
        else if (c >= 0xe0 && c <= 0xef) {
            need = 2, min = 0x800, cp = c & 0x0f;
        }
        else if (c >= 0xf0 && c <= 0xf4) {
            need = 3, min = 0x10000, cp = c & 0x07;
        }
        else {
            return 0;
        }
        for (k = 1; k <= need; k++) {
            if ((s[k] & 0xc0) != 0x80) {
                return 0;
            }
            cp = (cp << 6) | (s[k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
            return 0;
        }
        s += need + 1;
    }
    return 1;
}

static apr_status_t free_code(void *code)
{
    pcre2_code_free(code);
    return APR_SUCCESS;
}

static MODEL int expected_refusal(apr_pool_t *p, mrule *m)
{
    int why = 0, errcode, refs = 0;
    PCRE2_SIZE erroffset;

    if (!*m->arg) {
        why |= R_ARG;
    }
    if (has_ctl(m->arg) || (m->repl && has_ctl(m->repl))) {
        why |= R_CTL;
    }
    switch (m->kind) {
    case K_STRIP:
    case K_ADD:
        if (m->repl) {
            why |= R_ONE;
        }
        if (*m->arg && m->arg[0] != '/') {
            why |= R_SLASH;
        }
        if (strpbrk(m->arg, "?# ")) {
            why |= R_HOLD;
        }
        break;
    case K_REGEX:
        if (!m->repl) {
            why |= R_NEEDS_REPL;
            break;
        }
        if (!*m->arg) {
            break;
        }
        m->code = pcre2_compile((PCRE2_SPTR)m->arg, PCRE2_ZERO_TERMINATED, 0,
                                &errcode, &erroffset, NULL);
        if (!m->code) {
            why |= R_COMPILE;
            break;
        }
        apr_pool_cleanup_register(p, m->code, free_code,
                                  apr_pool_cleanup_null);
        (void)pcre2_jit_compile(m->code, PCRE2_JIT_COMPLETE);
        pcre2_pattern_info(m->code, PCRE2_INFO_CAPTURECOUNT, &m->groups);
        {
            long high = parse_repl(m->repl, NULL, NULL, &refs);
            m->refs = refs;
            if (high < 0) {
                why |= R_SYNTAX;
            }
            else if (high > (long)m->groups) {
                why |= R_GROUPS;
            }
        }
        if (strpbrk(m->repl, "?# ")) {
            why |= R_HOLD;
        }
        {
            uint32_t all = 0;
            pcre2_pattern_info(m->code, PCRE2_INFO_ALLOPTIONS, &all);
            if ((all & PCRE2_UTF)
                && !valid_utf8((const unsigned char *)m->repl)) {
                why |= R_UTF;
            }
        }
        break;
    default:
        why |= R_KIND;
        break;
    }
    return why;
}

/* ---- applying one rule ---- */

typedef struct {
    apr_pool_t *p;
    const char *subject;
    const PCRE2_SIZE *ov;
    int rc;
    char *buf;
    size_t len, cap;
    int too_big;
} expander;

static MODEL void put_bytes(expander *x, const char *s, size_t n)
{
    if (x->too_big || n == 0) {
        return;
    }
    if (x->len + n + 1 > MAX_OUT) {
        x->too_big = 1;
        return;
    }
    if (x->len + n + 1 > x->cap) {
        size_t cap = x->cap ? x->cap : 256;
        char *b;
        while (cap < x->len + n + 1) {
            cap *= 2;
        }
        b = apr_palloc(x->p, cap);
        if (x->len) {
            memcpy(b, x->buf, x->len);
        }
        x->buf = b;
        x->cap = cap;
    }
    memcpy(x->buf + x->len, s, n);
    x->len += n;
    x->buf[x->len] = '\0';
}

static MODEL void put_piece(void *ctx, int group, char c)
{
    expander *x = ctx;

    if (group < 0) {
        put_bytes(x, &c, 1);
        return;
    }
    /* a group that did not take part in the match: empty */
    if (group < x->rc && x->ov[2 * group] != PCRE2_UNSET
        && x->ov[2 * group] <= x->ov[2 * group + 1]) {
        put_bytes(x, x->subject + x->ov[2 * group],
                  x->ov[2 * group + 1] - x->ov[2 * group]);
    }
}

static MODEL int is_limit(int rc)
{
    return rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT
           || rc == PCRE2_ERROR_HEAPLIMIT || rc == PCRE2_ERROR_JIT_STACKLIMIT;
}

/* Whether a segment of path, with every "%2e"/"%2E" read as '.', is "."
 * or "..". */
static MODEL int ref_climbs(apr_pool_t *p, const char *path)
{
    char *copy = apr_pstrdup(p, path), *seg, *last = NULL;

    for (seg = apr_strtok(copy, "/", &last); seg;
         seg = apr_strtok(NULL, "/", &last)) {
        char dec[7];
        size_t n = 0;
        const char *c = seg;
        while (*c && n < 3) {
            if (c[0] == '%' && c[1] == '2' && (c[2] == 'e' || c[2] == 'E')) {
                dec[n++] = '.';
                c += 3;
            }
            else {
                dec[n++] = *c++;
            }
        }
        if (!*c && ((n == 1 && dec[0] == '.')
                    || (n == 2 && dec[0] == '.' && dec[1] == '.'))) {
            return 1;
        }
    }
    return 0;
}

/* The reference result of m on path, or NULL with *st FAIL/UNKNOWN. */
static MODEL const char *ref_apply(apr_pool_t *p, const mrule *m,
                                   const char *path, outcome *st)
{
    size_t n;
    const char *out = path;

    *st = OUT_OK;
    switch (m->kind) {
    case K_STRIP:
        n = strlen(m->arg);
        while (n > 1 && m->arg[n - 1] == '/') {
            n--;
        }
        if (n > 1 && strncmp(path, m->arg, n) == 0) {
            if (path[n] == '\0') {
                out = "/";
            }
            else if (path[n] == '/') {
                out = path + n;
            }
        }
        break;
    case K_ADD:
        n = strlen(m->arg);
        while (n > 0 && m->arg[n - 1] == '/') {
            n--;
        }
        out = apr_pstrcat(p, apr_pstrmemdup(p, m->arg, n), path, NULL);
        break;
    case K_REGEX: {
        pcre2_match_data *md = pcre2_match_data_create_from_pattern(m->code,
                                                                    NULL);
        expander x;
        int refs, rc;

        CHECK(md, "out of memory");
        rc = pcre2_match(m->code, (PCRE2_SPTR)path, strlen(path), 0, 0, md,
                         ref_mctx);
        if (rc == PCRE2_ERROR_NOMATCH) {
            pcre2_match_data_free(md);
            break;
        }
        if (rc < 0 || rc == 0) {
            /* 0 cannot happen with match data from the pattern */
            *st = is_limit(rc) ? OUT_UNKNOWN : OUT_FAIL;
            pcre2_match_data_free(md);
            return NULL;
        }
        memset(&x, 0, sizeof(x));
        x.p = p;
        x.subject = path;
        x.ov = pcre2_get_ovector_pointer(md);
        x.rc = rc;
        if (x.ov[0] > x.ov[1]) {
            /* \K past the end of the match: pcre2_substitute refuses */
            *st = OUT_FAIL;
            pcre2_match_data_free(md);
            return NULL;
        }
        put_bytes(&x, path, x.ov[0]);
        (void)parse_repl(m->repl, put_piece, &x, &refs);
        put_bytes(&x, path + x.ov[1], strlen(path + x.ov[1]));
        pcre2_match_data_free(md);
        if (x.too_big) {
            *st = OUT_TOO_BIG;
            return NULL;
        }
        out = x.buf ? x.buf : "";
        break;
    }
    default:
        CHECK(0, "rule of kind %d applied", m->kind);
    }
    if (out[0] != '/') {
        out = apr_pstrcat(p, "/", out, NULL);
    }
    if (ref_climbs(p, out) && !ref_climbs(p, path)) {
        *st = OUT_FAIL;
        return NULL;
    }
    return out;
}

/* ---- checks of the code's answers ---- */

static const char *limit_messages[4];     /* match, depth, heap, JIT stack */

static void check_result(const char *in, const char *out, const char *what,
                         size_t grow_max)
{
    const char *s;

    CHECK(out[0] == '/', "%s: %s -> \"%s\" does not start with '/'", what,
          clip(in), clip(out));
    for (s = out; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (is_ctl(c)) {
            CHECK(has_ctl(in), "%s: %s -> control byte 0x%02x at %zu", what,
                  clip(in), c, (size_t)(s - out));
        }
        if (c == ' ' || c == '?' || c == '#') {
            CHECK(strchr(in, c), "%s: %s -> \"%s\" gained a '%c'", what,
                  clip(in), clip(out), c);
        }
    }
    CHECK(strlen(out) <= strlen(in) + grow_max + 1, "%s: %s -> %zu bytes, "
          "more than %zu + %zu", what, clip(in), strlen(out), strlen(in),
          grow_max);
}

static void check_failure(const char *err, outcome want, const char *what,
                          const char *in)
{
    int i, limit = 0;

    CHECK(err && *err, "%s: %s failed without a message", what, clip(in));
    for (i = 0; i < 3; i++) {
        limit |= strcmp(err, limit_messages[i]) == 0;
    }
    if (strcmp(err, limit_messages[3]) == 0) {
        CHECK(want != OUT_OK, "%s: %s failed: %s (the reference's 1 MB JIT "
              "stack was enough)", what, clip(in), err);
        limit = 1;
    }
    CHECK(want == OUT_FAIL || limit, "%s: %s failed (%s); the reference "
          "did not", what, clip(in), err);
}

/* Applies rules[0..n) through the code one by one, then all together,
 * and compares with the reference. */
static void check_path(apr_pool_t *p, mrule *rules, int n, const char *path)
{
    apr_array_header_t *all = apr_array_make(p, n,
                                             sizeof(apigw_rewrite_rule *));
    const char *want = path, *got_chain, *err;
    outcome chain = OUT_OK;
    double t0, t;
    int i;

    for (i = 0; i < n; i++) {
        apr_array_header_t *one;
        const char *ref, *got;
        outcome st;
        size_t grow;

        if (!rules[i].rule) {
            continue;
        }
        APR_ARRAY_PUSH(all, apigw_rewrite_rule *) = rules[i].rule;
        if (chain != OUT_OK) {
            continue;
        }
        ref = ref_apply(p, &rules[i], want, &st);
        if (st == OUT_TOO_BIG) {
            return;                 /* the code's answer would be as big */
        }
        one = apr_array_make(p, 1, sizeof(apigw_rewrite_rule *));
        APR_ARRAY_PUSH(one, apigw_rewrite_rule *) = rules[i].rule;
        err = NULL;
        t0 = cpu_now();
        got = apigw_rewrite_path(p, one, want, &err);
        t = cpu_now() - t0;
        CHECK(t <= MAX_CPU_SECONDS, "rule %d (%s %s) on a %zu-byte path took "
              "%.2fs of CPU", i, rules[i].kind_name, rules[i].arg,
              strlen(want), t);
        grow = strlen(rules[i].arg)
               + (rules[i].repl ? strlen(rules[i].repl) : 0)
               + (size_t)rules[i].refs * strlen(want);
        if (!got) {
            check_failure(err, st, rules[i].arg, want);
            chain = OUT_FAIL;
            continue;
        }
        check_result(want, got, rules[i].arg, grow);
        if (st == OUT_OK) {
            CHECK(strcmp(got, ref) == 0, "rule %d (%s %s%s%s) on %s:\n  got  "
                  "%s\n  want %s", i, rules[i].kind_name, rules[i].arg,
                  rules[i].repl ? " -> " : "",
                  rules[i].repl ? rules[i].repl : "", clip(want), clip(got),
                  clip(ref));
        }
        else {
            CHECK(st == OUT_UNKNOWN, "rule %d (%s) on %s: got %s, the "
                  "reference fails", i, rules[i].arg, clip(want), clip(got));
            chain = OUT_UNKNOWN;
        }
        want = got;
    }

    err = NULL;
    t0 = cpu_now();
    got_chain = apigw_rewrite_path(p, all, path, &err);
    t = cpu_now() - t0;
    CHECK(t <= MAX_CPU_SECONDS * (all->nelts + 1), "%d rules on a %zu-byte "
          "path took %.2fs of CPU", all->nelts, strlen(path), t);
    if (chain == OUT_OK) {
        CHECK(got_chain && strcmp(got_chain, want) == 0, "all %d rules on "
              "%s:\n  got  %s\n  want %s", all->nelts, clip(path),
              got_chain ? clip(got_chain) : "(failed)", clip(want));
    }
    else if (chain == OUT_FAIL) {
        CHECK(!got_chain, "all %d rules on %s: got %s, a rule failed alone",
              all->nelts, clip(path), clip(got_chain));
        CHECK(err && *err, "all %d rules on %s failed without a message",
              all->nelts, clip(path));
    }
    else if (got_chain) {
        CHECK(got_chain[0] == '/', "all rules on %s -> %s", clip(path),
              clip(got_chain));
    }
    if (all->nelts == 0) {
        CHECK(got_chain == path, "no rules changed %s", clip(path));
    }
}

static const char *kind_of(apr_pool_t *p, const char **line, int *kind)
{
    const char *s = *line;
    size_t n;

    switch (*s) {
    case 's':
        *kind = K_STRIP;
        *line = s + 1;
        return "strip-prefix";
    case 'a':
        *kind = K_ADD;
        *line = s + 1;
        return "add-prefix";
    case 'r':
        *kind = K_REGEX;
        *line = s + 1;
        return "regex";
    }
    /* a kind by name: up to the first TAB, the rest after it */
    n = strcspn(s, "\t");
    *line = s[n] ? s + n + 1 : s + n;
    {
        const char *name = apr_pstrmemdup(p, s, n);
        *kind = strcmp(name, "strip-prefix") == 0 ? K_STRIP
                : strcmp(name, "add-prefix") == 0 ? K_ADD
                : strcmp(name, "regex") == 0 ? K_REGEX : K_OTHER;
        return name;
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    apr_initialize();
    ref_mctx = pcre2_match_context_create(NULL);
    pcre2_set_match_limit(ref_mctx, REF_MATCH_LIMIT);
    pcre2_set_depth_limit(ref_mctx, REF_MATCH_LIMIT);
    pcre2_set_heap_limit(ref_mctx, REF_HEAP_LIMIT_KIB);
    pcre2_jit_stack_assign(ref_mctx, NULL,
                           pcre2_jit_stack_create(32 * 1024, REF_JIT_STACK,
                                                  NULL));
    {
        static PCRE2_UCHAR msgs[4][120];
        const int codes[4] = { PCRE2_ERROR_MATCHLIMIT, PCRE2_ERROR_DEPTHLIMIT,
                               PCRE2_ERROR_HEAPLIMIT,
                               PCRE2_ERROR_JIT_STACKLIMIT };
        int i;
        for (i = 0; i < 4; i++) {
            pcre2_get_error_message(codes[i], msgs[i], sizeof(msgs[i]));
            limit_messages[i] = (const char *)msgs[i];
        }
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    mrule rules[MAX_RULES];
    const char *path = NULL;
    size_t pos = 0;
    int line = 0, n = 0, i;

    if (size > 8192 || apr_pool_create(&p, NULL) != APR_SUCCESS) {
        return 0;
    }
    while (pos <= size && n < MAX_RULES) {
        const uint8_t *nl = memchr(data + pos, '\n', size - pos);
        size_t len = nl ? (size_t)(nl - (data + pos)) : size - pos;
        const char *text = apr_pstrmemdup(p, (const char *)data + pos, len);

        if (line == 0) {
            path = text[0] == '/' ? text : apr_pstrcat(p, "/", text, NULL);
        }
        else if (*text) {
            mrule *m = &rules[n++];
            const char *tab;
            int why;

            memset(m, 0, sizeof(*m));
            m->kind_name = kind_of(p, &text, &m->kind);
            tab = strchr(text, '\t');
            m->arg = tab ? apr_pstrmemdup(p, text, (size_t)(tab - text)) : text;
            m->repl = tab ? tab + 1 : NULL;
            why = expected_refusal(p, m);
            {
                const char *err = apigw_rewrite_compile(p, m->kind_name,
                                                        m->arg, m->repl,
                                                        &m->rule);
                int k, told = 0;
                if (!why) {
                    CHECK(!err, "%s %s%s%s refused: %s", m->kind_name, m->arg,
                          m->repl ? " " : "", m->repl ? m->repl : "", err);
                    CHECK(m->rule, "no rule for %s", m->arg);
                }
                else {
                    CHECK(err, "%s \"%s\"%s%s%s accepted (reasons 0x%x)",
                          m->kind_name, m->arg, m->repl ? " \"" : "",
                          m->repl ? m->repl : "", m->repl ? "\"" : "", why);
                    for (k = 0; REASONS[k].says; k++) {
                        told |= (why & REASONS[k].reason)
                                && strstr(err, REASONS[k].says);
                    }
                    CHECK(told, "%s %s: \"%s\" is none of the reasons 0x%x",
                          m->kind_name, m->arg, err, why);
                    m->rule = NULL;
                }
            }
        }
        line++;
        pos += len + 1;
        if (!nl) {
            break;
        }
    }
    if (!path) {
        path = "/";
    }

    check_path(p, rules, n, path);
    for (i = 0; FIXED_PATHS[i]; i++) {
        check_path(p, rules, n, FIXED_PATHS[i]);
    }
    if (path[1]) {
        /* the path's own text repeated: a long path of the same shape */
        size_t unit = strlen(path + 1), k = 1;
        char *lp = apr_palloc(p, LONG_PATH + unit + 2);
        lp[0] = '/';
        while (k < LONG_PATH) {
            memcpy(lp + k, path + 1, unit);
            k += unit;
        }
        lp[k] = '\0';
        check_path(p, rules, n, lp);
    }
    apr_pool_destroy(p);
    return 0;
}
