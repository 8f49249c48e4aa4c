/* protobuf-c's decoders of the messages the services read (proto/
 * goldenbell/v1): Alert (notifier, gb.alerts), EventBatch and Event
 * (matcher, gb.events), WorkflowEvent (gb.workflow's readers), IndexChange
 * (matcher, gb.index), the input batches (ingest), RegistryChange and
 * FraudIndicator (matcher), and ingest's arena allocator (common/src/
 * pbarena.c) that the input records are unpacked with.
 *
 * Input: one byte choosing the message, then its bytes. Checks: what
 * unpacks packs to exactly get_packed_size bytes, unpacks again, and packs
 * the second time to the same bytes; unpacking with a gb_pbarena_t
 * (whose block is poisoned for ASan while unused, so a read past what the
 * arena handed out is seen) gives a message that packs to the same bytes
 * as the malloc'ed one, and the arena never hands out memory outside its
 * block or overlapping. */
#include <sanitizer/asan_interface.h>
#include <string.h>

#include "fuzz.h"
#include "gb/pbarena.h"
#include "goldenbell/v1/alert.pb-c.h"
#include "goldenbell/v1/event.pb-c.h"
#include "goldenbell/v1/index.pb-c.h"
#include "goldenbell/v1/input.pb-c.h"
#include "goldenbell/v1/intel.pb-c.h"
#include "goldenbell/v1/registry.pb-c.h"
#include "goldenbell/v1/workflow.pb-c.h"

static const ProtobufCMessageDescriptor *const messages[] = {
    &goldenbell__v1__alert__descriptor,
    &goldenbell__v1__event_batch__descriptor,
    &goldenbell__v1__event__descriptor,
    &goldenbell__v1__workflow_event__descriptor,
    &goldenbell__v1__index_change__descriptor,
    &goldenbell__v1__call_record_batch__descriptor,
    &goldenbell__v1__visit_record_batch__descriptor,
    &goldenbell__v1__call_record__descriptor,
    &goldenbell__v1__visit_record__descriptor,
    &goldenbell__v1__registry_change__descriptor,
    &goldenbell__v1__fraud_indicator__descriptor,
};
#define NMESSAGES (sizeof(messages) / sizeof(messages[0]))

/* An arena whose unused block is poisoned: each allocation unpoisons what
 * it hands out, so ASan sees a decoder reading or writing past it. */
static gb_pbarena_t arena;
static void *(*arena_alloc)(void *, size_t);

static void *checked_alloc(void *ud, size_t size) {
  size_t before = arena.used;
  void *p = arena_alloc(ud, size);
  if (p && (uint8_t *)p >= arena.block && (uint8_t *)p < arena.block + GB_PBARENA_SIZE) {
    FUZZ_CHECK((uint8_t *)p == arena.block + before && arena.used >= before + size &&
                   arena.used <= GB_PBARENA_SIZE && ((uintptr_t)p & 15) == 0,
               "arena handed out %zu bytes at offset %zu (used %zu -> %zu)", size,
               (size_t)((uint8_t *)p - arena.block), before, arena.used);
    ASAN_UNPOISON_MEMORY_REGION(p, size);
  }
  return p;
}

/* Whether m or a message inside it kept an unknown field numbered 0. Such
 * a field comes from a tag padded to more than one byte, which protobuf-c
 * takes (as gb/pbwire.h notes) but packs again in one byte, the form it
 * refuses: its own output of such a message does not unpack. That is
 * protobuf-c's, and no writer of ours produces it; the round trip is not
 * checked for these. */
static int has_field_zero(const ProtobufCMessage *m) {
  if (!m) return 0;
  for (unsigned i = 0; i < m->n_unknown_fields; i++)
    if (m->unknown_fields[i].tag == 0) return 1;
  const ProtobufCMessageDescriptor *d = m->descriptor;
  for (unsigned i = 0; i < d->n_fields; i++) {
    const ProtobufCFieldDescriptor *f = &d->fields[i];
    if (f->type != PROTOBUF_C_TYPE_MESSAGE) continue;
    const char *base = (const char *)m;
    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
      size_t n = *(const size_t *)(base + f->quantifier_offset);
      ProtobufCMessage *const *v = *(ProtobufCMessage *const *const *)(base + f->offset);
      for (size_t j = 0; j < n; j++)
        if (has_field_zero(v[j])) return 1;
    } else {
      /* A oneof member other than the one set shares its storage. */
      if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
          *(const uint32_t *)(base + f->quantifier_offset) != f->id)
        continue;
      if (has_field_zero(*(ProtobufCMessage *const *)(base + f->offset))) return 1;
    }
  }
  return 0;
}

static uint8_t *pack(const ProtobufCMessage *m, size_t *len) {
  *len = protobuf_c_message_get_packed_size(m);
  uint8_t *b = malloc(*len ? *len : 1);
  if (!b) abort();
  size_t n = protobuf_c_message_pack(m, b);
  FUZZ_CHECK(n == *len, "packed %zu bytes, get_packed_size said %zu", n, *len);
  return b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const ProtobufCMessageDescriptor *d = messages[fuzz_take_byte(&data, &size) % NMESSAGES];
  ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, size, data);
  if (!arena_alloc) {
    gb_pbarena_init(&arena);
    arena_alloc = arena.allocator.alloc;
    arena.allocator.alloc = checked_alloc;
  }
  gb_pbarena_reset(&arena);
  ASAN_POISON_MEMORY_REGION(arena.block, GB_PBARENA_SIZE);
  ProtobufCMessage *ma = protobuf_c_message_unpack(d, &arena.allocator, size, data);
  FUZZ_CHECK((m == NULL) == (ma == NULL), "%s: the arena's unpack %s", d->name,
             m ? "failed" : "succeeded alone");
  if (m) {
    size_t n1, n2, na;
    uint8_t *p1 = pack(m, &n1);
    uint8_t *pa = pack(ma, &na);
    FUZZ_CHECK(n1 == na && memcmp(p1, pa, n1) == 0, "%s: the arena's copy packs differently",
               d->name);
    if (!has_field_zero(m)) {
      ProtobufCMessage *m2 = protobuf_c_message_unpack(d, NULL, n1, p1);
      FUZZ_CHECK(m2 != NULL, "%s: its own packing does not unpack", d->name);
      uint8_t *p2 = pack(m2, &n2);
      FUZZ_CHECK(n1 == n2 && memcmp(p1, p2, n1) == 0, "%s: repacking is not stable", d->name);
      protobuf_c_message_free_unpacked(m2, NULL);
      free(p2);
    }
    free(p1);
    free(pa);
  }
  protobuf_c_message_free_unpacked(ma, &arena.allocator);
  protobuf_c_message_free_unpacked(m, NULL);
  ASAN_UNPOISON_MEMORY_REGION(arena.block, GB_PBARENA_SIZE);
  return 0;
}
