/* Field checks shared by the call and visit readers, whatever the input
 * format: each fills a gb_reject_t naming the field. */
#ifndef INGEST_FIELDS_H
#define INGEST_FIELDS_H

#include <stddef.h>
#include <stdint.h>

#include "gb/jsonutil.h"
#include "gb/phone.h"

/* Copies s (len bytes) into out (at most max bytes plus NUL): required
 * fields may not be empty; no field may hold NUL or invalid UTF-8. */
int field_text(char *out, size_t max, const char *s, size_t len, const char *field,
               int required, gb_reject_t *r);

/* Normalises a phone number field; service numbers are allowed only when
 * allow_service. */
int field_phone(char *out, gb_phone_class_t *cls, const char *s, size_t len, const char *field,
                int allow_service, gb_reject_t *r);

/* Checks an event time against the clock-skew allowance. */
int field_time_skew(int64_t ts_ms, int64_t now_ms, int64_t max_future_ms, const char *field,
                    gb_reject_t *r);

/* Checks a protobuf record's version: 0 (unset) and 1 are version 1. */
int field_version(uint32_t version, gb_reject_t *r);

#endif
