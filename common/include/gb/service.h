/* What every service's main() does first: parse the config, start logging,
 * install signal handlers. */
#ifndef GB_SERVICE_H
#define GB_SERVICE_H

#include <signal.h>

#include "gb/config.h"

/* Set to 1 by SIGTERM or SIGINT; services finish in-flight work and exit. */
extern volatile sig_atomic_t gb_service_stop;

/* Set to 1 by SIGHUP; a service that reloads files (matcher's rules) clears
 * it and reloads. */
extern volatile sig_atomic_t gb_service_reload;

/**
 * Parses the config (tables: NULL-terminated), sets up logging from
 * log.level, ignores SIGPIPE and routes SIGTERM/SIGINT to gb_service_stop.
 * Exits the process: 0 after --help, 2 with a message on bad configuration.
 */
gb_config_t *gb_service_init(const char *service, const char *description,
                             const gb_opt_t *const *tables, int argc, char **argv);

/* Logs event=startup.failed with the reason and exits with status 1. */
void gb_service_die(const char *what, const char *errstr) __attribute__((noreturn));

#endif
