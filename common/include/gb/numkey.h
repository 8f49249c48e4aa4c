/* Keyed hashes of phone numbers, so that no number is stored in Redis in the
 * clear: index keys name BLAKE2b-128(key, E.164) in hex. The key is a secret
 * of the deployment (32 bytes); without it the hashes cannot be tested
 * against a list of numbers. Thread-safe after load. */
#ifndef GB_NUMKEY_H
#define GB_NUMKEY_H

#include <stddef.h>
#include <stdint.h>

#include "gb/config.h"

#define GB_NUMKEY_HEX_LEN 32 /* hex digits of a hash */

typedef struct {
  unsigned char key[32];
  unsigned char tag_key[16]; /* derived from key at load: see gb_numkey_tag */
} gb_numkey_t;

/**
 * Loads the key from the config: index.hash-key (64 hex digits) or else the
 * file named by index.hash-key-file (its first line, 64 hex digits).
 * @returns 0, or GB_EINVAL with the reason in errstr.
 */
int gb_numkey_load(gb_numkey_t *k, const gb_config_t *cfg, char *errstr, size_t errstr_size);

/* Writes the hash of the E.164 string e164 as 32 hex digits and a NUL. */
void gb_numkey_hash(const gb_numkey_t *k, const char *e164, char out[GB_NUMKEY_HEX_LEN + 1]);

/* A 64-bit keyed tag of the number (SipHash-2-4 under a key derived from the
 * hash key): what matcher's local view holds. About 20x cheaper than the
 * hash above, which matters once per event on the matching path; too short
 * to name Redis keys (10 million tags collide with odds 3e-6), so only the
 * view uses it, and Redis confirms every match. */
uint64_t gb_numkey_tag(const gb_numkey_t *k, const char *e164, size_t len);
/* Sets tag_key from key; gb_numkey_load calls it (tests that fill key by
 * hand call it too). */
void gb_numkey_derive(gb_numkey_t *k);
/* The config options this module reads. */
extern const gb_opt_t gb_numkey_opts[];

#endif
