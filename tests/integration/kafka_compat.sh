#!/usr/bin/env bash
# Proves that Debian's kcat 1.7.1 / librdkafka 2.0.2 work with the broker that
# scripts/kafka-start.sh runs: keys, headers, consumer groups with committed
# offsets, and the idempotent producer with acks=all.
#
#   GB_TEST_BOOTSTRAP=127.0.0.1:P tests/integration/kafka_compat.sh
#   tests/integration/kafka_compat.sh 127.0.0.1:P[,...]
#
# GB_TOPICS_TOOL names the gb-topics binary (default build/tools/gb-topics).
# Each run uses topics and a group with a random suffix, so nothing needs
# tearing down and runs against the same broker do not interfere.
# Exit status: 0 pass, 1 fail (with the reason), 77 skipped (something it
# needs is missing; the reason is printed).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

bootstrap=${GB_TEST_BOOTSTRAP:-${1:-}}
tool=${GB_TOPICS_TOOL:-$here/build/tools/gb-topics}
N=100

skip() { echo "SKIP kafka_compat: $*"; exit 77; }
fail() { echo "FAIL kafka_compat: $*"; exit 1; }
ok() { echo "ok - $*"; }

[ -n "$bootstrap" ] || skip "no broker: set GB_TEST_BOOTSTRAP or pass host:port (scripts/kafka-start.sh prints one)"
command -v kcat >/dev/null || skip "kcat not installed (scripts/setup.sh)"
[ -x "$tool" ] || skip "gb-topics not found at $tool (build it, or set GB_TOPICS_TOOL)"

work=$(mktemp -d "${TMPDIR:-/tmp}/gb-kafka-compat.XXXXXX")
trap 'rm -rf "$work"' EXIT
suffix=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
topic=gbtest.compat.$suffix
idem_topic=gbtest.compat.idem.$suffix
group=gbtest.compat.group.$suffix

# ---- metadata ------------------------------------------------------------------
timeout 20 kcat -b "$bootstrap" -L -m 5 >"$work/meta" 2>"$work/meta.err" ||
  fail "kcat -L against $bootstrap failed: $(tail -n 3 "$work/meta.err")"
brokers=$(grep -c '^ *broker [0-9]* at ' "$work/meta" || true)
[ "$brokers" -ge 1 ] || fail "metadata from $bootstrap lists no brokers"
rf=$(( brokers < 3 ? brokers : 3 ))
versions=$(kcat -V 2>&1 | sed -n 's/^Version \([^ ]*\) .*librdkafka \([^ ]*\) .*/kcat \1, librdkafka \2/p')
ok "metadata via ${versions:-kcat}: $brokers broker(s) at $bootstrap"

"$tool" -b "$bootstrap" -p 4 -r "$rf" -t 30000 create "$topic" "$idem_topic" 2>"$work/create.err" ||
  fail "gb-topics create: $(cat "$work/create.err")"
grep -qx "created $topic" "$work/create.err" || fail "gb-topics did not report 'created $topic'"
"$tool" -b "$bootstrap" -t 30000 create "$topic" 2>"$work/create2.err" ||
  fail "gb-topics create of an existing topic failed: $(cat "$work/create2.err")"
grep -qx "exists $topic" "$work/create2.err" || fail "gb-topics did not report 'exists $topic'"
"$tool" -b "$bootstrap" list >"$work/list" || fail "gb-topics list failed"
grep -qx "$topic	4" "$work/list" || fail "gb-topics list does not show '$topic	4'"
ok "gb-topics created $topic (4 partitions, replication $rf), 'exists' on re-create, list shows it"

# ---- keys and headers ----------------------------------------------------------
for i in $(seq 0 $((N - 1))); do
  # The value holds ':' too; kcat splits the key at the first delimiter.
  printf 'key-%d:{"n":%d}\n' "$i" "$i"
done >"$work/in"
timeout 30 kcat -P -b "$bootstrap" -t "$topic" -K: -H content-type=application/json \
  -X acks=all <"$work/in" 2>"$work/produce.err" ||
  fail "kcat -P exited non-zero: $(tail -n 3 "$work/produce.err")"
ok "produced $N keyed messages with header content-type=application/json"

timeout 30 kcat -C -b "$bootstrap" -t "$topic" -e -o beginning -f '%k %h %s\n' \
  >"$work/out" 2>"$work/consume.err" ||
  fail "kcat -C exited non-zero (or timed out): $(tail -n 3 "$work/consume.err")"
got=$(wc -l <"$work/out")
[ "$got" -eq "$N" ] || fail "consumed $got messages, want $N"
bad=$(awk '{ n = $1; sub(/^key-/, "", n);
             if ($2 != "content-type=application/json" || $3 != "{\"n\":" n "}") print }' "$work/out" | head -n 3)
[ -z "$bad" ] || fail "messages with a wrong header or value: $bad"
sort "$work/out" | cut -d' ' -f1 | sort -u >"$work/keys.got"
for i in $(seq 0 $((N - 1))); do echo "key-$i"; done | sort >"$work/keys.want"
cmp -s "$work/keys.got" "$work/keys.want" ||
  fail "consumed keys differ from produced keys: $(comm -3 "$work/keys.want" "$work/keys.got" | head -n 5 | tr '\n' ' ')"
ok "consumed $N messages back: every key once, header and value intact"

# ---- consumer group --------------------------------------------------------------
timeout 60 kcat -b "$bootstrap" -G "$group" -X auto.offset.reset=earliest -c "$N" \
  -f '%k\n' "$topic" >"$work/group1" 2>"$work/group1.err" ||
  fail "kcat -G read did not finish with $N messages: $(tail -n 3 "$work/group1.err")"
[ "$(sort -u "$work/group1" | wc -l)" -eq "$N" ] ||
  fail "group $group read $(sort -u "$work/group1" | wc -l) distinct keys, want $N"
ok "consumer group $group read exactly $N messages"

for i in $(seq 0 9); do printf 'late-%d:{"n":%d}\n' "$i" "$i"; done |
  timeout 30 kcat -P -b "$bootstrap" -t "$topic" -K: 2>"$work/produce2.err" ||
  fail "second kcat -P failed: $(tail -n 3 "$work/produce2.err")"
timeout 60 kcat -b "$bootstrap" -G "$group" -X auto.offset.reset=earliest -c 10 \
  -f '%k\n' "$topic" >"$work/group2" 2>"$work/group2.err" ||
  fail "second kcat -G read did not finish with 10 messages: $(tail -n 3 "$work/group2.err")"
grep -qv '^late-' "$work/group2" &&
  fail "group $group re-read old messages, so its offsets were not committed: $(grep -v '^late-' "$work/group2" | head -n 3 | tr '\n' ' ')"
[ "$(sort -u "$work/group2" | wc -l)" -eq 10 ] || fail "group $group read $(sort -u "$work/group2" | wc -l) new keys, want 10"
ok "group $group resumed from its committed offsets: read only the 10 new messages"

# ---- idempotent producer ----------------------------------------------------------
for i in $(seq 0 $((N - 1))); do printf 'idem-%d:%d\n' "$i" "$i"; done |
  timeout 30 kcat -P -b "$bootstrap" -t "$idem_topic" -K: \
    -X enable.idempotence=true -X acks=all -X debug=eos 2>"$work/idem.err" ||
  fail "idempotent kcat -P failed: $(grep -v '|EOS|\|IDEMP' "$work/idem.err" | tail -n 3)"
pid=$(grep -o 'Acquired PID{[^}]*}' "$work/idem.err" | head -n1 | sed 's/^Acquired //' || true)
[ -n "$pid" ] || fail "idempotent producer never acquired a producer id (librdkafka debug=eos shows none)"
timeout 30 kcat -C -b "$bootstrap" -t "$idem_topic" -e -o beginning -f '%k\n' \
  >"$work/idem.out" 2>"$work/idem.cerr" || fail "reading $idem_topic failed: $(tail -n 3 "$work/idem.cerr")"
[ "$(wc -l <"$work/idem.out")" -eq "$N" ] && [ "$(sort -u "$work/idem.out" | wc -l)" -eq "$N" ] ||
  fail "idempotent topic holds $(wc -l <"$work/idem.out") messages ($(sort -u "$work/idem.out" | wc -l) distinct), want $N"
ok "idempotent producer (enable.idempotence=true, acks=all) acquired $pid; $N messages, no duplicates"

echo "PASS kafka_compat ($bootstrap, $brokers broker(s))"
