/* The matcher's fast path through a goldenbell.v1.EventBatch: a scanner
 * that walks the packed batch and, for each Event, gives the fields the
 * hot path needs as pointers into the message, without allocating or
 * copying. Almost every event concerns nobody protected; a full protobuf-c
 * unpack mallocs every string of it only for the event to be dropped. An
 * event that does concern someone can still be unpacked in full from
 * ptr/len with goldenbell__v1__event__unpack.
 *
 * What it yields equals what goldenbell__v1__event_batch__unpack (protobuf-c
 * 1.4) gives for the same bytes:
 *   - unknown fields are skipped, at every level;
 *   - a scalar or string given twice: the last one wins;
 *   - `call` or `visit` given more than once: the last occurrence is the
 *     body, as in protobuf-c, which frees an earlier member of a oneof
 *     instead of merging it (proto3 would merge two `call`s; protobuf-c
 *     does not, and matcher must agree with its own slow path);
 *   - an absent field is 0, false, or an empty string ("", length 0);
 *   - enums are the raw numbers, unknown values included (proto3 enums are
 *     open); int64 fields are two's complement, so negative ones come out
 *     negative.
 * It refuses what protobuf-c refuses: a known field with the wrong wire
 * type (say `subject` encoded as a varint) makes the event malformed,
 * nested messages (`origin`, `call`, `visit`) included. The one exception
 * protobuf-c makes, a bool of any wire type, is copied: it is true when
 * any payload bit is set, or when a length-delimited one is non-empty.
 *
 * The difference: protobuf-c refuses a batch with a malformed event as a
 * whole, while the scanner yields the good events before it and then
 * GB_EINVAL. A caller that must not act on part of a bad batch scans it
 * once to the end before acting.
 *
 * The batch must stay alive and unchanged while its ev_scan_t's are used.
 * One iterator per thread; no global state. */
#ifndef MATCHER_WIRE_H
#define MATCHER_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gb/pbwire.h"

#define EV_BODY_NONE 0
#define EV_BODY_CALL 1  /* Event.call (CallView) */
#define EV_BODY_VISIT 2 /* Event.visit (VisitView) */

/* Strings point into the batch and are not NUL-terminated: print them with
 * "%.*s". Enum fields hold goldenbell.v1 enum numbers (NumberClass,
 * CallStatus, VisitKind). */
typedef struct {
  const uint8_t *ptr; /* the whole Event's bytes (for a full unpack of this one event) */
  size_t len;
  uint32_t version;
  const char *subject;
  size_t subject_len;
  const char *event_id;
  size_t event_id_len;
  int64_t ts_ms;
  int body; /* EV_BODY_*; the fields of the other body are zero */
  /* call (CallView) */
  const char *call_id;
  size_t call_id_len;
  const char *counterpart;
  size_t counterpart_len;
  int counterpart_class;
  bool outgoing;
  bool international;
  int64_t start_ms;
  uint32_t duration_s;
  int status;
  /* visit (VisitView) */
  int visit_kind;
  const char *target;
  size_t target_len;
  const char *domain;
  size_t domain_len;
} ev_scan_t;

typedef struct {
  gb_pbwire_t w;
} ev_iter_t;

/* Starts a scan of len bytes of a packed EventBatch at batch. */
void ev_iter_init(ev_iter_t *it, const void *batch, size_t len);

/* Returns 1 with *e set to the next event, 0 at the end of the batch, or
 * GB_EINVAL when the batch or the next event is malformed, with a short
 * static reason in *why; the iterator then stays on the bad event (at byte
 * it->w.off), so calling again fails again. *e is undefined unless 1 is
 * returned. */
int ev_iter_next(ev_iter_t *it, ev_scan_t *e, const char **why);

#endif
