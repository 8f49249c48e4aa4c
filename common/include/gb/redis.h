/* A synchronous Redis connection (hiredis) that reconnects by itself.
 *
 * hiredis 0.14 leaves reconnection to the application: after an I/O error
 * the context is dropped, the call returns NULL, and the next call connects
 * again. Callers send only commands that are safe to repeat, so a command
 * whose reply was lost may simply be sent again.
 *
 * One connection per thread; not thread-safe. */
#ifndef GB_REDIS_H
#define GB_REDIS_H

#include <hiredis/hiredis.h>
#include <stddef.h>

typedef struct gb_redis gb_redis_t;

/**
 * Connects to url ("redis://host:port[/db]"), retrying until
 * startup_timeout_ms has passed. timeout_ms bounds each connect and command.
 * @returns 0 and *out, GB_EINVAL for a malformed URL, or GB_EIO when the
 *          server did not answer, with the reason in errstr.
 */
int gb_redis_connect(gb_redis_t **out, const char *url, int timeout_ms, int startup_timeout_ms,
                     char *errstr, size_t errstr_size);

/* Sends one command and returns its reply (free it with freeReplyObject), or
 * NULL on a connection error (the reason in gb_redis_errstr). A Redis error
 * reply is returned as a REDIS_REPLY_ERROR reply, not NULL. */
redisReply *gb_redis_command(gb_redis_t *r, const char *fmt, ...);
redisReply *gb_redis_commandargv(gb_redis_t *r, int argc, const char **argv,
                                 const size_t *argvlen);

/* Pipelining: append n commands, then read n replies with gb_redis_reply. A
 * connection error drops the connection; the remaining replies are NULL. */
int gb_redis_append(gb_redis_t *r, const char *fmt, ...);
int gb_redis_appendargv(gb_redis_t *r, int argc, const char **argv, const size_t *argvlen);
redisReply *gb_redis_reply(gb_redis_t *r);

/* A Lua script run by its SHA1 (EVALSHA), so that its text crosses the
 * wire once: loaded on first use, and again when Redis answers NOSCRIPT
 * (a restarted or flushed server). Declare one per script, static, and use
 * it from one thread. */
typedef struct {
  const char *body;
  char sha[41]; /* "" until loaded */
} gb_script_t;
#define GB_SCRIPT(text) {(text), ""}

/* Runs the script: argv holds numkeys, the keys, then the arguments (argc
 * of them; C strings). The reply as gb_redis_command's. */
redisReply *gb_redis_eval(gb_redis_t *r, gb_script_t *s, int argc, const char **argv);

/* Whether the connection is up (after the last call). */
int gb_redis_connected(const gb_redis_t *r);
const char *gb_redis_errstr(const gb_redis_t *r);
const char *gb_redis_url(const gb_redis_t *r);

void gb_redis_free(gb_redis_t *r); /* NULL-safe */

#endif
