/* A synchronous Redis connection (hiredis) that reconnects by itself, and a
 * process-wide watch on the server that says whether it answers.
 *
 * hiredis 0.14 leaves reconnection to the application: after an I/O error
 * or a timeout (every connect and command is bounded by timeout_ms) the
 * context is dropped and the call returns NULL. An outage then begins for
 * that connection (logged once, event=redis.disconnected): later calls fail
 * at once, without touching the network, until a reconnection is due, and
 * the first call after that connects again (and PINGs, so that a server
 * that accepts connections but does not answer is not taken for up). The
 * reconnection that succeeds ends the outage (event=redis.reconnected, with
 * how long it lasted, the calls that failed and the attempts).
 *
 * When is a reconnection due? Without a watch: at once on the next call
 * after the drop (a server that closed an idle connection costs nothing),
 * then with backoff, 100 ms doubling to 2 s. With a watch running
 * (gb_redis_watch_start): only once the watch's probe has succeeded after
 * the drop, and no call is sent at all while the watch says the server is
 * down, so that nothing piles up unanswered in a stopped server (it would
 * run those commands when it resumes, long after their callers gave up).
 *
 * A failed call's command may or may not have run (a reply lost to a
 * timeout): callers send commands that are safe to repeat, or find out.
 *
 * One connection per thread; not thread-safe. The watch and
 * gb_redis_health are for any thread. */
#ifndef GB_REDIS_H
#define GB_REDIS_H

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct gb_redis gb_redis_t;

/**
 * Connects to url ("redis://host:port[/db]"), retrying until
 * startup_timeout_ms has passed. timeout_ms bounds each connect and command.
 * @returns 0 and *out, GB_EINVAL for a malformed URL, or GB_EIO when the
 *          server did not answer, with the reason in errstr.
 */
int gb_redis_connect(gb_redis_t **out, const char *url, int timeout_ms, int startup_timeout_ms,
                     char *errstr, size_t errstr_size);

/* Names the connection in its log lines (conn=<name>; "main" by default):
 * which thread of a service lost Redis. Copied. */
void gb_redis_set_name(gb_redis_t *r, const char *name);

/* Sends one command and returns its reply (free it with freeReplyObject), or
 * NULL on a connection error or during an outage (the reason in
 * gb_redis_errstr). A Redis error reply is returned as a REDIS_REPLY_ERROR
 * reply, not NULL. */
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

/* ---- the watch: is the server answering? ---- */

/**
 * Starts the process's watch: a thread with a connection of its own that
 * PINGs the server every second while it answers and, while it does not,
 * tries again with backoff (100 ms doubling to 2 s). It logs each outage
 * once when it begins (level=error event=redis.down) and once when it ends
 * (event=redis.up, with its length, the calls that failed meanwhile in the
 * whole process, and the probes). A connection that loses the server wakes
 * it for an immediate probe. One watch per process; call after the first
 * gb_redis_connect.
 * @returns 0, or GB_EIO with the reason in errstr (no thread started).
 */
int gb_redis_watch_start(const char *url, int timeout_ms, char *errstr, size_t errstr_size);
/* Stops and joins the watch; a no-op when none runs. */
void gb_redis_watch_stop(void);

typedef struct {
  bool watched;          /* a watch runs */
  bool up;               /* the watch's last probe succeeded (without a watch: no
                            connection of the process is in an outage) */
  int64_t down_ms;       /* how long the current outage has lasted; 0 when up */
  int64_t since_ms;      /* when it began, wall clock ms; 0 when up */
  uint64_t outages;      /* outages the watch has seen since start */
  uint64_t failed_calls; /* calls that failed, process-wide, since start */
  int conns_down;        /* connections in an outage now */
  char reason[200];      /* why the server is taken for down; "" when up */
} gb_redis_health_t;

/* The process's view of Redis. Any thread. */
void gb_redis_health(gb_redis_health_t *out);

#endif
