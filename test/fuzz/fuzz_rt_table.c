/* sources: mod_apigw/apigw_rt_table.c mod_apigw/apigw_route.c */
/* libFuzzer target for mod_apigw/apigw_rt_table.c. Runs a sequence of
 * builder and request operations (upsert, remove, mark, drop_unmarked,
 * publish, sweep, acquire, release, match) and checks each answer against
 * a model: every published table is compared, for as long as a request
 * holds it, with one trie (apigw_route.c) of the routes it was published
 * with (FOUND route, its version and variables; NONE; NO_METHOD and its
 * Allow text, the union over the shards), publish's 0 when
 * every slot is held, sweep's count and the served count.
 *
 * Input: bytes, read as operations; each takes the bytes it needs (a
 * missing byte reads 0). Op byte % 12: 0-3 upsert, 4 remove, 5 mark,
 * 6 drop_unmarked, 7 publish, 8 sweep, 9 acquire, 10 release, 11 match. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "apigw_rt_table.h"

#define NIDS 12
#define MAX_HELD 80
#define MAX_VERSIONS 512

#define FUZZ_TARGET "fuzz_rt_table"
#include "fuzz_check.h"

static const char *const SEGS[] = {
    "a", "b", "c", "", "{x}", "{y}", "{z}", "*", "a{x}", "{", "}", "x*"
};
static const char *const PATH_SEGS[] = { "a", "b", "c", "", "d", "*", "{x}" };
static const char *const METHOD_SETS[] = {
    "GET", "POST", "GET,POST", "PUT,GET", "HEAD", "GET,GET"
};
static const char *const ASK[] = { "GET", "HEAD", "POST", "PUT", "DELETE" };

typedef struct {
    const char *id, *target;
} rdata;

typedef struct {
    int in, enabled, linked;
    const char *path, *methods, *target;
    unsigned long seq;                 /* when linked into its shard */
    int marked;
} mroute;

typedef struct {
    apigw_route_table *trie;
    int served;
} version;

typedef struct {
    apigw_rt_table *t;
    int v;
} held;

typedef struct {
    apr_pool_t *p;
    apigw_rt_set *set;
    const uint8_t *data;
    size_t size, pos;
    mroute r[NIDS];
    unsigned long seq;
    int dirty;
    version v[MAX_VERSIONS];
    int nv;
    /* tables in slots: the model of the set's slots */
    apigw_rt_table *slot_t[APIGW_RT_SLOTS];
    int slot_v[APIGW_RT_SLOTS], nslots;
    apigw_rt_table *cur;
    int cur_v;
    held h[MAX_HELD];
    int nheld;
} fz;

static unsigned byte(fz *f)
{
    return f->pos < f->size ? f->data[f->pos++] : 0;
}

static const char *compile_cb(void *ctx, apr_pool_t *p,
                              apr_pool_t *scratch,
                              const apigw_route_record *rec, void **data,
                              const char **field)
{
    rdata *d;

    (void)ctx;
    (void)scratch;
    if (strncmp(rec->target_url, "bad:", 4) == 0) {
        *field = "targetUrl";
        return "bad";
    }
    d = apr_palloc(p, sizeof(*d));
    d->id = apr_pstrdup(p, rec->id);
    d->target = apr_pstrdup(p, rec->target_url);
    *data = d;
    return NULL;
}

static void report_cb(void *ctx, const apigw_route_record *rec,
                      const char *field, const char *problem)
{
    (void)ctx;
    (void)rec;
    (void)field;
    (void)problem;
}

static const char *make_path(fz *f, const char *const *segs, unsigned nsegs)
{
    unsigned n = byte(f) % 5, i;
    const char *out = "";

    if (n == 0) {
        return "/";
    }
    for (i = 0; i < n; i++) {
        out = apr_pstrcat(f->p, out, "/", segs[byte(f) % nsegs], NULL);
    }
    return out;
}

/* The current model as a trie: routes most recently linked first, as
 * each shard's list holds them. */
static void snapshot(fz *f)
{
    version *v;
    int order[NIDS], n = 0, i, j;

    CHECK(f->nv < MAX_VERSIONS, "too many versions");
    v = &f->v[f->nv];
    v->trie = apigw_route_table_make(f->p);
    v->served = 0;
    for (i = 0; i < NIDS; i++) {
        if (f->r[i].linked) {
            order[n++] = i;
        }
    }
    for (i = 1; i < n; i++) {
        for (j = i; j > 0 && f->r[order[j - 1]].seq < f->r[order[j]].seq;
             j--) {
            int x = order[j];
            order[j] = order[j - 1];
            order[j - 1] = x;
        }
    }
    for (i = 0; i < n; i++) {
        const mroute *r = &f->r[order[i]];
        rdata *d;
        char *methods, *m, *last;
        int added = 0;

        if (strncmp(r->target, "bad:", 4) == 0) {
            continue;
        }
        d = apr_palloc(f->p, sizeof(*d));
        d->id = apr_psprintf(f->p, "id%d", order[i]);
        d->target = r->target;
        methods = apr_pstrdup(f->p, r->methods);
        for (m = apr_strtok(methods, ",", &last); m;
             m = apr_strtok(NULL, ",", &last)) {
            void *conflict;
            if (!apigw_route_add(v->trie, r->path, m, d,
                                 APIGW_ROUTE_OWN_NAMES, &conflict)) {
                added = 1;
            }
        }
        v->served += added;
    }
    f->nv++;
}

static const char *vars_text(apr_pool_t *p, const apigw_route_match *m)
{
    const char *out = "";
    int i;

    for (i = 0; m->vars && i < m->vars->nelts; i++) {
        const apigw_route_var *v = &APR_ARRAY_IDX(m->vars, i, apigw_route_var);
        out = apr_pstrcat(p, out, i ? ";" : "", v->name, "=", v->value, NULL);
    }
    return out;
}

static void check_match(fz *f, const apigw_rt_table *t, int vi,
                        const char *path, const char *method)
{
    apigw_route_match m, o;
    apigw_route_status st, ost;

    memset(&m, 0, sizeof(m));
    st = apigw_rt_table_match(t, path, method, f->p, &m);
    ost = apigw_route_match_path(f->v[vi].trie, path, method, f->p, &o);
    CHECK(st == ost, "%s %s (version %d): status %d, the trie says %d",
          method, path, vi, (int)st, (int)ost);
    if (st == APIGW_ROUTE_FOUND) {
        const rdata *a = m.data, *b = o.data;
        CHECK(strcmp(a->id, b->id) == 0 && strcmp(a->target, b->target) == 0,
              "%s %s (version %d): %s/%s, the trie says %s/%s", method, path,
              vi, a->id, a->target, b->id, b->target);
        CHECK(strcmp(vars_text(f->p, &m), vars_text(f->p, &o)) == 0,
              "%s %s: vars %s, the trie says %s", method, path,
              vars_text(f->p, &m), vars_text(f->p, &o));
    }
    else if (st == APIGW_ROUTE_NO_METHOD) {
        CHECK(strcmp(m.allow, o.allow) == 0, "%s %s: Allow %s, the trie "
              "says %s", method, path, m.allow, o.allow);
    }
}

static int held_count(const fz *f, const apigw_rt_table *t)
{
    int i, n = 0;

    for (i = 0; i < f->nheld; i++) {
        n += f->h[i].t == t;
    }
    return n;
}

static void op_upsert(fz *f)
{
    unsigned id = byte(f) % NIDS, b = byte(f);
    mroute *r = &f->r[id];
    apigw_route_record rec;

    memset(&rec, 0, sizeof(rec));
    rec.id = apr_psprintf(f->p, "id%u", id);
    rec.environment = "e";
    rec.path = make_path(f, SEGS, sizeof(SEGS) / sizeof(SEGS[0]));
    rec.methods = METHOD_SETS[(b >> 2) % 6];
    rec.target_url = b % 8 == 0 ? "bad:x"
                                : apr_psprintf(f->p, "t%lu", f->seq + 1);
    rec.enabled = b % 4 != 1;
    rec.policies = "{}";
    apigw_rt_set_upsert(f->set, &rec);
    /* the old one goes (its shard changes if it was linked) */
    f->dirty |= r->linked;
    r->in = 1;
    r->marked = 1;
    r->enabled = rec.enabled;
    r->path = rec.path;
    r->methods = rec.methods;
    r->target = rec.target_url;
    r->linked = rec.enabled;
    if (r->linked) {
        r->seq = ++f->seq;
        f->dirty = 1;
    }
}

static void drop(fz *f, int id)
{
    f->dirty |= f->r[id].linked;
    memset(&f->r[id], 0, sizeof(f->r[id]));
}

static void op_publish(fz *f)
{
    int want_new = f->dirty || !f->cur;
    int rc = apigw_rt_set_publish(f->set);
    apigw_rt_table *t;

    if (want_new && f->nslots == APIGW_RT_SLOTS) {
        CHECK(rc == 0, "publish with every slot held: %d", rc);
        return;
    }
    CHECK(rc == 1, "publish: %d with %d slots in use", rc, f->nslots);
    t = apigw_rt_table_acquire(f->set);
    CHECK(t != NULL, "nothing current after a publish");
    apigw_rt_table_release(t);
    if (!want_new) {
        CHECK(t == f->cur, "publish with nothing changed made a new table");
        return;
    }
    CHECK(t != f->cur, "publish did not make a new table");
    snapshot(f);
    f->slot_t[f->nslots] = t;
    f->slot_v[f->nslots++] = f->nv - 1;
    f->cur = t;
    f->cur_v = f->nv - 1;
    f->dirty = 0;
    CHECK(apigw_rt_set_served(f->set) == f->v[f->cur_v].served,
          "served %d, the trie serves %d", apigw_rt_set_served(f->set),
          f->v[f->cur_v].served);
}

static void op_sweep(fz *f)
{
    int n = apigw_rt_set_sweep(f->set), i, k = 0;

    for (i = 0; i < f->nslots; i++) {
        if (f->slot_t[i] == f->cur || held_count(f, f->slot_t[i])) {
            f->slot_t[k] = f->slot_t[i];
            f->slot_v[k++] = f->slot_v[i];
        }
    }
    f->nslots = k;
    CHECK(n == k, "sweep says %d tables held, the model %d", n, k);
}

static int model_count(const fz *f)
{
    int i, n = 0;

    for (i = 0; i < NIDS; i++) {
        n += f->r[i].in;
    }
    return n;
}

static void op_match(fz *f)
{
    const char *path = make_path(f, PATH_SEGS,
                                 sizeof(PATH_SEGS) / sizeof(PATH_SEGS[0]));
    const char *method = ASK[byte(f) % 5];
    apigw_rt_table *t = apigw_rt_table_acquire(f->set);
    int i;

    CHECK((t != NULL) == (f->cur != NULL), "acquire: %p, current %p",
          (void *)t, (void *)f->cur);
    if (t) {
        CHECK(t == f->cur, "acquire gave another table than the current");
        check_match(f, t, f->cur_v, path, method);
        apigw_rt_table_release(t);
    }
    for (i = 0; i < f->nheld; i++) {
        check_match(f, f->h[i].t, f->h[i].v, path, method);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    apr_initialize();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz *f;
    apr_pool_t *p, *setp;
    int i;

    if (apr_pool_create(&p, NULL) != APR_SUCCESS) {
        return 0;
    }
    f = apr_pcalloc(p, sizeof(*f));
    f->p = p;
    f->data = data;
    f->size = size;
    apr_pool_create(&setp, p);
    f->set = apigw_rt_set_make(setp, compile_cb, report_cb, NULL);
    while (f->pos < f->size && f->nv < MAX_VERSIONS - 1) {
        unsigned op = byte(f) % 12;

        switch (op) {
        case 0: case 1: case 2: case 3:
            op_upsert(f);
            break;
        case 4: {
            unsigned id = byte(f) % NIDS;
            apigw_rt_set_remove(f->set, apr_psprintf(p, "id%u", id));
            drop(f, (int)id);
            break;
        }
        case 5:
            apigw_rt_set_mark(f->set);
            for (i = 0; i < NIDS; i++) {
                f->r[i].marked = 0;
            }
            break;
        case 6:
            apigw_rt_set_drop_unmarked(f->set);
            for (i = 0; i < NIDS; i++) {
                if (f->r[i].in && !f->r[i].marked) {
                    drop(f, i);
                }
            }
            break;
        case 7:
            op_publish(f);
            break;
        case 8:
            op_sweep(f);
            break;
        case 9:
            if (f->nheld < MAX_HELD) {
                apigw_rt_table *t = apigw_rt_table_acquire(f->set);
                if (t) {
                    f->h[f->nheld].t = t;
                    f->h[f->nheld++].v = f->cur_v;
                }
            }
            break;
        case 10:
            if (f->nheld) {
                unsigned k = byte(f) % (unsigned)f->nheld;
                apigw_rt_table_release(f->h[k].t);
                f->h[k] = f->h[--f->nheld];
            }
            break;
        default:
            op_match(f);
            break;
        }
        CHECK(apigw_rt_set_count(f->set) == model_count(f), "count %d, the "
              "model %d", apigw_rt_set_count(f->set), model_count(f));
    }
    for (i = 0; i < f->nheld; i++) {
        apigw_rt_table_release(f->h[i].t);
    }
    apr_pool_destroy(p);                  /* the set with it */
    return 0;
}
