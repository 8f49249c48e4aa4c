#include "rules.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "gb/err.h"

void matcher_rules_defaults(matcher_rules_t *r) {
  r->long_call_s = 60;
  r->fraud_contact = true;
  r->intl_min_calls = 5;
  r->intl_window_s = 3600;
  r->combo_window_s = 3600;
  r->suppression_s = 1800;
  r->retro_lookback_s = 72 * 3600;
}

typedef struct {
  const char *section, *name;
  uint32_t *u;
  bool *b;
  uint32_t min, max;
} field_t;

static int set(const field_t *f, const json_t *v, char *errstr, size_t errstr_size) {
  if (f->b) {
    if (!json_is_boolean(v)) {
      gb_errstr_set(errstr, errstr_size, "rules: %s.%s: want true or false", f->section, f->name);
      return GB_EINVAL;
    }
    *f->b = json_is_true(v);
    return 0;
  }
  if (!json_is_integer(v) || json_integer_value(v) < f->min || json_integer_value(v) > f->max) {
    gb_errstr_set(errstr, errstr_size, "rules: %s.%s: want a whole number %u..%u", f->section,
                  f->name, f->min, f->max);
    return GB_EINVAL;
  }
  *f->u = (uint32_t)json_integer_value(v);
  return 0;
}

int matcher_rules_parse(matcher_rules_t *out, const char *json, size_t len, char *errstr,
                        size_t errstr_size) {
  matcher_rules_t r;
  matcher_rules_defaults(&r);
  const field_t fields[] = {
      {"long_call", "min_duration_s", &r.long_call_s, NULL, 1, 86400},
      {"fraud_contact", "enabled", NULL, &r.fraud_contact, 0, 0},
      {"international", "min_calls", &r.intl_min_calls, NULL, 1, 10000},
      {"international", "window_s", &r.intl_window_s, NULL, 60, 30 * 86400},
      {"combination", "window_s", &r.combo_window_s, NULL, 60, 30 * 86400},
      {"alerts", "suppression_window_s", &r.suppression_s, NULL, 0, 30 * 86400},
      {"retro_hunt", "lookback_s", &r.retro_lookback_s, NULL, 0, 30 * 86400},
  };
  const size_t nfields = sizeof(fields) / sizeof(fields[0]);
  json_error_t je;
  json_t *doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
  if (!doc) {
    gb_errstr_set(errstr, errstr_size, "rules: line %d column %d: %s", je.line, je.column, je.text);
    return GB_EINVAL;
  }
  int err = 0;
  const char *sk;
  json_t *sv;
  if (!json_is_object(doc)) {
    gb_errstr_set(errstr, errstr_size, "rules: the document is not an object");
    err = GB_EINVAL;
    goto done;
  }
  json_object_foreach(doc, sk, sv) {
    if (strcmp(sk, "version") == 0) {
      if (!json_is_integer(sv) || json_integer_value(sv) != 1) {
        gb_errstr_set(errstr, errstr_size, "rules: version: this matcher reads version 1");
        err = GB_EINVAL;
        goto done;
      }
      continue;
    }
    int known = 0;
    for (size_t i = 0; i < nfields; i++) known |= strcmp(fields[i].section, sk) == 0;
    if (!known) {
      gb_errstr_set(errstr, errstr_size, "rules: unknown section '%.40s'", sk);
      err = GB_EINVAL;
      goto done;
    }
    if (!json_is_object(sv)) {
      gb_errstr_set(errstr, errstr_size, "rules: %s: want an object", sk);
      err = GB_EINVAL;
      goto done;
    }
    const char *k;
    json_t *v;
    json_object_foreach(sv, k, v) {
      const field_t *f = NULL;
      for (size_t i = 0; i < nfields && !f; i++)
        if (strcmp(fields[i].section, sk) == 0 && strcmp(fields[i].name, k) == 0) f = &fields[i];
      if (!f) {
        gb_errstr_set(errstr, errstr_size, "rules: unknown setting '%s.%.40s'", sk, k);
        err = GB_EINVAL;
        goto done;
      }
      if ((err = set(f, v, errstr, errstr_size)) != 0) goto done;
    }
  }
  *out = r;
done:
  json_decref(doc);
  return err;
}

int matcher_rules_load(matcher_rules_t *out, const char *path, char *errstr, size_t errstr_size) {
  if (!path || !*path) {
    matcher_rules_defaults(out);
    return 0;
  }
  FILE *f = fopen(path, "r");
  if (!f) {
    gb_errstr_set(errstr, errstr_size, "rules: cannot open %s", path);
    return GB_EINVAL;
  }
  char buf[65536];
  size_t n = fread(buf, 1, sizeof(buf), f);
  int big = !feof(f);
  fclose(f);
  if (big) {
    gb_errstr_set(errstr, errstr_size, "rules: %s is larger than 64 KiB", path);
    return GB_EINVAL;
  }
  return matcher_rules_parse(out, buf, n, errstr, errstr_size);
}
