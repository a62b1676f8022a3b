/* The runtime route table of one environment in one child (see
 * apigw_rt_table.h): the builder's routes, their shards, the published
 * tables and the lock-free hand-over to requests. */
#include "apigw_rt_table.h"

#include <apr_allocator.h>
#include <apr_atomic.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>
#if APR_HAVE_SYS_MMAN_H || defined(__linux__)
#include <sys/mman.h>
#endif

#define NSHARDS 256                /* hashed by leading static text */
#define VAR_SHARD NSHARDS          /* routes that start with a {variable} */
#define ALL_SHARDS (NSHARDS + 1)
#define SHARD_DEPTH 4              /* leading static segments hashed */

/* A large build's memory, faulted in up front (see prefault()). */
#define PREFAULT_ROUTE_BYTES 4096  /* about what a route without policies
                                    * takes, so little is left unused */
#define PREFAULT_NODE (64 * 1024)
#define SET_MAX_FREE (1024 * 1024) /* what the set's allocator keeps */

typedef struct rt_entry rt_entry;

/* One route as the builder keeps it: the row, in one malloc'd block. */
struct rt_entry {
    apigw_route_record rec;
    int shard;                     /* -1: disabled, in no shard */
    int marked;
    rt_entry *next, *prev;         /* its shard's list */
};

/* A shard: one route table per leading static text (its key), so a
 * route never answers for a path probed under another key that happens
 * to hash alike. */
typedef struct {
    apr_pool_t *pool;              /* the shard and all it compiled */
    apr_hash_t *tries;             /* key -> apigw_route_table * */
    int users;                     /* published tables holding it */
    int served;                    /* routes in it */
    apr_array_header_t *compiled;  /* void *: what each served route
                                    * compiled into (apigw_rt_table_each) */
} rt_shard;

struct apigw_rt_table {
    apigw_rt_set *set;
    int slot;
    int served;
    rt_shard *shards[ALL_SHARDS];
};

typedef struct {
    volatile apr_uint32_t refs;    /* requests holding the slot's table */
    apigw_rt_table *table;         /* NULL: free (builder-side) */
} rt_slot;

struct apigw_rt_set {
    apr_allocator_t *alloc;
    apr_pool_t *pool;              /* shards are its subpools */
    apr_pool_t *scratch;           /* a compile's, cleared after each */
    apigw_rt_compile_fn *compile;
    apigw_rt_report_fn *report;
    void *ctx;
    apr_hash_t *entries;           /* id -> rt_entry * */
    rt_entry *lists[ALL_SHARDS];
    unsigned char dirty[ALL_SHARDS];
    int any_dirty;
    rt_shard *shards[ALL_SHARDS];  /* what the next table will hold */
    volatile apr_uint32_t current; /* slot index + 1, 0 before the first */
    rt_slot slots[APIGW_RT_SLOTS];
};

/* ---- shards: which one a path belongs to ---- */

static unsigned fnv1a(const char *s, apr_size_t len)
{
    apr_uint32_t h = 2166136261u;
    apr_size_t i;

    for (i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h % NSHARDS;
}

/* The end of the segment that starts at s (after a '/'). */
static const char *segment_end(const char *s)
{
    const char *e = strchr(s, '/');
    return e ? e : s + strlen(s);
}

static int is_static_segment(const char *s, const char *e)
{
    return !memchr(s, '{', (apr_size_t)(e - s))
           && !(e - s == 1 && *s == '*');
}

/* A pattern's key: its leading static segments, up to SHARD_DEPTH of
 * them (so "/api/v1/items7/{id}" does not share a shard with every other
 * "/api/v1/..." route), as *len bytes after the first '/'; its shard is
 * the key's hash, or the variable shard (key "") when the first segment
 * is not static. */
static int pattern_key(const char *pattern, apr_size_t *len)
{
    const char *s = pattern + 1, *e = s, *end = NULL;
    int depth = 0;

    while (depth < SHARD_DEPTH) {
        e = segment_end(s);
        if (!is_static_segment(s, e)) {
            break;
        }
        end = e;
        depth++;
        if (*e != '/') {
            break;
        }
        s = e + 1;
    }
    *len = end ? (apr_size_t)(end - pattern - 1) : 0;
    return end ? (int)fnv1a(pattern + 1, *len) : VAR_SHARD;
}

static int pattern_shard(const char *pattern)
{
    apr_size_t len;
    return pattern_key(pattern, &len);
}

/* The keys a request path may be under, most specific first (its first
 * SHARD_DEPTH segments, then fewer: the order in which one trie would try
 * static text before variables), then the variable shard's; returns how
 * many, with each key's length and shard. */
static int path_keys(const char *path, apr_size_t lens[SHARD_DEPTH + 1],
                     int out[SHARD_DEPTH + 1])
{
    const char *ends[SHARD_DEPTH], *s = path + 1, *e;
    int depth = 0, n = 0, i;

    while (depth < SHARD_DEPTH) {
        e = segment_end(s);
        ends[depth++] = e;
        if (*e != '/') {
            break;
        }
        s = e + 1;
    }
    for (i = depth - 1; i >= 0; i--) {
        lens[n] = (apr_size_t)(ends[i] - path - 1);
        out[n] = (int)fnv1a(path + 1, lens[n]);
        n++;
    }
    lens[n] = 0;
    out[n++] = VAR_SHARD;
    return n;
}

/* ---- the builder's routes ---- */

static apr_status_t set_cleanup(void *data);

apigw_rt_set *apigw_rt_set_make(apr_pool_t *parent, apigw_rt_compile_fn *fn,
                                apigw_rt_report_fn *report, void *ctx)
{
    apr_allocator_t *alloc;
    apr_pool_t *pool;
    apigw_rt_set *set;

    if (apr_allocator_create(&alloc) != APR_SUCCESS) {
        return NULL;
    }
    apr_allocator_max_free_set(alloc, SET_MAX_FREE);
    if (apr_pool_create_unmanaged_ex(&pool, NULL, alloc) != APR_SUCCESS) {
        apr_allocator_destroy(alloc);
        return NULL;
    }
    apr_allocator_owner_set(alloc, pool);
    set = apr_pcalloc(pool, sizeof(*set));
    set->alloc = alloc;
    set->pool = pool;
    set->compile = fn;
    set->report = report;
    set->ctx = ctx;
    set->entries = apr_hash_make(pool);
    if (apr_pool_create(&set->scratch, pool) != APR_SUCCESS) {
        apr_pool_destroy(pool);
        return NULL;
    }
    apr_pool_cleanup_register(parent, set, set_cleanup,
                              apr_pool_cleanup_null);
    return set;
}

static void list_unlink(apigw_rt_set *set, rt_entry *e)
{
    if (e->shard < 0) {
        return;
    }
    if (e->prev) {
        e->prev->next = e->next;
    }
    else {
        set->lists[e->shard] = e->next;
    }
    if (e->next) {
        e->next->prev = e->prev;
    }
    set->dirty[e->shard] = 1;
    set->any_dirty = 1;
    e->shard = -1;
}

static void list_link(apigw_rt_set *set, rt_entry *e, int shard)
{
    e->shard = shard;
    e->prev = NULL;
    e->next = set->lists[shard];
    if (e->next) {
        e->next->prev = e;
    }
    set->lists[shard] = e;
    set->dirty[shard] = 1;
    set->any_dirty = 1;
}

static char *copy_str(char **at, const char *s)
{
    apr_size_t n = strlen(s ? s : "") + 1;
    char *out = *at;

    memcpy(out, s ? s : "", n);
    *at += n;
    return out;
}

static rt_entry *entry_make(const apigw_route_record *rec)
{
    const char *strs[6] = { rec->id, rec->environment, rec->path,
                            rec->target_url, rec->methods, rec->policies };
    apr_size_t len = sizeof(rt_entry);
    rt_entry *e;
    char *at;
    int i;

    for (i = 0; i < 6; i++) {
        len += strlen(strs[i] ? strs[i] : "") + 1;
    }
    e = malloc(len);
    if (!e) {
        return NULL;
    }
    memset(e, 0, sizeof(*e));
    at = (char *)(e + 1);
    e->rec = *rec;
    e->rec.id = copy_str(&at, rec->id);
    e->rec.environment = copy_str(&at, rec->environment);
    e->rec.path = copy_str(&at, rec->path);
    e->rec.target_url = copy_str(&at, rec->target_url);
    e->rec.methods = copy_str(&at, rec->methods);
    e->rec.policies = copy_str(&at, rec->policies);
    e->shard = -1;
    return e;
}

static void entry_drop(apigw_rt_set *set, rt_entry *e)
{
    list_unlink(set, e);
    apr_hash_set(set->entries, e->rec.id, APR_HASH_KEY_STRING, NULL);
    free(e);
}

void apigw_rt_set_upsert(apigw_rt_set *set, const apigw_route_record *rec)
{
    rt_entry *old, *e;

    if (!rec->id || !rec->path || rec->path[0] != '/') {
        return;
    }
    old = apr_hash_get(set->entries, rec->id, APR_HASH_KEY_STRING);
    if (old) {
        entry_drop(set, old);
    }
    if (!(e = entry_make(rec))) {
        return;                    /* out of memory: not served */
    }
    e->marked = 1;
    apr_hash_set(set->entries, e->rec.id, APR_HASH_KEY_STRING, e);
    if (e->rec.enabled) {
        list_link(set, e, pattern_shard(e->rec.path));
    }
}

void apigw_rt_set_remove(apigw_rt_set *set, const char *id)
{
    rt_entry *e = apr_hash_get(set->entries, id, APR_HASH_KEY_STRING);

    if (e) {
        entry_drop(set, e);
    }
}

void apigw_rt_set_mark(apigw_rt_set *set)
{
    apr_hash_index_t *hi;

    for (hi = apr_hash_first(NULL, set->entries); hi; hi = apr_hash_next(hi)) {
        ((rt_entry *)apr_hash_this_val(hi))->marked = 0;
    }
}

void apigw_rt_set_drop_unmarked(apigw_rt_set *set)
{
    apr_hash_index_t *hi = apr_hash_first(NULL, set->entries);

    while (hi) {
        rt_entry *e = apr_hash_this_val(hi);

        /* apr_hash_next before the entry goes: iteration survives
         * deleting the current entry */
        hi = apr_hash_next(hi);
        if (!e->marked) {
            entry_drop(set, e);
        }
    }
}

int apigw_rt_set_count(const apigw_rt_set *set)
{
    return (int)apr_hash_count(set->entries);
}

apr_array_header_t *apigw_rt_set_records(const apigw_rt_set *set,
                                         apr_pool_t *p)
{
    apr_array_header_t *a = apr_array_make(p, (int)apr_hash_count(set->entries)
                                              + 1, sizeof(apigw_route_record));
    apr_hash_index_t *hi;

    for (hi = apr_hash_first(p, set->entries); hi; hi = apr_hash_next(hi)) {
        const apigw_route_record *r = &((rt_entry *)apr_hash_this_val(hi))->rec;
        apigw_route_record *c = apr_array_push(a);

        /* copies: the set's own go when the route changes */
        *c = *r;
        c->id = apr_pstrdup(p, r->id);
        c->environment = apr_pstrdup(p, r->environment);
        c->path = apr_pstrdup(p, r->path);
        c->target_url = apr_pstrdup(p, r->target_url);
        c->methods = apr_pstrdup(p, r->methods);
        c->policies = apr_pstrdup(p, r->policies);
    }
    return a;
}

/* ---- shards: building ---- */

static void shard_add(apigw_rt_set *set, rt_shard *sh, const rt_entry *e)
{
    const char *field = "", *err;
    char *methods, *m, *last;
    const char *path = apr_pstrdup(sh->pool, e->rec.path);
    apigw_route_table *routes;
    apr_size_t klen;
    void *data = NULL;
    int added = 0;

    err = set->compile(set->ctx, sh->pool, set->scratch, &e->rec, &data,
                       &field);
    apr_pool_clear(set->scratch);
    if (err) {
        set->report(set->ctx, &e->rec, field, err);
        return;
    }
    pattern_key(path, &klen);
    routes = apr_hash_get(sh->tries, path + 1, (apr_ssize_t)klen);
    if (!routes) {
        routes = apigw_route_table_make(sh->pool);
        apr_hash_set(sh->tries, path + 1, (apr_ssize_t)klen, routes);
    }
    methods = apr_pstrdup(sh->pool, e->rec.methods);
    for (m = apr_strtok(methods, ",", &last); m;
         m = apr_strtok(NULL, ",", &last)) {
        void *other = NULL;

        err = apigw_route_add(routes, path, m, data,
                              APIGW_ROUTE_OWN_NAMES, &other);
        if (err) {
            set->report(set->ctx, &e->rec, "path", err);
            continue;
        }
        added = 1;
    }
    sh->served += added;
    if (added) {
        APR_ARRAY_PUSH(sh->compiled, void *) = data;
    }
}

static rt_shard *shard_build(apigw_rt_set *set, int k)
{
    apr_pool_t *p;
    rt_shard *sh;
    const rt_entry *e;

    if (!set->lists[k]) {
        return NULL;
    }
    if (apr_pool_create(&p, set->pool) != APR_SUCCESS) {
        return NULL;
    }
    sh = apr_pcalloc(p, sizeof(*sh));
    sh->pool = p;
    sh->tries = apr_hash_make(p);
    sh->compiled = apr_array_make(p, 8, sizeof(void *));
    for (e = set->lists[k]; e; e = e->next) {
        shard_add(set, sh, e);
    }
    return sh;
}

static void shard_release(apigw_rt_set *set, int k, rt_shard *sh)
{
    if (sh && --sh->users <= 0 && set->shards[k] != sh) {
        apr_pool_destroy(sh->pool);
    }
}

/* ---- tables: publishing and freeing ---- */

static int free_slot(const apigw_rt_set *set)
{
    int j;

    for (j = 0; j < APIGW_RT_SLOTS; j++) {
        if (!set->slots[j].table) {
            return j;
        }
    }
    return -1;
}

void apigw_rt_prefault(apr_allocator_t *alloc, apr_size_t bytes,
                       apr_size_t max_free)
{
#ifdef MADV_POPULATE_WRITE
    apr_size_t got = 0;
    apr_memnode_t *nodes = NULL, *n;

    while (got < bytes) {
        n = apr_allocator_alloc(alloc, PREFAULT_NODE - APR_MEMNODE_T_SIZE);
        if (!n) {
            break;
        }
        n->next = nodes;
        nodes = n;
        got += (apr_size_t)(n->endp - (char *)n);
        if (madvise(n, (apr_size_t)(n->endp - (char *)n),
                    MADV_POPULATE_WRITE) != 0) {
            break;
        }
    }
    if (nodes) {
        /* kept however many: the pools about to grow take them */
        apr_allocator_max_free_set(alloc, 0);
        apr_allocator_free(alloc, nodes);
        apr_allocator_max_free_set(alloc, max_free);
    }
#else
    (void)alloc;
    (void)bytes;
    (void)max_free;
#endif
}

/* Before a build of many routes (a child's first table): the memory the
 * shards' pools will take, faulted in at once. */
static void prefault(apigw_rt_set *set, int routes)
{
    if (routes >= APIGW_RT_PREFAULT_MIN) {
        apigw_rt_prefault(set->alloc,
                          (apr_size_t)routes * PREFAULT_ROUTE_BYTES,
                          SET_MAX_FREE);
    }
}

/* Routes in the shards a publish will build. */
static int dirty_routes(const apigw_rt_set *set)
{
    const rt_entry *e;
    int k, n = 0;

    for (k = 0; k < ALL_SHARDS; k++) {
        for (e = set->dirty[k] ? set->lists[k] : NULL; e; e = e->next) {
            n++;
        }
    }
    return n;
}

int apigw_rt_set_publish(apigw_rt_set *set)
{
    apigw_rt_table *t;
    int j, k;

    if (!set->any_dirty && apr_atomic_read32(&set->current)) {
        return 1;
    }
    if ((j = free_slot(set)) < 0
        || !(t = calloc(1, sizeof(*t)))) {
        return 0;
    }
    prefault(set, dirty_routes(set));
    for (k = 0; k < ALL_SHARDS; k++) {
        if (set->dirty[k]) {
            rt_shard *old = set->shards[k];

            set->shards[k] = shard_build(set, k);
            set->dirty[k] = 0;
            if (old && old->users == 0) {
                apr_pool_destroy(old->pool);   /* never published */
            }
        }
    }
    set->any_dirty = 0;
    t->set = set;
    t->slot = j;
    for (k = 0; k < ALL_SHARDS; k++) {
        if ((t->shards[k] = set->shards[k]) != NULL) {
            t->shards[k]->users++;
            t->served += t->shards[k]->served;
        }
    }
    set->slots[j].table = t;
    /* a full barrier: the table is complete before any request sees it */
    apr_atomic_xchg32(&set->current, (apr_uint32_t)j + 1);
    return 1;
}

static void table_free(apigw_rt_set *set, apigw_rt_table *t)
{
    int k;

    for (k = 0; k < ALL_SHARDS; k++) {
        shard_release(set, k, t->shards[k]);
    }
    set->slots[t->slot].table = NULL;
    free(t);
}

int apigw_rt_set_sweep(apigw_rt_set *set)
{
    apr_uint32_t cur = apr_atomic_read32(&set->current);
    int j, held = 0;

    for (j = 0; j < APIGW_RT_SLOTS; j++) {
        apigw_rt_table *t = set->slots[j].table;

        if (!t) {
            continue;
        }
        if ((apr_uint32_t)j + 1 == cur
            || apr_atomic_read32(&set->slots[j].refs) != 0) {
            held++;
            continue;
        }
        table_free(set, t);
    }
    return held;
}

int apigw_rt_set_served(const apigw_rt_set *set)
{
    apr_uint32_t cur = apr_atomic_read32((volatile apr_uint32_t *)&set->current);

    return cur ? set->slots[cur - 1].table->served : 0;
}

/* Runs when the parent pool goes: the builder has stopped and no request
 * is left (the child is exiting). */
static apr_status_t set_cleanup(void *data)
{
    apigw_rt_set *set = data;
    apr_hash_index_t *hi = apr_hash_first(NULL, set->entries);
    int j;

    while (hi) {
        rt_entry *e = apr_hash_this_val(hi);
        hi = apr_hash_next(hi);
        free(e);
    }
    for (j = 0; j < APIGW_RT_SLOTS; j++) {
        free(set->slots[j].table);
    }
    apr_pool_destroy(set->pool);   /* the shards; the allocator with it */
    return APR_SUCCESS;
}

/* ---- the request side ---- */

apigw_rt_table *apigw_rt_table_acquire(apigw_rt_set *set)
{
    for (;;) {
        apr_uint32_t cur = apr_atomic_read32(&set->current);
        rt_slot *slot;

        if (!cur) {
            return NULL;
        }
        slot = &set->slots[cur - 1];
        apr_atomic_inc32(&slot->refs);
        /* still current after our count went up: the builder cannot free
         * it now (it frees only a slot that is not current and has no
         * count) */
        if (apr_atomic_read32(&set->current) == cur) {
            return slot->table;
        }
        apr_atomic_dec32(&slot->refs);
    }
}

void apigw_rt_table_release(apigw_rt_table *t)
{
    if (t) {
        apr_atomic_dec32(&t->set->slots[t->slot].refs);
    }
}

int apigw_rt_table_each(const apigw_rt_table *t, apigw_rt_table_each_fn *fn,
                        void *ctx)
{
    int k, i, rc;

    for (k = 0; t && k < ALL_SHARDS; k++) {
        const rt_shard *sh = t->shards[k];

        for (i = 0; sh && i < sh->compiled->nelts; i++) {
            if ((rc = fn(ctx, APR_ARRAY_IDX(sh->compiled, i, void *))) != 0) {
                return rc;
            }
        }
    }
    return 0;
}

/* "GET, HEAD" and "POST" as "GET, HEAD, POST": the union, sorted (the
 * Allow of a path whose routes sit in several shards). */
static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static const char *allow_union(apr_pool_t *p, const char *a, const char *b)
{
    apr_array_header_t *names = apr_array_make(p, 8, sizeof(char *));
    char *all = apr_pstrcat(p, a, ", ", b, NULL), *tok, *last;
    int i, j, n = 0;

    for (tok = apr_strtok(all, ", ", &last); tok;
         tok = apr_strtok(NULL, ", ", &last)) {
        APR_ARRAY_PUSH(names, char *) = tok;
    }
    qsort(names->elts, (size_t)names->nelts, sizeof(char *), cmp_name);
    for (i = 0, j = 0; i < names->nelts; i++) {
        char *s = APR_ARRAY_IDX(names, i, char *);
        if (j == 0 || strcmp(APR_ARRAY_IDX(names, j - 1, char *), s) != 0) {
            APR_ARRAY_IDX(names, j++, char *) = s;
        }
    }
    n = j;
    for (i = 0, all = ""; i < n; i++) {
        all = apr_pstrcat(p, all, i ? ", " : "",
                          APR_ARRAY_IDX(names, i, char *), NULL);
    }
    return all;
}

apigw_route_status apigw_rt_table_match(const apigw_rt_table *t,
                                        const char *path, const char *method,
                                        apr_pool_t *p, apigw_route_match *m)
{
    apigw_route_status best = APIGW_ROUTE_NONE;
    apigw_route_match one;
    int shards[SHARD_DEPTH + 1], n, i;
    apr_size_t lens[SHARD_DEPTH + 1];

    memset(m, 0, sizeof(*m));
    if (!t || !path || path[0] != '/') {
        return APIGW_ROUTE_NONE;
    }
    n = path_keys(path, lens, shards);
    for (i = 0; i < n; i++) {
        const rt_shard *sh = t->shards[shards[i]];
        const apigw_route_table *routes;
        apigw_route_status st;

        if (!sh || !(routes = apr_hash_get(sh->tries, path + 1,
                                           (apr_ssize_t)lens[i]))) {
            continue;
        }
        st = apigw_route_match_path(routes, path, method, p, &one);
        if (st == APIGW_ROUTE_FOUND) {
            *m = one;
            return st;
        }
        if (st == APIGW_ROUTE_NO_METHOD) {
            if (best == APIGW_ROUTE_NONE) {
                best = st;
                *m = one;
            }
            else {
                m->allow = allow_union(p, m->allow, one.allow);
            }
        }
    }
    return best;
}
