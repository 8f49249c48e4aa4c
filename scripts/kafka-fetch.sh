#!/usr/bin/env bash
# Fetches the Apache Kafka broker pinned in deploy/kafka/pom.xml from Maven
# Central into build/kafka/libs (or $GB_KAFKA_HOME/libs). Idempotent: does
# nothing when the jars are already there.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dest=${GB_KAFKA_HOME:-$here/build/kafka}
pom=$here/deploy/kafka/pom.xml
stamp=$dest/libs/.pom.sha256
want=$(sha256sum "$pom" | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
echo "kafka-fetch: resolving the broker from Maven Central (first run only)"
rm -rf "$dest/libs"
mkdir -p "$dest/libs"
if ! mvn -B -q -f "$pom" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$dest/libs" >"$dest/mvn.log" 2>&1; then
  echo "kafka-fetch: mvn failed; last lines of $dest/mvn.log:" >&2
  tail -n 30 "$dest/mvn.log" >&2
  exit 1
fi
echo "$want" >"$stamp"
echo "kafka-fetch: $(ls "$dest/libs" | wc -l) jars in $dest/libs"
