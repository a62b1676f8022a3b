/* The REST management API of runtime routes (apigw_admin.c): its handler
 * and the startup steps mod_apigw.c registers. */
#ifndef APIGW_ADMIN_H
#define APIGW_ADMIN_H

#include "httpd.h"

#define APIGW_ADMIN_HANDLER "apigw-admin"

/* check_config: collects the <Location> paths of the apigw-admin sections
 * (the API's base paths) and warns of one without access control or
 * outside a <Location "/PATH">. */
int apigw_admin_check_config(apr_pool_t *pconf, server_rec *s);

/* post_config: where the route store is (ApiRouteStore, else a SQLite
 * file under DefaultRuntimeDir). */
int apigw_admin_post_config(apr_pool_t *pconf, server_rec *s);

/* After post_config: the store spec in use ("sqlite3:PATH" or
 * "pgsql:CONNINFO"; NULL when there is none), and whether an apigw-admin
 * location exists. */
const char *apigw_admin_store_spec(void);
int apigw_admin_in_use(void);

/* child_init: the child's store mutex (the store opens on first use). */
void apigw_admin_child_init(apr_pool_t *pchild, server_rec *s);

/* Is r for the graphql resource of an admin location (whatever the
 * method; for httpd's own errors there, apigw_error.c)? */
int apigw_admin_is_graphql(request_rec *r);

/* Answers r with status and the JSON text json (and a newline) as type,
 * never cached; returns OK for a handler to return. */
int apigw_admin_answer(request_rec *r, int status, const char *type,
                       const char *json);

/* handler: SetHandler apigw-admin. */
int apigw_admin_handler(request_rec *r);

#endif
