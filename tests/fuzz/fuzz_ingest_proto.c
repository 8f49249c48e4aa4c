/* ingest reading protobuf messages on gb.calls and gb.visits: a
 * CallRecordBatch / VisitRecordBatch split in place (ingest/split.c,
 * common/src/pbwire.c), or a single record, each unpacked into ingest's
 * arena and read by ingest/call.c or visit.c; the topic's default format is
 * protobuf. What is checked, and the input's first byte:
 * ingest_harness.h. */
#include "ingest_harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  return fuzz_ingest_one(FORMAT_PROTOBUF, data, size);
}
