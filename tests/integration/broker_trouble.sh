#!/usr/bin/env bash
# Broker trouble (issue 8, promise 2): on a 3-broker cluster of its own
# (replication 3, min.insync.replicas=2; every producer acks=all and
# idempotent), with ingest, matcher and notifier running and an officer's
# device on the push stream, calls that must alert flow steadily (each
# about another protected person, so each is one known alert) beside calls
# that must not. While they flow:
#
#   1. the broker leading the most gb.alerts/gb.events partitions is killed
#      (SIGKILL); leadership moves to the other two (observed in metadata),
#      alerts keep coming with one broker down; the broker is restarted and
#      waited for until every partition is back in sync;
#   2. all three brokers are stopped (SIGSTOP) for 30 s, the services
#      checked alive every second of it, then continued (SIGCONT).
#
# Then: every expected alert reached the device exactly once (counted by
# alert id: one "alert" event each, no "alert.updated"), no other alert
# did, every service is still the process it was, the input topic holds
# exactly what was sent, every consumer group's lag returns to 0 (bounded),
# and each service still stops cleanly on SIGTERM. The figures go to the
# log (events sent, alerts expected and received, duplicates, kills,
# freeze, catch-up).
#
# GB_BROKER_TROUBLE_FREEZE_S (30) and GB_BROKER_TROUBLE_RATE (calls that
# must alert per second, 3; as many that must not go beside them) change
# the scenario.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

freeze_s=${GB_BROKER_TROUBLE_FREEZE_S:-30}
rate=${GB_BROKER_TROUBLE_RATE:-3}
pool=$((rate * 300)) # protected persons registered; one alerting call each at most
fraud=+8617000000000
t_test=$(gb_now_ms)

it_init broker_trouble
it_kafka_cluster 3 --replication 3
gb_log "3-node cluster up in ${IT_KAFKA_START_MS} ms at $IT_BOOTSTRAP"
it_topics gb.calls gb.visits gb.registry gb.registry.results gb.intel gb.index gb.events gb.alerts gb.workflow gb.dlq
it_redis
it_hash_key
IT_PREFIX="t$IT_SUFFIX:"
it_station st-1 "思明派出所" 24.4539 118.0820
it_stack
it_device device st-1
declare -A svc_pid
for i in "${!IT_NAMES[@]}"; do svc_pid[${IT_NAMES[$i]}]=${IT_PIDS[$i]}; done

kcat_p=(kcat -P -b "$IT_BOOTSTRAP" -K '|' -H content-type=application/json
  -X enable.idempotence=true -X acks=all)

# ---- the protected persons and the fraud number -------------------------------

for ((i = 0; i < pool; i++)); do
  n=$((13900100000 + i))
  printf '%s|{"request_id":"r%d","op":"register","registrant":"%s","station_id":"st-1"}\n' "$n" "$i" "$n"
done >"$IT_DIR/registry.in"
"${kcat_p[@]}" -t "$IT_TOPIC_gb_registry" -l "$IT_DIR/registry.in" 2>>"$IT_DIR/kcat.log" ||
  it_fail "kcat could not publish the registrations"
it_produce "$IT_TOPIC_gb_intel" "phone:$fraud" "{\"kind\":\"phone\",\"value\":\"$fraud\"}"
registered() { [ "$(grep -c 'registry.applied .* accepted=yes' "$IT_DIR/matcher.log")" -ge "$pool" ]; }
t0=$(gb_now_ms)
gb_wait_until 90 "$pool registrations applied" registered || it_fail "registrations not applied"
it_wait_log matcher 'intel.applied kind=phone' 30 "the fraud number"
gb_log "$pool protected persons registered in $(( $(gb_now_ms) - t0 )) ms"

# ---- the traffic -------------------------------------------------------------------

# One call that must alert and one that must not, `rate` times a second
# (it_traffic_start, lib.sh), until it_traffic_stop.
it_traffic_start "$rate" "$pool" "$fraud" 1

# ---- what the device got -------------------------------------------------------------

# "EVENT<TAB>FEED_ID<TAB>JSON" for every event on the device's stream (a
# feed id is "<ms when notifier stored it>-<n>").
events() {
  awk '/^id: / { id = substr($0, 5) } /^event: / { e = substr($0, 8) }
    /^data: / { print e "\t" id "\t" substr($0, 7) }' "$IT_DIR/device.out" 2>/dev/null
}
# How many of the alerting calls 0..N-1 the device has an alert for.
hits_received() {
  events | awk -F'\t' '$1 == "alert" { print $3 }' |
    jq -r '.events[0].call.call_id // empty' | sed -n 's/^hit-//p' | sort -un |
    awk -v n="$1" '$1 < n { c++ } END { print c + 0 }'
}
_hits_in() { [ "$(hits_received "$1")" -ge "$1" ]; }
# Waits until the alerts of alerting calls 0..N-1 are all on the device.
wait_hits() {
  GB_WAIT_INTERVAL=0.5 gb_wait_until "$2" "$3" _hits_in "$1" ||
    it_fail "$3: $(hits_received "$1") of $1 alerts on the device"
}
hits_sent() { it_hits_sent; }

# ---- the services, alive -----------------------------------------------------------------

check_alive() {
  local s
  for s in ingest matcher notifier device; do
    gb_pid_alive "${svc_pid[$s]}" || it_fail "$s (pid ${svc_pid[$s]}) died: $(tail -n 5 "$IT_DIR/$s.log" "$IT_DIR/$s.out" 2>/dev/null | tail -n 5)"
  done
  gb_pid_alive "$IT_TRAFFIC_KCAT" || it_fail "the traffic's kcat died: $(tail -n 5 "$IT_DIR/traffic-kcat.log")"
  gb_pid_alive "$IT_TRAFFIC_GEN" || it_fail "the traffic generator stopped early: $(tail -n 5 "$IT_DIR/traffic.err")"
}

# What an orchestrator would see, once a second: notifier's /healthz (its
# loop, which serves the push streams, answers), ingest's and matcher's
# /readyz (503 while they hold no partitions). probes.log: "<ms> N I M".
admin_addr() { # NAME: host:port of ingest's or matcher's admin endpoint, from its start line
  sed -n "s/.*event=$1\.started .*admin=\([0-9.]*:[0-9]*\).*/\1/p" "$IT_DIR/$1.log" | tail -1
}
ingest_admin=$(admin_addr ingest) matcher_admin=$(admin_addr matcher)
[ -n "$ingest_admin" ] && [ -n "$matcher_admin" ] || it_fail "no admin endpoint in the start lines"
probe() {
  printf '%s %s %s %s\n' "$(gb_now_ms)" \
    "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$IT_HTTP/healthz" || true)" \
    "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://$ingest_admin/readyz" || true)" \
    "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://$matcher_admin/readyz" || true)" >>"$IT_DIR/probes.log"
}

probes() { # FROM_MS TO_MS: the probes between, summed up
  awk -v a="$1" -v b="$2" '$1 >= a && $1 <= b { n++; h += $2 == 200; i += $3 == 503; m += $4 == 503 }
    END { printf "notifier /healthz answered %d of %d probes; /readyz 503 in %d (ingest) and %d (matcher)", h, n, i, m }' \
    "$IT_DIR/probes.log"
}

# notifier's loop answered every probe between FROM_MS and TO_MS (a commit
# waiting for a stalled coordinator once held it, and the API and the push
# streams with it, for as long as the brokers were stopped).
healthy() {
  awk -v a="$1" -v b="$2" '$1 >= a && $1 <= b && $2 != 200 { bad++ } END { exit bad > 0 }' "$IT_DIR/probes.log" ||
    it_fail "notifier's /healthz did not answer: $(awk -v a="$1" -v b="$2" '$1 >= a && $1 <= b' "$IT_DIR/probes.log" | tr '\n' ' ')"
}

# "TOPIC PARTITION LEADER" for every partition of this test's topics.
leaders() {
  timeout 10 kcat -L -b "$IT_BOOTSTRAP" -m 3 2>/dev/null |
    awk -v s=".$IT_SUFFIX" '
      /^  topic "/ { t = $2; gsub(/"/, "", t); next }
      /^    partition / && index(t, s) { p = $2; l = $4; sub(/,/, "", p); sub(/,/, "", l); print t, p, l }'
}

wait_hits 5 60 "the first alerts"
gb_log "traffic flowing: $(hits_sent) alerting calls sent, $(hits_received 1000000) alerts on the device"

# ---- 1. one broker killed, leadership moves, the broker comes back ------------------------

leaders >"$IT_DIR/leaders.before" || it_fail "no metadata"
victim=$(awk -v a="$IT_TOPIC_gb_alerts" -v e="$IT_TOPIC_gb_events" '$1 == a || $1 == e { n[$3]++ }
  END { for (b in n) if (n[b] > best) { best = n[b]; id = b } print id }' "$IT_DIR/leaders.before")
[[ "$victim" =~ ^[1-3]$ ]] || it_fail "no leader found: $(cat "$IT_DIR/leaders.before")"
led=$(awk -v v="$victim" '$3 == v' "$IT_DIR/leaders.before" | wc -l)
led_ae=$(awk -v v="$victim" -v a="$IT_TOPIC_gb_alerts" -v e="$IT_TOPIC_gb_events" '$3 == v && ($1 == a || $1 == e)' \
  "$IT_DIR/leaders.before" | wc -l)
gb_log "killing broker $victim (SIGKILL): it leads $led_ae gb.alerts/gb.events partitions, $led of this test's in all"
t_kill=$(gb_now_ms)
it_kafka_node kill "$victim" ||
  it_fail "could not kill broker $victim"
moved() {
  probe
  leaders >"$IT_DIR/leaders.after" || return 1
  [ "$(wc -l <"$IT_DIR/leaders.after")" -eq "$(wc -l <"$IT_DIR/leaders.before")" ] &&
    ! awk -v v="$victim" '$3 == v || $3 == -1 { bad = 1 } END { exit !bad }' "$IT_DIR/leaders.after"
}
gb_wait_until 40 "leadership to move off broker $victim" moved || it_fail "leadership did not move off broker $victim"
t_moved=$(gb_now_ms)
check_alive
gb_log "until then: $(probes "$t_kill" "$t_moved")"
healthy "$t_kill" "$t_moved"
gb_log "leadership moved $((t_moved - t_kill)) ms after SIGKILL: $(awk -v v="$victim" '
  NR == FNR { was[$1 " " $2] = $3; next }
  was[$1 " " $2] == v { n++; to[$3]++ }
  END { printf "%d partitions, to", n; for (b in to) printf " broker %s (%d)", b, to[b] }' \
  "$IT_DIR/leaders.before" "$IT_DIR/leaders.after")"
# With one broker down (two replicas in sync, min.insync.replicas=2), calls
# sent after the move still alert.
n=$(( $(hits_sent) + 1 ))
wait_hits "$n" 60 "alerts with broker $victim down"
t_degraded=$(gb_now_ms)
gb_log "with broker $victim down: the alert of call $((n - 1)), sent after the move, on the device $((t_degraded - t_moved)) ms after it"
it_kafka_node start "$victim" --wait-isr --timeout 90 ||
  it_fail "broker $victim did not come back in sync"
t_isr=$(gb_now_ms)
check_alive
gb_log "broker $victim restarted and every partition in sync $((t_isr - t_degraded)) ms after the restart began"
# Every call of the failover has its alert before the freeze begins.
wait_hits "$(hits_sent)" 60 "the alerts of the calls sent until the broker was back"

# ---- 2. the whole cluster stopped, then continued --------------------------------------------

before_freeze=$(hits_received 1000000)
for id in 1 2 3; do kill -s STOP "$(it_kafka_pid "$id")"; done
t_freeze=$(gb_now_ms)
gb_log "all 3 brokers stopped (SIGSTOP) for $freeze_s s"
# The freeze lasts freeze_s; every second of it the services are checked.
while [ $(( $(gb_now_ms) - t_freeze )) -lt $((freeze_s * 1000)) ]; do
  check_alive
  probe
  sleep 1
done
during_freeze=$(( $(hits_received 1000000) - before_freeze ))
for id in 1 2 3; do kill -s CONT "$(it_kafka_pid "$id")"; done
t_resume=$(gb_now_ms)
frozen_ms=$((t_resume - t_freeze))
sent_by_resume=$(hits_sent)
gb_log "during the freeze: $(probes "$t_freeze" "$t_resume")"
healthy "$t_freeze" "$t_resume"
gb_log "brokers continued after $frozen_ms ms; $during_freeze alerts reached the device meanwhile; $sent_by_resume alerting calls sent so far"
# Catch-up: every call sent up to the resume, those of the freeze included.
wait_hits "$sent_by_resume" 120 "the alerts of the calls sent before and during the freeze"
t_caught=$(gb_now_ms)
check_alive
gb_log "caught up $((t_caught - t_resume)) ms after the resume"

# ---- the traffic ends; everything drains ------------------------------------------------------

# A few seconds of traffic after the catch-up, then the stop.
_sent_at_least() { [ "$(hits_sent)" -ge "$1" ]; }
gb_wait_until 30 "more traffic after the catch-up" _sent_at_least $(( $(hits_sent) + 3 * rate )) ||
  it_fail "the traffic stopped"
t_stop=$(gb_now_ms)
it_traffic_stop
hits=$IT_HITS background=$IT_BACKGROUND
sent=$((hits + background))
wait_hits "$hits" 90 "every expected alert"
t_all=$(gb_now_ms)

it_wait_lag_zero 60
t_lag0=$(gb_now_ms)

# ---- exactly once ---------------------------------------------------------------------------------

events >"$IT_DIR/events.tsv"
# alerts.tsv: EVENT ALERT_ID SUBJECT CALL_ID FEED_MS
awk -F'\t' '$1 == "alert" || $1 == "alert.updated"' "$IT_DIR/events.tsv" |
  while IFS=$'\t' read -r ev id json; do
    jq -r --arg ev "$ev" --arg ms "${id%%-*}" \
      '[$ev, .alert_id, .subject, (.events[0].call.call_id // "-"), $ms] | @tsv' <<<"$json"
  done >"$IT_DIR/alerts.tsv"
alert_events=$(awk -F'\t' '$1 == "alert"' "$IT_DIR/alerts.tsv" | wc -l)
updates=$(awk -F'\t' '$1 == "alert.updated"' "$IT_DIR/alerts.tsv" | wc -l)
distinct=$(awk -F'\t' '$1 == "alert" { print $2 }' "$IT_DIR/alerts.tsv" | sort -u | wc -l)
dups=$(awk -F'\t' '$1 == "alert" { n[$2]++ } END { for (a in n) if (n[a] > 1) d += n[a] - 1; print d + 0 }' "$IT_DIR/alerts.tsv")
# The alert of call hit-i is about protected person i, and nothing else alerted.
unexpected=$(awk -F'\t' '{
    i = $4; if (sub(/^hit-/, "", i) != 1 || $3 != sprintf("+86139001%05d", i)) print }' "$IT_DIR/alerts.tsv")
missing=$(comm -23 <(seq 0 $((hits - 1)) | sort) \
  <(awk -F'\t' '$1 == "alert" { i = $4; if (sub(/^hit-/, "", i)) print i }' "$IT_DIR/alerts.tsv" | sort -u) | head -20)
[ -z "$unexpected" ] || it_fail "unexpected alerts: $(head -5 <<<"$unexpected")"
[ -z "$missing" ] || it_fail "alerting calls without an alert on the device: $(tr '\n' ' ' <<<"$missing")"
[ "$dups" = 0 ] || it_fail "$dups alerts reached the device more than once: $(awk -F'\t' '$1 == "alert" { n[$2]++ } END { for (a in n) if (n[a] > 1) print a, n[a] }' "$IT_DIR/alerts.tsv" | head -5)"
[ "$updates" = 0 ] || it_fail "$updates alert.updated events; every incident had one call: $(grep -m3 'alert.updated' "$IT_DIR/alerts.tsv")"
[ "$distinct" = "$hits" ] && [ "$alert_events" = "$hits" ] ||
  it_fail "want $hits alerts, got $alert_events events for $distinct alert ids"

# From a call's publication to its alert in the station's feed (pushed to
# the device at once), by when the call was published: before the kill,
# from the kill until the broker was back in sync, from then until the
# brokers were continued, after that.
awk -v k="$t_kill" -v i="$t_isr" -v r="$t_resume" '
  FNR == NR { sent[$1] = $3; next }
  $1 == "alert" { n = $4; sub(/^hit-/, "", n); s = sent[n]
    print (s < k ? "before" : s < i ? "failover" : s <= r ? "freeze" : "after"), $5 - s }' \
  "$IT_DIR/hits.log" FS='\t' "$IT_DIR/alerts.tsv" >"$IT_DIR/latency.txt"
latency() { # PHASE: "median/max s (n calls)"
  awk -v p="$1" '$1 == p { print $2 }' "$IT_DIR/latency.txt" | sort -n |
    awk '{ v[NR] = $1 } END { if (NR) printf "%.1f/%.1f s (%d calls)", v[int((NR + 1) / 2)] / 1000, v[NR] / 1000, NR; else printf "-" }'
}
gb_log "call to alert in the feed, median/max, by when the call was published: before the kill $(latency before); from the kill until back in sync $(latency failover); until the brokers were continued $(latency freeze); after $(latency after)"

# The input holds exactly what was sent (an idempotent producer: no
# duplicate from its retries); the outputs' sizes, for the record.
in_calls=$(it_count "$IT_TOPIC_gb_calls")
[ "$in_calls" = "$sent" ] || it_fail "sent $sent calls, $IT_TOPIC_gb_calls holds $in_calls"
on_alerts=$(it_count "$IT_TOPIC_gb_alerts")
on_events=$(it_count "$IT_TOPIC_gb_events")
dead=$(it_count "$IT_TOPIC_gb_dlq")
[ "$dead" = 0 ] || it_fail "$dead dead letters"
decided=$(grep -cE 'reason=(no_indicator|not_protected)' "$IT_DIR/matcher.log" || true)
[ "$decided" -ge "$background" ] || it_fail "matcher decided $decided of the $background calls that must not alert"

# Same processes throughout; none logged a fatal error; each stops cleanly.
for s in ingest matcher notifier device; do
  gb_pid_alive "${svc_pid[$s]}" || it_fail "$s died"
done
grep -hE 'event=(kafka\.fatal|pipeline\.delivery_failed|pipeline\.revoke_flush_failed|notifier\.fatal|startup\.failed)' \
  "$IT_DIR"/{ingest,matcher,notifier}.log >&2 && it_fail "a service logged a fatal Kafka error"
count_ev() { grep -hcE "event=$1" "$IT_DIR/$2.log" || true; }
count_err() { grep -hc "level=error" "$IT_DIR/$1.log" || true; }
gb_log "level=error lines (a page): ingest $(count_err ingest), matcher $(count_err matcher), notifier $(count_err notifier)"
gb_log "kafka.error warnings: ingest $(count_ev kafka.error ingest), matcher $(count_ev kafka.error matcher), notifier $(count_ev kafka.error notifier); commits failed (input read again): ingest $(count_ev pipeline.commit_failed ingest), matcher $(count_ev pipeline.commit_failed matcher), notifier $(count_ev kafka.commit_failed notifier); rebalances (partitions revoked): ingest $(count_ev kafka.revoked ingest), matcher $(count_ev kafka.revoked matcher), notifier $(count_ev kafka.revoked notifier)"
it_stop_clean "${svc_pid[ingest]}" "${svc_pid[matcher]}" "${svc_pid[notifier]}"

IT_OK=1
gb_log "PASS: calls sent $sent ($hits must alert, $background must not; $in_calls on the input topic); alerts expected $hits, received $alert_events (distinct ids $distinct), duplicates $dups, updates $updates, unexpected 0; $on_events messages on gb.events, $on_alerts on gb.alerts, 0 dead letters"
gb_log "PASS: kills 1 (broker $victim, leader of $led_ae gb.alerts/gb.events partitions): leadership moved in $((t_moved - t_kill)) ms, alerts flowed with it down, back in sync $((t_isr - t_degraded)) ms after its restart; freeze $frozen_ms ms of all 3 brokers ($during_freeze alerts delivered meanwhile), caught up $((t_caught - t_resume)) ms after the resume; after the traffic ended: every alert on the device in $((t_all - t_stop)) ms, consumer lag 0 in $((t_lag0 - t_stop)) ms; cluster start $IT_KAFKA_START_MS ms, test $(( ($(gb_now_ms) - t_test) / 1000 )) s"
