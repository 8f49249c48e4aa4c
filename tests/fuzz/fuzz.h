/* What every fuzz target shares: the libFuzzer entry point's prototype, and
 * checks that stop the run with a message. A failed check calls abort(),
 * which libFuzzer reports as a crash (and keeps the input) and the replay
 * driver (replay.c) as a failed test. */
#ifndef GB_FUZZ_H
#define GB_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Called once per input by libFuzzer, or by replay.c for each file. Returns
 * 0; anything wrong aborts. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond, ...)                                                        \
  do {                                                                               \
    if (!(cond)) {                                                                   \
      fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);       \
      fprintf(stderr, __VA_ARGS__);                                                  \
      fputc('\n', stderr);                                                           \
      abort();                                                                       \
    }                                                                                \
  } while (0)

/* A string buffer of n bytes is NUL-terminated within them. */
static inline int fuzz_terminated(const char *s, size_t n) { return memchr(s, '\0', n) != NULL; }

/* An exact-size heap copy of data with a NUL after it, so that ASan sees a
 * read past size (a read of the NUL is allowed: the callers that take
 * strings need it). Free it. */
static inline char *fuzz_strndup(const uint8_t *data, size_t size) {
  char *s = malloc(size + 1);
  if (!s) abort();
  if (size) memcpy(s, data, size);
  s[size] = '\0';
  return s;
}

/* Splits input into a selector byte and the rest. */
static inline uint8_t fuzz_take_byte(const uint8_t **data, size_t *size) {
  uint8_t b = 0;
  if (*size > 0) b = (*data)[0], (*data)++, (*size)--;
  return b;
}

#endif
