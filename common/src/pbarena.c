#include "gb/pbarena.h"

#include <stdlib.h>

static void *arena_alloc(void *data, size_t size) {
  gb_pbarena_t *a = data;
  size_t aligned = (size + 15) & ~(size_t)15;
  if (aligned <= GB_PBARENA_SIZE - a->used) {
    void *p = a->block + a->used;
    a->used += aligned;
    return p;
  }
  return malloc(size);
}

static void arena_free(void *data, void *p) {
  gb_pbarena_t *a = data;
  uint8_t *b = p;
  if (b >= a->block && b < a->block + GB_PBARENA_SIZE) return; /* freed by reset */
  free(p);
}

void gb_pbarena_init(gb_pbarena_t *a) {
  a->allocator.alloc = arena_alloc;
  a->allocator.free = arena_free;
  a->allocator.allocator_data = a;
  a->used = 0;
}
