#!/usr/bin/env bash
# Runs the cluster of docker-compose.yml with podman on this machine's network and checks it with
# real WebSocket clients: Redis (AOF, appendfsync always, noeviction), three gateway replicas with
# CLUSTER=redis and OFFLINE_STORE=redis, and nginx with deploy/nginx.conf in front. Three
# upgrades through nginx must land on three replicas; alice and bob, on two of them, exchange
# messages live; carol, offline when a message for her is queued on one replica, receives it on
# another. Removes every container, volume and file it made, even on failure, and ends with one
# line: `cluster-smoke: PASS ...` or `cluster-smoke: FAIL at <step>: ...`.
#
# Why not the compose file itself: redis:7 and nginx cannot be pulled where this runs, and
# podman's bridge networks are not available on every CI machine. So every container uses the
# host network on its own free port on 127.0.0.1, the nginx config is deploy/nginx.conf with the
# upstreams and listen address rewritten to those ports, and Redis and nginx come from one small
# local image built FROM the same node:<major>-bookworm-slim base as the gateway, with Debian's
# redis-server (7.0) and nginx-light (1.22) packages. Nothing is installed on the host.
#
# Usage:  scripts/cluster-smoke.sh [--no-build] [--no-cluster]      (as root, like image-smoke.sh)
#   --no-build    reuse $IMAGE instead of building it
#   --no-cluster  run the replicas without CLUSTER (OFFLINE_STORE=memory each): for an image
#                 that predates cluster mode; the proxy checks pass and the cross-replica check
#                 must then fail, which shows it detects replicas that do not share anything
# Env:    IMAGE (default im-gateway:test), DEPS_IMAGE (default im-gateway-cluster-deps:bookworm),
#         CONTAINER_BASE (default ../shared/tools/container-base.sh beside the repository)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
IMAGE=${IMAGE:-im-gateway:test}
DEPS_IMAGE=${DEPS_IMAGE:-im-gateway-cluster-deps:bookworm}
CONTAINER_BASE=${CONTAINER_BASE:-$REPO/../shared/tools/container-base.sh}
CLIENT="$REPO/scripts/cluster-smoke-client.mjs"
NGINX_CONF="$REPO/deploy/nginx.conf"
NAME="im-gateway-cluster-$$"
VOLUME="$NAME-redis"
REPLICAS=3
# A cold start takes about a second; this leaves room for a loaded CI machine.
HEALTHY_WITHIN_S=60
POLL_S=0.5

step='setup'
started_s=$SECONDS
log() { printf '[cluster-smoke] %s\n' "$*"; }
pass() { log "ok: $*"; }
fail() {
  printf '[cluster-smoke] FAILED at %s: %s\n' "$step" "$*" >&2
  printf 'cluster-smoke: FAIL at %s: %s (%d s)\n' "$step" "$*" "$((SECONDS - started_s))"
  exit 1
}
# Without systemd, podman run reports that it cannot manage health-check timers (the checks are
# run by hand below): drop those lines, keep the rest of its stderr.
podman_quiet() {
  local err status=0
  err=$(podman "$@" 2>&1 >/dev/null) || status=$?
  if [[ -n "$err" ]]; then grep -v 'systemd' <<<"$err" >&2 || true; fi
  return "$status"
}
free_port() {
  node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

build=1
cluster=1
for arg in "$@"; do
  case "$arg" in
    --no-build) build=0 ;;
    --no-cluster) cluster=0 ;;
    *) fail "unknown argument '$arg' (usage: scripts/cluster-smoke.sh [--no-build] [--no-cluster])" ;;
  esac
done

containers=()
work=''
cleanup() {
  local status=$?
  local name
  for name in "${containers[@]}"; do
    if ((status != 0)); then
      log "last lines of $name's log:"
      podman logs --tail 15 "$name" 2>&1 | sed 's/^/    /' >&2 || true
    fi
    podman rm -f -v -t 0 "$name" >/dev/null 2>&1 || true
  done
  podman volume rm -f "$VOLUME" >/dev/null 2>&1 || true
  if [[ -n "$work" ]]; then rm -rf "$work"; fi
  exit "$status"
}

step='prerequisites'
[[ -f "$CONTAINER_BASE" ]] || fail "container-base.sh not found at $CONTAINER_BASE (set CONTAINER_BASE)"
node_major=$(sed -n 's/^FROM node:\([0-9][0-9]*\)-.*/\1/p' "$REPO/Dockerfile" | head -n 1)
[[ -n "$node_major" ]] || fail "no 'FROM node:<major>-...' line in $REPO/Dockerfile"
# Builds the local node base image (and installs podman) when missing; a no-op otherwise.
bash "$CONTAINER_BASE" --node "$node_major" >/dev/null || fail "container-base.sh could not provide node:$node_major"
eval "$(bash "$CONTAINER_BASE" --env)"
trap cleanup EXIT
work=$(mktemp -d)
if ! (cd "$REPO/scripts" && node --input-type=module -e "await import('ws')") 2>/dev/null; then
  log "ws is not installed for the host-side clients: npm ci"
  (cd "$REPO" && npm ci --no-audit --no-fund) || fail "npm ci failed"
fi

if ((build)); then
  step='build gateway image'
  log "building $IMAGE"
  t=$SECONDS
  podman build --format docker -t "$IMAGE" "$REPO" || fail "podman build failed"
  log "built $IMAGE in $((SECONDS - t)) s"
fi
podman image exists "$IMAGE" || fail "image $IMAGE does not exist"

step='build redis and nginx image'
t=$SECONDS
# From the local base, since neither redis:7 nor nginx can be pulled here; cached after the
# first run.
podman build --format docker -q -t "$DEPS_IMAGE" -f - "$work" >"$work/deps-build.log" 2>&1 <<EOF ||
  { cat "$work/deps-build.log" >&2; fail "podman build of $DEPS_IMAGE failed"; }
FROM node:$node_major-bookworm-slim
RUN apt-get update \\
 && apt-get install -y --no-install-recommends redis-server nginx-light \\
 && rm -rf /var/lib/apt/lists/*
EOF
log "$DEPS_IMAGE ready in $((SECONDS - t)) s ($(podman run --rm "$DEPS_IMAGE" redis-server --version | cut -d' ' -f1-3), $(podman run --rm "$DEPS_IMAGE" nginx -v 2>&1))"

redis_port=$(free_port)
nginx_port=$(free_port)
gateway_ports=()
for ((i = 1; i <= REPLICAS; i++)); do gateway_ports+=("$(free_port)"); done

step='start redis'
containers+=("$NAME-redis")
podman volume create "$VOLUME" >/dev/null
# The settings of docker-compose.yml: every write is fsynced to the AOF before Redis answers it,
# and a full Redis refuses writes instead of evicting inboxes.
podman_quiet run -d --name "$NAME-redis" -v "$VOLUME:/data" "$DEPS_IMAGE" \
  redis-server --bind 127.0.0.1 --port "$redis_port" --dir /data \
  --appendonly yes --appendfsync always --maxmemory-policy noeviction || fail "podman run failed"
deadline=$((SECONDS + HEALTHY_WITHIN_S))
until podman exec "$NAME-redis" redis-cli -p "$redis_port" ping 2>/dev/null | grep -q PONG; do
  ((SECONDS < deadline)) || fail "Redis did not answer PING within ${HEALTHY_WITHIN_S} s"
  sleep "$POLL_S"
done
settings=$(podman exec "$NAME-redis" sh -c "for k in appendonly appendfsync maxmemory-policy; do redis-cli -p $redis_port --raw config get \$k | tail -n 1; done" | paste -sd ' ')
[[ "$settings" == 'yes always noeviction' ]] ||
  fail "Redis runs with appendonly appendfsync maxmemory-policy = $settings, expected yes always noeviction"
pass "Redis on 127.0.0.1:$redis_port: appendonly yes, appendfsync always, maxmemory-policy noeviction"

admin_token=$(node -e "console.log(require('crypto').randomBytes(18).toString('hex'))")
if ((cluster)); then
  store_env=(-e CLUSTER=redis -e OFFLINE_STORE=redis -e "REDIS_URL=redis://127.0.0.1:$redis_port")
else
  store_env=(-e OFFLINE_STORE=memory)
  log "--no-cluster: replicas run alone (OFFLINE_STORE=memory), the cross-replica check must fail"
fi
node_args=()
for ((i = 1; i <= REPLICAS; i++)); do
  step="start gateway-$i"
  port=${gateway_ports[i - 1]}
  containers+=("$NAME-gateway-$i")
  # The settings of docker-compose.yml, except the address: HOST=127.0.0.1 on its own port,
  # since the containers share the machine's network.
  podman_quiet run -d --name "$NAME-gateway-$i" \
    -e NODE_ENV=production -e PORT="$port" -e HOST=127.0.0.1 -e NODE_ID="gateway-$i" \
    "${store_env[@]}" \
    -e AUTH_MODE=query -e ALLOW_INSECURE_AUTH=true -e ALLOWED_ORIGINS="http://127.0.0.1:$nginx_port" \
    -e ADMIN_TOKEN="$admin_token" \
    "$IMAGE" || fail "podman run failed"
  node_args+=("gateway-$i=http://127.0.0.1:$port")
done
for ((i = 1; i <= REPLICAS; i++)); do
  step="start gateway-$i"
  deadline=$((SECONDS + HEALTHY_WITHIN_S))
  until podman healthcheck run "$NAME-gateway-$i" >/dev/null 2>&1; do
    [[ $(podman inspect --format '{{.State.Running}}' "$NAME-gateway-$i") == true ]] ||
      fail "gateway-$i exited before its HEALTHCHECK passed: $(podman logs "$NAME-gateway-$i" 2>&1 | head -n 1)"
    ((SECONDS < deadline)) || fail "gateway-$i's HEALTHCHECK did not pass within ${HEALTHY_WITHIN_S} s"
    sleep "$POLL_S"
  done
  ready=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${gateway_ports[i - 1]}/health/ready" || true)
  [[ "$ready" == 200 ]] || fail "gateway-$i: /health/ready answered $ready"
  pass "gateway-$i on 127.0.0.1:${gateway_ports[i - 1]}: healthy and ready"
done

step='start nginx'
# deploy/nginx.conf as shipped, with the compose service names and port 80 replaced by this
# machine's ports, and one worker so that the round robin is one sequence the checks can rely on.
sed_args=(-e "s/^\( *\)listen 80;/\1listen 127.0.0.1:$nginx_port;/" -e 's/^worker_processes auto;/worker_processes 1;/')
for ((i = 1; i <= REPLICAS; i++)); do
  sed_args+=(-e "s/server gateway-$i:8080/server 127.0.0.1:${gateway_ports[i - 1]}/")
done
sed "${sed_args[@]}" "$NGINX_CONF" >"$work/nginx.conf"
if grep -q 'server gateway-\|listen 80;\|worker_processes auto' "$work/nginx.conf"; then
  fail "deploy/nginx.conf no longer has the lines this script rewrites (listen 80, worker_processes auto, server gateway-N:8080)"
fi
containers+=("$NAME-nginx")
podman_quiet run -d --name "$NAME-nginx" -v "$work/nginx.conf:/etc/nginx/nginx.conf:ro" "$DEPS_IMAGE" \
  nginx -g 'daemon off;' || fail "podman run failed"
deadline=$((SECONDS + HEALTHY_WITHIN_S))
until [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$nginx_port/health/ready" || true) == 200 ]]; do
  [[ $(podman inspect --format '{{.State.Running}}' "$NAME-nginx") == true ]] ||
    fail "nginx exited: $(podman logs --tail 1 "$NAME-nginx" 2>&1)"
  ((SECONDS < deadline)) || fail "/health/ready through nginx did not answer 200 within ${HEALTHY_WITHIN_S} s"
  sleep "$POLL_S"
done
for path in /metrics /admin/openapi.json; do
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$nginx_port$path" || true)
  [[ "$code" == 404 ]] || fail "nginx answered $code for $path, expected 404 (not exposed)"
done
pass "nginx on 127.0.0.1:$nginx_port with deploy/nginx.conf: /health/ready 200; /metrics and /admin not exposed"

step='clients'
out="$work/client.out"
status=0
node "$CLIENT" "ws://127.0.0.1:$nginx_port" "$admin_token" "${node_args[@]}" >"$out" 2>&1 || status=$?
grep -v '^step ' "$out" | sed 's/^/[cluster-smoke] /' || true
if ((status != 0)); then
  failed=$(sed -n 's/^step //p' "$out" | tail -n 1)
  [[ -n "$failed" ]] || fail "cluster-smoke-client.mjs exited with status $status"
  step=${failed%%:*}
  fail "${failed#*: }"
fi

printf 'cluster-smoke: PASS (%d replicas behind nginx over one Redis, %d s)\n' "$REPLICAS" "$((SECONDS - started_s))"
