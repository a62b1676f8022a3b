/* The parts of a WebSocket opening handshake (RFC 6455 4.1, 4.2.1) the
 * gateway checks before a backend sees it: header token lists
 * (Upgrade, Connection) and the Sec-WebSocket-Key. Pure: no httpd, no
 * allocation; apigw_stream.c applies them. */
#ifndef APIGW_WS_HANDSHAKE_H
#define APIGW_WS_HANDSHAKE_H

/* Does the comma-separated header value hold token, case-insensitively,
 * spaces and tabs around each element ignored? NULL holds nothing. */
int apigw_ws_has_token(const char *value, const char *token);

/* Is key a valid Sec-WebSocket-Key: the base64 of exactly 16 bytes (22
 * characters of the base64 alphabet, the last one carrying no stray
 * bits, then "==")? NULL is not. */
int apigw_ws_key_valid(const char *key);

#endif
