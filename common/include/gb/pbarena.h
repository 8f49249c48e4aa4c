/* A bump allocator for protobuf-c's unpacking: decoding a record costs one
 * malloc per string and submessage, which at millions of records a second
 * is most of the work. Records decoded with the arena's allocator take
 * their memory from one block; gb_pbarena_reset makes it all free at once.
 * Requests the block cannot hold fall back to malloc and are freed by
 * protobuf-c's free_unpacked as usual. One thread. */
#ifndef GB_PBARENA_H
#define GB_PBARENA_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

#define GB_PBARENA_SIZE (64 * 1024)

typedef struct {
  ProtobufCAllocator allocator; /* pass &arena->allocator to *_unpack */
  size_t used;
  _Alignas(16) uint8_t block[GB_PBARENA_SIZE];
} gb_pbarena_t;

void gb_pbarena_init(gb_pbarena_t *a);

/* Frees everything taken from the block. Messages unpacked with the arena
 * must have been released with *_free_unpacked(msg, &a->allocator) first
 * (which frees only what fell back to malloc). */
static inline void gb_pbarena_reset(gb_pbarena_t *a) { a->used = 0; }

#endif
