#!/usr/bin/env bash
# Installs everything goldenbell needs on Debian 12, then fetches the Kafka
# broker from Maven Central. Idempotent: a second run changes nothing and
# finishes in seconds. Uses sudo when not root.
#
#   scripts/setup.sh            packages + broker
#   scripts/setup.sh --no-kafka packages only
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

# One line per package, each with the reason it is here; docs/ARCHITECTURE.md
# says more about the choice.
PACKAGES=(
  build-essential cmake pkg-config git    # the build
  librdkafka-dev       # Kafka client (consumer groups, idempotent producer)
  libhiredis-dev       # Redis client
  libprotobuf-c-dev protobuf-c-compiler   # canonical wire schema
  libuv1-dev           # event loop for the HTTP API and push stream
  libhttp-parser-dev   # HTTP/1.1 request parsing (nodejs' parser)
  libjansson-dev       # JSON decode/encode
  libyajl-dev          # streaming JSON parsing on ingest's hot path
  libcsv-dev           # CSV reading in gb-publish
  libsodium-dev        # keyed hashes, authenticated encryption, tokens, webhook HMAC
  libcurl4-openssl-dev # notifier's webhook client (HTTP/1.1 and HTTPS, connection reuse)
  libidn2-dev libpsl-dev publicsuffix     # IDN and registrable domains
  libcmocka-dev        # unit tests
  redis-server redis-tools                # the index and workflow store
  kcat                 # independent Kafka client used by tests and demo
  jq                   # reads the alerts (JSON) devices receive, in tests
  curl                 # independent HTTP/SSE client used by tests and demo
  wrk                  # HTTP load generator of the claims benchmark (bench/claims_bench.sh)
  python3-confluent-kafka                 # second partner client in tests
  protobuf-compiler    # protoc --encode: an independent protobuf encoder for tests
  openjdk-17-jre-headless maven           # the Kafka broker (Maven Central)
  procps psmisc iproute2                  # process and port tools for tests
  valgrind                                # a short end-to-end run under memcheck (tests/integration/valgrind.sh)
  clang libclang-rt-14-dev                # libFuzzer and clang's sanitizers: scripts/fuzz.sh (tests/fuzz)
  chromium fonts-noto-cjk                 # the pages' browser tests (playwright-core drives it), CJK glyphs
  nodejs                                  # runs playwright-core (tests/browser, pinned by its lock file)
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm: Debian's package, unless the installed nodejs carries its own.
if ! command -v npm >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends npm >/dev/null
fi
# The browser tests' tooling from the npm registry, exactly as locked.
if ! cmp -s "$here/tests/browser/package-lock.json" "$here/tests/browser/node_modules/.gb-installed-lock"; then
  (cd "$here/tests/browser" && npm ci --no-audit --no-fund --loglevel=error >/dev/null &&
     cp package-lock.json node_modules/.gb-installed-lock)
fi

# Debian starts a system redis-server on 6379 on install; goldenbell starts
# its own on free ports and never uses the system one.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet redis-server 2>/dev/null; then
  $SUDO systemctl disable --now redis-server >/dev/null 2>&1 || true
fi

if [ "${1:-}" != "--no-kafka" ]; then
  "$here/scripts/kafka-fetch.sh"
fi
echo "setup: ok"
