#include "warning.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "gb/alertnames.h"

void warning_mask(char *out, size_t size, const char *e164) {
  const char *n = strncmp(e164, "+86", 3) == 0 ? e164 + 3 : e164;
  size_t len = strlen(n);
  if (len < 8) {
    snprintf(out, size, "%s", n);
    return;
  }
  snprintf(out, size, "%.3s****%s", n, n + len - 4);
}

/* What happened, in the words of the message. */
static const char *what(int rule) {
  switch (rule) {
  case GOLDENBELL__V1__RULE__RULE_FRAUD_SITE_OR_APP:
    return "访问了涉诈网站或安装了涉诈应用";
  case GOLDENBELL__V1__RULE__RULE_INTERNATIONAL_CALLS:
    return "短时间内接到多个境外来电";
  case GOLDENBELL__V1__RULE__RULE_COMBINATION:
    return "出现多项涉诈迹象";
  default:
    return "与涉诈号码有过通话";
  }
}

char *warning_json(const Goldenbell__V1__Alert *a, const Goldenbell__V1__Protector *p) {
  char masked[32], msg[512];
  warning_mask(masked, sizeof(masked), a->subject);
  if (strcmp(p->relation, "self") == 0)
    snprintf(msg, sizeof(msg),
             "【金钟罩反诈预警】您的号码%s。公检法不会电话办案，不要透露验证码，不要转账汇款；"
             "如有疑问请拨打96110。", what(a->rule));
  else
    snprintf(msg, sizeof(msg),
             "【金钟罩反诈预警】您登记守护的家人（%s，%s）%s。请立即联系提醒，切勿转账汇款；"
             "如有疑问请拨打96110。", p->relation, masked, what(a->rule));
  json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "alert_id", a->alert_id, "to",
                        p->registrant, "relation", p->relation, "subject", masked, "risk",
                        gb_risk_name(a->risk), "rule", gb_rule_name(a->rule), "message", msg);
  if (!o) return NULL;
  char *s = json_dumps(o, JSON_COMPACT);
  json_decref(o);
  return s;
}
