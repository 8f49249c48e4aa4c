/* A small HTTP/1.1 server on libuv with nodejs' http-parser, and
 * Server-Sent Events (text/event-stream) for the push stream.
 *
 * Everything here runs on the loop thread that owns the server; no function
 * may be called from another thread. Limits (header bytes, body bytes,
 * connections) are enforced before the handler runs, with 431, 413 and 503;
 * more than 64 header lines is also 431, a request http-parser rejects is
 * 400, a request not whole within idle_timeout_ms of its first byte is 408,
 * and each of these closes the connection. Their bodies are JSON,
 * {"error": "<what and the limit>"}, and on_refused hears of each.
 *
 * libuv writes with write(2), so the process must ignore SIGPIPE
 * (signal(SIGPIPE, SIG_IGN)) or a client that vanishes mid-write kills it.
 *
 * Lifetime: a request object is valid from the handler call until the
 * response is finished (gb_http_respond) or, for an SSE stream, until its
 * close callback has run. A handler may respond later (after an async Redis
 * reply, say); if the client went away meanwhile, respond is a harmless
 * no-op that frees the request. While a response is pending the connection
 * parses nothing further (pipelined requests wait their turn), but it keeps
 * reading to notice the client leaving: EOF then counts as going away, as
 * in nginx, even if it was only a half-close. */
#ifndef GB_HTTP_H
#define GB_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct gb_http_server gb_http_server_t;
typedef struct gb_http_req gb_http_req_t;
typedef struct gb_sse gb_sse_t;

/* Told, on the loop thread, of a request or connection refused before any
 * handler saw it, once the answer is queued: status (400, 408, 413, 431,
 * 503 or 500), a stable reason ("bad_request", "request_timeout",
 * "body_too_large", "header_too_large", "too_many_connections",
 * "internal"), the answer's error text and the peer's address. At most 10
 * calls a second reach it, so that a flood cannot flood a log; suppressed
 * counts the refusals left untold since the previous call. */
typedef void (*gb_http_refused_fn)(void *ud, int status, const char *reason,
                                   const char *detail, const char *peer,
                                   unsigned long suppressed);

typedef struct {
  const char *host;      /* bind address, "127.0.0.1" */
  int port;              /* 0 = any free port; see gb_http_server_port */
  size_t max_header_bytes; /* 0 = 16 KiB: the request's head as sent (request
                              line, header lines and the blank line, CRLFs
                              included; optional whitespace around values
                              not counted); http-parser caps it at 80 KiB
                              whatever is set here */
  size_t max_body_bytes;   /* 0 = 1 MiB; chunked bodies too, as they arrive */
  int max_connections;     /* 0 = 1024; SSE streams included */
  int sse_keepalive_ms;    /* comment line sent on idle SSE streams; 0 = 15000 */
  int idle_timeout_ms;     /* closes idle keep-alive connections, and bounds
                              the time from a request's first byte to its
                              last (408); 0 = 60000 */
  gb_http_refused_fn on_refused; /* NULL: nobody is told */
  void *refused_ud;
} gb_http_conf_t;

/* Called on the loop thread for each request that matched a route. */
typedef void (*gb_http_handler_fn)(gb_http_req_t *req, void *ud);

/**
 * Creates a server listening on conf->host:conf->port on loop. host must be
 * a numeric IPv4 or IPv6 address; conf is copied and host is not kept.
 * @returns 0 and *out, or GB_EIO / GB_EINVAL with the reason in errstr
 *          ("http: bind 127.0.0.1:8080: address already in use"). After a
 *          failure the caller has nothing to free or close.
 */
int gb_http_server_new(gb_http_server_t **out, uv_loop_t *loop,
                       const gb_http_conf_t *conf, char *errstr,
                       size_t errstr_size);

/* The port actually bound (useful with port 0), or a negative GB_E* code. */
int gb_http_server_port(const gb_http_server_t *srv);

/**
 * Adds a route. pattern is a path whose segments may be ":name" (one
 * segment, read with gb_http_req_param), e.g. "/v1/alerts/:id/claim".
 * method is "GET", "POST", ... Routes are tried in the order added. A path
 * that matches no route is 404; one that matches only with another method is
 * 405 with an Allow header. Path parameters are not percent-decoded.
 * @returns 0, GB_EINVAL (pattern not starting with '/', server closing) or
 *          GB_ENOMEM.
 */
int gb_http_route(gb_http_server_t *srv, const char *method,
                  const char *pattern, gb_http_handler_fn fn, void *ud);

/**
 * Stops accepting, closes every connection (SSE streams get their close
 * callback), and frees the server once libuv has closed every handle. Safe
 * with NULL. The loop must run afterwards for the close callbacks to fire.
 */
void gb_http_server_close(gb_http_server_t *srv);

/* Number of open connections / open SSE streams, for metrics. */
int gb_http_server_connections(const gb_http_server_t *srv);
int gb_http_server_streams(const gb_http_server_t *srv);

/* ---- request ---- */
const char *gb_http_req_method(const gb_http_req_t *req); /* "GET" */
const char *gb_http_req_path(const gb_http_req_t *req);   /* "/v1/x", undecoded, no query */
const char *gb_http_req_query(const gb_http_req_t *req);  /* "a=1&b=2" or "" */
/* Value of a ":name" segment of the route, or NULL. */
const char *gb_http_req_param(const gb_http_req_t *req, const char *name);
/* Value of a query parameter, decoded ("%XX" and '+') into buf; "" for a
 * bare "name" without '='. NULL if absent or if it does not fit in buf. */
const char *gb_http_req_query_param(const gb_http_req_t *req, const char *name,
                                    char *buf, size_t buf_size);
/* Header value (case-insensitive name), or NULL. */
const char *gb_http_req_header(const gb_http_req_t *req, const char *name);
/* The body ("" when there is none), NUL-terminated after len bytes. */
const char *gb_http_req_body(const gb_http_req_t *req, size_t *len);
/* The peer's address as text, for logs and rate limits. */
const char *gb_http_req_peer(const gb_http_req_t *req);

/**
 * Parses the first request in buf (len bytes) without a socket or a loop,
 * for tests and fuzzing: the parser, callbacks and limits a connection
 * uses (conf->max_header_bytes and ->max_body_bytes, 0 or a NULL conf
 * meaning the defaults; other members unused), but no 100 Continue is sent.
 * When pattern is not NULL and the path matches it (gb_http_route's
 * syntax), the request's ":name" parameters are set; otherwise it has none.
 * The peer is "-". Any thread; nothing is shared.
 * @returns 0 with *out (free it with gb_http_req_free; the accessors above
 *          work on it, gb_http_respond and gb_http_sse_start do not) and
 *          *used, the bytes the request took (pipelined bytes after it are
 *          left alone); GB_EAGAIN when buf ends before the request does;
 *          GB_EINVAL with *status the answer a server would refuse it with
 *          (400, 413, 431; 500 when memory ran out) and the reason in
 *          errstr; GB_ENOMEM (*status 500).
 */
int gb_http_parse(gb_http_req_t **out, size_t *used, int *status,
                  const char *buf, size_t len, const gb_http_conf_t *conf,
                  const char *pattern, char *errstr, size_t errstr_size);

/* Frees a request from gb_http_parse; NULL-safe. */
void gb_http_req_free(gb_http_req_t *req);

/**
 * Sends the response and finishes the request (the req pointer is invalid
 * afterwards). extra_headers is NULL or a block of "Name: value\r\n" lines.
 * Content-Length is set from len; the connection stays open for keep-alive
 * unless the client asked to close it. The bytes are copied. For HEAD the
 * body is left out; a status outside 100..999 is sent as 500.
 */
void gb_http_respond(gb_http_req_t *req, int status, const char *content_type,
                     const char *extra_headers, const char *body, size_t len);

/* ---- Server-Sent Events ---- */
typedef void (*gb_sse_close_fn)(gb_sse_t *s, void *ud);

/**
 * Turns the request into an event stream: sends 200 with
 * Content-Type: text/event-stream and keeps the connection open. The request
 * pointer is owned by the stream from here on and must not be used.
 * on_close runs once, when the client goes away, the stream is closed
 * (gb_sse_close, too slow a client) or the server closes; the stream pointer
 * is invalid after it returns. It runs from a libuv close callback, never
 * inside gb_sse_send, gb_sse_close or gb_http_server_close; until then
 * gb_sse_send returns GB_EIO. Returns NULL, with the request finished and
 * on_close never called, if the client has already gone or memory ran out.
 * An idle stream gets a ": keepalive" comment every sse_keepalive_ms.
 */
gb_sse_t *gb_http_sse_start(gb_http_req_t *req, gb_sse_close_fn on_close,
                            void *ud);

/**
 * Queues one event (copied). id and event may be NULL but must not hold CR
 * or LF (GB_EINVAL); data may hold newlines (each line, split at LF, CR or
 * CRLF, becomes a "data:" line). Returns 0, or GB_EIO when the stream is
 * closing, or GB_ETOOBIG when the client is too slow and more than 4 MiB
 * would be queued (the event is dropped and the stream closed; the client
 * resumes with Last-Event-ID).
 */
int gb_sse_send(gb_sse_t *s, const char *id, const char *event,
                const char *data, size_t len);

/* Closes the stream from the server side; on_close still runs. */
void gb_sse_close(gb_sse_t *s);

/* The request headers the stream was opened with stay readable. */
const gb_http_req_t *gb_sse_req(const gb_sse_t *s);

#endif
