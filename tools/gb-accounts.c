/*
 * gb-accounts: the bureau administrator's tool for officers' accounts and
 * device binding codes (gb/accounts.h), for scripting and for the first
 * bureau administrator, whom no API call can create.
 *
 *   gb-accounts [--redis URL] [--prefix P] COMMAND ...
 *     create ID --role officer|station_admin|bureau_admin [--station ST] [--name NAME]
 *     code ID [--ttl SECONDS]      a one-time binding code (default valid 24 h)
 *     deactivate ID                the account stops working, its devices at once
 *     list [--station ST]
 *
 * Output: tab-separated lines (code prints the code alone).
 * Exit status: 0 done; 1 Redis failed; 2 bad usage or an unknown account.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gb/accounts.h"
#include "gb/err.h"
#include "gb/log.h"
#include "gb/redis.h"
#include "gb/stations.h"
#include "toolredis.h"

#define EXIT_REDIS 1
#define EXIT_USAGE 2

static const char usage_text[] =
    "usage: gb-accounts [--redis URL] [--prefix P] COMMAND ...\n"
    "\n"
    "commands:\n"
    "  create ID --role officer|station_admin|bureau_admin [--station ST] [--name NAME]\n"
    "                       create or replace an account (active); officers and station\n"
    "                       administrators need --station\n"
    "  code ID [--ttl S]    a one-time binding code for a device (valid S seconds, default\n"
    "                       86400); the officer enters it on the device to bind it\n"
    "  deactivate ID        stop the account; every device it bound loses access at once\n"
    "  list [--station ST]  accounts, by id: id, role, station, active, name\n"
    "\n"
    "options:\n"
    "  --redis URL          default $GB_REDIS_URL or redis://127.0.0.1:6379\n"
    "  --prefix P           key prefix, default $GB_REDIS_PREFIX or gb:\n";

static void say(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("gb-accounts: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

typedef struct {
  const char *redis_url, *prefix, *role, *station, *name, *ttl;
  const char *pos[3];
  int npos;
} args_t;

static int parse_args(args_t *a, int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *s = argv[i];
    const char **slot = !strcmp(s, "--redis") ? &a->redis_url
                        : !strcmp(s, "--prefix") ? &a->prefix
                        : !strcmp(s, "--role") ? &a->role
                        : !strcmp(s, "--station") ? &a->station
                        : !strcmp(s, "--name") ? &a->name
                        : !strcmp(s, "--ttl") ? &a->ttl
                        : NULL;
    if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
      fputs(usage_text, stdout);
      exit(0);
    }
    if (slot) {
      if (i + 1 >= argc) {
        say("%s needs a value", s);
        return EXIT_USAGE;
      }
      *slot = argv[++i];
    } else if (s[0] == '-' || a->npos == 3) {
      say("unexpected argument \"%s\" (see --help)", s);
      return EXIT_USAGE;
    } else {
      a->pos[a->npos++] = s;
    }
  }
  if (a->npos == 0) {
    fputs(usage_text, stderr);
    return EXIT_USAGE;
  }
  return 0;
}

static int redis_failed(gb_redis_t *r) {
  say("redis: %s", gb_redis_errstr(r));
  return EXIT_REDIS;
}

static int cmd_create(const args_t *a, gb_redis_t *r) {
  gb_account_t acc;
  memset(&acc, 0, sizeof(acc));
  if (a->npos != 2 || !gb_account_id_valid(a->pos[1])) {
    say("create ID: the id is 1-64 of a-z 0-9 . _ -, starting with a letter or digit");
    return EXIT_USAGE;
  }
  if (gb_role_parse(a->role, &acc.role) != 0) {
    say("create: --role officer, station_admin or bureau_admin");
    return EXIT_USAGE;
  }
  if (acc.role != GB_ROLE_BUREAU_ADMIN && (!a->station || !gb_account_id_valid(a->station))) {
    say("create: an officer or station administrator needs --station (a station id)");
    return EXIT_USAGE;
  }
  if (a->name && strlen(a->name) >= sizeof(acc.name)) {
    say("create: --name is longer than %zu bytes", sizeof(acc.name) - 1);
    return EXIT_USAGE;
  }
  snprintf(acc.id, sizeof(acc.id), "%s", a->pos[1]);
  snprintf(acc.name, sizeof(acc.name), "%s", a->name ? a->name : a->pos[1]);
  snprintf(acc.station, sizeof(acc.station), "%s",
           acc.role == GB_ROLE_BUREAU_ADMIN ? "" : a->station);
  acc.active = true;
  gb_station_t st;
  int err = acc.station[0] ? gb_station_get(r, a->prefix, acc.station, &st) : 0;
  if (err == GB_ENOTFOUND) {
    say("create: no station \"%s\" (gb-stations list)", acc.station);
    return EXIT_USAGE;
  }
  if (err || gb_account_put(r, a->prefix, &acc) != 0) return redis_failed(r);
  printf("%s\t%s\t%s\n", acc.id, gb_role_name(acc.role), acc.station);
  return 0;
}

static int cmd_code(const args_t *a, gb_redis_t *r) {
  if (a->npos != 2) {
    say("code ID");
    return EXIT_USAGE;
  }
  char *end = NULL;
  long ttl = a->ttl ? strtol(a->ttl, &end, 10) : 86400;
  if ((a->ttl && *end) || ttl < 60 || ttl > 30 * 86400) {
    say("code: --ttl is 60..2592000 seconds");
    return EXIT_USAGE;
  }
  char code[GB_BIND_CODE_LEN + 1];
  int err = gb_bind_code_new(r, a->prefix, a->pos[1], (int)ttl, code);
  if (err == GB_ENOTFOUND) {
    say("code: no active account \"%s\"", a->pos[1]);
    return EXIT_USAGE;
  }
  if (err) return redis_failed(r);
  printf("%s\n", code);
  return 0;
}

static int cmd_deactivate(const args_t *a, gb_redis_t *r) {
  if (a->npos != 2) {
    say("deactivate ID");
    return EXIT_USAGE;
  }
  int err = gb_account_deactivate(r, a->prefix, a->pos[1]);
  if (err == GB_ENOTFOUND) {
    say("deactivate: no account \"%s\"", a->pos[1]);
    return EXIT_USAGE;
  }
  return err ? redis_failed(r) : 0;
}

static int cmd_list(const args_t *a, gb_redis_t *r) {
  gb_account_t *v = NULL;
  int n = gb_account_list(r, a->prefix, a->station, &v);
  if (n < 0) return redis_failed(r);
  for (int i = 0; i < n; i++)
    printf("%s\t%s\t%s\t%d\t%s\n", v[i].id, gb_role_name(v[i].role), v[i].station,
           v[i].active ? 1 : 0, v[i].name);
  free(v);
  return 0;
}

int main(int argc, char **argv) {
  args_t a;
  memset(&a, 0, sizeof(a));
  int rc = parse_args(&a, argc, argv);
  if (rc) return rc;
  static const struct {
    const char *name;
    int (*fn)(const args_t *, gb_redis_t *);
  } cmds[] = {
      {"create", cmd_create}, {"code", cmd_code}, {"deactivate", cmd_deactivate},
      {"list", cmd_list},
  };
  size_t k = 0, ncmds = sizeof(cmds) / sizeof(cmds[0]);
  while (k < ncmds && strcmp(cmds[k].name, a.pos[0]) != 0) k++;
  if (k == ncmds) {
    say("unknown command \"%s\" (see --help)", a.pos[0]);
    return EXIT_USAGE;
  }
  gb_redis_t *r = NULL;
  if ((rc = tool_redis_open("gb-accounts", &a.redis_url, &a.prefix, 2000, &r)) != 0) return rc;
  rc = cmds[k].fn(&a, r);
  gb_redis_free(r);
  return rc;
}
