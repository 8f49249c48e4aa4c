#include "sealed.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

char *sealed_seal(const gb_keyring_t *kr, const char *context, const char *plain) {
  size_t len = strlen(plain), size = gb_seal_size(len + 1);
  char *out = malloc(size);
  if (out && gb_seal(kr, context, plain, len, out, size) != 0) {
    free(out);
    return NULL;
  }
  return out;
}

char *sealed_open(const gb_keyring_t *kr, const char *context, const char *stored) {
  if (stored[0] == '{' || stored[0] == '[') return strdup(stored);
  /* The plain text is shorter than its base64 form. */
  size_t size = strlen(stored) + 1, len;
  char *out = malloc(size);
  if (out && gb_open(kr, context, stored, out, size, &len) != 0) {
    free(out);
    return NULL;
  }
  return out;
}

char *sealed_feed_json(const gb_keyring_t *kr, const char *json, const char *extra) {
  char *plain = sealed_open(kr, SEALED_FEED, json);
  if (!plain || !extra || !*extra) return plain;
  json_t *o = json_loads(plain, 0, NULL), *x = json_loads(extra, 0, NULL);
  char *out = NULL;
  if (json_is_object(o) && json_is_object(x) && json_object_update(o, x) == 0)
    out = json_dumps(o, JSON_COMPACT);
  json_decref(o);
  json_decref(x);
  free(plain);
  return out;
}
