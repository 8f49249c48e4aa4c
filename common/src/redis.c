#include "gb/redis.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gb/err.h"
#include "gb/log.h"
#include "gb/timeparse.h"

struct gb_redis {
  redisContext *c;
  char host[256];
  int port;
  int db;
  int timeout_ms;
  char url[300];
  char err[512];
};

static int parse_url(gb_redis_t *r, const char *url, char *errstr, size_t errstr_size) {
  const char *p = url;
  if (strncmp(p, "redis://", 8) != 0) goto bad;
  p += 8;
  const char *colon = strrchr(p, ':');
  const char *slash = strchr(p, '/');
  if (!colon || (slash && colon > slash)) goto bad;
  size_t hl = (size_t)(colon - p);
  if (hl == 0 || hl >= sizeof(r->host)) goto bad;
  memcpy(r->host, p, hl);
  r->host[hl] = '\0';
  char *end;
  long port = strtol(colon + 1, &end, 10);
  if (end == colon + 1 || port < 1 || port > 65535 || (*end && *end != '/')) goto bad;
  r->port = (int)port;
  r->db = 0;
  if (*end == '/' && end[1]) {
    char *e2;
    long db = strtol(end + 1, &e2, 10);
    if (*e2 || db < 0 || db > 15) goto bad;
    r->db = (int)db;
  }
  snprintf(r->url, sizeof(r->url), "%s", url);
  return 0;
bad:
  snprintf(errstr, errstr_size, "redis: '%s' is not redis://host:port[/db]", url);
  return GB_EINVAL;
}

static void drop(gb_redis_t *r, const char *why) {
  if (r->c) {
    snprintf(r->err, sizeof(r->err), "%s", r->c->errstr[0] ? r->c->errstr : why);
    redisFree(r->c);
    r->c = NULL;
    gb_warn("redis.disconnected", "url=%s reason=\"%s\"", r->url, r->err);
  }
}

static int connect_once(gb_redis_t *r) {
  struct timeval tv = {r->timeout_ms / 1000, (r->timeout_ms % 1000) * 1000};
  redisContext *c = redisConnectWithTimeout(r->host, r->port, tv);
  if (!c || c->err) {
    snprintf(r->err, sizeof(r->err), "connect %s:%d: %s", r->host, r->port,
             c ? c->errstr : "out of memory");
    if (c) redisFree(c);
    return GB_EIO;
  }
  redisSetTimeout(c, tv);
  redisEnableKeepAlive(c);
  r->c = c;
  if (r->db) {
    redisReply *rep = redisCommand(c, "SELECT %d", r->db);
    int ok = rep && rep->type != REDIS_REPLY_ERROR;
    if (rep) freeReplyObject(rep);
    if (!ok) {
      drop(r, "SELECT failed");
      return GB_EIO;
    }
  }
  gb_debug("redis.connected", "url=%s", r->url);
  return 0;
}

int gb_redis_connect(gb_redis_t **out, const char *url, int timeout_ms, int startup_timeout_ms,
                     char *errstr, size_t errstr_size) {
  int err;
  gb_redis_t *r = calloc(1, sizeof(*r));
  *out = NULL;
  if (!r) return GB_ENOMEM;
  r->timeout_ms = timeout_ms;
  if ((err = parse_url(r, url, errstr, errstr_size)) != 0) goto cleanup;
  int64_t deadline = gb_mono_ms() + startup_timeout_ms;
  while ((err = connect_once(r)) != 0 && gb_mono_ms() < deadline) {
    /* A dependency starting alongside us: try again shortly, bounded. */
    struct timespec ts = {0, 100 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  if (err) {
    snprintf(errstr, errstr_size, "redis: no answer from %s within %d ms (%s)", url,
             startup_timeout_ms, r->err);
    goto cleanup;
  }
  *out = r, r = NULL;
cleanup:
  gb_redis_free(r);
  return err;
}

static int ensure(gb_redis_t *r) { return r->c ? 0 : connect_once(r); }

static redisReply *checked(gb_redis_t *r, void *rep) {
  if (!rep) drop(r, "I/O error");
  return rep;
}

redisReply *gb_redis_command(gb_redis_t *r, const char *fmt, ...) {
  if (ensure(r) != 0) return NULL;
  va_list ap;
  va_start(ap, fmt);
  void *rep = redisvCommand(r->c, fmt, ap);
  va_end(ap);
  return checked(r, rep);
}

redisReply *gb_redis_commandargv(gb_redis_t *r, int argc, const char **argv,
                                 const size_t *argvlen) {
  if (ensure(r) != 0) return NULL;
  return checked(r, redisCommandArgv(r->c, argc, argv, argvlen));
}

int gb_redis_append(gb_redis_t *r, const char *fmt, ...) {
  if (ensure(r) != 0) return GB_EIO;
  va_list ap;
  va_start(ap, fmt);
  int rc = redisvAppendCommand(r->c, fmt, ap);
  va_end(ap);
  return rc == REDIS_OK ? 0 : GB_ENOMEM;
}

int gb_redis_appendargv(gb_redis_t *r, int argc, const char **argv, const size_t *argvlen) {
  if (ensure(r) != 0) return GB_EIO;
  return redisAppendCommandArgv(r->c, argc, argv, argvlen) == REDIS_OK ? 0 : GB_ENOMEM;
}

redisReply *gb_redis_reply(gb_redis_t *r) {
  if (!r->c) return NULL;
  void *rep = NULL;
  if (redisGetReply(r->c, &rep) != REDIS_OK) rep = NULL;
  return checked(r, rep);
}

int gb_redis_connected(const gb_redis_t *r) { return r->c != NULL; }
const char *gb_redis_errstr(const gb_redis_t *r) { return r->err; }
const char *gb_redis_url(const gb_redis_t *r) { return r->url; }

void gb_redis_free(gb_redis_t *r) {
  if (!r) return;
  if (r->c) redisFree(r->c);
  free(r);
}

#define EVAL_ARGS_MAX 64

static redisReply *run_script(gb_redis_t *r, const char *cmd, const char *script_or_sha, int argc,
                              const char **argv) {
  const char *v[EVAL_ARGS_MAX + 2];
  if (argc > EVAL_ARGS_MAX) return NULL;
  v[0] = cmd;
  v[1] = script_or_sha;
  for (int i = 0; i < argc; i++) v[2 + i] = argv[i];
  return gb_redis_commandargv(r, argc + 2, v, NULL);
}

redisReply *gb_redis_eval(gb_redis_t *r, gb_script_t *s, int argc, const char **argv) {
  if (!s->sha[0]) {
    redisReply *x = gb_redis_command(r, "SCRIPT LOAD %s", s->body);
    if (x && x->type == REDIS_REPLY_STRING && x->len == 40) memcpy(s->sha, x->str, 41);
    if (x) freeReplyObject(x);
    if (!s->sha[0]) return run_script(r, "EVAL", s->body, argc, argv); /* says why */
  }
  redisReply *rep = run_script(r, "EVALSHA", s->sha, argc, argv);
  if (rep && rep->type == REDIS_REPLY_ERROR && strncmp(rep->str, "NOSCRIPT", 8) == 0) {
    freeReplyObject(rep);
    s->sha[0] = '\0';
    rep = run_script(r, "EVAL", s->body, argc, argv); /* loads it again, too */
  }
  return rep;
}
