#include "gb/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gb/err.h"

const gb_opt_t gb_common_opts[] = {
    {"log.level", GB_OPT_STRING, "info", 0, 0,
     "Lowest level logged: debug, info, warn or error."},
    {"redis.url", GB_OPT_STRING, "redis://127.0.0.1:6379", 0, 0,
     "Redis server, redis://host:port[/db]."},
    {"redis.timeout-ms", GB_OPT_INT, "2000", 10, 600000,
     "Connect and command timeout for Redis, milliseconds."},
    {"redis.prefix", GB_OPT_STRING, "gb:", 0, 0,
     "Prefix of every Redis key, so that several deployments can share a server."},
    {"topic.calls", GB_OPT_STRING, "gb.calls", 0, 0, "Input topic of carriers' call records."},
    {"topic.visits", GB_OPT_STRING, "gb.visits", 0, 0,
     "Input topic of partners' site-visit and app-install records."},
    {"topic.registry", GB_OPT_STRING, "gb.registry", 0, 0, "Input topic of registry changes."},
    {"topic.registry-results", GB_OPT_STRING, "gb.registry.results", 0, 0,
     "Output topic of registry change results."},
    {"topic.intel", GB_OPT_STRING, "gb.intel", 0, 0, "Input topic of fraud indicators."},
    {"topic.events", GB_OPT_STRING, "gb.events", 0, 0,
     "Canonical events, keyed by the subject's number (ingest to matcher)."},
    {"topic.alerts", GB_OPT_STRING, "gb.alerts", 0, 0,
     "Alerts, keyed by station (matcher to notifier)."},
    {"topic.workflow", GB_OPT_STRING, "gb.workflow", 0, 0, "Alert state changes (notifier)."},
    {"topic.index", GB_OPT_STRING, "gb.index", 0, 0,
     "The index's change feed, compacted, keyed by entry (matcher writes it)."},
    {"topic.dlq", GB_OPT_STRING, "gb.dlq", 0, 0,
     "Dead letters: input that could not be used, unchanged, with the reason in headers."},
    {"startup.timeout-ms", GB_OPT_INT, "15000", 100, 600000,
     "How long a service waits for Kafka and Redis at start before it exits, milliseconds."},
    {"batch.max", GB_OPT_INT, "10000", 1, 1000000,
     "Most input messages processed between two offset commits."},
    {"batch.linger-ms", GB_OPT_INT, "20", 0, 10000,
     "How long a batch gathers input before its outputs are flushed and its offsets "
     "committed, milliseconds: throughput against added latency."},
    GB_OPT_END,
};

typedef struct {
  const gb_opt_t *opt;
  char *value;
} gb_cfg_entry_t;

struct gb_config {
  gb_cfg_entry_t *entries;
  int n;
  char **kafka_keys;
  char **kafka_values;
  int nkafka;
};

static void env_name(char *out, size_t size, const char *name) {
  size_t o = 0;
  o += (size_t)snprintf(out, size, "GB_");
  for (const char *p = name; *p && o + 1 < size; p++)
    out[o++] = (*p == '.' || *p == '-') ? '_' : (char)toupper((unsigned char)*p);
  out[o] = '\0';
}

static int parse_bool(const char *s, bool *out) {
  static const char *const yes[] = {"true", "1", "yes", "on"};
  static const char *const no[] = {"false", "0", "no", "off"};
  for (int i = 0; i < 4; i++) {
    if (strcasecmp(s, yes[i]) == 0) return *out = true, 0;
    if (strcasecmp(s, no[i]) == 0) return *out = false, 0;
  }
  return -1;
}

static int check_value(const gb_opt_t *o, const char *v, char *errstr, size_t errstr_size) {
  if (o->type == GB_OPT_INT) {
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || end == v || *end) {
      snprintf(errstr, errstr_size, "--%s: '%s' is not a whole number", o->name, v);
      return GB_EINVAL;
    }
    if (x < o->min || x > o->max) {
      snprintf(errstr, errstr_size, "--%s: %lld is outside %lld..%lld", o->name, x, o->min,
               o->max);
      return GB_ERANGE;
    }
  } else if (o->type == GB_OPT_BOOL) {
    bool b;
    if (parse_bool(v, &b) != 0) {
      snprintf(errstr, errstr_size, "--%s: '%s' is not true or false", o->name, v);
      return GB_EINVAL;
    }
  }
  return 0;
}

static gb_cfg_entry_t *find_entry(const gb_config_t *cfg, const char *name) {
  for (int i = 0; i < cfg->n; i++)
    if (strcmp(cfg->entries[i].opt->name, name) == 0) return &cfg->entries[i];
  return NULL;
}

static int set_value(gb_cfg_entry_t *e, const char *v, char *errstr, size_t errstr_size) {
  int err = check_value(e->opt, v, errstr, errstr_size);
  if (err) return err;
  char *copy = strdup(v);
  if (!copy) return GB_ENOMEM;
  free(e->value);
  e->value = copy;
  return 0;
}

static int set_kafka(gb_config_t *cfg, const char *key, const char *value) {
  for (int i = 0; i < cfg->nkafka; i++) {
    if (strcmp(cfg->kafka_keys[i], key) == 0) {
      char *v = strdup(value);
      if (!v) return GB_ENOMEM;
      free(cfg->kafka_values[i]);
      cfg->kafka_values[i] = v;
      return 0;
    }
  }
  char **k = realloc(cfg->kafka_keys, sizeof(char *) * (size_t)(cfg->nkafka + 1));
  if (!k) return GB_ENOMEM;
  cfg->kafka_keys = k;
  char **v = realloc(cfg->kafka_values, sizeof(char *) * (size_t)(cfg->nkafka + 1));
  if (!v) return GB_ENOMEM;
  cfg->kafka_values = v;
  cfg->kafka_keys[cfg->nkafka] = strdup(key);
  cfg->kafka_values[cfg->nkafka] = strdup(value);
  cfg->nkafka++;
  if (!cfg->kafka_keys[cfg->nkafka - 1] || !cfg->kafka_values[cfg->nkafka - 1]) return GB_ENOMEM;
  return 0;
}

/* GB_KAFKA_SESSION_TIMEOUT_MS=6000 -> session.timeout.ms=6000. librdkafka's
 * property names use '.' only, so the mapping is unambiguous. */
static int read_kafka_env(gb_config_t *cfg) {
  extern char **environ;
  for (char **e = environ; *e; e++) {
    if (strncmp(*e, "GB_KAFKA_", 9) != 0) continue;
    const char *eq = strchr(*e, '=');
    if (!eq) continue;
    char key[128];
    size_t n = (size_t)(eq - (*e + 9));
    if (n == 0 || n >= sizeof(key)) continue;
    for (size_t i = 0; i < n; i++) {
      char c = (*e)[9 + i];
      key[i] = c == '_' ? '.' : (char)tolower((unsigned char)c);
    }
    key[n] = '\0';
    if (set_kafka(cfg, key, eq + 1) != 0) return GB_ENOMEM;
  }
  return 0;
}

int gb_config_parse(gb_config_t **out, const char *service, const char *description,
                    const gb_opt_t *const *tables, int argc, char **argv, char *errstr,
                    size_t errstr_size) {
  int err = GB_ENOMEM;
  gb_config_t *cfg = calloc(1, sizeof(*cfg));
  *out = NULL;
  if (!cfg) goto cleanup;
  for (const gb_opt_t *const *t = tables; *t; t++)
    for (const gb_opt_t *o = *t; o->name; o++) cfg->n++;
  cfg->entries = calloc((size_t)cfg->n, sizeof(*cfg->entries));
  if (!cfg->entries) goto cleanup;
  int i = 0;
  for (const gb_opt_t *const *t = tables; *t; t++) {
    for (const gb_opt_t *o = *t; o->name; o++, i++) {
      cfg->entries[i].opt = o;
      if (o->def && (cfg->entries[i].value = strdup(o->def)) == NULL) goto cleanup;
    }
  }
  /* Environment. */
  for (i = 0; i < cfg->n; i++) {
    char envn[160];
    env_name(envn, sizeof(envn), cfg->entries[i].opt->name);
    const char *v = getenv(envn);
    if (v && (err = set_value(&cfg->entries[i], v, errstr, errstr_size)) != 0) {
      size_t l = strlen(errstr);
      snprintf(errstr + l, errstr_size - l, " (from %s)", envn);
      goto cleanup;
    }
  }
  if ((err = read_kafka_env(cfg)) != 0) goto cleanup;
  /* Command line. */
  for (i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      gb_config_usage(stdout, service, description, tables);
      err = 1;
      goto cleanup;
    }
    if (strcmp(a, "--help-markdown") == 0) {
      gb_config_markdown(stdout, service, description, tables);
      err = 1;
      goto cleanup;
    }
    if (strncmp(a, "--", 2) != 0) {
      snprintf(errstr, errstr_size, "unexpected argument '%s' (see --help)", a);
      err = GB_EINVAL;
      goto cleanup;
    }
    char name[160];
    const char *eq = strchr(a, '=');
    size_t nl = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
    if (nl >= sizeof(name)) nl = sizeof(name) - 1;
    memcpy(name, a + 2, nl);
    name[nl] = '\0';
    gb_cfg_entry_t *e = find_entry(cfg, name);
    const char *v = eq ? eq + 1 : NULL;
    if (!v && e && e->opt->type == GB_OPT_BOOL &&
        (i + 1 >= argc || strncmp(argv[i + 1], "--", 2) == 0))
      v = "true";
    if (!v) {
      if (i + 1 >= argc) {
        snprintf(errstr, errstr_size, "--%s needs a value (see --help)", name);
        err = GB_EINVAL;
        goto cleanup;
      }
      v = argv[++i];
    }
    if (e) {
      if ((err = set_value(e, v, errstr, errstr_size)) != 0) goto cleanup;
    } else if (strncmp(name, "kafka.", 6) == 0 && name[6]) {
      if ((err = set_kafka(cfg, name + 6, v)) != 0) goto cleanup;
    } else {
      snprintf(errstr, errstr_size, "unknown option --%s (see --help)", name);
      err = GB_EINVAL;
      goto cleanup;
    }
  }
  for (i = 0; i < cfg->n; i++) {
    if (!cfg->entries[i].value) {
      char envn[160];
      env_name(envn, sizeof(envn), cfg->entries[i].opt->name);
      snprintf(errstr, errstr_size, "--%s (or %s) is required", cfg->entries[i].opt->name,
               envn);
      err = GB_EINVAL;
      goto cleanup;
    }
  }
  *out = cfg, cfg = NULL;
  err = 0;
cleanup:
  gb_config_free(cfg);
  return err;
}

void gb_config_free(gb_config_t *cfg) {
  if (!cfg) return;
  for (int i = 0; i < cfg->n && cfg->entries; i++) free(cfg->entries[i].value);
  free(cfg->entries);
  for (int i = 0; i < cfg->nkafka; i++) {
    free(cfg->kafka_keys[i]);
    free(cfg->kafka_values[i]);
  }
  free(cfg->kafka_keys);
  free(cfg->kafka_values);
  free(cfg);
}

static const gb_cfg_entry_t *must_find(const gb_config_t *cfg, const char *name) {
  const gb_cfg_entry_t *e = find_entry(cfg, name);
  if (!e) {
    fprintf(stderr, "BUG: config option '%s' is not in any table\n", name);
    abort();
  }
  return e;
}

const char *gb_config_str(const gb_config_t *cfg, const char *name) {
  return must_find(cfg, name)->value;
}

long long gb_config_int(const gb_config_t *cfg, const char *name) {
  return strtoll(must_find(cfg, name)->value, NULL, 10);
}

bool gb_config_bool(const gb_config_t *cfg, const char *name) {
  bool b = false;
  parse_bool(must_find(cfg, name)->value, &b);
  return b;
}

int gb_config_kafka_count(const gb_config_t *cfg) { return cfg->nkafka; }

void gb_config_kafka_get(const gb_config_t *cfg, int i, const char **key, const char **value) {
  *key = cfg->kafka_keys[i];
  *value = cfg->kafka_values[i];
}

static const char *type_name(gb_opt_type_t t) {
  return t == GB_OPT_INT ? "int" : t == GB_OPT_BOOL ? "bool" : "string";
}

void gb_config_usage(FILE *f, const char *service, const char *description,
                     const gb_opt_t *const *tables) {
  fprintf(f, "Usage: %s [--option=value ...]\n\n%s\n\nOptions (each also read from the "
             "environment variable shown):\n",
          service, description);
  for (const gb_opt_t *const *t = tables; *t; t++) {
    for (const gb_opt_t *o = *t; o->name; o++) {
      char envn[160];
      env_name(envn, sizeof(envn), o->name);
      fprintf(f, "  --%s=<%s>  [%s]\n      %s", o->name, type_name(o->type), envn, o->help);
      if (o->type == GB_OPT_INT) fprintf(f, " Range %lld..%lld.", o->min, o->max);
      fprintf(f, " Default: %s\n", o->def ? (*o->def ? o->def : "(empty)") : "(required)");
    }
  }
  fprintf(f, "  --kafka.<property>=<value>  [GB_KAFKA_<PROPERTY>]\n"
             "      Any librdkafka property, passed unchanged, e.g.\n"
             "      --kafka.bootstrap.servers=127.0.0.1:9092 (GB_KAFKA_BOOTSTRAP_SERVERS).\n"
             "  --help, --help-markdown\n");
}

void gb_config_markdown(FILE *f, const char *service, const char *description,
                        const gb_opt_t *const *tables) {
  fprintf(f, "### %s\n\n%s\n\n| option | environment | type | default | meaning |\n"
             "| --- | --- | --- | --- | --- |\n",
          service, description);
  for (const gb_opt_t *const *t = tables; *t; t++) {
    for (const gb_opt_t *o = *t; o->name; o++) {
      char envn[160];
      env_name(envn, sizeof(envn), o->name);
      fprintf(f, "| `--%s` | `%s` | %s", o->name, envn, type_name(o->type));
      if (o->type == GB_OPT_INT) fprintf(f, " %lld..%lld", o->min, o->max);
      fprintf(f, " | %s%s%s | %s |\n", o->def ? "`" : "", o->def ? o->def : "required",
              o->def ? "`" : "", o->help);
    }
  }
  fprintf(f, "| `--kafka.<property>` | `GB_KAFKA_<PROPERTY>` | string | | any librdkafka "
             "property, unchanged |\n\n");
}
