/* The registrant's warning: what a citizen who registered for protection
 * (and follows the account) receives through the push gateways when they,
 * or a family member they listed, are targeted. Family members are not
 * warned: they can register themselves. Low-risk alerts go to the
 * registrant alone; the station's officers do not see them. */
#ifndef NOTIFIER_WARNING_H
#define NOTIFIER_WARNING_H

#include "goldenbell/v1/alert.pb-c.h"

/* The warning for protector p of alert a, as JSON (free it), or NULL:
 *   {"alert_id", "to": the registrant's number, "relation", "subject": the
 *    subject masked (138****0001), "risk", "rule", "message": the words to
 *    send, in Chinese} */
char *warning_json(const Goldenbell__V1__Alert *a, const Goldenbell__V1__Protector *p);

/* Masks a number for a message: +8613812340001 -> 138****0001. */
void warning_mask(char *out, size_t size, const char *e164);

#endif
