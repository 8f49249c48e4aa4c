#include "tagset.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "gb/err.h"

#define TAGSET_MIN_CAP 16

static uint64_t stored(uint64_t tag) { return tag ? tag : TAGSET_ZERO_TAG; }

/* Whether n members fit in cap slots within the 0.75 load limit; cap is a
 * power of two of at least 16, so cap - cap / 4 is exact. */
static bool fits(size_t n, size_t cap) { return n <= cap - cap / 4; }

/* The slot holding k, or else the empty slot that ends k's probe sequence.
 * It always stops: the load limit leaves a quarter of the slots empty. */
static size_t probe(const uint64_t *slots, size_t cap, uint64_t k) {
  size_t mask = cap - 1, i = (size_t)k & mask;
  while (slots[i] != 0 && slots[i] != k) i = (i + 1) & mask;
  return i;
}

/* The smallest capacity that takes `expected` members, or 0 when the slot
 * array's size would not fit in a size_t. */
static size_t cap_for(size_t expected) {
  size_t cap = TAGSET_MIN_CAP;
  while (!fits(expected, cap)) {
    if (cap > SIZE_MAX / 2 / sizeof(uint64_t)) return 0;
    cap *= 2;
  }
  return cap;
}

/* Large tables (the protected numbers: 128 MB at ten million) are looked up
 * at random, once per event: with 4 KB pages nearly every lookup also
 * misses the TLB. They are allocated 2 MB-aligned and offered to the
 * kernel for transparent huge pages (Debian's default is "madvise"). */
#define HUGE_BYTES ((size_t)4 << 20)
#define HUGE_ALIGN ((size_t)2 << 20)

static uint64_t *slots_alloc(size_t cap) {
  size_t bytes = cap * sizeof(uint64_t);
  if (bytes < HUGE_BYTES) return calloc(cap, sizeof(uint64_t));
  void *p = NULL;
  if (posix_memalign(&p, HUGE_ALIGN, bytes) != 0) return NULL;
#ifdef MADV_HUGEPAGE
  (void)madvise(p, bytes, MADV_HUGEPAGE); /* advice: fine if refused */
#endif
  memset(p, 0, bytes);
  return p;
}

static int rehash(tagset_t *s, size_t cap) {
  uint64_t *slots = slots_alloc(cap);
  if (!slots) return GB_ENOMEM;
  for (size_t i = 0; i < s->cap; i++)
    if (s->slots[i]) slots[probe(slots, cap, s->slots[i])] = s->slots[i];
  free(s->slots);
  s->slots = slots;
  s->cap = cap;
  return 0;
}

int tagset_init(tagset_t *s, size_t expected) {
  size_t cap = cap_for(expected);
  s->slots = NULL;
  s->cap = s->n = 0;
  if (cap == 0) return GB_ENOMEM;
  if (!(s->slots = slots_alloc(cap))) return GB_ENOMEM;
  s->cap = cap;
  return 0;
}

int tagset_add(tagset_t *s, uint64_t tag) {
  uint64_t k = stored(tag);
  if (s->slots) {
    size_t i = probe(s->slots, s->cap, k);
    if (s->slots[i] == k) return 0;
    if (fits(s->n + 1, s->cap)) {
      s->slots[i] = k;
      s->n++;
      return 1;
    }
  }
  /* Doubling always suffices: n fitted in 0.75 cap, so n + 1 fits in
   * 1.5 cap. A zeroed (or freed) tagset_t starts at the minimum. */
  size_t cap = s->cap ? s->cap * 2 : cap_for(s->n + 1);
  if (cap == 0 || cap > SIZE_MAX / sizeof(uint64_t)) return GB_ENOMEM;
  int err = rehash(s, cap);
  if (err) return err;
  s->slots[probe(s->slots, s->cap, k)] = k;
  s->n++;
  return 1;
}

int tagset_del(tagset_t *s, uint64_t tag) {
  if (!s->slots) return 0;
  uint64_t k = stored(tag);
  size_t mask = s->cap - 1, i = probe(s->slots, s->cap, k), j = i;
  if (s->slots[i] == 0) return 0;
  /* Backward shift: walk the rest of the cluster after the hole at i. An
   * entry at j whose home lies cyclically in (i, j] must stay, or a lookup
   * starting at its home would meet the hole first; any other entry moves
   * into the hole, and the hole moves to j. The cluster ends at an empty slot. */
  for (;;) {
    j = (j + 1) & mask;
    uint64_t v = s->slots[j];
    if (v == 0) break;
    size_t home = (size_t)v & mask;
    if (((j - home) & mask) >= ((j - i) & mask)) {
      s->slots[i] = v;
      i = j;
    }
  }
  s->slots[i] = 0;
  s->n--;
  return 1;
}


size_t tagset_count(const tagset_t *s) { return s->n; }

size_t tagset_bytes(const tagset_t *s) { return s->cap * sizeof(*s->slots); }

void tagset_free(tagset_t *s) {
  if (!s) return;
  free(s->slots);
  s->slots = NULL;
  s->cap = s->n = 0;
}
