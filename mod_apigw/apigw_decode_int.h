/* Backend decoding, inside view: what apigw_decode.c shares with the
 * RSS/Atom decoder in apigw_decode_feed.c. Only the apigw_decode*.c files
 * include this. */
#ifndef APIGW_DECODE_INT_H
#define APIGW_DECODE_INT_H

#include <apr.h>
#include <apr_pools.h>
#include <apr_xml.h>
#include <jansson.h>

/* XML white space */
static APR_INLINE int xml_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* apigw_decode.c: a copy of msg fit for a log line, control and non-ASCII
 * bytes as '?'. */
const char *apigw_decode_clean_msg(apr_pool_t *p, const char *msg);

/* apigw_decode_feed.c: doc, parsed by apigw_decode.c, as KrakenD's feed
 * object (see "rss" in apigw_decode.h), not yet checked for depth. NULL
 * with *err set (static, or from p) when the root is not <rss>, <RDF> or
 * <feed>, an RSS feed has no <channel>, or memory runs out. scratch holds
 * strings that need not outlive doc (the pool doc lives in). */
json_t *apigw_decode_feed(apr_pool_t *p, apr_pool_t *scratch,
                          const apr_xml_doc *doc, const char **err);

#endif
