/* Replays inputs through a fuzz target without libFuzzer, so that the
 * ordinary build (gcc, and the ASan build of scripts/test.sh) runs every
 * target over its corpus and its regressions as a unit test:
 *
 *   replay_<target> DIR_OR_FILE...
 *
 * Each file of a directory (not recursing; names starting with '.' skipped)
 * is read into an exact-size heap buffer and handed to the target's
 * LLVMFuzzerTestOneInput, in name order. A path that does not exist is
 * skipped (a target may have no regressions yet). A target that finds
 * something wrong aborts, which fails the test; the input being replayed is
 * named on stderr first. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int replay_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
    return -1;
  }
  size_t cap = 4096, n = 0;
  uint8_t *buf = malloc(cap);
  size_t got;
  while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
    n += got;
    if (n == cap) {
      uint8_t *b = realloc(buf, cap * 2);
      if (!b) free(buf);
      buf = b, cap *= 2;
    }
  }
  int bad = ferror(f) || !buf;
  fclose(f);
  if (bad) {
    fprintf(stderr, "replay: cannot read %s\n", path);
    free(buf);
    return -1;
  }
  /* Exact size, so that ASan sees a read past the input. */
  uint8_t *exact = malloc(n ? n : 1);
  if (!exact) abort();
  if (n) memcpy(exact, buf, n);
  free(buf);
  fprintf(stderr, "replay: %s (%zu bytes)\n", path, n);
  LLVMFuzzerTestOneInput(exact, n);
  free(exact);
  return 0;
}

static int by_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int replay_dir(const char *dir, int *count) {
  DIR *d = opendir(dir);
  if (!d) {
    fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
    return -1;
  }
  char **names = NULL;
  size_t n = 0, cap = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 64;
      char **p = realloc(names, cap * sizeof(*p));
      if (!p) abort();
      names = p;
    }
    size_t l = strlen(dir) + strlen(e->d_name) + 2;
    if (!(names[n] = malloc(l))) abort();
    snprintf(names[n], l, "%s/%s", dir, e->d_name);
    n++;
  }
  closedir(d);
  if (n) qsort(names, n, sizeof(*names), by_name);
  int err = 0;
  for (size_t i = 0; i < n; i++) {
    struct stat st;
    if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
      if (replay_file(names[i]) != 0) err = -1;
      else (*count)++;
    }
    free(names[i]);
  }
  free(names);
  return err;
}

int main(int argc, char **argv) {
  int count = 0, err = 0;
  for (int i = 1; i < argc; i++) {
    struct stat st;
    if (stat(argv[i], &st) != 0) continue; /* no regressions yet */
    if (S_ISDIR(st.st_mode)) {
      if (replay_dir(argv[i], &count) != 0) err = 1;
    } else if (replay_file(argv[i]) != 0) {
      err = 1;
    } else {
      count++;
    }
  }
  printf("replay: %d inputs, %s\n", count, err ? "some unreadable" : "all passed");
  return err;
}
