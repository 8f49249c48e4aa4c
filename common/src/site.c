/* Placeholder: being written (site and app normalisation). */
#include "gb/site.h"

#include "gb/err.h"

int gb_site_normalize(gb_site_t *out, const char *in, size_t len, char *errstr,
                      size_t errstr_size) {
  (void)out, (void)in, (void)len;
  gb_errstr_set(errstr, errstr_size, "site: not implemented");
  return GB_EINVAL;
}

int gb_app_normalize(char *out, size_t out_size, const char *in, size_t len, char *errstr,
                     size_t errstr_size) {
  (void)out, (void)out_size, (void)in, (void)len;
  gb_errstr_set(errstr, errstr_size, "app: not implemented");
  return GB_EINVAL;
}
