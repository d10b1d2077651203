#!/usr/bin/env bash
# Prints the path of a tarball of a bare Debian 12 root, as `debootstrap --variant=minbase
# bookworm` makes it, making it first when the cache has none (as root).
# check-fresh.sh unpacks a pristine copy of it for every check; build-image.sh imports it
# as the local debian:bookworm-slim. Nothing is ever installed into the cached root.
#   scripts/bare-root.sh                 path of the tarball on stdout, progress on stderr
#   scripts/bare-root.sh --apt-sources   the Debian apt sources of this machine, one
#                                        "deb URI SUITE COMPONENTS" line each, on stdout
# The mirror is the one this machine's apt uses for bookworm (/etc/apt/sources.list and
# sources.list.d, one-line and deb822 files alike, as apt itself reads them), else
# deb.debian.org. Env:
#   SKIRMISH_FRESH_CACHE       cache folder (default /var/cache/skirmish-fresh)
#   SKIRMISH_FRESH_CACHE_DAYS  a cached root older than this is made again (default 7;
#                              0 = debootstrap every time)
#   SKIRMISH_FRESH_MIRROR      the mirror to use instead of the one found
set -euo pipefail

suite=bookworm
default_mirror=http://deb.debian.org/debian

# "URI SUITE COMPONENT" for every Debian 12 entry apt has (bookworm, -updates, -security,
# -backports): the suites named in the sources, whatever the file format.
apt_entries() {
  command -v apt-get >/dev/null 2>&1 || return 0
  apt-get indextargets --no-release-info --format '$(REPO_URI) $(RELEASE) $(COMPONENT)' \
    'Identifier: Packages' 2>/dev/null |
    awk -v s="$suite" '$2 ~ ("^" s "(-updates|-security|-backports)?$") && !seen[$0]++ { print }'
}

if [[ "${1:-}" == "--apt-sources" ]]; then
  entries=$(apt_entries)
  if [[ -z "$entries" ]]; then
    mirror=${SKIRMISH_FRESH_MIRROR:-$default_mirror}
    printf 'deb %s %s main\ndeb %s %s-updates main\ndeb %s-security %s-security main\n' \
      "$mirror" "$suite" "$mirror" "$suite" "${default_mirror%/debian}/debian" "$suite"
    exit 0
  fi
  if [[ -n "${SKIRMISH_FRESH_MIRROR:-}" ]]; then
    # The given mirror serves bookworm and bookworm-updates; security stays where it was.
    main_uri=$(awk -v s="$suite" '$2 == s { print $1; exit }' <<<"$entries")
    entries=$(awk -v from="$main_uri" -v to="${SKIRMISH_FRESH_MIRROR%/}/" '$1 == from { $1 = to } { print }' <<<"$entries")
  fi
  # One line per URI and suite, with its components.
  awk '{ key = $1 " " $2; if (!(key in comps)) order[n++] = key; comps[key] = comps[key] " " $3 }
       END { for (i = 0; i < n; i++) print "deb " order[i] comps[order[i]] }' <<<"$entries"
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "bare-root: debootstrap needs root" >&2
  exit 1
fi

mirror=${SKIRMISH_FRESH_MIRROR:-$(apt_entries | awk -v s="$suite" '$2 == s { print $1; exit }')}
mirror=${mirror:-$default_mirror}
mirror=${mirror%/}
arch=$(dpkg --print-architecture 2>/dev/null || echo amd64)
cache=${SKIRMISH_FRESH_CACHE:-/var/cache/skirmish-fresh}
days=${SKIRMISH_FRESH_CACHE_DAYS:-7}
key=$(printf '%s' "$mirror" | sed 's|^[a-z]*://||; s|[^A-Za-z0-9.]|_|g')
tarball="$cache/$suite-minbase-$arch-$key.tar"

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9   # one debootstrap at a time; the others wait and take its result

if [[ -f "$tarball" && "$days" != "0" ]] && [[ -z $(find "$tarball" -mmin +$((days * 1440)) 2>/dev/null) ]]; then
  echo "bare-root: cached $(basename "$tarball") from $(date -r "$tarball" '+%F %R')" >&2
  echo "$tarball"
  exit 0
fi

# apt's proxy, if the machine has one and the environment does not, for debootstrap's wget.
if [[ -z "${http_proxy:-}" ]] && command -v apt-config >/dev/null 2>&1; then
  eval "$(apt-config shell apt_http_proxy Acquire::http::Proxy)"
  if [[ -n "${apt_http_proxy:-}" && "$apt_http_proxy" != DIRECT ]]; then export http_proxy=$apt_http_proxy; fi
fi

work=$(mktemp -d "$cache/.debootstrap.XXXXXX")
trap 'rm -rf --one-file-system "$work"' EXIT
echo "bare-root: debootstrap --variant=minbase $suite from $mirror ($arch)" >&2
t0=$(date +%s)
if ! nice -n 15 debootstrap --variant=minbase --arch="$arch" "$suite" "$work/root" "$mirror" >"$work/log" 2>&1; then
  tail -n 30 "$work/log" >&2
  [[ -f "$work/root/debootstrap/debootstrap.log" ]] && tail -n 30 "$work/root/debootstrap/debootstrap.log" >&2
  echo "bare-root: debootstrap failed" >&2
  exit 1
fi
t1=$(date +%s)
# apt's downloaded .debs and lists are not part of a fresh install.
rm -rf "$work/root/var/cache/apt/archives/"*.deb "$work/root/var/lib/apt/lists/"* 2>/dev/null || true
nice -n 15 tar --numeric-owner --xattrs -C "$work/root" -cf "$work/root.tar" .
mv -f "$work/root.tar" "$tarball"
echo "bare-root: debootstrap took $((t1 - t0)) s; cached as $tarball ($(du -m "$tarball" | cut -f1) MB)" >&2
echo "$tarball"
