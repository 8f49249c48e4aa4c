#include "gb/alertnames.h"

#include "goldenbell/v1/alert.pb-c.h"

const char *gb_risk_name(int r) {
  switch (r) {
  case GOLDENBELL__V1__RISK__RISK_LOW: return "low";
  case GOLDENBELL__V1__RISK__RISK_MEDIUM: return "medium";
  case GOLDENBELL__V1__RISK__RISK_HIGH: return "high";
  default: return "unknown";
  }
}

const char *gb_rule_name(int r) {
  switch (r) {
  case GOLDENBELL__V1__RULE__RULE_LONG_FRAUD_CALL: return "long_fraud_call";
  case GOLDENBELL__V1__RULE__RULE_FRAUD_SITE_OR_APP: return "fraud_site_or_app";
  case GOLDENBELL__V1__RULE__RULE_FRAUD_CONTACT: return "fraud_contact";
  case GOLDENBELL__V1__RULE__RULE_INTERNATIONAL_CALLS: return "international_calls";
  case GOLDENBELL__V1__RULE__RULE_COMBINATION: return "combination";
  case GOLDENBELL__V1__RULE__RULE_RETRO_HUNT: return "retro_hunt";
  default: return "unknown";
  }
}
