/* A set of 64-bit tags: matcher's local view of the protected numbers (about
 * ten million) and the fraud indicators (about a million).
 *
 * The tags are SipHash outputs, already uniformly distributed, so a tag's home
 * slot is simply its low bits (tag & (cap - 1)). Open addressing with linear
 * probing keeps a lookup to one or two cache lines; deletion shifts the rest
 * of the cluster back, so there are no tombstones and lookups never slow down
 * with churn. The table holds nothing but the tags: 8 bytes a slot at a load
 * between 0.375 (just after doubling) and 0.75, so 10.7 to 21.3 bytes an
 * entry; ten million tags take 2^24 slots, 13.4 bytes each.
 *
 * A slot holding 0 is empty, so a caller's tag 0 is stored as
 * TAGSET_ZERO_TAG. Tag 0 and TAGSET_ZERO_TAG are therefore the same member;
 * with SipHash outputs the odds that both occur are 2^-64.
 *
 * Not thread-safe: one writer and no concurrent readers (matcher uses it from
 * its pipeline thread only). A zero-initialised tagset_t is a valid empty set
 * (tagset_add allocates on first use). */
#ifndef MATCHER_TAGSET_H
#define MATCHER_TAGSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a caller's tag 0 is stored as (the 64-bit golden ratio, odd and far
 * from small numbers a test might use). */
#define TAGSET_ZERO_TAG UINT64_C(0x9E3779B97F4A7C15)

typedef struct {
  uint64_t *slots; /* cap slots, 0 = empty; NULL until the first allocation */
  size_t cap;      /* a power of two, or 0 with slots NULL */
  size_t n;        /* members */
} tagset_t;

/* Makes s an empty set with room for `expected` members before it first
 * grows (capacity rounded up to a power of two, at least 16 slots). Returns
 * 0, or GB_ENOMEM with s left empty (tagset_free is still safe). */
int tagset_init(tagset_t *s, size_t expected);

/* Adds a tag. Returns 1 if it was added, 0 if it was already there, or
 * GB_ENOMEM if the table had to grow and could not (s is unchanged). The
 * table doubles when the load would pass 0.75. */
int tagset_add(tagset_t *s, uint64_t tag);

/* Removes a tag. Returns 1 if it was removed, 0 if it was absent. Never
 * allocates and never shrinks the table. */
int tagset_del(tagset_t *s, uint64_t tag);

static inline bool tagset_has(const tagset_t *s, uint64_t tag) {
  if (!s->slots) return false;
  uint64_t k = tag ? tag : TAGSET_ZERO_TAG;
  size_t mask = s->cap - 1, i = (size_t)k & mask;
  while (s->slots[i] != 0) {
    if (s->slots[i] == k) return true;
    i = (i + 1) & mask;
  }
  return false;
}
/* Starts loading a tag's home slot into the cache, so that a lookup a few
 * events later does not wait for memory (matcher scans ahead of its
 * lookups). */
static inline void tagset_prefetch(const tagset_t *s, uint64_t tag) {
  /* Unconditional: GCC drops a prefetch behind a branch. Integer arithmetic,
   * because on an empty set (slots NULL, cap 0) the address is garbage,
   * which a prefetch may touch (it never faults) but C may not compute. */
  uint64_t k = tag ? tag : TAGSET_ZERO_TAG;
  __builtin_prefetch((const void *)((uintptr_t)s->slots +
                                    (uintptr_t)(k & (s->cap - 1)) * sizeof(uint64_t)));
}

size_t tagset_count(const tagset_t *s);

/* Bytes of heap the set holds (the slot array; the tagset_t is the caller's). */
size_t tagset_bytes(const tagset_t *s);

/* Frees the slots and leaves s an empty set (usable again, e.g. after
 * tagset_init). Accepts NULL. */
void tagset_free(tagset_t *s);

#endif
