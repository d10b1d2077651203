#!/usr/bin/env bash
# Proves the README's two commands on a fresh Debian 12, as a new user would run them:
# in a pristine `debootstrap --variant=minbase bookworm` root (a chroot; run as root), with
# this checkout's files copied in,
#   1. `scripts/run.sh --port P` installs, builds and starts the daemon: /healthz answers,
#      / is the demo, and SIGTERM stops it with exit 0;
#   2. `scripts/test.sh` passes (SKIRMISH_IN_FRESH_ROOT=1, with the sanitizer and fuzzing
#      passes skipped; inside the root the test command skips this check and the image test).
# The bare root comes from scripts/bare-root.sh (cached; see there). The root gets this
# machine's Debian apt sources, apt proxy, CA certificates (/usr/local/share/ca-certificates
# and the bundle, for networks behind a TLS proxy), npm registry / CA / proxy settings and
# proxy environment variables, and nothing else of the machine. The chroot shares this
# machine's network, so the daemon listens on a free loopback port.
# Files copied: git's tracked and untracked-but-not-ignored files as they are in the
# working tree (uncommitted work is checked too); without git, the tree minus build*/ and
# node_modules/. Env:
#   SKIRMISH_FRESH_KEEP=1       keep the root afterwards (its path is printed)
#   SKIRMISH_FRESH_WORKDIR      where the root is made (default /var/tmp)
#   SKIRMISH_FRESH_RUN_TIMEOUT  seconds for run.sh to answer /healthz (default 1500)
#   SKIRMISH_FRESH_TEST_TIMEOUT seconds for test.sh (default 2400)
#   and SKIRMISH_FRESH_CACHE, SKIRMISH_FRESH_CACHE_DAYS, SKIRMISH_FRESH_MIRROR (bare-root.sh)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)

if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then exec sudo --preserve-env "$0" "$@"; fi
  echo "check-fresh: needs root (debootstrap, chroot, mounts)" >&2
  exit 1
fi
for tool in debootstrap chroot curl tar mount umount flock; do
  command -v "$tool" >/dev/null 2>&1 || { echo "check-fresh: $tool is missing (scripts/install-deps.sh --test installs it)" >&2; exit 1; }
done

t_start=$(date +%s)
elapsed() { echo $(($(date +%s) - $1)); }
say() { echo "check-fresh: $*"; }

# ------------------------------------------------------------------ the root
tarball=$("$src/scripts/bare-root.sh")
t_bare=$(elapsed "$t_start")

root=$(mktemp -d "${SKIRMISH_FRESH_WORKDIR:-/var/tmp}/skirmish-fresh.XXXXXX")
log_dir=$(mktemp -d /tmp/skirmish-fresh-logs.XXXXXX)
mounted=()
bg_pid=""

# Every process whose root is inside the chroot, by id (ours: started by this script).
chroot_pids() {
  local p r
  for p in /proc/[0-9]*; do
    r=$(readlink "$p/root" 2>/dev/null) || continue
    if [[ "$r" == "$root" || "$r" == "$root/"* ]]; then echo "${p#/proc/}"; fi
  done
}

cleanup() {
  local rc=$? i pids
  trap - EXIT INT TERM
  if [[ -n "$bg_pid" ]] && kill -0 "$bg_pid" 2>/dev/null; then kill -KILL "$bg_pid" 2>/dev/null || true; fi
  pids=$(chroot_pids)
  if [[ -n "$pids" ]]; then
    kill -TERM $pids 2>/dev/null || true
    for i in $(seq 50); do pids=$(chroot_pids); [[ -z "$pids" ]] && break; sleep 0.1; done
    [[ -n "$pids" ]] && kill -KILL $pids 2>/dev/null || true
  fi
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
    umount -R "${mounted[i]}" 2>/dev/null || umount -R -l "${mounted[i]}" 2>/dev/null || true
  done
  if grep -qF " $root/" /proc/self/mountinfo; then
    echo "check-fresh: something is still mounted under $root; leaving it there" >&2
  elif [[ "${SKIRMISH_FRESH_KEEP:-}" == "1" ]]; then
    echo "check-fresh: the root is kept at $root (logs in $log_dir)"
  else
    rm -rf --one-file-system "$root" "$log_dir"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

t0=$(date +%s)
tar --numeric-owner --xattrs -C "$root" -xpf "$tarball"
say "pristine root at $root ($(elapsed "$t0") s to unpack)"

mount_into() {  # mount_into TARGET mount-args...
  local target=$1; shift
  mount "$@" "$target"
  mounted+=("$target")
}
mount_into "$root/proc" -t proc proc
mount_into "$root/sys" --rbind /sys
mount --make-rslave "$root/sys"
mount_into "$root/dev" --rbind /dev   # with /dev/pts and /dev/shm under it
mount --make-rslave "$root/dev"

# What the machine needs to reach the network, and nothing else of it.
cp -L /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
cp -L /etc/hosts "$root/etc/hosts" 2>/dev/null || true
"$src/scripts/bare-root.sh" --apt-sources >"$root/etc/apt/sources.list"
rm -f "$root/etc/apt/sources.list.d/"*
if command -v apt-config >/dev/null 2>&1; then
  apt-config dump 2>/dev/null | grep -Ei '^Acquire::(https?|ftp)::Proxy' >"$root/etc/apt/apt.conf.d/80host-proxy" || rm -f "$root/etc/apt/apt.conf.d/80host-proxy"
fi
if [[ -d /usr/local/share/ca-certificates ]]; then
  mkdir -p "$root/usr/local/share/ca-certificates"
  cp -a /usr/local/share/ca-certificates/. "$root/usr/local/share/ca-certificates/"
fi
carried="/usr/local/share/skirmish-host"
mkdir -p "$root$carried"
if [[ -f /etc/ssl/certs/ca-certificates.crt ]]; then
  # Until Debian's ca-certificates is installed (it rebuilds this bundle from its own
  # certificates plus /usr/local/share/ca-certificates), apt and curl use the machine's.
  mkdir -p "$root/etc/ssl/certs"
  cp -L /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
  cp -L /etc/ssl/certs/ca-certificates.crt "$root$carried/ca-bundle.crt"
fi

env_in=(HOME=/root LANG=C.UTF-8 TERM=dumb USER=root LOGNAME=root
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)
for v in http_proxy https_proxy ftp_proxy no_proxy HTTP_PROXY HTTPS_PROXY FTP_PROXY NO_PROXY CI; do
  if [[ -n "${!v:-}" ]]; then env_in+=("$v=${!v}"); fi
done
if [[ -n "${NODE_EXTRA_CA_CERTS:-}" && -f "$NODE_EXTRA_CA_CERTS" ]]; then
  cp -L "$NODE_EXTRA_CA_CERTS" "$root$carried/node-extra-ca.crt"
  env_in+=("NODE_EXTRA_CA_CERTS=$carried/node-extra-ca.crt")
fi
if command -v npm >/dev/null 2>&1; then
  npm_get() { (cd / && npm config get "$1" 2>/dev/null) || true; }
  registry=$(npm_get registry)
  if [[ -n "$registry" && "$registry" != "https://registry.npmjs.org/" ]]; then env_in+=("NPM_CONFIG_REGISTRY=$registry"); fi
  cafile=$(npm_get cafile)
  if [[ -n "$cafile" && "$cafile" != null && "$cafile" != undefined && -f "$cafile" ]]; then
    cp -L "$cafile" "$root$carried/npm-ca.crt"
    env_in+=("NPM_CONFIG_CAFILE=$carried/npm-ca.crt")
  fi
  for k in proxy https-proxy noproxy strict-ssl; do
    val=$(npm_get "$k")
    if [[ -n "$val" && "$val" != null && "$val" != undefined && "$val" != true ]]; then
      env_in+=("NPM_CONFIG_${k//-/_}=$val")
    fi
  done
fi

# The project, as a clean tree.
dest=/root/skirmish
mkdir -p "$root$dest"
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
  git -C "$src" ls-files -z --cached --others --exclude-standard |
    (cd "$src" && while IFS= read -r -d '' f; do
       if [[ -e "$f" || -L "$f" ]]; then printf '%s\0' "$f"; fi
     done) |
    tar -C "$src" --null -T - -cf - | tar -C "$root$dest" -xf -
  what="git's tracked and untracked-not-ignored files from the working tree"
else
  tar -C "$src" --exclude='./build*' --exclude=node_modules --exclude=.git -cf - . | tar -C "$root$dest" -xf -
  what="the tree without build*/ and node_modules/"
fi
say "copied $(find "$root$dest" -type f | wc -l) files ($what) to $dest"

# ------------------------------------------------------------------ 1. scripts/run.sh
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port=""
for _ in $(seq 100); do
  p=$((20000 + RANDOM % 30000))
  if port_free "$p"; then port=$p; break; fi
done
[[ -n "$port" ]] || { say "no free port found"; exit 1; }

say "1/2 scripts/run.sh --port $port (install, build, start; output in $log_dir/run.log)"
t0=$(date +%s)
# nice, chroot, env, bash and run.sh each exec the next: $! ends up being skirmishd itself.
nice -n 15 chroot "$root" /usr/bin/env -i "${env_in[@]}" \
  /bin/bash -c 'cd "$0" && exec scripts/run.sh --port "$1"' "$dest" "$port" >"$log_dir/run.log" 2>&1 &
bg_pid=$!
deadline=$((t0 + ${SKIRMISH_FRESH_RUN_TIMEOUT:-1500}))
fail_run() {
  say "FAIL: $*"
  echo "--- run.sh output (last 40 lines) ---"
  tail -n 40 "$log_dir/run.log"
  exit 1
}
health=""
while :; do
  if health=$(curl -fsS --max-time 2 "http://localhost:$port/healthz" 2>/dev/null); then break; fi
  kill -0 "$bg_pid" 2>/dev/null || { wait "$bg_pid" && rc=0 || rc=$?; bg_pid=""; fail_run "run.sh exited ($rc) before /healthz answered"; }
  (($(date +%s) < deadline)) || fail_run "/healthz did not answer within ${SKIRMISH_FRESH_RUN_TIMEOUT:-1500} s"
  sleep 1
done
t_run=$(elapsed "$t0")
[[ "$health" == *'"status":"ok"'* ]] || fail_run "/healthz answered $health"
page=$(curl -fsS --max-time 5 "http://localhost:$port/") || fail_run "GET / failed"
[[ "$page" == *'<title>Skirmish</title>'* && "$page" == *'js/main.js'* ]] || fail_run "GET / is not the demo"
say "   /healthz answered after ${t_run} s: $health; / is the demo"
exe=$(readlink "/proc/$bg_pid/exe" 2>/dev/null || true)
[[ "$exe" == "$root$dest/build/server/skirmishd" ]] || fail_run "run.sh did not exec the daemon (pid $bg_pid is $exe)"
kill -TERM "$bg_pid"
stop_deadline=$(($(date +%s) + 15))
while kill -0 "$bg_pid" 2>/dev/null && (($(date +%s) < stop_deadline)); do sleep 0.1; done
if kill -0 "$bg_pid" 2>/dev/null; then fail_run "the daemon did not stop within 15 s of SIGTERM"; fi
wait "$bg_pid" && rc=0 || rc=$?
bg_pid=""
[[ $rc -eq 0 ]] || fail_run "the daemon exited with $rc after SIGTERM (want 0)"
say "   SIGTERM: exit 0"

# ------------------------------------------------------------------ 2. scripts/test.sh
say "2/2 SKIRMISH_IN_FRESH_ROOT=1 SKIRMISH_SKIP_SANITIZE=1 SKIRMISH_SKIP_FUZZ=1 scripts/test.sh"
t0=$(date +%s)
rc=0
timeout --kill-after=30 "${SKIRMISH_FRESH_TEST_TIMEOUT:-2400}" \
  nice -n 15 chroot "$root" /usr/bin/env -i "${env_in[@]}" \
  SKIRMISH_IN_FRESH_ROOT=1 SKIRMISH_SKIP_SANITIZE=1 SKIRMISH_SKIP_FUZZ=1 \
  /bin/bash -c 'cd "$0" && exec scripts/test.sh' "$dest" 2>&1 | sed -u 's/^/fresh| /' || rc=$?
t_test=$(elapsed "$t0")
if [[ $rc -ne 0 ]]; then
  say "FAIL: scripts/test.sh in the fresh root exited with $rc after ${t_test} s"
  exit 1
fi

say "passed: bare root ${t_bare} s, run.sh to /healthz ${t_run} s, test.sh ${t_test} s, total $(elapsed "$t_start") s"
