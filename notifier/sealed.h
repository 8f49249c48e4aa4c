/* Citizens' data in notifier's Redis values, sealed at rest (gb/keyring.h):
 * the alert's JSON in its hash and in the station's feed, the registrants'
 * warnings, and the webhooks' queued and dead bodies all carry phone
 * numbers, so none is stored in plain text. What crosses the wire (the push
 * stream, the API, the webhooks) is opened on the way out.
 *
 * A feed entry is `event`, `json` (sealed, or plain JSON when it carries no
 * one's data: a workflow change) and, for an escalation or a reminder,
 * `extra`: a plain JSON object whose members join the opened alert (the
 * Lua scripts that add those entries copy the sealed alert unopened).
 *
 * Values written before sealing began (plain JSON: they start with '{')
 * are read as they are, so an upgrade needs no migration. Thread-safe. */
#ifndef NOTIFIER_SEALED_H
#define NOTIFIER_SEALED_H

#include "gb/keyring.h"

#define SEALED_FEED "notifier.feed"       /* al:{st:..}:<id> json, feed entries */
#define SEALED_WEBHOOK "notifier.webhook" /* {wh}:job:<id> bodies, {wh}:dead */

/* The sealed form of plain (NUL-terminated), malloc'd; NULL when out of memory. */
char *sealed_seal(const gb_keyring_t *kr, const char *context, const char *plain);

/* The plain form of stored (sealed, or plain JSON passed through), malloc'd;
 * NULL when it does not open (unknown key, tampered, another context). */
char *sealed_open(const gb_keyring_t *kr, const char *context, const char *stored);

/* A feed entry's JSON as devices and gateways get it: json opened and
 * extra's members (when given) set on it. malloc'd; NULL as sealed_open. */
char *sealed_feed_json(const gb_keyring_t *kr, const char *json, const char *extra);

#endif
