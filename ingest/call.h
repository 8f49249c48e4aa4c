/* A carrier's call record, validated and normalised. */
#ifndef INGEST_CALL_H
#define INGEST_CALL_H

#include <stdint.h>

#include "flat.h"
#include "gb/jsonutil.h"
#include "gb/phone.h"
#include "goldenbell/v1/input.pb-c.h"

#define INGEST_CALL_ID_MAX 128
#define INGEST_CARRIER_MAX 32

typedef struct {
  char call_id[INGEST_CALL_ID_MAX + 1];
  char caller[GB_PHONE_MAX];
  gb_phone_class_t caller_class;
  char callee[GB_PHONE_MAX];
  gb_phone_class_t callee_class;
  int64_t start_ms;
  uint32_t duration_s;
  char carrier[INGEST_CARRIER_MAX + 1];
  int ongoing;       /* 1 for an interim record */
  int international; /* 1 when the carrier says so or a party is outside China */
} ingest_call_t;

/**
 * Reads a call from a JSON record or a protobuf CallRecord (docs/API.md,
 * "gb.calls"): validates every field, normalises both numbers, and rejects
 * an event that starts more than max_future_ms after now_ms.
 * Returns 0, or GB_EINVAL with r filled.
 */
int ingest_call_from_json(ingest_call_t *c, const flat_rec_t *obj, int64_t now_ms,
                          int64_t max_future_ms, gb_reject_t *r);
int ingest_call_from_proto(ingest_call_t *c, const Goldenbell__V1__CallRecord *pb,
                           int64_t now_ms, int64_t max_future_ms, gb_reject_t *r);

#endif
