#!/usr/bin/env bash
# Builds the gateway's container image with podman and checks what an operator relies on:
# HEALTHCHECK passes, messages flow live and through the offline inbox with real ws clients, the
# process runs as uid 1000, SIGTERM closes connections with 1001 and exits 0 within 10 s, and the
# inbox on the /data volume survives a restart. Cleans up its container and volume, even on
# failure, and exits non-zero with one line naming the failed check.
#
# Usage:  scripts/image-smoke.sh [--no-build]      (as root; --no-build reuses $IMAGE)
# Env:    IMAGE (default im-gateway:test), CONTAINER_BASE (default ../shared/tools/container-base.sh
#         beside the repository), PORT (default: a free port on 127.0.0.1)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
IMAGE=${IMAGE:-im-gateway:test}
CONTAINER_BASE=${CONTAINER_BASE:-$REPO/../shared/tools/container-base.sh}
CLIENT="$REPO/scripts/image-smoke-client.mjs"
NAME="im-gateway-smoke-$$"
VOLUME="$NAME-data"
EXPECTED_UID=1000
# The gateway's contract: SIGTERM ends the process within 10 s.
STOP_DEADLINE_S=10
# A cold start takes about a second; this leaves room for a loaded CI machine.
HEALTHY_WITHIN_S=60
HEALTH_POLL_S=0.5

passed=0
log() { printf '[image-smoke] %s\n' "$*"; }
# One line per check that held, and a closing count that CI logs can be read by.
pass() {
  log "ok: $*"
  passed=$((passed + 1))
}
fail() {
  printf '[image-smoke] FAILED: %s\n' "$*" >&2
  printf 'image-smoke: %d passed, 1 failed\n' "$passed"
  exit 1
}
now_ms() { date +%s%3N; }
# Without systemd, podman run/start/stop each report that they cannot manage health-check timers
# (the checks are run by hand below): drop those lines, keep the rest of its stderr.
podman_quiet() {
  local err status=0
  err=$(podman "$@" 2>&1 >/dev/null) || status=$?
  if [[ -n "$err" ]]; then grep -v 'systemd' <<<"$err" >&2 || true; fi
  return "$status"
}

build=1
case "${1:-}" in
  '') ;;
  --no-build) build=0 ;;
  *) fail "unknown argument '$1' (usage: scripts/image-smoke.sh [--no-build])" ;;
esac

hold_pid=''
hold_out=''
cleanup() {
  local status=$?
  if [[ -n "$hold_pid" ]]; then kill "$hold_pid" 2>/dev/null || true; fi
  if [[ -n "$hold_out" ]]; then rm -f "$hold_out"; fi
  if podman container exists "$NAME" 2>/dev/null; then
    if ((status != 0)); then
      log "last lines of the gateway's log:"
      podman logs --tail 40 "$NAME" 2>&1 | sed 's/^/    /' >&2 || true
    fi
    podman rm -f -t 0 "$NAME" >/dev/null 2>&1 || true
  fi
  podman volume rm -f "$VOLUME" >/dev/null 2>&1 || true
  exit "$status"
}

[[ -f "$CONTAINER_BASE" ]] || fail "container-base.sh not found at $CONTAINER_BASE (set CONTAINER_BASE)"
node_major=$(sed -n 's/^FROM node:\([0-9][0-9]*\)-.*/\1/p' "$REPO/Dockerfile" | head -n 1)
[[ -n "$node_major" ]] || fail "no 'FROM node:<major>-...' line in $REPO/Dockerfile"
# Builds the local node base image (and installs podman) when missing; a no-op otherwise.
bash "$CONTAINER_BASE" --node "$node_major" >/dev/null || fail "container-base.sh could not provide node:$node_major"
eval "$(bash "$CONTAINER_BASE" --env)"
trap cleanup EXIT

if ! (cd "$REPO/scripts" && node --input-type=module -e "await import('ws')") 2>/dev/null; then
  log "ws is not installed for the host-side clients: npm ci"
  (cd "$REPO" && npm ci --no-audit --no-fund) || fail "npm ci failed"
fi

if ((build)); then
  log "building $IMAGE"
  started=$(now_ms)
  podman build --format docker -t "$IMAGE" "$REPO" || fail "podman build failed"
  log "built $IMAGE in $((($(now_ms) - started) / 1000)) s"
fi
podman image exists "$IMAGE" || fail "image $IMAGE does not exist"

if [[ -z "${PORT:-}" ]]; then
  PORT=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
fi
URL="ws://127.0.0.1:$PORT"

wait_healthy() {
  local deadline=$((SECONDS + HEALTHY_WITHIN_S))
  until podman healthcheck run "$NAME" >/dev/null 2>&1; do
    [[ $(podman inspect --format '{{.State.Running}}' "$NAME") == true ]] ||
      fail "the container exited before its HEALTHCHECK passed"
    ((SECONDS < deadline)) || fail "HEALTHCHECK did not pass within ${HEALTHY_WITHIN_S} s"
    sleep "$HEALTH_POLL_S"
  done
}

podman volume create "$VOLUME" >/dev/null
# HOST=127.0.0.1: the container shares the machine's network, so keep the test gateway on loopback.
# The clients identify themselves with ?user=, which the image's NODE_ENV=production refuses
# unless allowed explicitly; production also requires ALLOWED_ORIGINS, and serves the chat page
# only when asked to.
log "starting $NAME on port $PORT"
podman_quiet run -d --name "$NAME" -v "$VOLUME:/data" \
  -e PORT="$PORT" -e HOST=127.0.0.1 \
  -e AUTH_MODE=query -e ALLOW_INSECURE_AUTH=true -e ALLOWED_ORIGINS='*' -e WEB_CLIENT=true \
  "$IMAGE" || fail "podman run failed"
started=$(now_ms)
wait_healthy
pass "HEALTHCHECK passed after $(($(now_ms) - started)) ms"

uid=$(podman exec "$NAME" id -u) || fail "podman exec id -u failed"
[[ "$uid" == "$EXPECTED_UID" ]] || fail "the gateway runs as uid $uid, expected $EXPECTED_UID"
pass "runs as uid $uid"

statuses=$(node -e "
  const base = 'http://127.0.0.1:$PORT';
  Promise.all(['/', '/sdk/im-client.js'].map((p) => fetch(base + p).then((r) => r.status)))
    .then((s) => console.log(s.join(' ')), () => console.log('unreachable'));")
[[ "$statuses" == '200 200' ]] || fail "WEB_CLIENT=true: / and /sdk/im-client.js answered $statuses, expected 200 200"
pass "the chat page and the SDK bundle are in the image (WEB_CLIENT=true)"

node "$CLIENT" exchange "$URL" || fail "message exchange through the gateway"
pass "bob received alice's message live; carol received hers from the inbox on connect"

hold_out=$(mktemp)
node "$CLIENT" hold "$URL" erin >"$hold_out" &
hold_pid=$!
deadline=$((SECONDS + 10))
until grep -q '^connected$' "$hold_out"; do
  kill -0 "$hold_pid" 2>/dev/null || fail "the client held open for shutdown could not connect"
  ((SECONDS < deadline)) || fail "the client held open for shutdown did not connect within 10 s"
  sleep 0.1
done

log "sending SIGTERM"
started=$(now_ms)
podman kill --signal TERM "$NAME" >/dev/null || fail "podman kill --signal TERM failed"
exit_code=$(timeout $((STOP_DEADLINE_S + 5)) podman wait "$NAME") ||
  fail "the gateway was still running $((STOP_DEADLINE_S + 5)) s after SIGTERM"
stop_ms=$(($(now_ms) - started))
[[ "$exit_code" == 0 ]] || fail "the gateway exited with code $exit_code after SIGTERM, expected 0"
((stop_ms < STOP_DEADLINE_S * 1000)) || fail "the gateway took $stop_ms ms to exit after SIGTERM (limit ${STOP_DEADLINE_S} s)"
wait "$hold_pid" || fail "the connection open at SIGTERM was not closed with 1001"
hold_pid=''
pass "SIGTERM: exit code 0 after $stop_ms ms, the open connection closed with 1001"

log "restarting on the same volume"
podman_quiet start "$NAME" || fail "podman start failed"
wait_healthy
node "$CLIENT" receive "$URL" dave || fail "the message stored before SIGTERM was not delivered after the restart"
pass "a message stored before SIGTERM was delivered after a restart on the same volume"
podman_quiet stop -t "$STOP_DEADLINE_S" "$NAME"

size=$(podman image inspect --format '{{.Size}}' "$IMAGE")
log "image $IMAGE: $((size / 1000000)) MB ($size bytes)"
printf 'image-smoke: %d passed, 0 failed\n' "$passed"
