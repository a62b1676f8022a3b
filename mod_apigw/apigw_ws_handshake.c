/* WebSocket handshake checks (see apigw_ws_handshake.h). */
#include "apigw_ws_handshake.h"

#include <string.h>
#include <strings.h>

int apigw_ws_has_token(const char *value, const char *token)
{
    size_t tlen = strlen(token);

    while (value && *value) {
        const char *end;

        while (*value == ' ' || *value == '\t' || *value == ',') {
            value++;
        }
        if (!*value) {
            break;
        }
        end = value;
        while (*end && *end != ',') {
            end++;
        }
        while (end > value && (end[-1] == ' ' || end[-1] == '\t')) {
            end--;
        }
        if ((size_t)(end - value) == tlen
            && strncasecmp(value, token, tlen) == 0) {
            return 1;
        }
        while (*end && *end != ',') {
            end++;                     /* past the trailing blanks */
        }
        value = end;
    }
    return 0;
}

static int is_base64_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
        || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

int apigw_ws_key_valid(const char *key)
{
    int i;

    if (!key || strlen(key) != 24 || strcmp(key + 22, "==") != 0) {
        return 0;
    }
    for (i = 0; i < 22; i++) {
        if (!is_base64_char(key[i])) {
            return 0;
        }
    }
    /* 16 bytes are 128 bits: the 22nd character carries 2 of its 6, the
     * other 4 must be zero (A, Q, g or w) */
    return strchr("AQgw", key[21]) != NULL;
}
