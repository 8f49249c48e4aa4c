/* The push path: every notifier worker's devices get every event of their
 * station's feed, whichever worker wrote it.
 *
 * A station's feed (feed:{st:<s>}, feed.h) is the only source of what the
 * devices are sent. Whoever appends to a feed (an alert stored from
 * gb.alerts, a claim, an escalation) then notes the station and the entry
 * id on one stream for the whole deployment, <p>pushlog (tail_note). Each
 * worker runs a tail: a thread with its own Redis connection that blocks on
 * the pushlog (XREAD BLOCK) and reads on, from a cursor per station, the
 * feeds of the stations this worker has devices for (and of every station
 * while a bureau administrator's "*" stream is open). It opens the entries
 * and hands them to the loop thread, which sends each to the station's
 * streams that have not seen it (hub_deliver: a stream skips ids at or
 * before the last it was sent, so a replay and the tail never double).
 *
 * Nothing depends on the note arriving: once a second the tail reads every
 * watched feed from its cursor anyway, so an entry whose note was lost (a
 * worker killed between the two writes, Redis restarted) reaches the
 * devices late, never not at all. The pushlog is one key, so it lives on
 * one node of a Redis Cluster, and the feeds (one hash tag each) on theirs;
 * no command spans two. */
#ifndef NOTIFIER_TAIL_H
#define NOTIFIER_TAIL_H

#include <stddef.h>

typedef struct tail tail_t;
struct notifier;

/* Entries kept in the pushlog (approximately): a tail further behind
 * than this catches up from the feeds by its sweep. */
#define TAIL_PUSHLOG_MAXLEN 100000

/* Starts the thread with its own Redis connection. 0, or GB_EIO with the
 * reason in errstr. */
int tail_start(tail_t **out, struct notifier *n, char *errstr, size_t errstr_size);
/* Joins the thread and closes its handle on the loop; entries it read and
 * the loop has not sent are dropped (the devices get them from another
 * worker or on resume). Streams closing after this may still unwatch.
 * NULL-safe. */
void tail_stop(tail_t *t);
/* Frees it, once the loop has run the handle's close (the streams'
 * closes too). NULL-safe. */
void tail_free(tail_t *t);

/* Loop thread. A stream of station opened: read its feed after `after`
 * (the last entry the stream was sent, or the feed's newest when it
 * resumes nothing), unless the station is watched already (its cursor is
 * then at or before `after`: hub_deliver skips what the stream has).
 * station "*": every station, from each one's next noted entry. */
void tail_watch(tail_t *t, const char *station, const char *after);
/* Loop thread. A stream of station closed. */
void tail_unwatch(tail_t *t, const char *station);

/* Loop thread, after appending entry feed_id to station's feed: notes it
 * on the pushlog, so that every worker's tail reads it now. A failure is
 * logged; the sweep delivers the entry all the same. */
void tail_note(struct notifier *n, const char *station, const char *feed_id);

/* Entries the tail handed to the loop since start (for /healthz). */
unsigned long long tail_delivered(const tail_t *t);

#endif
