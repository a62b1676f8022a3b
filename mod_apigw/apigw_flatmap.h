/* KrakenD's flatmap_filter (lura's proxy/formatter.go over krakend/flatmap's
 * tree): a list of move, del and append operations on dot paths, run in
 * order on a backend's response (after target, before group, in place of
 * allow, deny and mapping) or on an endpoint's merged answer (before
 * ApiStatic). Pure logic over APR and jansson, no httpd.
 *
 * Paths are dot paths; a "*" segment matches every key of an object and
 * every element of an array, a segment of digits also names an element of
 * an array ("0", "12": no sign, no leading zero), any other segment names
 * a key. An operation applies to the last segment: "del a.b.c" removes c
 * and leaves a.b. Segments are matched against the document as it is when
 * the operation starts; the matches are then handled one after the other.
 *
 * move FROM TO   moves each value FROM matches to TO, where a "*" of TO
 *                stands for the key or index FROM's segment at the same
 *                position matched. Same length: a rename of the last
 *                segment (the others must be the same). TO longer: an
 *                embedding (TO starts with FROM's parent path, then names
 *                new levels, without "*"). TO shorter: an extraction
 *                (TO names the place from the root). Missing levels of TO
 *                are created as objects, a scalar in the way is replaced by
 *                an object (as KrakenD); a value already at TO is replaced.
 *                Deviations: where TO's parent would be an array, or a
 *                level of TO is an index past the end of an array, the
 *                value stays where it was (KrakenD appends it to that
 *                array, or puts it under the deepest existing level).
 *                Refused at configuration: FROM ending in "*" (KrakenD
 *                moves nothing), TO ending in "*", a rename or embedding
 *                whose other segments differ (KrakenD ignores them).
 * del PATH...    removes every value each path matches.
 * append FROM TO when FROM's value is an array and TO's value is an array,
 *                TO becomes TO's elements followed by (copies of) FROM's,
 *                and FROM is deleted (as KrakenD). A "*" in FROM collects
 *                the values it matches into an array (nested "*" give
 *                nested arrays, a value missing there gives null, as
 *                KrakenD). Refused at configuration: TO holding "*".
 *
 * As KrakenD, and worth knowing:
 * - an array element that is deleted or moved away keeps the others'
 *   indices until the last operation has run (the array closes up at the
 *   end): "del list.0" then "del list.1" removes the first two elements;
 * - an object or array that loses its last member (by del, move or append)
 *   becomes null: move zone.state and zone.zip out and zone is null (the
 *   answer itself stays an object: {} where KrakenD would have none);
 * - key order: a renamed or moved key goes last in its object (KrakenD
 *   sorts every object's keys).
 *
 * Memory: a list is built from a configuration pool and is read-only
 * afterwards; any number of threads may apply it at once. apply works on
 * jansson values only (malloc'ed, reference counted), and frees all it
 * allocates. */
#ifndef APIGW_FLATMAP_H
#define APIGW_FLATMAP_H

#include <apr_pools.h>
#include <jansson.h>

/* At most this many segments in a path. */
#define APIGW_FLATMAP_MAX_SEGMENTS 64

typedef struct apigw_flatmap apigw_flatmap;

/* An empty list. Never NULL. */
apigw_flatmap *apigw_flatmap_create(apr_pool_t *p);

/* Checks one operation ("move", "del" or "append" and its nargs paths)
 * and appends it to fm. Returns NULL, or a message from p naming the
 * operation and the problem (unknown operation, wrong number of paths, an
 * empty segment, a segment that holds a control character or is not
 * UTF-8, too many segments, and the forms refused above). */
const char *apigw_flatmap_add(apr_pool_t *p, apigw_flatmap *fm,
                              const char *op, int nargs,
                              const char *const *args);

/* Appends src's operations to dst (shared with src, both read-only). */
void apigw_flatmap_extend(apigw_flatmap *dst, const apigw_flatmap *src);

/* How many operations fm holds. */
int apigw_flatmap_size(const apigw_flatmap *fm);

/* Runs fm's operations in order on doc (an object), in place. Returns 0,
 * or -1 with *err set to a static string (doc is not an object, or memory
 * ran out: doc may then be partly changed). doc must not share values
 * with anything that is read meanwhile (see apigw_shape_apply). */
int apigw_flatmap_apply(const apigw_flatmap *fm, json_t *doc,
                        const char **err);

#endif
