/* The route store: where runtime routes, their environments and the API
 * keys of the admin API persist, through APR-util's apr_dbd (SQLite by
 * default, PostgreSQL for a fleet sharing one registry). It opens a store
 * from its spec, creates and migrates the schema, and runs every
 * operation; each write is one transaction that also bumps the store's
 * generation counter. Pure APR/APR-util: no httpd.
 *
 * A store is one database connection: calls on one store must not run at
 * the same time (give each thread its own store, or hold a mutex). Results
 * and error messages are allocated from the pool p of the call. */
#ifndef APIGW_ROUTE_STORE_H
#define APIGW_ROUTE_STORE_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "apigw_route_record.h"

/* The schema version this build writes; an older store is migrated on
 * open, a newer one is refused. */
#define APIGW_ROUTE_STORE_SCHEMA_VERSION 3

/* How long a reader may go without reading the store and still follow it
 * with apigw_route_store_changes (deleted routes are remembered for
 * longer than this); after that it reads everything again (since 0). */
#define APIGW_ROUTE_STORE_FOLLOW_LIMIT apr_time_from_sec(3600)

/* The environment every store has from its first open; it cannot be
 * deleted. */
#define APIGW_ROUTE_STORE_DEFAULT_ENV "default"

/* How long a SQLite writer waits for another process's write lock before
 * the driver sees SQLITE_BUSY (apr_dbd's sqlite3 driver then retries). */
#define APIGW_ROUTE_STORE_BUSY_MS 500

typedef struct apigw_route_store apigw_route_store;

typedef enum {
    APIGW_RS_INVALID = 1,      /* an argument the store cannot take: 400 */
    APIGW_RS_NOT_FOUND,        /* what is named does not exist: 404 */
    APIGW_RS_CONFLICT,         /* the route id, environment or API key
                                * name is taken: 409 */
    APIGW_RS_UNAVAILABLE       /* the database failed or is unreachable: 503 */
} apigw_route_store_code;

/* Every function returns NULL on success, or one of these from p. The
 * message names the store as apigw_route_store_name() does: never a
 * PostgreSQL conninfo or password. */
typedef struct {
    apigw_route_store_code code;
    const char *message;
} apigw_route_store_error;

/* Opens "sqlite3:PATH" (the file is created; its directory must exist) or
 * "pgsql:CONNINFO" (libpq syntax; may be wrapped in double quotes). Creates
 * or migrates the schema and the "default" environment. SQLite runs in WAL
 * mode with synchronous=FULL, so an acknowledged write survives a crash.
 * The store lives in a subpool of p: apigw_route_store_close, or the end
 * of p, closes it. */
const apigw_route_store_error *apigw_route_store_open(apr_pool_t *p,
                                                      const char *spec,
                                                      apigw_route_store **out);

void apigw_route_store_close(apigw_route_store *st);

/* "sqlite3:PATH" or "pgsql": what messages and logs call the store. */
const char *apigw_route_store_name(const apigw_route_store *st);

/* The schema version found (after migration) at open. */
int apigw_route_store_schema_version(const apigw_route_store *st);

/* The generation counter: bumped by every committed write, by any process
 * using the store; reads leave it alone. Equal values mean nothing
 * changed. */
const apigw_route_store_error *apigw_route_store_generation(
    apigw_route_store *st, apr_pool_t *p, apr_int64_t *gen);

/* The routes of one environment (NOT_FOUND when it does not exist), or of
 * all when environment is NULL, as apigw_route_record values ordered by
 * environment, path and id. */
const apigw_route_store_error *apigw_route_store_list(
    apigw_route_store *st, apr_pool_t *p, const char *environment,
    apr_array_header_t **routes);

/* What changed in an environment since generation since: *changed the
 * routes inserted or updated (apigw_route_record), *deleted the ids of
 * routes deleted or moved to another environment (const char *), *gen
 * the generation to pass as since next time. since 0: every route, none
 * deleted. Apply deletions first, then changes. environment may not be
 * NULL (INVALID). An environment that does
 * not exist has no routes (no error). A change may be reported twice. */
const apigw_route_store_error *apigw_route_store_changes(
    apigw_route_store *st, apr_pool_t *p, const char *environment,
    apr_int64_t since, apr_int64_t *gen, apr_array_header_t **changed,
    apr_array_header_t **deleted);

/* *n is how many routes environment has (0 when it does not exist). */
const apigw_route_store_error *apigw_route_store_count(
    apigw_route_store *st, apr_pool_t *p, const char *environment,
    apr_int64_t *n);

/* *out is the route with this id, or NULL when there is none. */
const apigw_route_store_error *apigw_route_store_get(
    apigw_route_store *st, apr_pool_t *p, const char *id,
    apigw_route_record **out);

/* Stores a new route: NOT_FOUND when its environment does not exist,
 * CONFLICT when its id is taken or when another route of its environment
 * serves one of its methods on the same path shape (apigw_route_shape:
 * /a/{x} and /a/{y} are one shape), the message naming that route. */
const apigw_route_store_error *apigw_route_store_insert(
    apigw_route_store *st, apr_pool_t *p, const apigw_route_record *r);

/* Replaces every field of the route r->id but created_at. *found is 0
 * (and nothing changes) when there is no such route; NOT_FOUND when
 * r->environment does not exist; CONFLICT as apigw_route_store_insert. */
const apigw_route_store_error *apigw_route_store_update(
    apigw_route_store *st, apr_pool_t *p, const apigw_route_record *r,
    int *found);

/* *found is 0 when there was no such route. */
const apigw_route_store_error *apigw_route_store_delete(
    apigw_route_store *st, apr_pool_t *p, const char *id, int *found);

/* Deletes every route of an environment, keeping the environment;
 * NOT_FOUND when it does not exist. */
const apigw_route_store_error *apigw_route_store_delete_environment_routes(
    apigw_route_store *st, apr_pool_t *p, const char *environment,
    int *deleted);

/* The environment names (const char *), sorted. */
const apigw_route_store_error *apigw_route_store_environments(
    apigw_route_store *st, apr_pool_t *p, apr_array_header_t **names);

/* Makes an id for a copied route (a new UUID), from p. */
typedef const char *apigw_route_store_new_id_fn(apr_pool_t *p);

/* Creates environment name (CONFLICT when it exists). With from, that
 * environment must exist (NOT_FOUND); with copy_routes, each of its routes
 * is copied into name with an id from new_id and the time of the copy as
 * created_at and updated_at. One transaction: on any error nothing is
 * created. *copied (may be NULL) is the number of routes copied. */
const apigw_route_store_error *apigw_route_store_create_environment(
    apigw_route_store *st, apr_pool_t *p, const char *name, const char *from,
    int copy_routes, apigw_route_store_new_id_fn *new_id, int *copied);

/* Deletes an environment and its routes in one transaction; NOT_FOUND
 * when it does not exist, INVALID for the default environment.
 * *deleted_routes (may be NULL) is the number of routes deleted. */
const apigw_route_store_error *apigw_route_store_delete_environment(
    apigw_route_store *st, apr_pool_t *p, const char *name,
    int *deleted_routes);

/* ---- API keys ----
 *
 * The keys the admin API creates, as their SHA-256 (the key itself is
 * never stored). Each write also sets the keys' version to its own
 * generation: a reader that loaded the keys at version V need not read
 * them again while the version is V, whatever routes change. */

typedef struct {
    const char *name;              /* unique; the admin API checks its
                                    * characters */
    const char *hash;              /* SHA-256 of the key: 64 lowercase hex
                                    * digits, unique; NULL in lists */
    const char *roles;             /* "reader,writer"; "" for none */
    apr_time_t created_at;         /* microseconds since the epoch */
} apigw_apikey_record;

/* Stores a new key: CONFLICT when its name or its hash is taken; INVALID
 * when the name is empty, the hash is not 64 lowercase hex digits or the
 * roles are NULL. */
const apigw_route_store_error *apigw_route_store_apikey_create(
    apigw_route_store *st, apr_pool_t *p, const apigw_apikey_record *k);

/* Every key (apigw_apikey_record, hash NULL), sorted by name in byte
 * order: what may be shown. */
const apigw_route_store_error *apigw_route_store_apikeys(
    apigw_route_store *st, apr_pool_t *p, apr_array_header_t **keys);

/* Deletes the key of this name; NOT_FOUND when there is none. */
const apigw_route_store_error *apigw_route_store_apikey_delete(
    apigw_route_store *st, apr_pool_t *p, const char *name);

/* The keys' version: the generation of the last committed write of a
 * key, 0 before the first. */
const apigw_route_store_error *apigw_route_store_apikeys_version(
    apigw_route_store *st, apr_pool_t *p, apr_int64_t *version);

/* Every key with its hash, sorted by name, and the version read just
 * before them (a write between the two is seen again at the next
 * version): for the gateway's children, never to be shown. */
const apigw_route_store_error *apigw_route_store_apikeys_load(
    apigw_route_store *st, apr_pool_t *p, apr_int64_t *version,
    apr_array_header_t **keys);

#endif
