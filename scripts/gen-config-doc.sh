#!/usr/bin/env bash
# Writes docs/CONFIGURATION.md from the services' own option tables
# (--help-markdown), so the page cannot drift from the code. The test
# docs.configuration fails when the committed page is out of date.
#   scripts/gen-config-doc.sh [BUILD_DIR] [OUT]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
out=${2:-$here/docs/CONFIGURATION.md}
{
  cat <<'HEAD'
# Configuration

Every service takes its configuration from flags and environment variables.
Each option is read, lowest precedence first, from its default, from the
environment variable shown, and from the command line (`--name=value` or
`--name value`; a bare `--flag` sets a boolean). `--help` prints the same
tables; this page is generated from them by `scripts/gen-config-doc.sh`.

Options named `kafka.<property>` are not listed: they go to librdkafka
unchanged, as kcat's `-X` does, e.g. `--kafka.bootstrap.servers=host:9092`
or `GB_KAFKA_BOOTSTRAP_SERVERS=host:9092` (environment names map `_` to `.`
and are lower-cased). goldenbell's own defaults for librdkafka, which these
override: producers `acks=all`, `enable.idempotence=true`, `linger.ms=5`,
`compression.type=lz4` (and for ingest's and matcher's outputs
`message.timeout.ms=0`: never given up for time, docs/OPERATIONS.md);
consumers `enable.auto.commit=false`,
`auto.offset.reset=earliest`, `session.timeout.ms=10000`.

A service exits with status 2 and a one-line message on a bad option, and
with status 1 (and a `startup.failed` log line saying what and why) when
Kafka or Redis does not answer within `startup.timeout-ms`.

HEAD
  for svc in ingest matcher notifier; do
    "$build/$svc/$svc" --help-markdown
  done
} >"$out"
