#include "web.h"

#include <dirent.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gb/err.h"
#include "gb/log.h"
#include "notifier.h"

#define FILES_MAX 256
#define FILE_BYTES_MAX (4 << 20)

typedef struct {
  char path[128]; /* "/console/index.html" */
  const char *type;
  char *body;
  size_t len;
  char etag[24];
} web_file_t;

typedef struct web {
  web_file_t files[FILES_MAX];
  int n;
} web_t;

static const char *type_of(const char *name) {
  static const struct {
    const char *ext, *type;
  } types[] = {{".html", "text/html; charset=utf-8"},
               {".js", "text/javascript; charset=utf-8"},
               {".css", "text/css; charset=utf-8"},
               {".svg", "image/svg+xml"},
               {".png", "image/png"},
               {".json", "application/json"},
               {".webmanifest", "application/manifest+json"},
               {".wav", "audio/wav"}};
  const char *dot = strrchr(name, '.');
  for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
    if (strcmp(dot, types[i].ext) == 0) return types[i].type;
  return NULL; /* not served */
}

static int load_file(web_t *w, const char *full, const char *url, char *errstr, size_t n) {
  const char *type = type_of(url);
  if (!type) return 0;
  if (w->n == FILES_MAX) return snprintf(errstr, n, "web: more than %d files", FILES_MAX), GB_EINVAL;
  FILE *f = fopen(full, "rb");
  if (!f) return snprintf(errstr, n, "web: cannot read %s: %s", full, strerror(errno)), GB_EIO;
  web_file_t *wf = &w->files[w->n];
  wf->body = malloc(FILE_BYTES_MAX);
  wf->len = wf->body ? fread(wf->body, 1, FILE_BYTES_MAX, f) : 0;
  int too_big = wf->body && !feof(f);
  fclose(f);
  if (!wf->body || too_big) {
    free(wf->body);
    return snprintf(errstr, n, "web: %s is over %d bytes", full, FILE_BYTES_MAX), GB_EINVAL;
  }
  snprintf(wf->path, sizeof(wf->path), "%s", url);
  wf->type = type;
  unsigned char h[8];
  crypto_generichash(h, sizeof(h), (const unsigned char *)wf->body, wf->len, NULL, 0);
  char hex[17];
  sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
  snprintf(wf->etag, sizeof(wf->etag), "\"%s\"", hex);
  w->n++;
  return 0;
}

/* The files of root/<dir>/ (one level; names of [A-Za-z0-9._-] only). */
static int load_dir(web_t *w, const char *root, const char *dir, char *errstr, size_t n) {
  char path[1024];
  snprintf(path, sizeof(path), "%s/%s", root, dir);
  DIR *d = opendir(path);
  if (!d) return snprintf(errstr, n, "web: no directory %s (notifier.web-root)", path), GB_EINVAL;
  struct dirent *e;
  int err = 0;
  while (!err && (e = readdir(d)) != NULL) {
    const char *name = e->d_name;
    if (name[0] == '.' || strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                       "0123456789._-") != strlen(name))
      continue;
    char full[1400], url[300];
    snprintf(full, sizeof(full), "%s/%s", path, name);
    struct stat st;
    if (stat(full, &st) != 0 || !S_ISREG(st.st_mode)) continue;
    snprintf(url, sizeof(url), "/%s/%s", dir, name);
    if (strlen(url) >= sizeof(w->files[0].path)) continue;
    err = load_file(w, full, url, errstr, n);
  }
  closedir(d);
  return err;
}

static const web_file_t *find(const web_t *w, const char *path) {
  for (int i = 0; i < w->n; i++)
    if (strcmp(w->files[i].path, path) == 0) return &w->files[i];
  return NULL;
}

/* Pages may load this origin's scripts, styles, images and the API only. */
#define SECURITY_HEADERS                                                                      \
  "Content-Security-Policy: default-src 'self'; img-src 'self' data:; "                       \
  "media-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "     \
  "form-action 'self'\r\n"                                                                    \
  "X-Content-Type-Options: nosniff\r\n"                                                       \
  "Referrer-Policy: no-referrer\r\n"

static void serve(gb_http_req_t *req, const web_file_t *f) {
  char headers[512];
  snprintf(headers, sizeof(headers), SECURITY_HEADERS "ETag: %s\r\nCache-Control: no-cache\r\n",
           f->etag);
  const char *inm = gb_http_req_header(req, "if-none-match");
  if (inm && strcmp(inm, f->etag) == 0) {
    gb_http_respond(req, 304, f->type, headers, "", 0);
    return;
  }
  gb_http_respond(req, 200, f->type, headers, f->body, f->len);
}

static void on_file(gb_http_req_t *req, void *ud) {
  notifier_t *n = ud;
  const char *path = gb_http_req_path(req);
  char index[160];
  size_t len = strlen(path);
  if (len > 0 && path[len - 1] == '/') {
    snprintf(index, sizeof(index), "%sindex.html", path);
    path = index;
  }
  const web_file_t *f = find(n->web, path);
  if (!f) {
    gb_http_respond(req, 404, "text/plain; charset=utf-8", NULL, "no such page\n", 13);
    return;
  }
  serve(req, f);
}

static void on_root(gb_http_req_t *req, void *ud) {
  (void)ud;
  gb_http_respond(req, 302, "text/plain; charset=utf-8", "Location: /console/\r\n",
                  "/console/\n", 10);
}

static void on_dir(gb_http_req_t *req, void *ud) {
  /* "/console" -> "/console/", so relative links resolve. */
  (void)ud;
  char loc[160];
  snprintf(loc, sizeof(loc), "Location: %s/\r\n", gb_http_req_path(req));
  gb_http_respond(req, 301, "text/plain; charset=utf-8", loc, "", 0);
}

int web_start(notifier_t *n, char *errstr, size_t errstr_size) {
  web_t *w = calloc(1, sizeof(*w));
  if (!w) return GB_ENOMEM;
  const char *root = gb_config_str(n->cfg, "notifier.web-root");
  if (!*root) root = GB_WEB_ROOT;
  static const char *const dirs[] = {"console", "dashboard", "common"};
  int err = 0;
  for (size_t i = 0; !err && i < sizeof(dirs) / sizeof(dirs[0]); i++)
    err = load_dir(w, root, dirs[i], errstr, errstr_size);
  if (err) {
    n->web = w;
    web_stop(n);
    return err;
  }
  n->web = w;
  gb_http_route(n->http, "GET", "/", on_root, n);
  for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
    char p[64];
    snprintf(p, sizeof(p), "/%s", dirs[i]);
    gb_http_route(n->http, "GET", p, on_dir, n);
    snprintf(p, sizeof(p), "/%s/", dirs[i]);
    gb_http_route(n->http, "GET", p, on_file, n);
    snprintf(p, sizeof(p), "/%s/:file", dirs[i]);
    gb_http_route(n->http, "GET", p, on_file, n);
  }
  gb_info("web.loaded", "root=%s files=%d", root, w->n);
  return 0;
}

void web_stop(notifier_t *n) {
  web_t *w = n->web;
  if (!w) return;
  for (int i = 0; i < w->n; i++) free(w->files[i].body);
  free(w);
  n->web = NULL;
}
