/* The names of alert risks and rules as logs, JSON and docs spell them
 * ("high", "long_fraud_call"), for goldenbell.v1.Risk and Rule values. */
#ifndef GB_ALERTNAMES_H
#define GB_ALERTNAMES_H

/* "low", "medium", "high"; "unknown" for anything else. */
const char *gb_risk_name(int risk);
/* "long_fraud_call", "fraud_site_or_app", "fraud_contact",
 * "international_calls", "combination", "retro_hunt"; "unknown" else. */
const char *gb_rule_name(int rule);

#endif
