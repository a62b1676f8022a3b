/* The rss backend encoding: a parsed RSS 2.0, RSS 0.9x, RSS 1.0 (RDF) or
 * Atom 1.0 document mapped to KrakenD's (gofeed's) feed object, as
 * described in apigw_decode.h. apigw_decode.c parses the body and checks
 * the result's depth. */
#include <string.h>

#include <apr_strings.h>
#include <apr_tables.h>
#include <apr_xml.h>

#include "apigw_decode.h"
#include "apigw_decode_int.h"

#define NS_DC      "http://purl.org/dc/elements/1.1/"
#define NS_CONTENT "http://purl.org/rss/1.0/modules/content/"
#define NS_RSS1    "http://purl.org/rss/1.0/"
#define NS_RSS090  "http://my.netscape.com/rdf/simple/0.9/"
#define NS_ATOM    "http://www.w3.org/2005/Atom"

typedef struct {
    apr_pool_t *p;                 /* scratch (the XML subpool) */
    const apr_array_header_t *ns;  /* the document's namespace URIs */
} feed_ctx;

static const char *ns_uri(const feed_ctx *f, int ns)
{
    if (ns < 0 || ns >= f->ns->nelts) {
        return "";
    }
    return APR_XML_GET_URI_ITEM(f->ns, ns);
}

/* Whether e is <name> in namespace uri; uri NULL means a feed's own
 * element: no namespace, or RSS 1.0/0.90's or Atom's. */
static int is_elem(const feed_ctx *f, const apr_xml_elem *e, const char *uri,
                   const char *name)
{
    const char *u;

    if (strcmp(e->name, name) != 0) {
        return 0;
    }
    u = ns_uri(f, e->ns);
    if (uri) {
        return strcmp(u, uri) == 0;
    }
    return e->ns == APR_XML_NS_NONE || strcmp(u, NS_RSS1) == 0
           || strcmp(u, NS_RSS090) == 0 || strcmp(u, NS_ATOM) == 0;
}

static const apr_xml_elem *child(const feed_ctx *f, const apr_xml_elem *e,
                                 const char *uri, const char *name)
{
    const apr_xml_elem *c;

    for (c = e ? e->first_child : NULL; c; c = c->next) {
        if (is_elem(f, c, uri, name)) {
            return c;
        }
    }
    return NULL;
}

static const char *attr(const apr_xml_elem *e, const char *name)
{
    const apr_xml_attr *a;

    for (a = e->attr; a; a = a->next) {
        if (a->ns == APR_XML_NS_NONE && strcmp(a->name, name) == 0) {
            return a->value;
        }
    }
    return NULL;
}

/* All the text inside e (markup dropped), trimmed; "" when e is NULL. */
static void all_text(apr_array_header_t *out, const apr_xml_elem *e,
                     int depth)
{
    const apr_xml_elem *c;
    const apr_text *t;

    for (t = e->first_cdata.first; t; t = t->next) {
        APR_ARRAY_PUSH(out, const char *) = t->text;
    }
    for (c = e->first_child; c; c = c->next) {
        if (depth < APIGW_DECODE_MAX_DEPTH) {
            all_text(out, c, depth + 1);
        }
        for (t = c->following_cdata.first; t; t = t->next) {
            APR_ARRAY_PUSH(out, const char *) = t->text;
        }
    }
}

static const char *text_of(const feed_ctx *f, const apr_xml_elem *e)
{
    apr_array_header_t *parts;
    char *s, *end;

    if (!e) {
        return "";
    }
    parts = apr_array_make(f->p, 4, sizeof(const char *));
    all_text(parts, e, 0);
    s = apr_array_pstrcat(f->p, parts, 0);
    while (xml_space(*s)) {
        s++;
    }
    end = s + strlen(s);
    while (end > s && xml_space(end[-1])) {
        end--;
    }
    *end = '\0';
    return s;
}

/* Sets key to text when it is not empty. */
static void set_text(json_t *obj, const char *key, const char *text)
{
    if (text && *text) {
        json_object_set_new(obj, key, json_string(text));
    }
}

/* "mail@host (Name)", "Name <mail@host>", "mail@host" or "Name" as
 * {"name", "email"}; NULL when empty. */
static json_t *person(const feed_ctx *f, const char *s)
{
    const char *name = NULL, *email = NULL;
    apr_size_t n = strlen(s);
    const char *open;
    json_t *obj;

    if (n == 0) {
        return NULL;
    }
    if (s[n - 1] == ')' && (open = strrchr(s, '(')) != NULL) {
        name = apr_pstrndup(f->p, open + 1, (apr_size_t)(s + n - 1 - open - 1));
        email = apr_pstrndup(f->p, s, (apr_size_t)(open - s));
    }
    else if (s[n - 1] == '>' && (open = strrchr(s, '<')) != NULL) {
        email = apr_pstrndup(f->p, open + 1, (apr_size_t)(s + n - 1 - open - 1));
        name = apr_pstrndup(f->p, s, (apr_size_t)(open - s));
    }
    else if (strchr(s, '@') && !strchr(s, ' ')) {
        email = s;
    }
    else {
        name = s;
    }
    obj = json_object();
    if (!obj) {
        return NULL;
    }
    if (name) {
        char *t = apr_pstrdup(f->p, name), *e = t + strlen(t);

        while (xml_space(*t)) {
            t++;
        }
        while (e > t && xml_space(e[-1])) {
            *--e = '\0';
        }
        set_text(obj, "name", t);
    }
    if (email) {
        char *t = apr_pstrdup(f->p, email), *e = t + strlen(t);

        while (xml_space(*t)) {
            t++;
        }
        while (e > t && xml_space(e[-1])) {
            *--e = '\0';
        }
        set_text(obj, "email", t);
    }
    if (json_object_size(obj) == 0) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

static json_t *atom_person(const feed_ctx *f, const apr_xml_elem *e)
{
    json_t *obj = json_object();

    if (!obj) {
        return NULL;
    }
    set_text(obj, "name", text_of(f, child(f, e, NULL, "name")));
    set_text(obj, "email", text_of(f, child(f, e, NULL, "email")));
    if (json_object_size(obj) == 0) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

/* Appends to *arr (created on first use) the text, or attribute, of every
 * child <name> of e. */
static void collect(const feed_ctx *f, const apr_xml_elem *e,
                    const char *uri, const char *name, const char *attr_name,
                    json_t **arr)
{
    const apr_xml_elem *c;

    for (c = e->first_child; c; c = c->next) {
        const char *v;

        if (!is_elem(f, c, uri, name)) {
            continue;
        }
        v = attr_name ? attr(c, attr_name) : text_of(f, c);
        if (!v || !*v) {
            continue;
        }
        if (!*arr) {
            *arr = json_array();
            if (!*arr) {
                return;
            }
        }
        json_array_append_new(*arr, json_string(v));
    }
}

static void set_new_nonnull(json_t *obj, const char *key, json_t *v)
{
    if (v) {
        json_object_set_new(obj, key, v);
    }
}

static json_t *rss_item(const feed_ctx *f, const apr_xml_elem *it)
{
    json_t *item = json_object(), *links = NULL, *cats = NULL, *encl = NULL;
    const apr_xml_elem *c;
    const char *author;
    json_t *who;

    if (!item) {
        return NULL;
    }
    set_text(item, "title", text_of(f, child(f, it, NULL, "title")));
    set_text(item, "description",
             text_of(f, child(f, it, NULL, "description")));
    set_text(item, "content", text_of(f, child(f, it, NS_CONTENT, "encoded")));
    collect(f, it, NULL, "link", NULL, &links);
    if (links) {
        json_object_set(item, "link", json_array_get(links, 0));
        json_object_set_new(item, "links", links);
    }
    set_text(item, "published", text_of(f, child(f, it, NULL, "pubDate")));
    set_text(item, "updated", text_of(f, child(f, it, NS_DC, "date")));
    author = text_of(f, child(f, it, NULL, "author"));
    if (!*author) {
        author = text_of(f, child(f, it, NS_DC, "creator"));
    }
    who = person(f, author);
    if (who) {
        json_t *authors = json_array();

        json_array_append(authors, who);
        json_object_set_new(item, "author", who);
        set_new_nonnull(item, "authors", authors);
    }
    set_text(item, "guid", text_of(f, child(f, it, NULL, "guid")));
    collect(f, it, NULL, "category", NULL, &cats);
    set_new_nonnull(item, "categories", cats);
    for (c = it->first_child; c; c = c->next) {
        json_t *en;

        if (!is_elem(f, c, NULL, "enclosure")) {
            continue;
        }
        en = json_object();
        if (!en) {
            break;
        }
        set_text(en, "url", attr(c, "url"));
        set_text(en, "length", attr(c, "length"));
        set_text(en, "type", attr(c, "type"));
        if (!encl) {
            encl = json_array();
        }
        json_array_append_new(encl, en);
    }
    set_new_nonnull(item, "enclosures", encl);
    return item;
}

static json_t *atom_entry(const feed_ctx *f, const apr_xml_elem *it)
{
    json_t *item = json_object(), *links = NULL, *cats = NULL, *encl = NULL;
    json_t *authors = NULL;
    const apr_xml_elem *c;
    const char *link = NULL;

    if (!item) {
        return NULL;
    }
    set_text(item, "title", text_of(f, child(f, it, NULL, "title")));
    set_text(item, "description", text_of(f, child(f, it, NULL, "summary")));
    set_text(item, "content", text_of(f, child(f, it, NULL, "content")));
    for (c = it->first_child; c; c = c->next) {
        const char *href, *rel;

        if (is_elem(f, c, NULL, "author")) {
            json_t *who = atom_person(f, c);

            if (who) {
                if (!authors) {
                    authors = json_array();
                }
                json_array_append_new(authors, who);
            }
            continue;
        }
        if (!is_elem(f, c, NULL, "link") || !(href = attr(c, "href"))
            || !*href) {
            continue;
        }
        rel = attr(c, "rel");
        if (rel && strcmp(rel, "enclosure") == 0) {
            json_t *en = json_object();

            if (!en) {
                continue;
            }
            set_text(en, "url", href);
            set_text(en, "length", attr(c, "length"));
            set_text(en, "type", attr(c, "type"));
            if (!encl) {
                encl = json_array();
            }
            json_array_append_new(encl, en);
            continue;
        }
        if (!link && (!rel || strcmp(rel, "alternate") == 0)) {
            link = href;
        }
        if (!links) {
            links = json_array();
        }
        json_array_append_new(links, json_string(href));
    }
    if (!link && links) {
        link = json_string_value(json_array_get(links, 0));
    }
    set_text(item, "link", link);
    set_new_nonnull(item, "links", links);
    set_text(item, "published", text_of(f, child(f, it, NULL, "published")));
    set_text(item, "updated", text_of(f, child(f, it, NULL, "updated")));
    if (authors && json_array_size(authors) > 0) {
        json_object_set(item, "author", json_array_get(authors, 0));
    }
    set_new_nonnull(item, "authors", authors);
    set_text(item, "guid", text_of(f, child(f, it, NULL, "id")));
    collect(f, it, NULL, "category", "term", &cats);
    set_new_nonnull(item, "categories", cats);
    set_new_nonnull(item, "enclosures", encl);
    return item;
}

static json_t *or_null(json_t *v)
{
    return v ? v : json_null();
}

static const char *first_text(const feed_ctx *f, const apr_xml_elem *e,
                              const char *n1, const char *uri2,
                              const char *n2)
{
    const char *s = text_of(f, child(f, e, NULL, n1));

    if (!*s && n2) {
        s = text_of(f, child(f, e, uri2, n2));
    }
    return s;
}

static json_t *rss_feed(const feed_ctx *f, const apr_xml_elem *root,
                        const char **err)
{
    const apr_xml_elem *ch, *items_in, *c, *img;
    json_t *feed, *items, *cats = NULL, *who;
    const char *author;
    int rdf = strcmp(root->name, "RDF") == 0;

    ch = child(f, root, NULL, "channel");
    if (!ch) {
        *err = "the backend's RSS has no <channel>";
        return NULL;
    }
    feed = json_object();
    items = json_array();
    if (!feed || !items) {
        json_decref(feed);
        json_decref(items);
        *err = "out of memory while decoding the backend response";
        return NULL;
    }
    items_in = rdf ? root : ch;
    for (c = items_in->first_child; c; c = c->next) {
        if (is_elem(f, c, NULL, "item")) {
            json_array_append_new(items, rss_item(f, c));
        }
    }
    json_object_set_new(feed, "items", items);
    author = text_of(f, child(f, ch, NULL, "managingEditor"));
    if (!*author) {
        author = text_of(f, child(f, ch, NULL, "webMaster"));
    }
    if (!*author) {
        author = text_of(f, child(f, ch, NS_DC, "creator"));
    }
    who = person(f, author);
    json_object_set_new(feed, "author", or_null(who));
    collect(f, ch, NULL, "category", NULL, &cats);
    json_object_set_new(feed, "categories", or_null(cats));
    json_object_set_new(feed, "custom", json_null());
    json_object_set_new(feed, "copyright", json_string(
                            first_text(f, ch, "copyright", NS_DC, "rights")));
    json_object_set_new(feed, "description", json_string(
                            first_text(f, ch, "description", NULL, NULL)));
    json_object_set_new(feed, "type", json_string("rss"));
    json_object_set_new(feed, "language", json_string(
                            first_text(f, ch, "language", NS_DC, "language")));
    json_object_set_new(feed, "title", json_string(
                            first_text(f, ch, "title", NULL, NULL)));
    json_object_set_new(feed, "published", json_string(
                            first_text(f, ch, "pubDate", NULL, NULL)));
    json_object_set_new(feed, "updated", json_string(
                            first_text(f, ch, "lastBuildDate", NS_DC, "date")));
    img = child(f, ch, NULL, "image");
    if (!img && rdf) {
        img = child(f, root, NULL, "image");
    }
    if (img && *text_of(f, child(f, img, NULL, "url"))) {
        json_object_set_new(feed, "img_url", json_string(
                                text_of(f, child(f, img, NULL, "url"))));
    }
    return feed;
}

static json_t *atom_feed(const feed_ctx *f, const apr_xml_elem *root,
                         const char **err)
{
    const apr_xml_elem *c;
    json_t *feed = json_object(), *items = json_array(), *cats = NULL;
    json_t *who = NULL;
    const char *logo;

    if (!feed || !items) {
        json_decref(feed);
        json_decref(items);
        *err = "out of memory while decoding the backend response";
        return NULL;
    }
    for (c = root->first_child; c; c = c->next) {
        if (is_elem(f, c, NULL, "entry")) {
            json_array_append_new(items, atom_entry(f, c));
        }
        else if (!who && is_elem(f, c, NULL, "author")) {
            who = atom_person(f, c);
        }
    }
    json_object_set_new(feed, "items", items);
    json_object_set_new(feed, "author", or_null(who));
    collect(f, root, NULL, "category", "term", &cats);
    json_object_set_new(feed, "categories", or_null(cats));
    json_object_set_new(feed, "custom", json_null());
    json_object_set_new(feed, "copyright", json_string(
                            first_text(f, root, "rights", NULL, NULL)));
    json_object_set_new(feed, "description", json_string(
                            first_text(f, root, "subtitle", NULL, NULL)));
    json_object_set_new(feed, "type", json_string("atom"));
    json_object_set_new(feed, "language", json_string(
                            root->lang ? root->lang : ""));
    json_object_set_new(feed, "title", json_string(
                            first_text(f, root, "title", NULL, NULL)));
    json_object_set_new(feed, "published", json_string(
                            first_text(f, root, "published", NULL, NULL)));
    json_object_set_new(feed, "updated", json_string(
                            first_text(f, root, "updated", NULL, NULL)));
    logo = first_text(f, root, "logo", NULL, NULL);
    if (*logo) {
        json_object_set_new(feed, "img_url", json_string(logo));
    }
    return feed;
}

json_t *apigw_decode_feed(apr_pool_t *p, apr_pool_t *scratch,
                          const apr_xml_doc *doc, const char **err)
{
    feed_ctx f;
    const char *root = doc->root->name;

    f.p = scratch;
    f.ns = doc->namespaces;
    if (strcmp(root, "rss") == 0 || strcmp(root, "RDF") == 0) {
        return rss_feed(&f, doc->root, err);
    }
    if (strcmp(root, "feed") == 0) {
        return atom_feed(&f, doc->root, err);
    }
    *err = apigw_decode_clean_msg(p, apr_psprintf(p, "the backend's XML is "
                                                  "not an RSS or Atom feed "
                                                  "(its root element is "
                                                  "<%s>)", root));
    return NULL;
}
