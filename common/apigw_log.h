/* Log tags of the mod_apigw modules: "AGW00101: ..." in the error log,
 * unique per message so operators and tests can grep for one line.
 * Ranges: mod_apigw 00100-00999, mod_apigw_ratelimit 01000-01999,
 * mod_apigw_breaker 02000-02999, common code 09000-09999. */
#ifndef APIGW_LOG_H
#define APIGW_LOG_H

#define APIGW_LOGNO(n) "AGW" #n ": "

#endif
