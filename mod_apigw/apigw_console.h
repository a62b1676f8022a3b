/* The web console of the admin API: a single page (console/index.html,
 * console.css, console.js) that manages runtime routes and watches the
 * gateway's pools, breakers and rate limits through <admin>/graphql.
 * Its files are embedded in mod_apigw.so: apxs-build.sh runs
 * console/embed.sh, which writes apigw_console_assets.c (the table
 * below) into the build's object folder; it is never part of the tree.
 * apigw_admin.c answers GET <admin>/ with "" and GET
 * <admin>/console/NAME with NAME. */
#ifndef APIGW_CONSOLE_H
#define APIGW_CONSOLE_H

#include "httpd.h"

/* One embedded file. etag is quoted ("\"0123abcd...\""): a hash of
 * bytes, computed when the table was generated. */
typedef struct {
    const char *name;              /* "index.html", "console.js" */
    const char *content_type;      /* "text/javascript; charset=utf-8" */
    const char *etag;
    const unsigned char *bytes;
    apr_size_t length;
} apigw_console_asset;

/* The generated table (apigw_console_assets.c), in name order. */
extern const apigw_console_asset apigw_console_assets[];
extern const apr_size_t apigw_console_asset_count;

/* Answers GET or HEAD of the console file name ("" is index.html) with
 * its Content-Type, ETag, Cache-Control: no-cache and the console's
 * security headers (Content-Security-Policy without inline code,
 * nosniff, no referrer, no framing); 304 when If-None-Match names its
 * ETag; 405 for another method. Returns HTTP_NOT_FOUND without answering
 * when there is no such file; otherwise what a handler returns. */
int apigw_console_answer(request_rec *r, const char *name);

#endif
