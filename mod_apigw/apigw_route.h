/* The route table: maps a method and a decoded request path to what an
 * <ApiEndpoint> registered, with its {variables}. Pure logic over APR. */
#ifndef APIGW_ROUTE_H
#define APIGW_ROUTE_H

#include <apr_pools.h>
#include <apr_tables.h>

typedef struct apigw_route_table apigw_route_table;

/* One captured variable; the wildcard's name is "*". Values are the decoded
 * path text (the wildcard's may hold '/'). */
typedef struct {
    const char *name;
    const char *value;
} apigw_route_var;

typedef enum {
    APIGW_ROUTE_NONE = 0,      /* no route has this path */
    APIGW_ROUTE_FOUND,         /* path and method matched */
    APIGW_ROUTE_NO_METHOD      /* path matched, method did not: see allow */
} apigw_route_status;

typedef struct {
    void *data;                        /* what apigw_route_add was given */
    apr_array_header_t *vars;          /* apigw_route_var, in path order */
    const char *allow;                 /* for NO_METHOD: "GET, HEAD, POST" */
    void *other;                       /* for NO_METHOD: the data of one
                                        * route the path has (with another
                                        * method): the first one added on
                                        * the most specific matching path */
} apigw_route_match;

/* Options for apigw_route_add. */
#define APIGW_ROUTE_INNER_VARS 0x1     /* allow /file.{ext} (KrakenD disable_rest) */
#define APIGW_ROUTE_SKIP_CONFLICT 0x2  /* inherited route: a conflict is not an error */
#define APIGW_ROUTE_OWN_NAMES 0x4      /* a {var} may be named otherwise than
                                        * by an earlier route at the same
                                        * position; a match reports this
                                        * route's names (runtime routes) */

apigw_route_table *apigw_route_table_make(apr_pool_t *p);

/* Checks a pattern alone: leading '/', {name} syntax, unique names, a '*'
 * only as the whole last segment. Returns NULL or a message from p. */
const char *apigw_route_check(apr_pool_t *p, const char *pattern, int flags);

/* Adds pattern+method. Returns NULL on success. On a collision with an
 * earlier route returns a message and sets *conflict to that route's data
 * (with APIGW_ROUTE_SKIP_CONFLICT it returns NULL, sets *conflict and adds
 * nothing). Method names are case-sensitive, as HTTP's are. */
const char *apigw_route_add(apigw_route_table *t, const char *pattern,
                            const char *method, void *data, int flags,
                            void **conflict);

/* Matches path (must start with '/') and method. HEAD matches a GET route.
 * Allocates only the vars array and the allow string, from p. */
apigw_route_status apigw_route_match_path(const apigw_route_table *t,
                                          const char *path,
                                          const char *method,
                                          apr_pool_t *p,
                                          apigw_route_match *m);

/* ---- redirect candidates (ApiRedirectTrailingSlash, ApiRedirectFixedPath:
 * Gin's RedirectTrailingSlash and RedirectFixedPath) ---- */

/* path with its trailing '/' removed, or with one added; NULL for "/" or
 * a path not starting with '/'. From p. */
const char *apigw_route_toggle_slash(apr_pool_t *p, const char *path);

/* path cleaned as Gin's cleanPath does: empty and "." segments dropped,
 * ".." takes the segment before it away (never above the root), a
 * trailing '/' (or a trailing "." or "..") kept as a trailing '/'. The
 * result starts with one '/' and holds no "//". From p. */
const char *apigw_route_clean_path(apr_pool_t *p, const char *path);

/* The path a route of method (HEAD: a GET route too) would match, found
 * from path cleaned (apigw_route_clean_path) with its static text (static
 * segments, the literal text around an inner {var}) compared
 * case-insensitively (ASCII letters), else with its trailing '/' also
 * toggled. Static text comes out spelled as the route spells it, the
 * variables' and the wildcard's text as path has it. NULL when no route
 * would match. From p. */
const char *apigw_route_fix_path(const apigw_route_table *t, const char *path,
                                 const char *method, apr_pool_t *p);

/* The shape of a pattern: every {var} written {}, so two patterns that
 * match the same paths have the same shape ("/a/{x}/ *" gives "/a/{}/ *", without the space).
 * From p. */
const char *apigw_route_shape(apr_pool_t *p, const char *pattern);

/* Number of routes (method+pattern pairs) in the table. */
int apigw_route_count(const apigw_route_table *t);

#endif
