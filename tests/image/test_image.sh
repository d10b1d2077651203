#!/usr/bin/env bash
# The Docker image, built for real and run, with buildah (no Docker engine needed):
#   1. scripts/build-image.sh builds it (buildah bud --isolation chroot, vfs storage, docker
#      format, base imported from a debootstrap root), in a storage of its own that is
#      deleted afterwards;
#   2. its USER is not root, and the daemon started from its ENTRYPOINT runs with that
#      user's non-zero uid;
#   3. with SKIRMISH_PORT set to a free non-default port (docker run -e SKIRMISH_PORT=P),
#      the daemon answers /healthz there, and the image's own HEALTHCHECK command, run in
#      the container as Docker would (/bin/sh -c, the container's user and environment),
#      succeeds; the same command fails when SKIRMISH_PORT names a port nobody listens on;
#   4. SIGTERM to the daemon (what `docker stop` sends) makes it exit 0.
# The container runs with `buildah run --isolation chroot --network host`: the process
# sees the image's root, user, working directory and environment, and this machine's
# network, so the port is a free loopback port.
# Prints "SKIPPED: ..." and exits 77 (ctest's SKIP_RETURN_CODE) where this cannot run:
# inside the fresh root of scripts/check-fresh.sh (SKIRMISH_IN_FRESH_ROOT=1), with
# SKIRMISH_SKIP_IMAGE=1, without buildah, or not as root.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
tag=localhost/skirmish-image-test

skip() { echo "SKIPPED: $*"; exit 77; }
[[ "${SKIRMISH_IN_FRESH_ROOT:-}" == "1" ]] && skip "inside the fresh root of scripts/check-fresh.sh the image is not built"
[[ "${SKIRMISH_SKIP_IMAGE:-}" == "1" ]] && skip "SKIRMISH_SKIP_IMAGE=1"
command -v buildah >/dev/null 2>&1 || skip "buildah is not installed (scripts/install-deps.sh --test installs it)"
[[ $(id -u) -eq 0 ]] || skip "buildah with chroot isolation and vfs storage needs root here"
for tool in curl python3 debootstrap; do
  command -v "$tool" >/dev/null 2>&1 || skip "$tool is not installed (scripts/install-deps.sh --test installs it)"
done

work=$(mktemp -d "${TMPDIR:-/var/tmp}/skirmish-image-test.XXXXXX")
mkdir -p "$work/tmp"
export TMPDIR="$work/tmp"   # buildah's scratch files too go with the storage
bh=(buildah --storage-driver vfs --root "$work/root" --runroot "$work/run")
if ! out=$("${bh[@]}" info 2>&1); then
  rm -rf "$work"
  skip "buildah cannot run here: $(tail -n 1 <<<"$out")"
fi

ctr=""
run_pid=""
failures=0
# The processes below PID (what `buildah run` started: the container's), by id.
descendants() {
  local stat pid ppid rest
  local -A kids=()
  for stat in /proc/[0-9]*/stat; do
    read -r rest <"$stat" 2>/dev/null || continue
    pid=${rest%% *}
    rest=${rest##*) }   # after the command name, which may hold spaces
    ppid=$(cut -d' ' -f2 <<<"$rest")
    kids[$ppid]+="$pid "
  done
  local todo=("$1") p c
  while ((${#todo[@]})); do
    p=${todo[0]}; todo=("${todo[@]:1}")
    for c in ${kids[$p]:-}; do echo "$c"; todo+=("$c"); done
  done
}
cleanup() {
  local rc=$? pids i
  trap - EXIT
  if [[ -n "$run_pid" ]]; then
    pids=$(descendants "$run_pid")
    if [[ -n "$pids" ]]; then kill -TERM $pids 2>/dev/null || true; fi
    for i in $(seq 50); do kill -0 "$run_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$run_pid" $pids 2>/dev/null || true
    wait "$run_pid" 2>/dev/null || true
  fi
  "${bh[@]}" rm --all >/dev/null 2>&1 || true
  "${bh[@]}" umount --all >/dev/null 2>&1 || true
  if grep -qF " $work/" /proc/self/mountinfo; then
    echo "image test: something is still mounted under $work; leaving it there" >&2
  else
    rm -rf --one-file-system "$work"
  fi
  exit "$rc"
}
trap cleanup EXIT

ok() { echo "  ok $*"; }
fail() { echo "  FAIL $*"; failures=$((failures + 1)); }
# A field of the image's Docker config (buildah inspect's JSON), as JSON.
config() { python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["Docker"]["config"].get(sys.argv[2])))' "$work/inspect.json" "$1"; }
free_port() {
  local p
  for _ in $(seq 100); do
    p=$((20000 + RANDOM % 30000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  return 1
}

# ------------------------------------------------------------------ 1. it builds
t0=$(date +%s)
if ! SKIRMISH_IMAGE_STORAGE="$work" SKIRMISH_IMAGE_BUILDER=buildah "$src/scripts/build-image.sh" "$tag" >"$work/build.log" 2>&1; then
  tail -n 60 "$work/build.log"
  echo "FAIL: the image does not build"
  exit 1
fi
grep '^build-image:' "$work/build.log" | sed 's/^/    /'
ok "the image builds ($(($(date +%s) - t0)) s)"

# ------------------------------------------------------------------ 2. the user
"${bh[@]}" inspect --type image "$tag" >"$work/inspect.json"
user=$(config User | python3 -c 'import json,sys; print(json.load(sys.stdin) or "")')
entrypoint=$(config Entrypoint)
healthcheck=$(config Healthcheck)
env_json=$(config Env)
echo "    USER $user, ENTRYPOINT $entrypoint"
echo "    HEALTHCHECK $healthcheck"
ctr=$("${bh[@]}" from --pull=never "$tag")
mnt=$("${bh[@]}" mount "$ctr")
uid=$(awk -F: -v u="${user%%:*}" '$1 == u || $3 == u { print $3; exit }' "$mnt/etc/passwd")
"${bh[@]}" umount "$ctr" >/dev/null
if [[ -n "$user" && "$user" != root && -n "$uid" && "$uid" != 0 ]]; then
  ok "USER is $user (uid $uid), not root"
else
  fail "USER is '$user' (uid '$uid'): the image must run as a non-root user"
fi
python3 -c 'import json,sys; e=json.loads(sys.argv[1]); sys.exit(0 if "SKIRMISH_PORT=8080" in e else 1)' "$env_json" \
  && ok "ENV SKIRMISH_PORT=8080 (the port the daemon and the HEALTHCHECK share)" \
  || fail "the image's environment has no SKIRMISH_PORT=8080: $env_json"

mapfile -t entry < <(python3 -c 'import json,sys; [print(a) for a in json.loads(sys.argv[1])]' "$entrypoint")
mapfile -t hc_test < <(python3 -c 'import json,sys; [print(a) for a in (json.loads(sys.argv[1]) or {}).get("Test", [])]' "$healthcheck")
((${#entry[@]})) || { echo "FAIL: the image has no ENTRYPOINT"; exit 1; }

# ------------------------------------------------------------------ 3. /healthz on SKIRMISH_PORT
port=$(free_port)
"${bh[@]}" run --isolation chroot --network host -e "SKIRMISH_PORT=$port" "$ctr" -- "${entry[@]}" >"$work/daemon.log" 2>&1 &
run_pid=$!
deadline=$(($(date +%s) + 30))
health=""
until health=$(curl -fsS --max-time 2 "http://127.0.0.1:$port/healthz" 2>/dev/null); do
  if ! kill -0 "$run_pid" 2>/dev/null || (($(date +%s) >= deadline)); then
    cat "$work/daemon.log"
    echo "FAIL: the container's daemon did not answer /healthz on SKIRMISH_PORT=$port"
    exit 1
  fi
  sleep 0.2
done
if [[ "$health" == *'"status":"ok"'* ]]; then
  ok "the daemon answers /healthz on SKIRMISH_PORT=$port: $health"
else
  fail "/healthz on $port answered $health"
fi

daemon_pid=""
for p in $(descendants "$run_pid"); do
  if [[ "$(readlink "/proc/$p/exe" 2>/dev/null)" == */usr/local/bin/skirmishd ]]; then daemon_pid=$p; break; fi
done
if [[ -z "$daemon_pid" ]]; then
  echo "FAIL: no skirmishd process found in the container"
  exit 1
fi
duid=$(awk '/^Uid:/ { print $2 }' "/proc/$daemon_pid/status")
if [[ "$duid" == "$uid" && "$duid" != 0 ]]; then
  ok "the daemon (pid $daemon_pid) runs as uid $duid ($user)"
else
  fail "the daemon runs as uid $duid, want $uid ($user)"
fi

if [[ ${#hc_test[@]} -lt 2 ]]; then
  fail "the image has no HEALTHCHECK command: $healthcheck"
else
  # Docker runs CMD-SHELL as /bin/sh -c, CMD as the argument list, in the container.
  case "${hc_test[0]}" in
    CMD-SHELL) hc=(/bin/sh -c "${hc_test[1]}") ;;
    CMD) hc=("${hc_test[@]:1}") ;;
    *) hc=(); fail "HEALTHCHECK of an unknown kind: $healthcheck" ;;
  esac
  if ((${#hc[@]})); then
    if "${bh[@]}" run --isolation chroot --network host -e "SKIRMISH_PORT=$port" "$ctr" -- "${hc[@]}" >"$work/hc.log" 2>&1; then
      ok "the image's HEALTHCHECK passes with SKIRMISH_PORT=$port"
    else
      cat "$work/hc.log"
      fail "the image's HEALTHCHECK fails against the daemon on SKIRMISH_PORT=$port"
    fi
    other=$(free_port)
    if "${bh[@]}" run --isolation chroot --network host -e "SKIRMISH_PORT=$other" "$ctr" -- "${hc[@]}" >/dev/null 2>&1; then
      fail "the HEALTHCHECK passes with SKIRMISH_PORT=$other, where nothing listens: it does not ask SKIRMISH_PORT"
    else
      ok "the HEALTHCHECK follows SKIRMISH_PORT (fails on $other, where nothing listens)"
    fi
  fi
fi

# ------------------------------------------------------------------ 4. SIGTERM
kill -TERM "$daemon_pid"
deadline=$(($(date +%s) + 15))
while kill -0 "$run_pid" 2>/dev/null && (($(date +%s) < deadline)); do sleep 0.1; done
if kill -0 "$run_pid" 2>/dev/null; then
  fail "the daemon did not stop within 15 s of SIGTERM"
else
  wait "$run_pid" && rc=0 || rc=$?
  run_pid=""
  if [[ $rc -eq 0 ]]; then ok "SIGTERM: the daemon exits 0"; else tail -n 20 "$work/daemon.log"; fail "SIGTERM: exit $rc (want 0)"; fi
fi

if ((failures)); then
  echo "image test: $failures check(s) failed"
  exit 1
fi
echo "image test: passed ($(($(date +%s) - t0)) s)"
