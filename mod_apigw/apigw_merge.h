/* Response shaping for aggregated endpoints, with KrakenD's semantics: the
 * per-backend options of an ApiBackend line (group, target, allow, deny,
 * mapping, collection, encoding) compiled once at configuration time and
 * applied to each decoded backend response; the root merge of several
 * responses; dot-path lookups for sequential backend URLs.
 * Pure logic over APR and jansson, no httpd.
 *
 * Order of operations, as KrakenD's (lura's) entity formatter:
 *   decode (collection: the array goes under "collection")
 *   -> target -> allow | deny -> mapping -> group -> merge at the root.
 * So allow/deny paths are relative to the target, mapping names the fields
 * as they are after filtering (old names), and group wraps what is left.
 *
 * Semantics, and where they deviate from KrakenD (CE 2.x, lura v2):
 * - target=a.b: the object at that dot path replaces the response; when a
 *   segment is missing or not an object the response becomes {} (as KrakenD).
 * - allow=a,b.c: keeps only those fields. A nested entry keeps its parent
 *   object with only the named children; a parent that is not an object, or
 *   that ends up empty, is dropped (as KrakenD). Deviation: when a list names
 *   both "a" and "a.b", "a" (the whole field) wins whatever the order;
 *   KrakenD lets the later entry win.
 * - deny=a,b.c: drops those fields; parents stay, even when emptied (as
 *   KrakenD). "a" together with "a.b" drops the whole of "a".
 * - allow/deny do not descend into arrays (as KrakenD, whose docs send array
 *   work to flatmap): a path through an array matches nothing, so allow
 *   drops that array and deny leaves it alone.
 * - mapping=old:new,...: renames top-level fields (as KrakenD). Renames are
 *   simultaneous, so "a:b,b:a" swaps and "a:b,b:c" moves a to b and b to c
 *   (KrakenD applies them in Go's random map order). A renamed field
 *   overwrites an existing field of the new name (as KrakenD). Renamed
 *   fields move after the others in the output. Deviation: names with a dot
 *   are refused at configuration (KrakenD silently cuts the new name at the
 *   first dot and never matches a dotted old name).
 * - collection: the backend must answer an array; it is placed under
 *   "collection" before anything else, so target/allow/deny/mapping see
 *   {"collection": [...]} and "mapping=collection:items" renames it.
 * - group=NAME: the shaped response goes under key NAME (even when empty).
 * - encoding=json|safejson|xml|rss|string|no-op (see apigw_decode.h).
 * - error-details=NAME: no shaping; the backend's own error details
 *   (KrakenD's backend/http return_error_details), read by apigw_agg.c.
 * - ApiFlatmap backend=N (apigw_flatmap.h): set with apigw_shape_set_ops;
 *   runs after target and before group, in place of allow, deny and
 *   mapping (as KrakenD, which ignores those three then; the endpoint's
 *   checks refuse them together).
 * - Field names are case-sensitive. A key holding a '.' cannot be named by
 *   a dot path (as KrakenD).
 *
 * Memory: a shape is built from the configuration pool and is read-only
 * afterwards, so any number of threads may use it at once. JSON values are
 * jansson's (malloc'ed, reference counted); each function says who owns
 * what it returns.
 */
#ifndef APIGW_MERGE_H
#define APIGW_MERGE_H

#include <apr_pools.h>
#include <jansson.h>

/* How to read a backend's body (ApiBackend ... encoding=WORD). */
typedef enum {
    APIGW_IN_JSON = 0,      /* "json", the default */
    APIGW_IN_SAFEJSON,      /* "safejson": object, array or scalar */
    APIGW_IN_XML,           /* "xml" */
    APIGW_IN_RSS,           /* "rss" (RSS 2.0, RSS 1.0/RDF and Atom) */
    APIGW_IN_STRING,        /* "string" */
    APIGW_IN_NOOP           /* "no-op": passed through, never decoded */
} apigw_input_encoding;

/* Per-backend shaping options, compiled once at configuration time. */
typedef struct apigw_shape apigw_shape;

/* A shape with no options: JSON object in, unchanged out. Never NULL. */
apigw_shape *apigw_shape_create(apr_pool_t *p);

/* Is key one of: group target allow deny mapping collection encoding
 * error-details? */
int apigw_shape_is_key(const char *key);

/* Sets one option from the ApiBackend line; value is NULL for a bare flag
 * ("collection"). allow, deny and mapping may be given several times and
 * add up; the others may be given once. Returns NULL, or an error message
 * from p naming the problem (unknown option, a value missing, bad dot
 * path, mapping without a colon, a name given twice in mapping, unknown
 * encoding, allow and deny together, empty names, names that hold a
 * control character or are not UTF-8, shown escaped). */
const char *apigw_shape_set(apr_pool_t *p, apigw_shape *s, const char *key,
                            const char *value);

/* Final cross-option validation, after every key: NULL or a message from
 * p (allow with deny; no-op with any shaping option or error-details;
 * collection with an encoding that has no collection form: rss, string,
 * safejson). */
const char *apigw_shape_check(apr_pool_t *p, const apigw_shape *s);

/* error-details=NAME, or NULL if none. */
const char *apigw_shape_error_details(const apigw_shape *s);

/* Whether allow, deny or mapping is set. */
int apigw_shape_has_filters(const apigw_shape *s);

/* Operations run on the response after target and before group, in place
 * of allow, deny and mapping: fn(data, doc, err) changes doc (an object)
 * in place and returns 0, or -1 with *err set to a static string. Set at
 * configuration time; data stays read-only (the shape is shared by every
 * thread). */
typedef int (*apigw_shape_ops_fn)(const void *data, json_t *doc,
                                  const char **err);
void apigw_shape_set_ops(apigw_shape *s, apigw_shape_ops_fn fn,
                         const void *data);

/* The group name, or NULL if none. */
const char *apigw_shape_group(const apigw_shape *s);

/* The input encoding (APIGW_IN_JSON unless set). */
apigw_input_encoding apigw_shape_encoding(const apigw_shape *s);

/* Whether the backend answers a collection (an array). */
int apigw_shape_collection(const apigw_shape *s);

/* "json", "xml", ... for messages. */
const char *apigw_input_encoding_name(apigw_input_encoding enc);

/* Applies target, allow/deny and mapping (or the operations set with
 * apigw_shape_set_ops), and group to a decoded response.
 * Takes over the caller's reference to decoded (an object, as
 * apigw_decode returns) and returns a new reference the caller must
 * json_decref, or NULL with *err set (a static string: decoded is not an
 * object, or out of memory) and decoded released. decoded is modified in
 * place, so it must not be shared: pass what apigw_decode returned, or a
 * json_deep_copy. */
json_t *apigw_shape_apply(const apigw_shape *s, json_t *decoded,
                          const char **err);

/* Merges src into dst at the root: every key of src is set in dst, a key
 * dst already has is replaced (a later backend wins a conflict), keeping
 * its position; new keys go at the end. dst is modified; src is only
 * read and stays the caller's (its values are shared with dst by
 * reference, not copied; jansson's reference counts are atomic, so a
 * read-only src such as configuration-time static data may be merged from
 * several threads at once). Returns 0, or -1 when dst or src is not an
 * object or memory runs out (dst may then be partly merged). */
int apigw_merge_into(json_t *dst, const json_t *src);

/* KrakenD's error details of a backend that answered with a failing
 * status (backend/http return_error_details): {"http_status_code": N,
 * "http_body": BODY, "http_body_encoding": CTYPE}. BODY is the body as a
 * string, whatever its type (JSON too, as KrakenD): bytes that are not
 * UTF-8 become U+FFFD each, as Go's encoding/json writes them; it is left
 * out when empty, as is http_body_encoding when ctype is NULL or empty
 * (Go's omitempty). A new reference, or NULL when memory runs out. */
json_t *apigw_error_details_object(int status, const char *body,
                                   size_t len, const char *ctype);

/* Looks up a dot path ("id", "user.name", "items.0.id": a segment of
 * digits indexes an array; on an object it is a key) and returns its value
 * as text for a URL template, from p: strings as they are, integers in
 * decimal, reals in their shortest exact form (1.5, 1e+300, 2.0), true or
 * false; an array of such scalars is joined with "," ("" when empty), as
 * KrakenD's sequential proxy does. Returns NULL when the path is absent or
 * malformed, or names null, an object, an array holding an object, array
 * or null, or a string with a NUL byte. The caller percent-encodes. */
const char *apigw_json_path_string(apr_pool_t *p, const json_t *root,
                                   const char *path);

#endif
