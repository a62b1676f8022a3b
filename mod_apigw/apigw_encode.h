/* Output encodings of aggregated endpoints (ApiOutputEncoding): parsing
 * the word, choosing one by Accept (negotiate), and serialising the merged
 * JSON document as JSON, a JSON collection, XML, YAML or a plain string.
 * Pure logic over APR and jansson, no httpd. apigw_encode.c holds the
 * words, negotiation and apigw_encode(); the JSON writer (with
 * apigw_format_real), the XML writer and the YAML writer each have their
 * own apigw_encode_FORMAT.c.
 *
 * What each encoding writes (and where it differs from KrakenD). Every
 * object's keys come out in byte order (strcmp), at every depth, as Go's
 * encoders write KrakenD's maps: the merge order decides which backend
 * wins a key, not where it is written.
 * - json: compact JSON (RFC 8259). As Go does, '<', '>', '&',
 *   U+2028 and U+2029 are escaped (\u003c ...) so a body is safe to embed
 *   in HTML and JavaScript. Reals are written in their shortest exact form
 *   and always with a '.' or an exponent (2.0, 1e+300), so they read back
 *   as reals; integers as integers.
 * - json-collection: the value of the "collection" key written alone as
 *   the body (normally an array); "[]" when the document has no
 *   "collection" key (as KrakenD).
 * - xml: one root element, with no XML declaration and no final newline
 *   (as KrakenD's renderer, mxj's XmlWriter). When the document has
 *   exactly one key whose value is not an array (and which is neither
 *   "#text" nor "-..."), that key is the root, otherwise the root is
 *   <doc> (as KrakenD's mxj renderer; KrakenD CE's built-in xml render
 *   writes only a "content" key, the krakend-xml renderer is the one
 *   followed here). Inside an object: a key "-name" with a scalar value
 *   is an attribute name="..." and "#text" is the element's text (the
 *   shape the xml decoder produces, so XML read from a backend reads back
 *   the same); every other key is a child element (attributes first, then
 *   the text, then the children); an array is one element per item with
 *   the key's name (none when it is
 *   empty; an array directly inside an array, or at the root, becomes
 *   items named <item>); null and "" are empty elements (<k/>); numbers
 *   and booleans are their JSON text.
 *   Names are made valid: a character that may not appear in an XML name
 *   (and ':') becomes '_', a name that cannot start as it does gets a
 *   leading '_', an empty name is "_"; non-ASCII letters are kept where
 *   they are name characters in both XML 1.0 editions (Latin, Greek,
 *   Cyrillic, Hebrew, Arabic, kana, CJK, Hangul). An attribute whose name
 *   would start with "xmlns" or repeat one already written is written as a
 *   child element instead (named from the whole key: "-a" -> <_-a>). Text
 *   is escaped (&amp; &lt; &gt;, CR as &#13;, and in attributes also
 *   &quot;, TAB as &#9; and LF as &#10;); characters XML 1.0
 *   cannot carry (NUL and other C0 controls, U+FFFE, U+FFFF) and invalid
 *   UTF-8 become U+FFFD.
 * - yaml: YAML 1.2 block style, two-space indentation (a sequence under a
 *   key is indented too, where KrakenD's writer does not), "{}"/"[]" for
 *   empty collections. A string or key is written plain only when it
 *   cannot be read as anything else, YAML 1.1 readers included: a letter,
 *   '_', a character beyond ASCII, or '-' and a letter or '_' first
 *   ("-type"); then letters, digits, ' ', characters beyond ASCII (but
 *   C1 controls, U+2028, U+2029, U+FEFF, U+FFFE, U+FFFF), the ASCII
 *   punctuation _-./@?=&%+~!$()*;'<>^|` and ':' when no ' ' or end
 *   follows ("https://x.org/a?b=c" is plain, as in KrakenD); no trailing
 *   space; not null/true/false/yes/no/on/off/y/n in any case. Otherwise it
 *   is double-quoted with escapes (\" \\ \n \t \r \0 \xXX, \uXXXX for
 *   U+2028/U+2029, U+FEFF, U+FFFE and U+FFFF, and \x80..\x9F). A key
 *   written longer than 1024 bytes is an explicit key ("? key", then
 *   ": value" on the next line), since YAML limits an implicit key to
 *   1024 characters. Reals always carry a '.'
 *   ("1.0e+300"), so YAML 1.1 readers see floats too.
 * - string: the "content" key's string as the body (as KrakenD), "" when
 *   there is none or it is not a string.
 * APIGW_OUT_NEGOTIATE must be resolved with apigw_negotiate first, and
 * APIGW_OUT_NOOP is a pass-through the caller does itself: apigw_encode
 * writes JSON for both.
 */
#ifndef APIGW_ENCODE_H
#define APIGW_ENCODE_H

#include <apr_pools.h>
#include <jansson.h>

typedef enum {
    APIGW_OUT_JSON = 0,         /* "json", the default */
    APIGW_OUT_JSON_COLLECTION,  /* "json-collection" */
    APIGW_OUT_XML,              /* "xml" */
    APIGW_OUT_YAML,             /* "yaml" */
    APIGW_OUT_STRING,           /* "string" */
    APIGW_OUT_NEGOTIATE,        /* "negotiate": by Accept */
    APIGW_OUT_NOOP              /* "no-op": the backend's body as it is */
} apigw_output_encoding;

/* Deepest document apigw_encode writes (a decoded response is at most
 * APIGW_DECODE_MAX_DEPTH deep; grouping and merging add little). */
#define APIGW_ENCODE_MAX_DEPTH 512

/* Parses an ApiOutputEncoding word (case-insensitive). Returns NULL and
 * sets *out, or a static message listing the valid words. */
const char *apigw_output_encoding_parse(const char *word,
                                        apigw_output_encoding *out);

/* "json", "json-collection", ... */
const char *apigw_output_encoding_name(apigw_output_encoding enc);

/* negotiate: chooses JSON, XML or YAML from an Accept header value
 * (RFC 9110: q-values; wildcard ranges, written here TYPE/ANY and ANY/ANY
 * for the asterisk forms; parameters other than q ignored; a range with a
 * malformed q ignored; names case-insensitive). The offered types are
 * KrakenD's (lura's negotiated renderer), in its order: application/json
 * (JSON), text/plain (YAML), application/xml (XML), application/x-yaml
 * (YAML); a range for another type (text/xml, application/yaml, ...)
 * matches none of them. Each offered type takes the q of the most specific
 * range that matches it; the highest q wins; a tie goes to the type whose
 * range comes first in the header, then to the offered order (so ANY/ANY
 * gives JSON and text/ANY YAML). NULL, empty, or nothing acceptable: JSON
 * (no 406), as KrakenD. Never STRING. Deviation: KrakenD ignores
 * q-values (the first range in the header that matches wins). */
apigw_output_encoding apigw_negotiate(const char *accept);

/* Serialises doc (see above). Returns the body, allocated from p, sets
 * *len (the body may hold NUL bytes only for STRING) and *content_type
 * (static: "application/json; charset=utf-8", "application/xml" (as
 * KrakenD), "application/yaml; charset=utf-8", "text/plain;
 * charset=utf-8"). The body is freed with p; the slots objects' members
 * are sorted in come from p. Returns NULL, leaving *len and *content_type
 * alone, when doc is NULL or nested deeper than APIGW_ENCODE_MAX_DEPTH.
 * doc is only read. */
const char *apigw_encode(apr_pool_t *p, const json_t *doc,
                         apigw_output_encoding enc, apr_size_t *len,
                         const char **content_type);

/* Room for any text apigw_format_real writes, NUL included. */
#define APIGW_REAL_BUFSIZE 32

/* Writes the shortest text that reads back as exactly d ("0.1", "1e+300",
 * "-2.5"), always with a '.' or an exponent ("2.0"); NaN and infinities
 * (which jansson never holds) as "null". Independent of the locale.
 * Returns the length. size must be at least APIGW_REAL_BUFSIZE. */
apr_size_t apigw_format_real(double d, char *buf, apr_size_t size);

#endif
