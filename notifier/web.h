/* The officers' console and the bureau's dashboard: static pages served by
 * notifier from notifier.web-root (docs/API.md, "Pages"). The files are
 * read once at start into memory (a few hundred KB) and served with an
 * ETag, so a phone on a poor line revalidates instead of downloading again,
 * and with a Content-Security-Policy that allows this origin only: the
 * pages load nothing from any CDN.
 *
 *   GET /                    -> 302 /console/
 *   GET /console/            the officer console (phone-sized first)
 *   GET /dashboard/          the bureau dashboard (PC)
 *   GET /<dir>/<file>        the pages' scripts, styles and images
 */
#ifndef NOTIFIER_WEB_H
#define NOTIFIER_WEB_H

#include <stddef.h>

struct notifier;

/* Loads the pages and adds their routes. 0, or a GB_E* code with the
 * reason in errstr (a missing web root is an error: the console is part of
 * the product). */
int web_start(struct notifier *n, char *errstr, size_t errstr_size);
void web_stop(struct notifier *n);

#endif
