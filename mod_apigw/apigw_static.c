/* ApiStatic's arguments, its strategies, and adding its data to an
 * aggregated answer (see apigw_static.h). */
#include "apigw_static.h"
#include "apigw_merge.h"

#include <string.h>
#include <apr_lib.h>
#include <apr_strings.h>

#define STRATEGY_PREFIX "strategy="
#define STRATEGY_PREFIX_LEN (sizeof(STRATEGY_PREFIX) - 1)

static apr_status_t release_json(void *data)
{
    json_decref(data);
    return APR_SUCCESS;
}

static const char *skip_space(const char *s)
{
    while (apr_isspace(*s)) {
        s++;
    }
    return s;
}

static const char *parse_strategy(const char *word, apigw_static_strategy *out)
{
    static const struct {
        const char *name;
        apigw_static_strategy s;
    } names[] = {
        { "always", APIGW_STATIC_ALWAYS }, { "success", APIGW_STATIC_SUCCESS },
        { "errored", APIGW_STATIC_ERRORED },
        { "incomplete", APIGW_STATIC_INCOMPLETE },
        { "complete", APIGW_STATIC_COMPLETE }, { NULL, 0 }
    };
    int i;

    for (i = 0; names[i].name; i++) {
        if (strcmp(word, names[i].name) == 0) {
            *out = names[i].s;
            return NULL;
        }
    }
    return "strategy is always, success, errored, incomplete or complete";
}

/* "strategy=WORD" up to white space, when args starts with it; *args is
 * moved past it and the white space after. */
static const char *read_strategy(apr_pool_t *p, const char **args,
                                 apigw_static_strategy *out)
{
    const char *s = *args, *end, *err;
    char *word;

    if (strncmp(s, STRATEGY_PREFIX, STRATEGY_PREFIX_LEN) != 0) {
        return NULL;
    }
    for (end = s; *end && !apr_isspace(*end); end++)
        ;
    word = apr_pstrmemdup(p, s, (apr_size_t)(end - s));
    if ((err = parse_strategy(word + STRATEGY_PREFIX_LEN, out)) != NULL) {
        return apr_psprintf(p, "ApiStatic %s: %s", word, err);
    }
    *args = skip_space(end);
    return NULL;
}

const char *apigw_static_parse(apr_pool_t *p, const char *args,
                               apigw_static *out)
{
    json_error_t jerr;
    json_t *data;
    const char *err;

    out->strategy = APIGW_STATIC_ALWAYS;
    out->data = NULL;
    args = skip_space(args);
    if ((err = read_strategy(p, &args, &out->strategy)) != NULL) {
        return err;
    }
    data = json_loads(args, JSON_REJECT_DUPLICATES, &jerr);
    if (!data) {
        return apr_psprintf(p, "ApiStatic: not valid JSON at character %d: "
                            "%s", jerr.position, jerr.text);
    }
    if (!json_is_object(data)) {
        json_decref(data);
        return "ApiStatic: the data must be a JSON object, like "
               "{\"source\": \"gateway\"}";
    }
    apr_pool_cleanup_register(p, data, release_json, apr_pool_cleanup_null);
    out->data = data;
    return NULL;
}

int apigw_static_applies(apigw_static_strategy s, int complete, int errored)
{
    switch (s) {
    case APIGW_STATIC_ALWAYS:     return 1;
    case APIGW_STATIC_SUCCESS:    return !errored;
    case APIGW_STATIC_ERRORED:    return errored;
    case APIGW_STATIC_INCOMPLETE: return !complete;
    case APIGW_STATIC_COMPLETE:   return complete;
    }
    return 0;
}

void apigw_static_add(json_t *doc, const apr_array_header_t *statics,
                      int complete, int errored)
{
    int i;

    for (i = 0; statics && i < statics->nelts; i++) {
        const apigw_static *st = &APR_ARRAY_IDX(statics, i, apigw_static);

        if (apigw_static_applies(st->strategy, complete, errored)) {
            apigw_merge_into(doc, st->data);
        }
    }
}
