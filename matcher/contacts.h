/* A compact in-memory log of recent call contacts of protected numbers, for
 * retro-hunting: when a number becomes a fraud indicator, matcher looks back
 * (72 hours by default, rules retro_hunt.lookback_s) for every protected
 * person who was in contact with it and alerts them.
 *
 * Entries are 24 bytes, appended in arrival order to the newest of a deque of
 * fixed-size chunks, so memory follows the number of live contacts. Expiry
 * frees whole chunks, oldest first: when a chunk's newest event is older than
 * the lookback (measured from the newest event seen), and when the log would
 * pass max_entries (counted as evicted_early: the log is too small for the
 * traffic and the lookback, which an operator must see).
 *
 * Events may arrive a little out of event-time order; a chunk expires only
 * when all of its entries are old, and a hunt checks each entry's own time.
 * Event times come from the network and are trusted: one far in the future
 * would expire the whole log, so the caller refuses implausible times.
 *
 * Not thread-safe; matcher uses it from its pipeline thread only. */
#ifndef MATCHER_CONTACTS_H
#define MATCHER_CONTACTS_H

#include <stddef.h>
#include <stdint.h>

/* Phone numbers as uint64, without loss: a leading 1, then the digits in
 * decimal (the 1 keeps leading zeros of short numbers), and bit 63 set when
 * the number was written with a '+' (E.164). At most 18 digits. */
#define CONTACTS_NUM_PLUS (UINT64_C(1) << 63)
#define CONTACTS_NUM_MAX_DIGITS 18

/* Encodes len bytes: '+' and digits, or digits only. Returns 0 (never a valid
 * encoding) when s is empty, is "+" alone, has anything but digits after an
 * optional leading '+', or has more than 18 digits. */
uint64_t contacts_num_encode(const char *s, size_t len);

/* Writes the number v encodes, NUL-terminated ("+8613800000001", "0110").
 * Returns 0, or GB_EINVAL when v is 0 or no encoding, or out_size is too small
 * (at most 20 bytes are needed); out is then "" if it has room for that. */
int contacts_num_decode(uint64_t v, char *out, size_t out_size);

#define CONTACT_DURATION_MASK 0xFFFFFFu /* info's low 24 bits: seconds, capped */
#define CONTACT_OUTGOING (1u << 24)     /* the subject placed the call */
#define CONTACT_INTERNATIONAL (1u << 25)

typedef struct {
  uint64_t subject;     /* the protected number (contacts_num_encode) */
  uint64_t counterpart; /* the other party (contacts_num_encode) */
  uint32_t ts_s;        /* event time, epoch seconds */
  uint32_t info;        /* duration in the low 24 bits, CONTACT_* flags above */
} contact_t;

_Static_assert(sizeof(contact_t) == 24, "contact_t is 24 bytes; the capacity plan depends on it");

/* info for a contact: the duration capped at CONTACT_DURATION_MASK, plus flags. */
static inline uint32_t contact_info(uint32_t duration_s, uint32_t flags) {
  return (duration_s < CONTACT_DURATION_MASK ? duration_s : CONTACT_DURATION_MASK) |
         (flags & ~CONTACT_DURATION_MASK);
}

/* Entries a chunk holds: CONTACTS_CHUNK_MAX, or max_entries / 8 when that is
 * smaller (at least 16, at most max_entries), so that a capacity eviction
 * drops about an eighth of a small log rather than all of it. */
#define CONTACTS_CHUNK_MAX 65536

typedef struct contacts contacts_t;

/* Creates an empty log holding at most max_entries contacts, looking back
 * lookback_s seconds. Returns 0, GB_EINVAL when max_entries is 0, or
 * GB_ENOMEM; *out is set only on success. */
int contacts_new(contacts_t **out, size_t max_entries, uint32_t lookback_s);

/* Changes the lookback (rules reload); a shorter one frees chunks now. */
void contacts_set_lookback(contacts_t *c, uint32_t lookback_s);

/* Appends a copy of *e, after expiring what the lookback and capacity
 * require. Returns 0, or GB_ENOMEM when a new chunk could not be allocated
 * (the entry is not stored and nothing was evicted on its account). */
int contacts_add(contacts_t *c, const contact_t *e);

/* Called for each match; returns 0 to go on, or a negative value to stop the
 * hunt, which then returns that value. Positive values are reserved and
 * treated as 0. */
typedef int (*contacts_hit_fn)(const contact_t *e, void *ud);

/* Calls fn (in arrival order) for every entry with ts_s >= since_s whose
 * counterpart is one of the n values of `sorted` (ascending, duplicates
 * allowed; a bitmap of the batch and a binary search, so one scan serves a
 * whole batch of new indicators: about 3 ns an entry for up to a few hundred
 * of them). Returns the number of matches, or the negative value fn
 * stopped with. fn may be NULL to count only; n may be 0 (returns 0). The
 * entry passed to fn is valid during the call only. */
long contacts_hunt(const contacts_t *c, const uint64_t *sorted, size_t n, uint32_t since_s,
                   contacts_hit_fn fn, void *ud);

typedef struct {
  size_t entries;         /* live entries */
  size_t chunks;          /* chunks allocated */
  size_t bytes;           /* heap held: chunks and the log's own struct */
  uint64_t added;         /* entries ever stored */
  uint64_t expired;       /* entries freed because the lookback passed them */
  uint64_t evicted_early; /* entries freed within the lookback, for capacity */
} contacts_stats_t;

void contacts_stats(const contacts_t *c, contacts_stats_t *out);

/* Frees the log and every entry. Accepts NULL. */
void contacts_free(contacts_t *c);

#endif
