/* The route store over apr_dbd: parsing a store spec, opening SQLite or
 * PostgreSQL, the schema and its migrations, the prepared statements, and
 * the read and write operations of apigw_route_store.h on routes,
 * environments and API keys. Every write is one transaction that first
 * bumps the generation row: on PostgreSQL that row lock orders concurrent
 * writers, on SQLite BEGIN IMMEDIATE does. User data only ever reaches
 * the database as prepared-statement arguments. Pure APR/APR-util. */
#include <apr_dbd.h>
#include <apr_file_info.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "apigw_route_store.h"
#include "apigw_route.h"

/* ---- schema ---- */

/* A migration step: the statements that take a store from the previous
 * version to this one. Version 2 is one more array and one more line in
 * migrations[]. Static SQL only. */
typedef struct {
    int version;
    const char *const *statements;     /* NULL-terminated */
} rs_migration;

static const char *const schema_v1[] = {
    "CREATE TABLE environments ("
    "name TEXT PRIMARY KEY, "
    "created_at BIGINT NOT NULL)",

    "CREATE TABLE routes ("
    "id TEXT PRIMARY KEY, "
    "environment TEXT NOT NULL REFERENCES environments (name), "
    "path TEXT NOT NULL, "
    "target_url TEXT NOT NULL, "
    "methods TEXT NOT NULL, "
    "enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)), "
    "created_at BIGINT NOT NULL, "
    "updated_at BIGINT NOT NULL, "
    "policies TEXT NOT NULL)",

    "CREATE INDEX routes_by_environment ON routes (environment, path)",

    "CREATE TABLE generation ("
    "id INTEGER PRIMARY KEY CHECK (id = 1), "
    "value BIGINT NOT NULL)",

    "INSERT INTO generation (id, value) VALUES (1, 0)",
    NULL
};

/* Version 2: what readers need to follow changes without reading every
 * route (each row's generation, and a tombstone per deleted route, kept
 * TOMBSTONE_HOURS), and one row per method and path shape a route serves,
 * so two routes of an environment cannot serve the same requests (the
 * primary key refuses it, inside the writing transaction). The keys of
 * version 1 routes are filled in by fill_keys(). */
static const char *const schema_v2[] = {
    "ALTER TABLE routes ADD COLUMN generation BIGINT NOT NULL DEFAULT 0",

    "CREATE INDEX routes_by_generation ON routes (environment, generation)",

    "CREATE TABLE route_tombstones ("
    "id TEXT NOT NULL, "
    "environment TEXT NOT NULL, "
    "generation BIGINT NOT NULL, "
    "deleted_at BIGINT NOT NULL)",

    "CREATE INDEX route_tombstones_by_generation "
    "ON route_tombstones (environment, generation)",

    "CREATE TABLE route_keys ("
    "environment TEXT NOT NULL, "
    "method TEXT NOT NULL, "
    "shape TEXT NOT NULL, "
    "route_id TEXT NOT NULL, "
    "PRIMARY KEY (environment, method, shape))",

    "CREATE INDEX route_keys_by_route ON route_keys (route_id)",

    "CREATE INDEX route_tombstones_by_time ON route_tombstones (deleted_at)",
    NULL
};

/* Version 3: API keys, by their SHA-256 only (the key itself is never
 * stored), and the keys' version: the generation of the last write of a
 * key, which readers compare so that a route's write does not make them
 * read the keys again. */
static const char *const schema_v3[] = {
    "CREATE TABLE api_keys ("
    "name TEXT PRIMARY KEY, "
    "hash TEXT NOT NULL UNIQUE, "
    "roles TEXT NOT NULL, "
    "created_at BIGINT NOT NULL)",

    "CREATE TABLE api_keys_version ("
    "id INTEGER PRIMARY KEY CHECK (id = 1), "
    "value BIGINT NOT NULL)",

    "INSERT INTO api_keys_version (id, value) VALUES (1, 0)",
    NULL
};

static const rs_migration migrations[] = {
    { 1, schema_v1 },
    { 2, schema_v2 },
    { 3, schema_v3 },
};

/* How long a deleted route's tombstone is kept: a reader that has not
 * followed the store for longer reads every route again
 * (APIGW_ROUTE_STORE_FOLLOW_LIMIT is well below it). */
#define TOMBSTONE_HOURS 2

#define N_MIGRATIONS (sizeof(migrations) / sizeof(migrations[0]))

/* ---- prepared statements ---- */

#define ROUTE_COLS "id, environment, path, target_url, methods, enabled, " \
                   "created_at, updated_at, policies"
#define ROUTE_COLS_GEN ROUTE_COLS ", generation"

enum {
    Q_GENERATION,
    Q_BUMP,
    Q_ENV_EXISTS,
    Q_ENV_LIST,
    Q_ENV_INSERT,
    Q_ENV_DELETE,
    Q_ROUTE_EXISTS,
    Q_ROUTE_GET,
    Q_ROUTE_LIST,
    Q_ROUTE_LIST_ENV,
    Q_ROUTE_COUNT_ENV,
    Q_ROUTE_INSERT,
    Q_ROUTE_UPDATE,
    Q_ROUTE_DELETE,
    Q_ROUTE_DELETE_ENV,
    Q_ROUTE_CHANGED,
    Q_ROUTE_KEYLESS,
    Q_TOMB_ROUTE,
    Q_TOMB_MOVED,
    Q_TOMB_ENV,
    Q_TOMB_LIST,
    Q_TOMB_PRUNE,
    Q_KEY_OWNER,
    Q_KEY_INSERT,
    Q_KEY_DELETE_ROUTE,
    Q_KEY_DELETE_ENV,
    Q_APIKEY_VERSION,
    Q_APIKEY_BUMP,
    Q_APIKEY_NAMED,
    Q_APIKEY_HASHED,
    Q_APIKEY_INSERT,
    Q_APIKEY_DELETE,
    Q_APIKEY_LIST,
    Q_APIKEY_ALL,
    Q_COUNT
};

/* apr_dbd_prepare's syntax: %s a string, %d an int, %lld a 64-bit int. */
static const char *const statements[Q_COUNT] = {
    [Q_GENERATION] = "SELECT value FROM generation WHERE id = 1",
    [Q_BUMP] = "UPDATE generation SET value = value + 1 WHERE id = 1",
    [Q_ENV_EXISTS] = "SELECT name FROM environments WHERE name = %s",
    [Q_ENV_LIST] = "SELECT name FROM environments ORDER BY name",
    [Q_ENV_INSERT] = "INSERT INTO environments (name, created_at) "
                     "VALUES (%s, %lld)",
    [Q_ENV_DELETE] = "DELETE FROM environments WHERE name = %s",
    [Q_ROUTE_EXISTS] = "SELECT id FROM routes WHERE id = %s",
    [Q_ROUTE_GET] = "SELECT " ROUTE_COLS " FROM routes WHERE id = %s",
    [Q_ROUTE_LIST] = "SELECT " ROUTE_COLS " FROM routes "
                     "ORDER BY environment, path, id",
    [Q_ROUTE_LIST_ENV] = "SELECT " ROUTE_COLS " FROM routes "
                         "WHERE environment = %s ORDER BY path, id",
    [Q_ROUTE_COUNT_ENV] = "SELECT COUNT(*) FROM routes WHERE environment = %s",
    [Q_ROUTE_INSERT] = "INSERT INTO routes (" ROUTE_COLS_GEN ") "
                       "VALUES (%s, %s, %s, %s, %s, %d, %lld, %lld, %s, %lld)",
    [Q_ROUTE_UPDATE] = "UPDATE routes SET environment = %s, path = %s, "
                       "target_url = %s, methods = %s, enabled = %d, "
                       "updated_at = %lld, policies = %s, generation = %lld "
                       "WHERE id = %s",
    [Q_ROUTE_DELETE] = "DELETE FROM routes WHERE id = %s",
    [Q_ROUTE_DELETE_ENV] = "DELETE FROM routes WHERE environment = %s",
    [Q_ROUTE_CHANGED] = "SELECT " ROUTE_COLS " FROM routes "
                        "WHERE environment = %s AND generation > %lld",
    [Q_ROUTE_KEYLESS] = "SELECT " ROUTE_COLS " FROM routes r WHERE NOT EXISTS "
                        "(SELECT 1 FROM route_keys k WHERE k.route_id = r.id) "
                        "ORDER BY environment, path, id",
    [Q_TOMB_ROUTE] = "INSERT INTO route_tombstones "
                     "(id, environment, generation, deleted_at) "
                     "SELECT id, environment, %lld, %lld FROM routes "
                     "WHERE id = %s",
    [Q_TOMB_MOVED] = "INSERT INTO route_tombstones "
                     "(id, environment, generation, deleted_at) "
                     "SELECT id, environment, %lld, %lld FROM routes "
                     "WHERE id = %s AND environment <> %s",
    [Q_TOMB_ENV] = "INSERT INTO route_tombstones "
                   "(id, environment, generation, deleted_at) "
                   "SELECT id, environment, %lld, %lld FROM routes "
                   "WHERE environment = %s",
    [Q_TOMB_LIST] = "SELECT id FROM route_tombstones "
                    "WHERE environment = %s AND generation > %lld",
    [Q_TOMB_PRUNE] = "DELETE FROM route_tombstones WHERE deleted_at < %lld",
    [Q_KEY_OWNER] = "SELECT k.route_id, r.path FROM route_keys k "
                    "JOIN routes r ON r.id = k.route_id "
                    "WHERE k.environment = %s AND k.method = %s "
                    "AND k.shape = %s AND k.route_id <> %s",
    [Q_KEY_INSERT] = "INSERT INTO route_keys "
                     "(environment, method, shape, route_id) "
                     "VALUES (%s, %s, %s, %s)",
    [Q_KEY_DELETE_ROUTE] = "DELETE FROM route_keys WHERE route_id = %s",
    [Q_KEY_DELETE_ENV] = "DELETE FROM route_keys WHERE environment = %s",
    [Q_APIKEY_VERSION] = "SELECT value FROM api_keys_version WHERE id = 1",
    [Q_APIKEY_BUMP] = "UPDATE api_keys_version SET value = %lld "
                      "WHERE id = 1",
    [Q_APIKEY_NAMED] = "SELECT name FROM api_keys WHERE name = %s",
    [Q_APIKEY_HASHED] = "SELECT name FROM api_keys WHERE hash = %s",
    [Q_APIKEY_INSERT] = "INSERT INTO api_keys (name, hash, roles, created_at) "
                        "VALUES (%s, %s, %s, %lld)",
    [Q_APIKEY_DELETE] = "DELETE FROM api_keys WHERE name = %s",
    [Q_APIKEY_LIST] = "SELECT name, roles, created_at FROM api_keys",
    [Q_APIKEY_ALL] = "SELECT name, roles, created_at, hash FROM api_keys",
};

struct apigw_route_store {
    apr_pool_t *pool;                  /* the connection's lifetime */
    const apr_dbd_driver_t *drv;
    apr_dbd_t *dbd;
    const char *name;                  /* safe to show: no conninfo */
    apr_array_header_t *secrets;       /* strings never to show */
    int pgsql;
    int schema_version;
    apr_int64_t write_gen;             /* the open write's generation */
    apr_dbd_prepared_t *stmt[Q_COUNT];
};

/* used by the open step that fills the keys of a version 1 store */
static const apigw_route_store_error *select_routes(apigw_route_store *st,
                                                    apr_pool_t *p,
                                                    const char *environment,
                                                    apr_array_header_t **out);
static const apigw_route_store_error *add_keys(apigw_route_store *st,
                                               apr_pool_t *p,
                                               const apigw_route_record *r);

/* ---- errors ---- */

static const apigw_route_store_error *rs_err(apr_pool_t *p,
                                             apigw_route_store_code code,
                                             const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static const apigw_route_store_error *rs_err(apr_pool_t *p,
                                             apigw_route_store_code code,
                                             const char *fmt, ...)
{
    apigw_route_store_error *e = apr_palloc(p, sizeof(*e));
    va_list ap;

    va_start(ap, fmt);
    e->code = code;
    e->message = apr_pvsprintf(p, fmt, ap);
    va_end(ap);
    return e;
}

/* msg with every occurrence of secret replaced by "***". */
static const char *redact(apr_pool_t *p, const char *msg, const char *secret)
{
    size_t n = strlen(secret);
    const char *hit;
    char *out = "";

    while ((hit = strstr(msg, secret)) != NULL) {
        out = apr_pstrcat(p, out, apr_pstrmemdup(p, msg, hit - msg), "***",
                          NULL);
        msg = hit + n;
    }
    return apr_pstrcat(p, out, msg, NULL);
}

/* A driver's message on one line, trailing blanks dropped, no secret. */
static const char *clean_message(apr_pool_t *p,
                                 const apr_array_header_t *secrets,
                                 const char *msg)
{
    char *m = apr_pstrdup(p, msg ? msg : "unknown error");
    size_t n = strlen(m);
    int i;

    while (n > 0 && apr_isspace(m[n - 1])) {
        m[--n] = '\0';
    }
    for (i = 0; m[i]; i++) {
        if (m[i] == '\n' || m[i] == '\r' || m[i] == '\t') {
            m[i] = ' ';
        }
    }
    for (i = 0; secrets && i < secrets->nelts; i++) {
        m = (char *)redact(p, m, APR_ARRAY_IDX(secrets, i, const char *));
    }
    return m;
}

/* The database failed doing what. */
static const apigw_route_store_error *db_err(apigw_route_store *st,
                                             apr_pool_t *p, int rv,
                                             const char *what)
{
    const char *msg = apr_dbd_error(st->drv, st->dbd, rv);

    return rs_err(p, APIGW_RS_UNAVAILABLE, "route store %s: %s: %s",
                  st->name, what, clean_message(p, st->secrets, msg));
}

/* ---- spec ---- */

static int has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void add_secret(apr_array_header_t *a, const char *s, size_t n)
{
    if (n > 0) {
        APR_ARRAY_PUSH(a, const char *) = apr_pstrmemdup(a->pool, s, n);
    }
}

/* The value after "password" [blanks] '=' [blanks] at s, if any: quoted
 * with single quotes, or up to a blank or '&' (URI query form). */
static void add_password_value(apr_array_header_t *a, const char *s)
{
    size_t n = 0;

    while (apr_isspace(*s)) {
        s++;
    }
    if (*s++ != '=') {
        return;
    }
    while (apr_isspace(*s)) {
        s++;
    }
    if (*s == '\'') {
        s++;
        while (s[n] && s[n] != '\'') {
            n += (s[n] == '\\' && s[n + 1]) ? 2 : 1;
        }
    }
    else {
        while (s[n] && !apr_isspace(s[n]) && s[n] != '&') {
            n++;
        }
    }
    add_secret(a, s, n);
}

/* The passwords a libpq conninfo holds ("password=..." in keyword or URI
 * query form, and a URI's user:password@), so no message shows them. */
static apr_array_header_t *conninfo_secrets(apr_pool_t *p, const char *ci)
{
    apr_array_header_t *a = apr_array_make(p, 2, sizeof(const char *));
    const char *s, *at, *colon;

    for (s = ci; (s = strstr(s, "password")) != NULL; s += 8) {
        add_password_value(a, s + 8);
    }
    if (has_prefix(ci, "postgresql://") || has_prefix(ci, "postgres://")) {
        s = strstr(ci, "://") + 3;
        at = strchr(s, '@');
        colon = strchr(s, ':');
        if (at && colon && colon < at && !memchr(s, '/', at - s)) {
            add_secret(a, colon + 1, at - colon - 1);
        }
    }
    add_secret(a, ci, strlen(ci));   /* the whole conninfo, too */
    return a;
}

/* The directory of a SQLite path must exist: sqlite3 only says "unable to
 * open database file". */
static const apigw_route_store_error *check_sqlite_dir(apr_pool_t *p,
                                                       const char *path,
                                                       const char *name)
{
    const char *slash = strrchr(path, '/');
    const char *dir;
    apr_finfo_t fi;
    apr_status_t rv;

    if (strcmp(path, ":memory:") == 0 || has_prefix(path, "file:")) {
        return NULL;
    }
    dir = !slash ? "." : slash == path ? "/"
        : apr_pstrmemdup(p, path, slash - path);
    rv = apr_stat(&fi, dir, APR_FINFO_TYPE, p);
    if (rv != APR_SUCCESS) {
        char buf[120];
        return rs_err(p, APIGW_RS_INVALID,
                      "route store %s: the directory %s cannot be used: %s",
                      name, dir, apr_strerror(rv, buf, sizeof(buf)));
    }
    if (fi.filetype != APR_DIR) {
        return rs_err(p, APIGW_RS_INVALID,
                      "route store %s: %s is not a directory", name, dir);
    }
    return NULL;
}

/* Fills the driver name, driver parameters, display name and secrets of
 * st from spec. */
static const apigw_route_store_error *parse_spec(apr_pool_t *p,
                                                 const char *spec,
                                                 apigw_route_store *st,
                                                 const char **driver,
                                                 const char **params)
{
    const char *rest;
    size_t n;

    if (spec && has_prefix(spec, "sqlite3:")) {
        rest = spec + 8;
        if (!*rest) {
            return rs_err(p, APIGW_RS_INVALID,
                          "route store sqlite3: needs a file path, "
                          "as in sqlite3:/var/lib/apigw/routes.db");
        }
        *driver = "sqlite3";
        *params = rest;
        st->name = apr_pstrcat(p, "sqlite3:", rest, NULL);
        return check_sqlite_dir(p, rest, st->name);
    }
    if (spec && has_prefix(spec, "pgsql:")) {
        rest = spec + 6;
        n = strlen(rest);
        if (n >= 2 && rest[0] == '"' && rest[n - 1] == '"') {
            rest = apr_pstrmemdup(p, rest + 1, n - 2);
        }
        if (!*rest) {
            return rs_err(p, APIGW_RS_INVALID,
                          "route store pgsql: needs a libpq connection "
                          "string, as in pgsql:\"host=db dbname=apigw\"");
        }
        *driver = "pgsql";
        st->secrets = conninfo_secrets(p, rest);
        /* an unreachable server must not hold a caller (a child's builder,
         * an admin request) for the minutes TCP takes to give up */
        if (!strstr(rest, "connect_timeout") && !has_prefix(rest, "postgres")) {
            rest = apr_pstrcat(p, rest, " connect_timeout=5", NULL);
        }
        *params = rest;
        st->name = "pgsql";
        st->pgsql = 1;
        return NULL;
    }
    /* only the word before any ':', '=' or blank: the rest may be a
     * conninfo with a password */
    n = spec ? strcspn(spec, ":= \t") : 0;
    return rs_err(p, APIGW_RS_INVALID,
                  "a route store is sqlite3:PATH or pgsql:CONNINFO, "
                  "not \"%s%s\"", spec ? apr_pstrmemdup(p, spec, n) : "",
                  spec && spec[n] ? "..." : "");
}

/* ---- statements and rows ---- */

static const apigw_route_store_error *run_query(apigw_route_store *st,
                                                apr_pool_t *p, int q,
                                                const char **args,
                                                int *nrows, const char *what)
{
    int n = 0;
    int rv = apr_dbd_pquery(st->drv, p, st->dbd, &n, st->stmt[q], 0, args);

    if (rv != 0) {
        return db_err(st, p, rv, what);
    }
    if (nrows) {
        *nrows = n;
    }
    return NULL;
}

/* Runs a select with every row at hand (random access mode). */
static const apigw_route_store_error *run_select(apigw_route_store *st,
                                                 apr_pool_t *p, int q,
                                                 const char **args,
                                                 apr_dbd_results_t **res,
                                                 const char *what)
{
    int rv;

    *res = NULL;
    rv = apr_dbd_pselect(st->drv, p, st->dbd, res, st->stmt[q], 1, 0, args);
    return rv != 0 ? db_err(st, p, rv, what) : NULL;
}

/* The next row into *row (start with *row NULL); 0 at the end. */
static int next_row(apigw_route_store *st, apr_pool_t *p,
                    apr_dbd_results_t *res, apr_dbd_row_t **row)
{
    return apr_dbd_get_row(st->drv, p, res, row, -1) == 0;
}

/* The value, as long as p lives: pgsql's die with their result, so they
 * are copied; sqlite3's are already the row's own, from p. */
static const char *entry(apigw_route_store *st, apr_pool_t *p,
                         apr_dbd_row_t *row, int col)
{
    const char *v = apr_dbd_get_entry(st->drv, row, col);

    if (!v) {
        return "";
    }
    return st->pgsql ? apr_pstrdup(p, v) : v;
}

static apigw_route_record *row_record(apigw_route_store *st, apr_pool_t *p,
                                      apr_dbd_row_t *row)
{
    apigw_route_record *r = apr_pcalloc(p, sizeof(*r));

    r->id = entry(st, p, row, 0);
    r->environment = entry(st, p, row, 1);
    r->path = entry(st, p, row, 2);
    r->target_url = entry(st, p, row, 3);
    r->methods = entry(st, p, row, 4);
    r->enabled = apr_atoi64(entry(st, p, row, 5)) != 0;
    r->created_at = apr_atoi64(entry(st, p, row, 6));
    r->updated_at = apr_atoi64(entry(st, p, row, 7));
    r->policies = entry(st, p, row, 8);
    return r;
}

static const char *i64(apr_pool_t *p, apr_int64_t v)
{
    return apr_psprintf(p, "%" APR_INT64_T_FMT, v);
}

/* *found is whether the select q with one argument key has a row. */
static const apigw_route_store_error *exists(apigw_route_store *st,
                                             apr_pool_t *p, int q,
                                             const char *key, int *found)
{
    const char *args[1] = { key };
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    const apigw_route_store_error *err;

    err = run_select(st, p, q, args, &res, "cannot look up a key");
    if (err) {
        return err;
    }
    *found = next_row(st, p, res, &row);
    return NULL;
}

static const apigw_route_store_error *need_environment(apigw_route_store *st,
                                                       apr_pool_t *p,
                                                       const char *name)
{
    int found;
    const apigw_route_store_error *err;

    err = exists(st, p, Q_ENV_EXISTS, name, &found);
    if (!err && !found) {
        err = rs_err(p, APIGW_RS_NOT_FOUND, "no environment named \"%s\"",
                     name);
    }
    return err;
}

/* ---- transactions ---- */

/* pgsql reconnects here when its connection was lost. */
static const apigw_route_store_error *check_conn(apigw_route_store *st,
                                                 apr_pool_t *p)
{
    if (apr_dbd_check_conn(st->drv, p, st->dbd) != APR_SUCCESS) {
        return db_err(st, p, APR_EGENERAL, "the connection is lost");
    }
    return NULL;
}

/* PostgreSQL's transactions are our own BEGIN and COMMIT: apr_dbd's
 * pgsql driver dereferences a NULL result when the server has gone away
 * under a connection it still thinks is fine (a child crash); a plain
 * query there is an error like any other. The transaction handle is then
 * only a token (st), never given to apr_dbd. */
static const apigw_route_store_error *pg_tx(apigw_route_store *st,
                                            apr_pool_t *p, const char *sql)
{
    int n = 0;
    int rv = apr_dbd_query(st->drv, st->dbd, &n, sql);

    return rv != 0 ? db_err(st, p, rv, sql) : NULL;
}

static const apigw_route_store_error *tx_begin(apigw_route_store *st,
                                               apr_pool_t *p,
                                               apr_dbd_transaction_t **tx)
{
    const apigw_route_store_error *err;
    int rv;

    *tx = NULL;
    if ((err = check_conn(st, p))) {
        return err;
    }
    if (st->pgsql) {
        if ((err = pg_tx(st, p, "BEGIN")) == NULL) {
            *tx = (apr_dbd_transaction_t *)st;
        }
        return err;
    }
    rv = apr_dbd_transaction_start(st->drv, p, st->dbd, tx);
    if (rv == 0) {
        return NULL;
    }
    err = db_err(st, p, rv, "cannot start a transaction");
    if (*tx) {
        apr_dbd_transaction_mode_set(st->drv, *tx,
                                     APR_DBD_TRANSACTION_ROLLBACK);
        apr_dbd_transaction_end(st->drv, p, *tx);
    }
    return err;
}

/* Commits when there is no error and commit is set, else rolls back;
 * returns err, or the commit's error. */
static const apigw_route_store_error *tx_end(
    apigw_route_store *st, apr_pool_t *p, apr_dbd_transaction_t *tx,
    const apigw_route_store_error *err, int commit)
{
    int rv;

    if (st->pgsql) {
        if (err || !commit) {
            pg_tx(st, p, "ROLLBACK");
            return err;
        }
        return pg_tx(st, p, "COMMIT");
    }
    if (err || !commit) {
        apr_dbd_transaction_mode_set(st->drv, tx,
                                     APR_DBD_TRANSACTION_ROLLBACK);
    }
    rv = apr_dbd_transaction_end(st->drv, p, tx);
    if (rv != 0 && !err && commit) {
        return db_err(st, p, rv, "cannot commit");
    }
    return err;
}

/* The value of a one-row counter table (q: Q_GENERATION or
 * Q_APIKEY_VERSION; what names it in messages). */
static const apigw_route_store_error *read_counter(apigw_route_store *st,
                                                   apr_pool_t *p, int q,
                                                   const char **args,
                                                   const char *what,
                                                   apr_int64_t *value)
{
    const apigw_route_store_error *err;
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;

    err = run_select(st, p, q, args, &res,
                     apr_pstrcat(p, "cannot read ", what, NULL));
    if (err) {
        return err;
    }
    if (!next_row(st, p, res, &row)) {
        return rs_err(p, APIGW_RS_UNAVAILABLE,
                      "route store %s: the row of %s is missing",
                      st->name, what);
    }
    *value = apr_atoi64(entry(st, p, row, 0));
    while (next_row(st, p, res, &row)) {
        continue;
    }
    return NULL;
}

static const apigw_route_store_error *read_generation(apigw_route_store *st,
                                                      apr_pool_t *p,
                                                      apr_int64_t *gen)
{
    return read_counter(st, p, Q_GENERATION, NULL, "the generation", gen);
}

/* Starts a write: a transaction whose first statement bumps the
 * generation (which, on PostgreSQL, waits for any other writer). */
static const apigw_route_store_error *write_begin(apigw_route_store *st,
                                                  apr_pool_t *p,
                                                  apr_dbd_transaction_t **tx)
{
    const apigw_route_store_error *err = tx_begin(st, p, tx);
    int n = 0;

    if (err) {
        return err;
    }
    err = run_query(st, p, Q_BUMP, NULL, &n, "cannot bump the generation");
    if (!err && n != 1) {
        err = rs_err(p, APIGW_RS_UNAVAILABLE,
                     "route store %s: the generation row is missing",
                     st->name);
    }
    if (!err) {
        err = read_generation(st, p, &st->write_gen);
    }
    return err ? tx_end(st, p, *tx, err, 0) : NULL;
}

/* ---- open: driver, connection, settings, schema ---- */

static apr_status_t close_dbd(void *data)
{
    apigw_route_store *st = data;

    apr_dbd_close(st->drv, st->dbd);
    return APR_SUCCESS;
}

static const apigw_route_store_error *open_connection(apigw_route_store *st,
                                                      apr_pool_t *p,
                                                      const char *driver,
                                                      const char *params)
{
    const char *msg = NULL;
    apr_status_t rv;

    apr_dbd_init(st->pool);
    rv = apr_dbd_get_driver(st->pool, driver, &st->drv);
    if (rv == APR_ENOTIMPL || rv == APR_EDSOOPEN || rv == APR_ESYMNOTFOUND) {
        return rs_err(p, APIGW_RS_UNAVAILABLE,
                      "route store %s: APR-util's %s database driver is not "
                      "installed (Debian: libaprutil1-dbd-%s)",
                      st->name, driver, driver);
    }
    if (rv != APR_SUCCESS) {
        char buf[120];
        return rs_err(p, APIGW_RS_UNAVAILABLE,
                      "route store %s: cannot load the %s driver: %s",
                      st->name, driver, apr_strerror(rv, buf, sizeof(buf)));
    }
    rv = apr_dbd_open_ex(st->drv, st->pool, params, &st->dbd, &msg);
    if (rv != APR_SUCCESS || !st->dbd) {
        return rs_err(p, APIGW_RS_UNAVAILABLE,
                      "route store %s: cannot open: %s",
                      st->name, clean_message(p, st->secrets, msg));
    }
    apr_pool_cleanup_register(st->pool, st, close_dbd, apr_pool_cleanup_null);
    return NULL;
}

/* A statement of static SQL that may return rows (as SQLite pragmas do). */
static const apigw_route_store_error *exec_static(apigw_route_store *st,
                                                  apr_pool_t *p,
                                                  const char *sql)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    int rv = apr_dbd_select(st->drv, p, st->dbd, &res, sql, 1);

    if (rv != 0) {
        return db_err(st, p, rv, apr_pstrcat(p, "cannot run ", sql, NULL));
    }
    while (next_row(st, p, res, &row)) {
        continue;
    }
    return NULL;
}

/* SQLite: wait for other writers, write-ahead log synced at every commit
 * (an acknowledged write survives kill -9 and power loss), foreign keys. */
static const apigw_route_store_error *sqlite_settings(apigw_route_store *st,
                                                      apr_pool_t *p)
{
    const char *pragmas[] = {
        apr_psprintf(p, "PRAGMA busy_timeout = %d", APIGW_ROUTE_STORE_BUSY_MS),
        "PRAGMA journal_mode = WAL",
        "PRAGMA synchronous = FULL",
        "PRAGMA foreign_keys = ON",
    };
    const apigw_route_store_error *err = NULL;
    size_t i;

    for (i = 0; !err && i < sizeof(pragmas) / sizeof(pragmas[0]); i++) {
        err = exec_static(st, p, pragmas[i]);
    }
    return err;
}

/* Switching a new database to WAL takes a lock that another process
 * opening it at the same moment may hold; SQLite then answers "database is
 * locked" at once, without waiting: try again a few times. */
static const apigw_route_store_error *sqlite_settings_retried(
    apigw_route_store *st, apr_pool_t *p)
{
    const apigw_route_store_error *err = NULL;
    int attempt;

    for (attempt = 0; attempt < 10; attempt++) {
        if (attempt > 0) {
            apr_sleep(apr_time_from_msec(10 * attempt));
        }
        if (!(err = sqlite_settings(st, p))) {
            break;
        }
    }
    return err;
}

static const apigw_route_store_error *exec_ddl(apigw_route_store *st,
                                               apr_pool_t *p, const char *sql)
{
    int n;
    int rv = apr_dbd_query(st->drv, st->dbd, &n, sql);

    return rv != 0 ? db_err(st, p, rv, "cannot update the schema") : NULL;
}

/* The version the store is at: 0 for an empty database. */
static const apigw_route_store_error *read_version(apigw_route_store *st,
                                                   apr_pool_t *p, int *version)
{
    const apigw_route_store_error *err;
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    const char *v = NULL;
    int rv;

    err = exec_ddl(st, p, "CREATE TABLE IF NOT EXISTS schema_version "
                          "(version INTEGER NOT NULL)");
    if (err) {
        return err;
    }
    rv = apr_dbd_select(st->drv, p, st->dbd, &res,
                        "SELECT MAX(version) FROM schema_version", 1);
    if (rv != 0) {
        return db_err(st, p, rv, "cannot read the schema version");
    }
    if (next_row(st, p, res, &row)) {
        v = entry(st, p, row, 0);
        *version = v && *v ? (int)apr_atoi64(v) : 0;
        while (next_row(st, p, res, &row)) {
            continue;
        }
    }
    if (!v || !*v) {
        *version = 0;
        return exec_ddl(st, p, "INSERT INTO schema_version (version) "
                               "VALUES (0)");
    }
    return NULL;
}

/* Applies every step above version; *version is where it ends. */
static const apigw_route_store_error *apply_migrations(apigw_route_store *st,
                                                       apr_pool_t *p,
                                                       int *version)
{
    const apigw_route_store_error *err = NULL;
    const char *const *s;
    size_t i;
    int from = *version;

    for (i = 0; !err && i < N_MIGRATIONS; i++) {
        if (migrations[i].version <= *version) {
            continue;
        }
        for (s = migrations[i].statements; !err && *s; s++) {
            err = exec_ddl(st, p, *s);
        }
        if (!err) {
            *version = migrations[i].version;
        }
    }
    if (!err && *version != from) {
        /* an integer of this file, not user data */
        err = exec_ddl(st, p, apr_psprintf(p, "UPDATE schema_version "
                                              "SET version = %d", *version));
    }
    return err;
}

/* The schema's version when it is this build's, read without a
 * transaction (which on SQLite would wait for another process's write
 * lock); 0 when it must be looked at in one. */
static int current_version(apigw_route_store *st, apr_pool_t *p)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    int version = 0;

    if (apr_dbd_select(st->drv, p, st->dbd, &res,
                       "SELECT MAX(version) FROM schema_version", 1) != 0) {
        return 0;
    }
    if (next_row(st, p, res, &row)) {
        const char *v = entry(st, p, row, 0);
        version = v && *v ? (int)apr_atoi64(v) : 0;
        while (next_row(st, p, res, &row)) {
            continue;
        }
    }
    return version == APIGW_ROUTE_STORE_SCHEMA_VERSION ? version : 0;
}

/* One transaction: several children may open the same store at once (on
 * PostgreSQL an advisory lock makes them take turns). */
static const apigw_route_store_error *migrate(apigw_route_store *st,
                                              apr_pool_t *p)
{
    apr_dbd_transaction_t *tx;
    const apigw_route_store_error *err;
    int version = 0;

    if ((st->schema_version = current_version(st, p)) != 0) {
        return NULL;
    }
    if ((err = tx_begin(st, p, &tx)) != NULL) {
        return err;
    }
    if (st->pgsql) {
        /* the key is "apigw-rs" in ASCII, as a big-endian integer */
        err = exec_static(st, p, "SELECT pg_advisory_xact_lock("
                                 "7021227712172618355)");
    }
    if (!err) {
        err = read_version(st, p, &version);
    }
    if (!err && version > APIGW_ROUTE_STORE_SCHEMA_VERSION) {
        err = rs_err(p, APIGW_RS_UNAVAILABLE,
                     "route store %s: its schema version %d is newer than "
                     "this build knows (%d): upgrade mod_apigw",
                     st->name, version, APIGW_ROUTE_STORE_SCHEMA_VERSION);
    }
    if (!err) {
        err = apply_migrations(st, p, &version);
    }
    st->schema_version = version;
    return tx_end(st, p, tx, err, 1);
}

static const apigw_route_store_error *prepare_all(apigw_route_store *st,
                                                  apr_pool_t *p)
{
    int q, rv;

    for (q = 0; q < Q_COUNT; q++) {
        /* no label: pgsql sends the text each time, so a reconnect keeps
         * the statements; sqlite3 compiles it once, here */
        rv = apr_dbd_prepare(st->drv, st->pool, st->dbd, statements[q], NULL,
                             &st->stmt[q]);
        if (rv != 0) {
            return db_err(st, p, rv, "cannot prepare a statement");
        }
    }
    return NULL;
}

/* Another process may create "default" between the look and the write:
 * its CONFLICT is success. Most opens only look. */
static const apigw_route_store_error *ensure_default(apigw_route_store *st,
                                                     apr_pool_t *p)
{
    const apigw_route_store_error *err;
    int found;

    err = exists(st, p, Q_ENV_EXISTS, APIGW_ROUTE_STORE_DEFAULT_ENV, &found);
    if (err || found) {
        return err;
    }
    err = apigw_route_store_create_environment(st, p,
              APIGW_ROUTE_STORE_DEFAULT_ENV, NULL, 0, NULL, NULL);
    return err && err->code == APIGW_RS_CONFLICT ? NULL : err;
}

/* Routes without path keys: those of a store migrated from version 1
 * (whose first open may have ended before it filled them in). Their keys,
 * one transaction; readers need no generation bump (keys are not
 * routes). Version 1 did not refuse collisions: of two colliding routes
 * the first listed keeps the key, the other stays without and is tried
 * again at each open. */
static const apigw_route_store_error *fill_keys(apigw_route_store *st,
                                                apr_pool_t *p)
{
    const apigw_route_store_error *err;
    apr_dbd_transaction_t *tx;
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    apr_array_header_t *routes;
    int i;

    /* a look first, outside a transaction: SQLite's would wait for
     * another process's write lock, and most opens find nothing to do */
    err = run_select(st, p, Q_ROUTE_KEYLESS, NULL, &res,
                     "cannot look for routes without keys");
    if (err || !next_row(st, p, res, &row)) {
        return err;
    }
    while (next_row(st, p, res, &row)) {
        continue;
    }
    row = NULL;
    if ((err = tx_begin(st, p, &tx)) != NULL) {
        return err;
    }
    /* several processes may open a migrated store at once: on PostgreSQL
     * they take turns (the migration's lock), and each looks for keyless
     * routes only then; on SQLite the second writer fails and its open is
     * tried again (schema_ready) */
    if (st->pgsql) {
        err = exec_static(st, p, "SELECT pg_advisory_xact_lock("
                                 "7021227712172618355)");
    }
    if (!err) {
        err = run_select(st, p, Q_ROUTE_KEYLESS, NULL, &res,
                         "cannot look for routes without keys");
    }
    if (err) {
        return tx_end(st, p, tx, err, 0);
    }
    routes = apr_array_make(p, 4, sizeof(apigw_route_record));
    while (next_row(st, p, res, &row)) {
        APR_ARRAY_PUSH(routes, apigw_route_record) = *row_record(st, p, row);
    }
    for (i = 0; !err && i < routes->nelts; i++) {
        err = add_keys(st, p, &APR_ARRAY_IDX(routes, i, apigw_route_record));
        if (err && err->code == APIGW_RS_CONFLICT) {
            err = NULL;
        }
    }
    return tx_end(st, p, tx, err, routes->nelts > 0);
}

/* The schema migrated, the statements prepared, "default" there. When
 * several processes open a new SQLite store at once, one creates the
 * schema while another's statements were compiled against the empty one:
 * SQLite then fails them ("database schema has changed") and the whole
 * step is tried again, a few times, on the schema as it now is. */
static const apigw_route_store_error *schema_ready(apigw_route_store *st,
                                                   apr_pool_t *p)
{
    const apigw_route_store_error *err = NULL;
    int attempt;

    for (attempt = 0; attempt < 5; attempt++) {
        if (attempt > 0) {
            apr_sleep(apr_time_from_msec(20 * attempt));
        }
        err = migrate(st, p);
        if (!err) {
            err = prepare_all(st, p);
        }
        if (!err) {
            err = fill_keys(st, p);
        }
        if (!err) {
            err = ensure_default(st, p);
        }
        if (!err || st->pgsql || err->code != APIGW_RS_UNAVAILABLE) {
            break;
        }
    }
    return err;
}

const apigw_route_store_error *apigw_route_store_open(apr_pool_t *p,
                                                      const char *spec,
                                                      apigw_route_store **out)
{
    const apigw_route_store_error *err;
    const char *driver = NULL, *params = NULL;
    apigw_route_store *st;
    apr_pool_t *sp;

    *out = NULL;
    if (apr_pool_create(&sp, p) != APR_SUCCESS) {
        return rs_err(p, APIGW_RS_UNAVAILABLE, "route store: out of memory");
    }
    st = apr_pcalloc(sp, sizeof(*st));
    st->pool = sp;
    err = parse_spec(sp, spec, st, &driver, &params);
    if (!err) {
        err = open_connection(st, p, driver, params);
    }
    if (!err && !st->pgsql) {
        err = sqlite_settings_retried(st, p);
    }
    if (!err) {
        err = schema_ready(st, p);
    }
    if (err) {
        /* err lives in p; the name it used may be in sp */
        apigw_route_store_error *e = apr_palloc(p, sizeof(*e));
        e->code = err->code;
        e->message = apr_pstrdup(p, err->message);
        apr_pool_destroy(sp);
        return e;
    }
    *out = st;
    return NULL;
}

void apigw_route_store_close(apigw_route_store *st)
{
    if (st) {
        apr_pool_destroy(st->pool);
    }
}

const char *apigw_route_store_name(const apigw_route_store *st)
{
    return st->name;
}

int apigw_route_store_schema_version(const apigw_route_store *st)
{
    return st->schema_version;
}

/* ---- reads ---- */

const apigw_route_store_error *apigw_route_store_generation(
    apigw_route_store *st, apr_pool_t *p, apr_int64_t *gen)
{
    const apigw_route_store_error *err = check_conn(st, p);

    return err ? err : read_generation(st, p, gen);
}

static const apigw_route_store_error *select_routes(apigw_route_store *st,
                                                    apr_pool_t *p,
                                                    const char *environment,
                                                    apr_array_header_t **out)
{
    const char *args[1] = { environment };
    const apigw_route_store_error *err;
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    apr_array_header_t *a;

    err = run_select(st, p, environment ? Q_ROUTE_LIST_ENV : Q_ROUTE_LIST,
                     args, &res, "cannot list routes");
    if (err) {
        return err;
    }
    a = apr_array_make(p, 16, sizeof(apigw_route_record));
    while (next_row(st, p, res, &row)) {
        APR_ARRAY_PUSH(a, apigw_route_record) = *row_record(st, p, row);
    }
    *out = a;
    return NULL;
}

const apigw_route_store_error *apigw_route_store_list(
    apigw_route_store *st, apr_pool_t *p, const char *environment,
    apr_array_header_t **routes)
{
    const apigw_route_store_error *err;

    *routes = NULL;
    if ((err = check_conn(st, p))) {
        return err;
    }
    if (environment) {
        err = need_environment(st, p, environment);
        if (err) {
            return err;
        }
    }
    return select_routes(st, p, environment, routes);
}

static const apigw_route_store_error *select_ids(apigw_route_store *st,
                                                 apr_pool_t *p, int q,
                                                 const char **args,
                                                 apr_array_header_t **out)
{
    const apigw_route_store_error *err;
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;

    err = run_select(st, p, q, args, &res, "cannot read deleted routes");
    if (err) {
        return err;
    }
    *out = apr_array_make(p, 4, sizeof(const char *));
    while (next_row(st, p, res, &row)) {
        APR_ARRAY_PUSH(*out, const char *) = entry(st, p, row, 0);
    }
    return NULL;
}

/* The generation is read first: a write committed after it has a larger
 * one and is read again next time (applying it twice changes nothing); a
 * write committed before it is visible to the selects that follow. */
const apigw_route_store_error *apigw_route_store_changes(
    apigw_route_store *st, apr_pool_t *p, const char *environment,
    apr_int64_t since, apr_int64_t *gen, apr_array_header_t **changed,
    apr_array_header_t **deleted)
{
    const char *args[2] = { environment, i64(p, since) };
    const apigw_route_store_error *err;
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;

    *changed = *deleted = NULL;
    if (!environment) {
        return rs_err(p, APIGW_RS_INVALID, "changes of which environment?");
    }
    if ((err = check_conn(st, p)) || (err = read_generation(st, p, gen))) {
        return err;
    }
    if (since <= 0) {
        *deleted = apr_array_make(p, 1, sizeof(const char *));
        return select_routes(st, p, environment, changed);
    }
    err = select_ids(st, p, Q_TOMB_LIST, args, deleted);
    if (!err) {
        err = run_select(st, p, Q_ROUTE_CHANGED, args, &res,
                         "cannot read changed routes");
    }
    if (err) {
        return err;
    }
    *changed = apr_array_make(p, 4, sizeof(apigw_route_record));
    while (next_row(st, p, res, &row)) {
        APR_ARRAY_PUSH(*changed, apigw_route_record) = *row_record(st, p, row);
    }
    return NULL;
}

const apigw_route_store_error *apigw_route_store_count(
    apigw_route_store *st, apr_pool_t *p, const char *environment,
    apr_int64_t *n)
{
    const char *args[1] = { environment };

    *n = 0;
    return read_counter(st, p, Q_ROUTE_COUNT_ENV, args, "the routes' count",
                        n);
}

const apigw_route_store_error *apigw_route_store_get(
    apigw_route_store *st, apr_pool_t *p, const char *id,
    apigw_route_record **out)
{
    const char *args[1] = { id };
    const apigw_route_store_error *err;
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;

    *out = NULL;
    if (!id) {
        return rs_err(p, APIGW_RS_INVALID, "a route id is needed");
    }
    if ((err = check_conn(st, p))) {
        return err;
    }
    err = run_select(st, p, Q_ROUTE_GET, args, &res, "cannot read a route");
    if (err) {
        return err;
    }
    if (next_row(st, p, res, &row)) {
        *out = row_record(st, p, row);
        while (next_row(st, p, res, &row)) {
            continue;
        }
    }
    return NULL;
}

const apigw_route_store_error *apigw_route_store_environments(
    apigw_route_store *st, apr_pool_t *p, apr_array_header_t **names)
{
    const apigw_route_store_error *err;
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    apr_array_header_t *a;

    *names = NULL;
    if ((err = check_conn(st, p))) {
        return err;
    }
    err = run_select(st, p, Q_ENV_LIST, NULL, &res,
                     "cannot list environments");
    if (err) {
        return err;
    }
    a = apr_array_make(p, 4, sizeof(const char *));
    while (next_row(st, p, res, &row)) {
        APR_ARRAY_PUSH(a, const char *) = entry(st, p, row, 0);
    }
    *names = a;
    return NULL;
}

/* ---- writes ---- */

static const apigw_route_store_error *check_name(apr_pool_t *p,
                                                 const char *what,
                                                 const char *v)
{
    if (!v || !*v) {
        return rs_err(p, APIGW_RS_INVALID, "the %s is empty", what);
    }
    return NULL;
}

static const apigw_route_store_error *check_record(apr_pool_t *p,
                                                   const apigw_route_record *r)
{
    const apigw_route_store_error *err;

    if (!r) {
        return rs_err(p, APIGW_RS_INVALID, "no route given");
    }
    if ((err = check_name(p, "route id", r->id))
        || (err = check_name(p, "route's environment", r->environment))) {
        return err;
    }
    if (!r->path || !r->target_url || !r->methods || !r->policies) {
        return rs_err(p, APIGW_RS_INVALID,
                      "route \"%s\" lacks its path, target, methods or "
                      "policies", r->id);
    }
    if (r->enabled != 0 && r->enabled != 1) {
        return rs_err(p, APIGW_RS_INVALID,
                      "route \"%s\": enabled is %d, not 0 or 1",
                      r->id, r->enabled);
    }
    return NULL;
}

/* Inside a write: one key per method of r on its path's shape; CONFLICT,
 * naming the other route, when another route of the environment has
 * one of them. */
static const apigw_route_store_error *add_keys(apigw_route_store *st,
                                               apr_pool_t *p,
                                               const apigw_route_record *r)
{
    const char *shape = apigw_route_shape(p, r->path);
    char *methods = apr_pstrdup(p, r->methods), *last, *m;
    const apigw_route_store_error *err = NULL;

    for (m = apr_strtok(methods, ",", &last); m && !err;
         m = apr_strtok(NULL, ",", &last)) {
        const char *args[4] = { r->environment, m, shape, r->id };
        apr_dbd_results_t *res;
        apr_dbd_row_t *row = NULL;

        err = run_select(st, p, Q_KEY_OWNER, args, &res,
                         "cannot look up a route's path");
        if (err) {
            break;
        }
        if (next_row(st, p, res, &row)) {
            const char *other = entry(st, p, row, 0);
            const char *path = entry(st, p, row, 1);

            while (next_row(st, p, res, &row)) {
                continue;
            }
            return rs_err(p, APIGW_RS_CONFLICT, "%s %s collides with route "
                          "%s (%s %s) of environment \"%s\"", m, r->path,
                          other, m, path, r->environment);
        }
        err = run_query(st, p, Q_KEY_INSERT, args, NULL,
                        "cannot record a route's path");
    }
    return err;
}

/* Inside a write: what readers need to see that these routes are gone
 * (q is Q_TOMB_ROUTE or Q_TOMB_ENV with key; Q_TOMB_MOVED with key and
 * the route's new environment env), and old tombstones pruned. */
static const apigw_route_store_error *add_tombstones(apigw_route_store *st,
                                                     apr_pool_t *p, int q,
                                                     const char *key,
                                                     const char *env)
{
    apr_time_t now = apr_time_now();
    const char *args[4] = { i64(p, st->write_gen), i64(p, now), key, env };
    const char *prune[1] = {
        i64(p, now - apr_time_from_sec(TOMBSTONE_HOURS * 3600))
    };
    const apigw_route_store_error *err;

    err = run_query(st, p, Q_TOMB_PRUNE, prune, NULL,
                    "cannot prune deleted routes");
    if (!err) {
        err = run_query(st, p, q, args, NULL, "cannot record a deletion");
    }
    return err;
}

/* Inside a write: the environment must exist and the id be free. */
static const apigw_route_store_error *insert_route(apigw_route_store *st,
                                                   apr_pool_t *p,
                                                   const apigw_route_record *r)
{
    const apigw_route_store_error *err;
    const char *args[10];
    int taken;

    err = need_environment(st, p, r->environment);
    if (!err) {
        err = exists(st, p, Q_ROUTE_EXISTS, r->id, &taken);
    }
    if (err) {
        return err;
    }
    if (taken) {
        return rs_err(p, APIGW_RS_CONFLICT,
                      "a route with id \"%s\" already exists", r->id);
    }
    args[0] = r->id;
    args[1] = r->environment;
    args[2] = r->path;
    args[3] = r->target_url;
    args[4] = r->methods;
    args[5] = r->enabled ? "1" : "0";
    args[6] = i64(p, r->created_at);
    args[7] = i64(p, r->updated_at);
    args[8] = r->policies;
    args[9] = i64(p, st->write_gen);
    err = run_query(st, p, Q_ROUTE_INSERT, args, NULL,
                    "cannot insert a route");
    return err ? err : add_keys(st, p, r);
}

const apigw_route_store_error *apigw_route_store_insert(
    apigw_route_store *st, apr_pool_t *p, const apigw_route_record *r)
{
    const apigw_route_store_error *err = check_record(p, r);
    apr_dbd_transaction_t *tx;

    if (err || (err = write_begin(st, p, &tx))) {
        return err;
    }
    return tx_end(st, p, tx, insert_route(st, p, r), 1);
}

static const apigw_route_store_error *update_route(apigw_route_store *st,
                                                   apr_pool_t *p,
                                                   const apigw_route_record *r,
                                                   int *found)
{
    const apigw_route_store_error *err;
    const char *args[9];
    const char *id[1] = { r->id };

    err = exists(st, p, Q_ROUTE_EXISTS, r->id, found);
    if (err || !*found) {
        return err;
    }
    err = need_environment(st, p, r->environment);
    if (!err) {
        /* readers of the environment it may leave see it go */
        err = add_tombstones(st, p, Q_TOMB_MOVED, r->id, r->environment);
    }
    if (err) {
        return err;
    }
    args[0] = r->environment;
    args[1] = r->path;
    args[2] = r->target_url;
    args[3] = r->methods;
    args[4] = r->enabled ? "1" : "0";
    args[5] = i64(p, r->updated_at);
    args[6] = r->policies;
    args[7] = i64(p, st->write_gen);
    args[8] = r->id;
    err = run_query(st, p, Q_ROUTE_UPDATE, args, NULL,
                    "cannot update a route");
    if (!err) {
        err = run_query(st, p, Q_KEY_DELETE_ROUTE, id, NULL,
                        "cannot update a route's path");
    }
    return err ? err : add_keys(st, p, r);
}

const apigw_route_store_error *apigw_route_store_update(
    apigw_route_store *st, apr_pool_t *p, const apigw_route_record *r,
    int *found)
{
    const apigw_route_store_error *err = check_record(p, r);
    apr_dbd_transaction_t *tx;

    *found = 0;
    if (err || (err = write_begin(st, p, &tx))) {
        return err;
    }
    err = update_route(st, p, r, found);
    return tx_end(st, p, tx, err, *found);
}

const apigw_route_store_error *apigw_route_store_delete(
    apigw_route_store *st, apr_pool_t *p, const char *id, int *found)
{
    const apigw_route_store_error *err = check_name(p, "route id", id);
    const char *args[1] = { id };
    apr_dbd_transaction_t *tx;
    int n = 0;

    *found = 0;
    if (err || (err = write_begin(st, p, &tx))) {
        return err;
    }
    err = add_tombstones(st, p, Q_TOMB_ROUTE, id, NULL);
    if (!err) {
        err = run_query(st, p, Q_KEY_DELETE_ROUTE, args, NULL,
                        "cannot delete a route's path");
    }
    if (!err) {
        err = run_query(st, p, Q_ROUTE_DELETE, args, &n,
                        "cannot delete a route");
    }
    *found = !err && n > 0;
    return tx_end(st, p, tx, err, *found);
}

/* Inside a write: the environment must exist; its routes go. */
static const apigw_route_store_error *delete_routes_of(apigw_route_store *st,
                                                       apr_pool_t *p,
                                                       const char *env,
                                                       int *deleted)
{
    const char *args[1] = { env };
    const apigw_route_store_error *err = need_environment(st, p, env);

    *deleted = 0;
    if (!err) {
        err = add_tombstones(st, p, Q_TOMB_ENV, env, NULL);
    }
    if (!err) {
        err = run_query(st, p, Q_KEY_DELETE_ENV, args, NULL,
                        "cannot delete routes' paths");
    }
    if (err) {
        return err;
    }
    return run_query(st, p, Q_ROUTE_DELETE_ENV, args, deleted,
                     "cannot delete routes");
}

const apigw_route_store_error *apigw_route_store_delete_environment_routes(
    apigw_route_store *st, apr_pool_t *p, const char *environment,
    int *deleted)
{
    const apigw_route_store_error *err;
    apr_dbd_transaction_t *tx;

    *deleted = 0;
    err = check_name(p, "environment name", environment);
    if (err || (err = write_begin(st, p, &tx))) {
        return err;
    }
    err = delete_routes_of(st, p, environment, deleted);
    if (err) {
        *deleted = 0;
    }
    return tx_end(st, p, tx, err, *deleted > 0);
}

/* Inside a write: copies every route of from into name with new ids. */
static const apigw_route_store_error *copy_routes(
    apigw_route_store *st, apr_pool_t *p, const char *name, const char *from,
    apigw_route_store_new_id_fn *new_id, apr_time_t now, int *copied)
{
    const apigw_route_store_error *err;
    apr_array_header_t *routes;
    apr_pool_t *rp;
    int i;

    err = select_routes(st, p, from, &routes);
    if (err) {
        return err;
    }
    apr_pool_create(&rp, p);
    for (i = 0; !err && i < routes->nelts; i++) {
        apigw_route_record r = APR_ARRAY_IDX(routes, i, apigw_route_record);

        apr_pool_clear(rp);
        r.id = new_id(rp);
        r.environment = name;
        r.created_at = r.updated_at = now;
        err = r.id ? insert_route(st, rp, &r)
                   : rs_err(rp, APIGW_RS_INVALID, "no id for a copied route");
        if (err) {
            /* from p: rp goes now */
            err = rs_err(p, err->code, "copying environment \"%s\" into "
                         "\"%s\": %s", from, name, err->message);
        }
    }
    apr_pool_destroy(rp);
    *copied = err ? 0 : routes->nelts;
    return err;
}

static const apigw_route_store_error *create_env(
    apigw_route_store *st, apr_pool_t *p, const char *name, const char *from,
    int copy, apigw_route_store_new_id_fn *new_id, int *copied)
{
    const apigw_route_store_error *err;
    apr_time_t now = apr_time_now();
    const char *args[2] = { name, i64(p, now) };
    int taken;

    err = exists(st, p, Q_ENV_EXISTS, name, &taken);
    if (err) {
        return err;
    }
    if (taken) {
        return rs_err(p, APIGW_RS_CONFLICT,
                      "an environment named \"%s\" already exists", name);
    }
    if (from && (err = need_environment(st, p, from))) {
        return err;
    }
    err = run_query(st, p, Q_ENV_INSERT, args, NULL,
                    "cannot create an environment");
    if (!err && copy) {
        err = copy_routes(st, p, name, from, new_id, now, copied);
    }
    return err;
}

const apigw_route_store_error *apigw_route_store_create_environment(
    apigw_route_store *st, apr_pool_t *p, const char *name, const char *from,
    int copy_routes, apigw_route_store_new_id_fn *new_id, int *copied)
{
    const apigw_route_store_error *err;
    apr_dbd_transaction_t *tx;
    int n = 0;

    if (copied) {
        *copied = 0;
    }
    err = check_name(p, "environment name", name);
    if (err) {
        return err;
    }
    if (copy_routes && (!from || !new_id)) {
        return rs_err(p, APIGW_RS_INVALID, "copying routes into environment "
                      "\"%s\" needs a source environment and an id maker",
                      name);
    }
    if ((err = write_begin(st, p, &tx))) {
        return err;
    }
    err = create_env(st, p, name, from, copy_routes, new_id, &n);
    err = tx_end(st, p, tx, err, 1);
    if (!err && copied) {
        *copied = n;
    }
    return err;
}

const apigw_route_store_error *apigw_route_store_delete_environment(
    apigw_route_store *st, apr_pool_t *p, const char *name,
    int *deleted_routes)
{
    const apigw_route_store_error *err;
    const char *args[1] = { name };
    apr_dbd_transaction_t *tx;
    int n = 0;

    if (deleted_routes) {
        *deleted_routes = 0;
    }
    err = check_name(p, "environment name", name);
    if (err) {
        return err;
    }
    if (strcmp(name, APIGW_ROUTE_STORE_DEFAULT_ENV) == 0) {
        return rs_err(p, APIGW_RS_INVALID,
                      "the \"" APIGW_ROUTE_STORE_DEFAULT_ENV
                      "\" environment cannot be deleted");
    }
    if ((err = write_begin(st, p, &tx))) {
        return err;
    }
    err = delete_routes_of(st, p, name, &n);
    if (!err) {
        err = run_query(st, p, Q_ENV_DELETE, args, NULL,
                        "cannot delete an environment");
    }
    err = tx_end(st, p, tx, err, 1);
    if (!err && deleted_routes) {
        *deleted_routes = n;
    }
    return err;
}

/* ---- API keys ---- */

/* 64 lowercase hex digits: a SHA-256 as the store keeps it. */
static int is_hash_hex(const char *h)
{
    int i;

    for (i = 0; i < 64; i++) {
        /* a shorter string stops at its NUL, which is no digit */
        if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f'))) {
            return 0;
        }
    }
    return h[64] == '\0';
}

static const apigw_route_store_error *check_apikey(
    apr_pool_t *p, const apigw_apikey_record *k)
{
    const apigw_route_store_error *err;

    if (!k) {
        return rs_err(p, APIGW_RS_INVALID, "no API key given");
    }
    if ((err = check_name(p, "API key's name", k->name))) {
        return err;
    }
    if (!k->hash || !is_hash_hex(k->hash)) {
        return rs_err(p, APIGW_RS_INVALID, "API key \"%s\": the hash is not "
                      "64 lowercase hex digits", k->name);
    }
    if (!k->roles) {
        return rs_err(p, APIGW_RS_INVALID, "API key \"%s\" lacks its roles",
                      k->name);
    }
    return NULL;
}

/* Inside a write: the keys' version becomes this write's generation. */
static const apigw_route_store_error *bump_apikeys(apigw_route_store *st,
                                                   apr_pool_t *p)
{
    const char *args[1] = { i64(p, st->write_gen) };
    const apigw_route_store_error *err;
    int n = 0;

    err = run_query(st, p, Q_APIKEY_BUMP, args, &n,
                    "cannot bump the API keys' version");
    if (!err && n != 1) {
        err = rs_err(p, APIGW_RS_UNAVAILABLE, "route store %s: the row of "
                     "the API keys' version is missing", st->name);
    }
    return err;
}

/* Inside a write: the name and the hash must both be free. */
static const apigw_route_store_error *insert_apikey(
    apigw_route_store *st, apr_pool_t *p, const apigw_apikey_record *k)
{
    const apigw_route_store_error *err;
    const char *args[4];
    int taken;

    err = exists(st, p, Q_APIKEY_NAMED, k->name, &taken);
    if (err) {
        return err;
    }
    if (taken) {
        return rs_err(p, APIGW_RS_CONFLICT,
                      "an API key named \"%s\" already exists", k->name);
    }
    err = exists(st, p, Q_APIKEY_HASHED, k->hash, &taken);
    if (err) {
        return err;
    }
    if (taken) {
        return rs_err(p, APIGW_RS_CONFLICT,
                      "another API key has the same hash");
    }
    args[0] = k->name;
    args[1] = k->hash;
    args[2] = k->roles;
    args[3] = i64(p, k->created_at);
    err = run_query(st, p, Q_APIKEY_INSERT, args, NULL,
                    "cannot insert an API key");
    return err ? err : bump_apikeys(st, p);
}

const apigw_route_store_error *apigw_route_store_apikey_create(
    apigw_route_store *st, apr_pool_t *p, const apigw_apikey_record *k)
{
    const apigw_route_store_error *err = check_apikey(p, k);
    apr_dbd_transaction_t *tx;

    if (err || (err = write_begin(st, p, &tx))) {
        return err;
    }
    return tx_end(st, p, tx, insert_apikey(st, p, k), 1);
}

const apigw_route_store_error *apigw_route_store_apikey_delete(
    apigw_route_store *st, apr_pool_t *p, const char *name)
{
    const apigw_route_store_error *err = check_name(p, "API key's name",
                                                    name);
    const char *args[1] = { name };
    apr_dbd_transaction_t *tx;
    int n = 0;

    if (err || (err = write_begin(st, p, &tx))) {
        return err;
    }
    err = run_query(st, p, Q_APIKEY_DELETE, args, &n,
                    "cannot delete an API key");
    if (!err && n == 0) {
        err = rs_err(p, APIGW_RS_NOT_FOUND, "no API key named \"%s\"", name);
    }
    if (!err) {
        err = bump_apikeys(st, p);
    }
    return tx_end(st, p, tx, err, 1);
}

static int apikey_by_name(const void *a, const void *b)
{
    return strcmp(((const apigw_apikey_record *)a)->name,
                  ((const apigw_apikey_record *)b)->name);
}

/* Every key, by name (byte order, the same on both databases), with its
 * hash when with_hash. */
static const apigw_route_store_error *select_apikeys(apigw_route_store *st,
                                                     apr_pool_t *p,
                                                     int with_hash,
                                                     apr_array_header_t **out)
{
    const apigw_route_store_error *err;
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    apr_array_header_t *a;

    err = run_select(st, p, with_hash ? Q_APIKEY_ALL : Q_APIKEY_LIST, NULL,
                     &res, "cannot read the API keys");
    if (err) {
        return err;
    }
    a = apr_array_make(p, 8, sizeof(apigw_apikey_record));
    while (next_row(st, p, res, &row)) {
        apigw_apikey_record *k = apr_array_push(a);

        k->name = entry(st, p, row, 0);
        k->roles = entry(st, p, row, 1);
        k->created_at = apr_atoi64(entry(st, p, row, 2));
        k->hash = with_hash ? entry(st, p, row, 3) : NULL;
    }
    if (a->nelts > 1) {
        qsort(a->elts, (size_t)a->nelts, sizeof(apigw_apikey_record),
              apikey_by_name);
    }
    *out = a;
    return NULL;
}

const apigw_route_store_error *apigw_route_store_apikeys(
    apigw_route_store *st, apr_pool_t *p, apr_array_header_t **keys)
{
    const apigw_route_store_error *err;

    *keys = NULL;
    if ((err = check_conn(st, p))) {
        return err;
    }
    return select_apikeys(st, p, 0, keys);
}

const apigw_route_store_error *apigw_route_store_apikeys_version(
    apigw_route_store *st, apr_pool_t *p, apr_int64_t *version)
{
    const apigw_route_store_error *err = check_conn(st, p);

    return err ? err : read_counter(st, p, Q_APIKEY_VERSION, NULL,
                                    "the API keys' version", version);
}

/* The version is read first: a key written after it has a larger one,
 * and the caller reads the keys again next time. */
const apigw_route_store_error *apigw_route_store_apikeys_load(
    apigw_route_store *st, apr_pool_t *p, apr_int64_t *version,
    apr_array_header_t **keys)
{
    const apigw_route_store_error *err;

    *keys = NULL;
    err = apigw_route_store_apikeys_version(st, p, version);
    return err ? err : select_apikeys(st, p, 1, keys);
}
