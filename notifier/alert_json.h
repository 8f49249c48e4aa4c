/* The JSON an officer's device receives for an alert (docs/API.md). */
#ifndef NOTIFIER_ALERT_JSON_H
#define NOTIFIER_ALERT_JSON_H

#include "goldenbell/v1/alert.pb-c.h"

/* Returns a malloc'ed compact JSON string (free it), or NULL. */
char *alert_to_json(const Goldenbell__V1__Alert *a);

const char *alert_risk_name(Goldenbell__V1__Risk r);
const char *alert_rule_name(Goldenbell__V1__Rule r);

#endif
