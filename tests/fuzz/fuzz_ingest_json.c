/* ingest reading JSON messages on gb.calls and gb.visits: one object, an
 * array, or newline-delimited objects (ingest/split.c, flat.c with yajl),
 * each record read by ingest/call.c or visit.c; the topic's default format
 * is JSON. What is checked, and the input's first byte: ingest_harness.h. */
#include "ingest_harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  return fuzz_ingest_one(FORMAT_JSON, data, size);
}
