#include "view.h"

#include <sodium.h>
#include <string.h>

#include "gb/err.h"

int view_init(view_t *v, const gb_numkey_t *numkey) {
  memset(v, 0, sizeof(*v));
  v->numkey = numkey;
  /* A key of our own: indicator values come from outside, and fingerprints
   * an attacker cannot predict keep them from crowding one probe run. */
  randombytes_buf(v->fp_key, sizeof(v->fp_key));
  if (tagset_init(&v->protected_, 1024) != 0 || tagset_init(&v->indicators, 1024) != 0) {
    view_free(v);
    return GB_ENOMEM;
  }
  return 0;
}

void view_free(view_t *v) {
  tagset_free(&v->protected_);
  tagset_free(&v->indicators);
}

uint64_t view_indicator_fp(const view_t *v, gb_indicator_kind_t kind, const char *value,
                           size_t len) {
  /* The kind is folded in by the key's first byte, so "app" x and "domain"
   * x differ without building a string per lookup. */
  unsigned char key[16], h[crypto_shorthash_BYTES];
  memcpy(key, v->fp_key, sizeof(key));
  key[0] ^= (unsigned char)kind;
  crypto_shorthash(h, (const unsigned char *)value, len, key);
  uint64_t t;
  memcpy(&t, h, sizeof(t));
  return t;
}

bool view_site_listed(const view_t *v, const char *host, size_t hl, const char *domain,
                      size_t dl) {
  if (view_indicator(v, GB_IND_DOMAIN, host, hl)) return true;
  bool suffix = hl > dl && memcmp(host + hl - dl, domain, dl) == 0 && host[hl - dl - 1] == '.';
  if (!suffix) return dl > 0 && view_indicator(v, GB_IND_DOMAIN, domain, dl);
  /* Each parent of the host, down to the registrable domain. */
  for (size_t i = 0; i < hl - dl; i++) {
    if (host[i] != '.') continue;
    if (view_indicator(v, GB_IND_DOMAIN, host + i + 1, hl - i - 1)) return true;
  }
  return false;
}

size_t view_bytes(const view_t *v) {
  return tagset_bytes(&v->protected_) + tagset_bytes(&v->indicators);
}
