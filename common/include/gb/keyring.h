/* Encryption of citizens' data at rest: profile fields and family numbers
 * are sealed with XChaCha20-Poly1305 (libsodium, authenticated) before they
 * reach Redis. Every sealed value names the key that sealed it, so keys can
 * be rotated: new values use the current key, old ones open with theirs
 * until rewritten (docs/OPERATIONS.md, "Key rotation").
 *
 * A sealed value is "<key id>$<base64url(nonce || ciphertext)>". The
 * context (which field it is) is bound as associated data, so a value
 * copied into another field does not open.
 *
 * Keys come from index.keys-file (one "<id>=<64 hex digits>" a line) or
 * GB_INDEX_KEYS ("<id>=<hex>,<id>=<hex>"); index.key-id names the current
 * one (default: the last listed). Thread-safe after load. */
#ifndef GB_KEYRING_H
#define GB_KEYRING_H

#include <stddef.h>

#include "gb/config.h"

#define GB_KEYRING_MAX 16
#define GB_KEY_ID_MAX 16

typedef struct {
  struct {
    char id[GB_KEY_ID_MAX + 1];
    unsigned char key[32];
  } keys[GB_KEYRING_MAX];
  int n;
  int current;
} gb_keyring_t;

extern const gb_opt_t gb_keyring_opts[];

/* Returns 0, or GB_EINVAL with the reason in errstr. */
int gb_keyring_load(gb_keyring_t *kr, const gb_config_t *cfg, char *errstr, size_t errstr_size);

/* Bytes needed to seal plain_len bytes (NUL included). */
size_t gb_seal_size(size_t plain_len);

/* Seals plain (len bytes) for context into out (NUL-terminated).
 * Returns 0, or GB_ETOOBIG when out_size is short. */
int gb_seal(const gb_keyring_t *kr, const char *context, const void *plain, size_t len, char *out,
            size_t out_size);

/* Opens a sealed value into out (NUL-terminated; *len without the NUL).
 * Returns 0, GB_ENOTFOUND (the key id is not in the keyring), or GB_EINVAL
 * (tampered, wrong context, malformed). */
int gb_open(const gb_keyring_t *kr, const char *context, const char *sealed, char *out,
            size_t out_size, size_t *len);

/* The key id a sealed value names, into id (GB_KEY_ID_MAX + 1 bytes). */
int gb_sealed_key_id(const char *sealed, char *id);

#endif
