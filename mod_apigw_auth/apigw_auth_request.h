/* A request's authentication: AuthType jwt and AuthType apikey as
 * check_authn hooks, what they found (claims, key) for the Require
 * providers and the fixup, the refusals (401 with WWW-Authenticate and
 * the gateway's error body; 403 when a Require fails for a valid
 * credential; 503 when no verification key could be had), and the claims
 * sent on to backends (ApiJwtPropagate). */
#ifndef APIGW_AUTH_REQUEST_H
#define APIGW_AUTH_REQUEST_H

#include "httpd.h"
#include "util_filter.h"
#include <jansson.h>
#include "apigw_apikey.h"

typedef enum { APIGW_AUTH_JWT = 1, APIGW_AUTH_APIKEY } apigw_auth_kind;

/* What authentication found for a request. */
typedef struct {
    apigw_auth_kind kind;
    json_t *claims;                  /* JWT: the verified claims */
    const apigw_apikey *key;         /* API key: the key presented */
    int status;                      /* a refusal of ours: 401 or 503 */
    const char *reason;              /* its reason, for the body */
    int forbidden;                   /* a Require failed after authn */
} apigw_auth_state;

/* r's state, or that of the request r was redirected from or is a
 * subrequest of; NULL when neither module type authenticated it. */
apigw_auth_state *apigw_auth_state_get(const request_rec *r);

int apigw_auth_check_jwt(request_rec *r);
int apigw_auth_check_apikey(request_rec *r);
int apigw_auth_note_failure(request_rec *r, const char *auth_type);
void apigw_auth_insert_error_filter(request_rec *r);
/* ApiJwtPropagate in two steps: the client's headers of those names
 * removed first, before any other fixup sees them (header rules, the
 * response cache's lookup); the claims set last, after mod_apigw has
 * kept only the headers an endpoint forwards. */
int apigw_auth_strip_fixups(request_rec *r);
int apigw_auth_fixups(request_rec *r);

/* optional_fn_retrieve: mod_apigw's apigw_store_apikey_find, once. */
void apigw_auth_retrieve_optional_fns(void);

/* The optional function apigw_auth_claim (common/apigw_contract.h). */
const char *apigw_auth_claim(request_rec *r, const char *name);

extern ap_filter_rec_t *apigw_auth_error_filter_handle;

#endif
