#include "gb/keyring.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gb/err.h"

const gb_opt_t gb_keyring_opts[] = {
    {"index.keys-file", GB_OPT_STRING, "", 0, 0,
     "File of data-encryption keys, one '<id>=<64 hex digits>' a line (or GB_INDEX_KEYS, "
     "comma-separated)."},
    {"index.key-id", GB_OPT_STRING, "", 0, 0,
     "Id of the key that seals new values; default: the last key listed."},
    GB_OPT_END,
};

#define NONCE crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG crypto_aead_xchacha20poly1305_ietf_ABYTES
#define B64 sodium_base64_VARIANT_URLSAFE_NO_PADDING

static int add_key(gb_keyring_t *kr, const char *s, size_t len, char *errstr, size_t errstr_size) {
  while (len && (s[len - 1] == '\n' || s[len - 1] == '\r' || s[len - 1] == ' ')) len--;
  while (len && *s == ' ') s++, len--;
  if (len == 0 || *s == '#') return 0;
  const char *eq = memchr(s, '=', len);
  size_t idl = eq ? (size_t)(eq - s) : 0;
  if (!eq || idl == 0 || idl > GB_KEY_ID_MAX || memchr(s, '$', idl)) {
    gb_errstr_set(errstr, errstr_size, "keys: want '<id>=<64 hex digits>' with an id of 1-%d "
                  "characters other than '$'", GB_KEY_ID_MAX);
    return GB_EINVAL;
  }
  if (kr->n == GB_KEYRING_MAX) {
    gb_errstr_set(errstr, errstr_size, "keys: at most %d keys", GB_KEYRING_MAX);
    return GB_EINVAL;
  }
  size_t bin = 0;
  const char *hex = eq + 1;
  size_t hexl = len - idl - 1;
  if (hexl != 64 || sodium_hex2bin(kr->keys[kr->n].key, 32, hex, hexl, NULL, &bin, NULL) != 0 ||
      bin != 32) {
    gb_errstr_set(errstr, errstr_size, "keys: key '%.*s' is not 64 hex digits", (int)idl, s);
    return GB_EINVAL;
  }
  memcpy(kr->keys[kr->n].id, s, idl);
  kr->keys[kr->n].id[idl] = '\0';
  for (int i = 0; i < kr->n; i++) {
    if (strcmp(kr->keys[i].id, kr->keys[kr->n].id) == 0) {
      gb_errstr_set(errstr, errstr_size, "keys: id '%s' listed twice", kr->keys[i].id);
      return GB_EINVAL;
    }
  }
  kr->n++;
  return 0;
}

int gb_keyring_load(gb_keyring_t *kr, const gb_config_t *cfg, char *errstr, size_t errstr_size) {
  memset(kr, 0, sizeof(*kr));
  const char *path = gb_config_str(cfg, "index.keys-file");
  const char *env = getenv("GB_INDEX_KEYS");
  int err = 0;
  if (*path) {
    FILE *f = fopen(path, "r");
    if (!f) {
      gb_errstr_set(errstr, errstr_size, "keys: cannot open %s", path);
      return GB_EINVAL;
    }
    char line[256];
    while (!err && fgets(line, sizeof(line), f)) err = add_key(kr, line, strlen(line), errstr, errstr_size);
    fclose(f);
    sodium_memzero(line, sizeof(line));
  } else if (env && *env) {
    const char *p = env;
    while (!err && *p) {
      const char *c = strchr(p, ',');
      size_t l = c ? (size_t)(c - p) : strlen(p);
      err = add_key(kr, p, l, errstr, errstr_size);
      p += l + (c ? 1 : 0);
    }
  }
  if (err) return err;
  if (kr->n == 0) {
    gb_errstr_set(errstr, errstr_size,
                  "keys: no data-encryption key; set --index.keys-file or GB_INDEX_KEYS "
                  "(make one: echo \"k1=$(head -c32 /dev/urandom | od -An -tx1 | tr -d ' \\n')\")");
    return GB_EINVAL;
  }
  kr->current = kr->n - 1;
  const char *want = gb_config_str(cfg, "index.key-id");
  if (*want) {
    kr->current = -1;
    for (int i = 0; i < kr->n; i++)
      if (strcmp(kr->keys[i].id, want) == 0) kr->current = i;
    if (kr->current < 0) {
      gb_errstr_set(errstr, errstr_size, "keys: --index.key-id '%s' is not in the keyring", want);
      return GB_EINVAL;
    }
  }
  return 0;
}

size_t gb_seal_size(size_t plain_len) {
  return GB_KEY_ID_MAX + 1 + sodium_base64_ENCODED_LEN(NONCE + plain_len + TAG, B64);
}

int gb_seal(const gb_keyring_t *kr, const char *context, const void *plain, size_t len, char *out,
            size_t out_size) {
  const char *id = kr->keys[kr->current].id;
  size_t idl = strlen(id);
  size_t raw_len = NONCE + len + TAG;
  if (out_size < idl + 1 + sodium_base64_ENCODED_LEN(raw_len, B64)) return GB_ETOOBIG;
  unsigned char stackbuf[1024];
  unsigned char *raw = raw_len <= sizeof(stackbuf) ? stackbuf : malloc(raw_len);
  if (!raw) return GB_ENOMEM;
  randombytes_buf(raw, NONCE);
  unsigned long long clen = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(raw + NONCE, &clen, plain, len,
                                             (const unsigned char *)context, strlen(context),
                                             NULL, raw, kr->keys[kr->current].key);
  memcpy(out, id, idl);
  out[idl] = '$';
  sodium_bin2base64(out + idl + 1, out_size - idl - 1, raw, NONCE + (size_t)clen, B64);
  if (raw != stackbuf) free(raw);
  return 0;
}

int gb_sealed_key_id(const char *sealed, char *id) {
  const char *d = strchr(sealed, '$');
  if (!d || d == sealed || (size_t)(d - sealed) > GB_KEY_ID_MAX) return GB_EINVAL;
  memcpy(id, sealed, (size_t)(d - sealed));
  id[d - sealed] = '\0';
  return 0;
}

int gb_open(const gb_keyring_t *kr, const char *context, const char *sealed, char *out,
            size_t out_size, size_t *len) {
  char id[GB_KEY_ID_MAX + 1];
  if (gb_sealed_key_id(sealed, id) != 0) return GB_EINVAL;
  const unsigned char *key = NULL;
  for (int i = 0; i < kr->n; i++)
    if (strcmp(kr->keys[i].id, id) == 0) key = kr->keys[i].key;
  if (!key) return GB_ENOTFOUND;
  const char *b64 = strchr(sealed, '$') + 1;
  size_t b64l = strlen(b64);
  unsigned char stackbuf[1024];
  size_t cap = b64l; /* base64 decodes to fewer bytes */
  unsigned char *raw = cap <= sizeof(stackbuf) ? stackbuf : malloc(cap);
  if (!raw) return GB_ENOMEM;
  size_t raw_len = 0;
  int err = GB_EINVAL;
  if (sodium_base642bin(raw, cap, b64, b64l, NULL, &raw_len, NULL, B64) != 0 ||
      raw_len < NONCE + TAG || raw_len - NONCE - TAG + 1 > out_size)
    goto done;
  unsigned long long plen = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt((unsigned char *)out, &plen, NULL, raw + NONCE,
                                                 raw_len - NONCE, (const unsigned char *)context,
                                                 strlen(context), raw, key) != 0)
    goto done;
  out[plen] = '\0';
  if (len) *len = (size_t)plen;
  err = 0;
done:
  if (raw != stackbuf) free(raw);
  return err;
}
