#!/usr/bin/env bash
# The skeleton test proves the whole path only if it fails when any one of
# the three services is missing: run it without each in turn and require a
# failure every time.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
GB_PROG=skeleton_needs_all
for svc in ingest matcher notifier; do
  if GB_SKELETON_ALERT_TIMEOUT=${GB_SKELETON_ALERT_TIMEOUT:-20} \
       "$(dirname "$0")/skeleton.sh" --without "$svc" >"${GB_BUILD_DIR}/skeleton-without-$svc.out" 2>&1; then
    it_fail "skeleton.sh passed without $svc running"
  fi
  gb_log "without $svc: failed as it must ($(grep -m1 'FAIL' "${GB_BUILD_DIR}/skeleton-without-$svc.out" | sed 's/.*FAIL: //'))"
done
gb_log "PASS: the skeleton test fails without each service"
