/* Service configuration: one table of options per service drives parsing,
 * validation, --help and docs/CONFIGURATION.md.
 *
 * Each option is read, lowest precedence first, from its default, from the
 * environment (GB_ + the name upper-cased with '.' and '-' as '_':
 * redis.url -> GB_REDIS_URL) and from the command line (--redis.url=URL or
 * --redis.url URL). Options named kafka.<property> are not in any table:
 * they go to librdkafka unchanged (--kafka.bootstrap.servers=...,
 * GB_KAFKA_BOOTSTRAP_SERVERS=...), as kcat's -X does.
 *
 * A parsed config is read-only and may be shared between threads. */
#ifndef GB_CONFIG_H
#define GB_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

typedef enum {
  GB_OPT_STRING,
  GB_OPT_INT,  /* long long within [min, max] */
  GB_OPT_BOOL, /* true/false/1/0/yes/no/on/off; a bare --flag is true */
} gb_opt_type_t;

typedef struct {
  const char *name; /* "redis.url" */
  gb_opt_type_t type;
  const char *def;  /* default as text; NULL = required */
  long long min, max;
  const char *help; /* one sentence, with the unit */
} gb_opt_t;

/* Terminates a table. */
#define GB_OPT_END {NULL, GB_OPT_STRING, NULL, 0, 0, NULL}

typedef struct gb_config gb_config_t;

/**
 * Parses argv and the environment against the option tables (a NULL-
 * terminated list of tables, e.g. the common table and the service's own).
 * Returns 0 and *out; 1 when --help or --help-markdown was handled (the text
 * went to stdout, the caller exits 0); or GB_EINVAL with the reason in
 * errstr ("--matcher.call-threshold-s: 'abc' is not a number").
 */
int gb_config_parse(gb_config_t **out, const char *service,
                    const char *description, const gb_opt_t *const *tables,
                    int argc, char **argv, char *errstr, size_t errstr_size);

void gb_config_free(gb_config_t *cfg); /* NULL-safe */

/* Values; the name must be in a table (abort otherwise: a programming error). */
const char *gb_config_str(const gb_config_t *cfg, const char *name);
long long gb_config_int(const gb_config_t *cfg, const char *name);
bool gb_config_bool(const gb_config_t *cfg, const char *name);

/* The kafka.* pairs, property names without the "kafka." prefix. */
int gb_config_kafka_count(const gb_config_t *cfg);
void gb_config_kafka_get(const gb_config_t *cfg, int i, const char **key,
                         const char **value);

/* Writes the --help text / the markdown table of the options. */
void gb_config_usage(FILE *f, const char *service, const char *description,
                     const gb_opt_t *const *tables);
void gb_config_markdown(FILE *f, const char *service, const char *description,
                        const gb_opt_t *const *tables);

/* The options every service has (log level, Redis, topics, ...). */
extern const gb_opt_t gb_common_opts[];

#endif
