/* The JSON an officer's device receives for an alert (docs/API.md). */
#ifndef NOTIFIER_ALERT_JSON_H
#define NOTIFIER_ALERT_JSON_H

#include "goldenbell/v1/alert.pb-c.h"

/* Returns a malloc'ed compact JSON string (free it), or NULL. */
char *alert_to_json(const Goldenbell__V1__Alert *a);


#endif
