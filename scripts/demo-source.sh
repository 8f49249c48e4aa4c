#!/usr/bin/env bash
# The demo's outside world, published with kcat as partners would: the
# registration back end registers a few people at two stations (with
# their names and a family number each), the
# intelligence feed lists a few fraud numbers, and carriers send a steady
# flow of call records in which, every few seconds, a fraud number calls a
# protected person and stays on the line (interim records at 30 s and 75 s,
# then a final one), which alerts the person's station.
#
#   scripts/demo-source.sh BOOTSTRAP [--duration S]   (0 = until stopped)
set -euo pipefail
bootstrap=$1
duration=0
[ "${2:-}" = "--duration" ] && duration=$3
here=$(cd "$(dirname "$0")/.." && pwd)
kc=(kcat -P -b "$bootstrap" -K '|' -H content-type=application/json -X enable.idempotence=true -X acks=all)
# Carrier traffic goes through the partners' own tool, as a carrier would send it.
publish_calls=("${GB_BUILD_DIR:-$here/build}/tools/gb-publish" -b "$bootstrap" -t gb.calls -f jsonl --key call_id -q -)

stations=(st-yongfu st-yongfu st-yongfu st-binhai st-binhai)
people=(13900139000 "138 0013 8001" +86-137-0013-7002 008613600136003 "(+86) 135 0013 5004")
fraud=(+8617000000000 "0086 171 0000 0001" +85261234567)

# What each registered with (shown to the officers on the alert's page),
# and one family number each, with its relation to the registrant.
names=(张秀英 王建国 李淑珍 刘志强 陈桂兰)
ages=(72 66 58 45 80)
jobs=(退休教师 个体户 退休工人 公司职员 农民)
family=(13900139100 13800138101 13700137102 13600136103 13500135104)
relations=(儿子 女儿 配偶 母亲 孙子)

ts() { date -u +%Y-%m-%dT%H:%M:%SZ; }

{
  for i in "${!people[@]}"; do
    printf '%s|{"request_id":"demo-reg-%d","op":"register","registrant":"%s","station_id":"%s","following":true,"name":"%s","age":%d,"occupation":"%s"}\n' \
      "${people[$i]}" "$i" "${people[$i]}" "${stations[$i]}" "${names[$i]}" "${ages[$i]}" "${jobs[$i]}"
    printf '%s|{"request_id":"demo-fam-%d","op":"add_family","registrant":"%s","family":"%s","relation":"%s"}\n' \
      "${people[$i]}" "$i" "${people[$i]}" "${family[$i]}" "${relations[$i]}"
  done
} | "${kc[@]}" -t gb.registry
{
  for f in "${fraud[@]}"; do
    printf 'phone:%s|{"kind":"phone","value":"%s","action":"add","source":"demo-intel","confidence":95}\n' "$f" "$f"
  done
} | "${kc[@]}" -t gb.intel
echo "demo-source: registered ${#people[@]} people at 2 stations, listed ${#fraud[@]} fraud numbers" >&2

start=$(date +%s)
round=0
while [ "$duration" -eq 0 ] || [ $(( $(date +%s) - start )) -lt "$duration" ]; do
  round=$((round + 1))
  now=$(ts)
  id=$start-$round   # unique across runs of the demo
  {
    # Ordinary traffic: nobody protected, no fraud number.
    for i in $(seq 1 50); do
      printf '{"call_id":"demo-c%s-%d","caller":"1%02d%08d","callee":"1%02d%08d","start":"%s","duration_s":%d,"carrier":"CMCC"}\n' \
        "$id" "$i" $((30 + RANDOM % 60)) $((RANDOM * RANDOM % 100000000)) \
        $((30 + RANDOM % 60)) $((RANDOM * RANDOM % 100000000)) "$now" $((RANDOM % 600))
    done
    # Every fourth round a fraud call to a protected person, reported while it goes on.
    if [ $((round % 4)) -eq 1 ]; then
      p=${people[$((RANDOM % ${#people[@]}))]}
      f=${fraud[$((RANDOM % ${#fraud[@]}))]}
      for d in 30 75; do
        printf '{"call_id":"demo-f%s","caller":"%s","callee":"%s","start":"%s","duration_s":%d,"carrier":"CUCC","status":"ongoing"}\n' \
          "$id" "$f" "$p" "$now" "$d"
      done
      printf '{"call_id":"demo-f%s","caller":"%s","callee":"%s","start":"%s","duration_s":%d,"carrier":"CUCC","status":"final"}\n' \
        "$id" "$f" "$p" "$now" 252
    fi
  } | "${publish_calls[@]}"
  sleep 1 # the pace of the demo's traffic, not a synchronisation
done
