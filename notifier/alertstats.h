/* Alert statistics per station (GET /v1/stats/alerts), kept by the Lua
 * scripts that change alerts (feed.c, workflow.c, escalation.c) in the same
 * step as the change, so they are exact and live:
 *   <p>ast:{st:<s>}            HASH  state:<state> -> the station's alerts in it now;
 *                                    open:<risk> -> its open alerts (new, claimed,
 *                                    disputed) by the highest risk they reached
 *                                    (the alert's open_risk; feed.c); escalated_open ->
 *                                    its open alerts escalated at least once (the
 *                                    alert's esc_open 1 while counted)
 *   <p>ast:{st:<s>}:<day>      HASH  the day's counts: risk:<risk> (alerts received, each
 *                                    at the highest risk it reached that day),
 *                                    claimed, outcome:<outcome>, escalated:<level>, reminders
 *   <p>ast:{st:<s>}:<day>:ttc  ZSET  alert -> ms from reaching the officers to its first
 *                                    claim, for claims made that day
 *   <p>ast:{st:<s>}:<day>:ttr  ZSET  alert -> ms from reaching the officers to resolved
 *   <p>unc:{st:<s>}            ZSET  alert -> arrived_ms of its alerts in state new
 *                                    (the oldest unclaimed: gb/keys.h)
 * <day> is the day in China (YYYYMMDD, gb_china_day); day keys live
 * AST_DAY_TTL_S. Outcomes: the record's (dissuaded, could_not_reach,
 * money_transferred, not_fraud), or a settled dispute's (not_fraud,
 * duplicate, reassigned). */
#ifndef NOTIFIER_ALERTSTATS_H
#define NOTIFIER_ALERTSTATS_H

#include "gb/keys.h"

#define AST_DAY_TTL_S (32 * 86400)
#define AST_DAY_TTL_LUA "2764800" /* AST_DAY_TTL_S, for the scripts' text */

typedef struct {
  char live[GB_KEY_MAX], day[GB_KEY_MAX], ttc[GB_KEY_MAX], ttr[GB_KEY_MAX];
} ast_keys_t;

void ast_keys(ast_keys_t *k, const char *prefix, const char *station, int day);

/* Registers GET /v1/stats/alerts (api_alertstats.c). */
struct notifier;
void notifier_api_alertstats_register(struct notifier *n);

#endif
