#include "gb/err.h"

#include <stdarg.h>
#include <stdio.h>

const char *gb_strerror(int err) {
  switch (err) {
  case GB_OK: return "ok";
  case GB_EINVAL: return "einval";
  case GB_ENOMEM: return "enomem";
  case GB_EIO: return "eio";
  case GB_ETIMEDOUT: return "etimedout";
  case GB_ENOTFOUND: return "enotfound";
  case GB_ERANGE: return "erange";
  case GB_ETOOBIG: return "etoobig";
  case GB_ECANCELED: return "ecanceled";
  case GB_EAGAIN: return "eagain";
  default: return "eunknown";
  }
}

void gb_errstr_set(char *errstr, size_t errstr_size, const char *fmt, ...) {
  va_list ap;
  if (!errstr || errstr_size == 0) return;
  va_start(ap, fmt);
  vsnprintf(errstr, errstr_size, fmt, ap);
  va_end(ap);
}
