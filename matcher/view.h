/* matcher's local view of the index: which numbers are protected and which
 * values are fraud indicators, held in memory so that the great majority of
 * events, which concern neither, are dropped without asking Redis.
 *
 * The view may say yes wrongly (a 64-bit tag collision, an indicator that
 * has expired since, a removal not yet confirmed): every yes is confirmed
 * in Redis, the source of truth. It must never say no wrongly, which is why
 * removals are applied only once Redis confirms them (follow.c).
 *
 * Protected numbers are held as their keyed tags (gb_numkey_tag), so the
 * view holds no phone number; indicators as SipHash fingerprints of
 * kind and value under a key drawn at start. */
#ifndef MATCHER_VIEW_H
#define MATCHER_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gb/intel.h"
#include "gb/numkey.h"
#include "tagset.h"

typedef struct {
  const gb_numkey_t *numkey;
  tagset_t protected_;
  tagset_t indicators;
  unsigned char fp_key[16];
} view_t;

int view_init(view_t *v, const gb_numkey_t *numkey);
void view_free(view_t *v);

uint64_t view_indicator_fp(const view_t *v, gb_indicator_kind_t kind, const char *value,
                           size_t len);

static inline uint64_t view_tag(const view_t *v, const char *e164, size_t len) {
  return gb_numkey_tag(v->numkey, e164, len);
}

static inline bool view_protected(const view_t *v, const char *e164, size_t len) {
  return tagset_has(&v->protected_, view_tag(v, e164, len));
}

static inline bool view_indicator(const view_t *v, gb_indicator_kind_t kind, const char *value,
                                  size_t len) {
  return tagset_has(&v->indicators, view_indicator_fp(v, kind, value, len));
}

/* Whether a visited host, or a parent of it down to its registrable domain,
 * is a listed domain (the same levels as gb_indicator_lookup_site). */
bool view_site_listed(const view_t *v, const char *host, size_t host_len, const char *domain,
                      size_t domain_len);

/* Memory held by the view, bytes. */
size_t view_bytes(const view_t *v);

#endif
