/* Decoding a backend's body into a jansson document by the backend's
 * encoding (ApiBackend ... encoding=json|safejson|xml|rss|string), with
 * KrakenD's shapes, before apigw_shape_apply. Pure logic over APR,
 * APR-util (apr_xml, expat behind it) and jansson, no httpd. The body size
 * limit is the caller's. apigw_decode.c holds the entry points and the
 * json, safejson, xml and string decoders; apigw_decode_feed.c maps an
 * rss body, parsed as XML, to the feed object.
 *
 * What each encoding produces:
 * - json: the body must be one JSON object; with collection, one JSON
 *   array, returned as {"collection": [...]}. A body of `null` is an empty
 *   response: {} (or {"collection": []}; KrakenD writes null there).
 *   Strings may hold \u0000 (kept; the encoders escape or replace it).
 *   An integer beyond 64 bits makes the whole body read again with every
 *   integer as a real (5 -> 5.0), rather than failing; a real beyond the
 *   double range fails. Deviations from KrakenD (Go): trailing bytes after
 *   the value, invalid UTF-8 and a byte-order mark are errors (Go ignores
 *   trailing data after the first value and replaces bad UTF-8); numbers
 *   are 64-bit integers or doubles, not kept as written text.
 * - safejson (KrakenD's): an object as it is, an array as
 *   {"collection": [...]}, any other value as {"content": value}.
 * - xml: KrakenD's (mxj) shape: {"root": {...}} with the root element's
 *   name as the only key. An element with neither attributes nor child
 *   elements is its text as a string ("" when empty); otherwise an object
 *   where each attribute is "-name": "value", the text (when not only
 *   white space) is "#text", and each child element is a key; repeated
 *   children of one name become an array in document order. Text is the
 *   element's character data (CDATA included) joined and trimmed of
 *   leading and trailing white space; values are never cast (all strings).
 *   Names are local names: namespace prefixes are dropped, xmlns
 *   declarations and xml:lang are not attributes (apr_xml's view); an
 *   undeclared prefix is an error. With collection the whole result goes
 *   under "collection" (as KrakenD). Any DTD entity declaration stops the
 *   parse with an error (apr_xml's guard against entity expansion
 *   attacks such as billion laughs); external entities are never loaded.
 *   Comments and processing instructions are ignored.
 * - rss: RSS 2.0, RSS 0.9x, RSS 1.0 (RDF) or Atom 1.0, as KrakenD's
 *   krakend-rss (gofeed) maps a feed:
 *     {"title", "description", "language", "copyright", "published",
 *      "updated" (strings, "" when absent), "type" ("rss" or "atom"),
 *      "author" ({"name","email"} or null), "categories" ([strings] or
 *      null), "custom" (null), "img_url" (only when the feed has an
 *      image or Atom logo), "items": [...]}
 *   RSS: published = pubDate, updated = lastBuildDate (or dc:date),
 *   author = managingEditor, webMaster or dc:creator, language and
 *   copyright also from dc:language and dc:rights. Atom: description =
 *   subtitle, copyright = rights, published = published. Each item holds
 *   only the keys it has: "title", "description", "content",
 *   "link", "links" ([strings]), "published", "updated", "author"
 *   ({"name","email"}), "authors" ([...]), "guid", "categories"
 *   ([strings]), "enclosures" ([{"url","length","type"}]), "image"
 *   ({"url"}). RSS items: description, content:encoded, pubDate, dc:date,
 *   author or dc:creator ("mail@host (Name)" and "Name <mail@host>" are
 *   split), guid, category, enclosure, link; Atom entries: summary,
 *   content, published, updated, author, id, category@term, link@href
 *   (rel="enclosure" links are enclosures). Deviations from gofeed: no
 *   "publishedParsed"/"updatedParsed" times, no extension maps (dcExt,
 *   itunesExt, extensions), "items" is [] rather than null when empty;
 *   text is trimmed as xml's is.
 * - string: {"content": "the body"}, invalid UTF-8 replaced by U+FFFD
 *   (NUL bytes kept), as KrakenD's string decoder.
 * - no-op: never decoded (an error here: the caller passes the body on).
 *
 * Every decoded document is at most APIGW_DECODE_MAX_DEPTH levels deep
 * (objects and arrays); deeper input is an error, so the recursive
 * shaping and encoding that follow run in bounded stack. jansson itself
 * stops parsing at 2048 levels and Debian's apr_xml at 256 nested
 * elements (a repeated element adds an array level).
 */
#ifndef APIGW_DECODE_H
#define APIGW_DECODE_H

#include <apr_pools.h>
#include <jansson.h>

#include "apigw_merge.h"

#define APIGW_DECODE_MAX_DEPTH 128

/* Decodes body (len bytes, need not be NUL-terminated) by the shape's
 * encoding and collection flag (s may be NULL: json, no collection).
 * Returns a new reference the caller must json_decref (always an object),
 * or NULL with *err set: a static string or a message from p naming the
 * problem (with the parser's line/column where it has one). p is also
 * used for scratch memory, released before returning where it is large
 * (the XML tree lives in a subpool). */
json_t *apigw_decode(apr_pool_t *p, const apigw_shape *s, const char *body,
                     apr_size_t len, const char **err);

/* The same with the encoding and collection flag given directly. */
json_t *apigw_decode_as(apr_pool_t *p, apigw_input_encoding enc,
                        int collection, const char *body, apr_size_t len,
                        const char **err);

#endif
