#include "gb/err.h"

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
  default: return "eunknown";
  }
}
