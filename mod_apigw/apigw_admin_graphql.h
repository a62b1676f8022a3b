/* The GraphQL side of the management API (apigw_admin_graphql.c):
 * <admin location>/graphql answers POST {"query", "variables",
 * "operationName"} and GET with the same as query arguments (queries
 * only), with the schema of console/schema.graphql (built into the
 * module with the console's files, and served with them), through the
 * operations the REST side runs (apigw_admin_ops.h). */
#ifndef APIGW_ADMIN_GRAPHQL_H
#define APIGW_ADMIN_GRAPHQL_H

#include "httpd.h"

/* The largest request body the graphql resource reads (the document and
 * its variables; ApiGraphQLMaxBytes bounds the document alone). */
#define APIGW_GQL_MAX_BODY (2 * 1024 * 1024)

/* post_config: builds the schema (refuses to start when it does not
 * build: a defect of this module, logged). */
int apigw_admin_graphql_post_config(apr_pool_t *pconf, server_rec *s);

/* Answers r (GET, or POST with its body of len bytes). */
int apigw_admin_graphql(request_rec *r, const char *body, apr_size_t len);

/* A GraphQL answer of one error: {"errors":[{"message","extensions":
 * {"code"}}]}, from p. */
const char *apigw_admin_graphql_error(apr_pool_t *p, const char *message,
                                      const char *code);

#endif
