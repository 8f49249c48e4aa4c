#include "gb/numkey.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "gb/err.h"

const gb_opt_t gb_numkey_opts[] = {
    {"index.hash-key", GB_OPT_STRING, "", 0, 0,
     "Secret key of the number hashes, 64 hex digits; prefer index.hash-key-file."},
    {"index.hash-key-file", GB_OPT_STRING, "", 0, 0,
     "File whose first line is the number-hash key, 64 hex digits."},
    GB_OPT_END,
};

static int from_hex(gb_numkey_t *k, const char *hex, size_t len, char *errstr,
                    size_t errstr_size) {
  size_t bin_len = 0;
  if (len != 64 || sodium_hex2bin(k->key, sizeof(k->key), hex, len, NULL, &bin_len, NULL) != 0 ||
      bin_len != sizeof(k->key)) {
    snprintf(errstr, errstr_size, "index hash key: want 64 hex digits, got %zu characters", len);
    return GB_EINVAL;
  }
  gb_numkey_derive(k);
  return 0;
}

void gb_numkey_derive(gb_numkey_t *k) {
  static const char ctx[] = "goldenbell number tag v1";
  crypto_generichash(k->tag_key, sizeof(k->tag_key), (const unsigned char *)ctx, sizeof(ctx) - 1,
                     k->key, sizeof(k->key));
}

uint64_t gb_numkey_tag(const gb_numkey_t *k, const char *e164, size_t len) {
  unsigned char h[crypto_shorthash_BYTES];
  crypto_shorthash(h, (const unsigned char *)e164, len, k->tag_key);
  uint64_t t;
  memcpy(&t, h, sizeof(t));
  return t;
}

int gb_numkey_load(gb_numkey_t *k, const gb_config_t *cfg, char *errstr, size_t errstr_size) {
  const char *hex = gb_config_str(cfg, "index.hash-key");
  if (*hex) return from_hex(k, hex, strlen(hex), errstr, errstr_size);
  const char *path = gb_config_str(cfg, "index.hash-key-file");
  if (!*path) {
    snprintf(errstr, errstr_size,
             "index hash key: set --index.hash-key-file (GB_INDEX_HASH_KEY_FILE) or "
             "GB_INDEX_HASH_KEY; make one with: head -c32 /dev/urandom | xxd -p -c64");
    return GB_EINVAL;
  }
  FILE *f = fopen(path, "r");
  if (!f) {
    snprintf(errstr, errstr_size, "index hash key: cannot open %s", path);
    return GB_EINVAL;
  }
  char line[256] = "";
  char *ok = fgets(line, sizeof(line), f);
  fclose(f);
  size_t len = ok ? strcspn(line, "\r\n") : 0;
  int err = from_hex(k, line, len, errstr, errstr_size);
  sodium_memzero(line, sizeof(line));
  return err;
}

void gb_numkey_hash(const gb_numkey_t *k, const char *e164, char out[GB_NUMKEY_HEX_LEN + 1]) {
  unsigned char h[GB_NUMKEY_HEX_LEN / 2];
  crypto_generichash(h, sizeof(h), (const unsigned char *)e164, strlen(e164), k->key,
                     sizeof(k->key));
  sodium_bin2hex(out, GB_NUMKEY_HEX_LEN + 1, h, sizeof(h));
}
