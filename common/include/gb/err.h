/* Error codes shared by all of common/. Functions return 0 or one of these
 * (negative); the human detail goes into a caller's errstr buffer. */
#ifndef GB_ERR_H
#define GB_ERR_H

#include <stddef.h>

#define GB_OK 0
#define GB_EINVAL (-1)    /* the input is malformed; errstr says how */
#define GB_ENOMEM (-2)    /* allocation failed */
#define GB_EIO (-3)       /* a dependency (Kafka, Redis, socket) failed */
#define GB_ETIMEDOUT (-4) /* a bounded wait ran out */
#define GB_ENOTFOUND (-5) /* no such thing */
#define GB_ERANGE (-6)    /* a value is outside its allowed range */
#define GB_ETOOBIG (-7)   /* an input exceeds a size limit */
#define GB_ECANCELED (-8) /* stopped on request (a signal) */
#define GB_EAGAIN (-9)    /* a dependency is unavailable for now: try again later */

/* Short stable name of a code ("einval"), for logs and metrics. */
const char *gb_strerror(int err);

/* Formats the human detail of an error into a caller's buffer; safe with a
 * NULL buffer or size 0. */
void gb_errstr_set(char *errstr, size_t errstr_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
