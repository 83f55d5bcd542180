#!/usr/bin/env bash
# Proves the Debian package: builds it (contrib/packaging/build-deb.sh, or takes the .deb and .ddeb given
# as arguments), installs it with dpkg into a clean Debian root made by mmdebstrap (Essential packages and
# systemd only: dpkg must refuse it until adduser, which its Depends name, is there too), then checks,
# inside that root:
# the files (stripped binary, debug symbols, manual pages, completions, conffiles, changelog), what the
# postinst made (user, state directory, pjprov.conf's permissions), `systemd-analyze verify` on the unit,
# `pjprov check` on the shipped example run as the pjprov user, the example served over HTTP, a start
# with /etc/asterisk absent, and a purge. Needs root and mmdebstrap (apt-get install mmdebstrap).
#
# Without them (not root, or no mmdebstrap) it says so and falls back to `dpkg --root --unpack` into an
# empty root: the files and `pjprov check` only, no maintainer scripts, no Depends.
set -euo pipefail
cd "$(dirname "$0")/../.."
started=$SECONDS

fail() { echo "test-deb.sh: FAILED: $*" >&2; exit 1; }
step() { printf '\n-- %s\n' "$*"; }

if (($# == 2)); then
    deb=$1 ddeb=$2
else
    step "building the package"
    mapfile -t built < <(contrib/packaging/build-deb.sh)
    deb=${built[0]} ddeb=${built[1]}
fi
[ -f "$deb" ] && [ -f "$ddeb" ] || fail "no package: $deb $ddeb"
echo "$deb"
echo "$ddeb"

root=$(mktemp -d /tmp/pjprov-deb-root.XXXXXX)
mounted=()
cleanup() {
    for m in "${mounted[@]}"; do umount "$m" 2>/dev/null || true; done
    if [ -n "${server:-}" ]; then kill "$server" 2>/dev/null || true; fi
    rm -rf "$root"
}
trap cleanup EXIT

# The example as the package installs it, and what each file must be.
examples=/usr/share/doc/pjprov/examples
check_files() {
    local r=$1
    for f in usr/bin/pjprov usr/lib/systemd/system/pjprov.service etc/asterisk/pjprov.conf etc/default/pjprov \
        usr/share/doc/pjprov/changelog.Debian.gz usr/share/doc/pjprov/copyright \
        usr/share/bash-completion/completions/pjprov usr/share/zsh/vendor-completions/_pjprov \
        usr/share/fish/vendor_completions.d/pjprov.fish usr/share/pjprov/templates/README.md \
        "${examples#/}/etc/pjsip.conf" "${examples#/}/etc/phoneprov.conf" "${examples#/}/data/phoneprov/yealink"; do
        # (Unpacked but not configured, a conffile is still FILE.dpkg-new.)
        [ -e "$r/$f" ] || [ -e "$r/$f.dpkg-new" ] || fail "$f is not installed"
    done
    for command in "" -serve -check -list -render -dump -explain -status -notify -completions; do
        [ -f "$r/usr/share/man/man1/pjprov$command.1.gz" ] || fail "no manual page pjprov$command.1.gz"
    done
    # Stripped: no DWARF left in the binary; the debug symbols are in the dbgsym package, by build id.
    if readelf -S -W "$r/usr/bin/pjprov" | grep -Eq '\.debug_(info|line|str|abbrev) '; then fail "/usr/bin/pjprov is not stripped"; fi
    local id
    id=$(readelf -n "$r/usr/bin/pjprov" | sed -n 's/.*Build ID: *//p')
    [ -n "$id" ] || fail "/usr/bin/pjprov has no build id"
    dpkg-deb -c "$ddeb" | grep -q "usr/lib/debug/.build-id/${id:0:2}/${id:2}.debug" ||
        fail "the dbgsym package has no debug file for build id $id"
    # The unit names no path that must exist (226/NAMESPACE where /etc/asterisk or /var/lib/asterisk are
    # absent): every *Paths= entry is optional ('-') or there is none.
    if grep -E '^(ReadOnly|ReadWrite|Inaccessible|Exec|NoExec|Bind|BindReadOnly)Paths=' \
        "$r/usr/lib/systemd/system/pjprov.service" | grep -Ev '=(-[^ ]+ ?)+$'; then
        fail "the unit names paths that must exist"
    fi
    echo "files: ok"
}

if [ "$(id -u)" -ne 0 ] || ! command -v mmdebstrap >/dev/null; then
    echo "test-deb.sh: not root or no mmdebstrap: only unpacking into an empty root (dpkg --root)" >&2
    mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
    touch "$root/var/lib/dpkg/status"
    for package in "$deb" "$ddeb"; do
        HOME=$root dpkg --root="$root" --log=/dev/null --force-not-root --force-depends --unpack "$package" >/dev/null
    done
    check_files "$root"
    out=$("$root/usr/bin/pjprov" check --config-dir "$root$examples/etc" --data-dir "$root$examples/data" \
        --state-dir "$root/var/lib/pjprov") || fail "pjprov check on the example: $out"
    echo "$out"
    echo "test-deb.sh: ok (unpacked only) in $((SECONDS - started)) s"
    exit 0
fi

step "a clean Debian root (mmdebstrap: Essential packages, systemd for systemd-analyze, passwd for adduser)"
suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
sources=/etc/apt/sources.list.d/debian.sources
[ -f "$sources" ] || sources=/etc/apt/sources.list
mmdebstrap --quiet --variant=essential --include=systemd,passwd "$suite" "$root" "$sources"
mount -t proc proc "$root/proc" && mounted+=("$root/proc")
in_root() { chroot "$root" "$@"; }
# As the user pjprov.service runs as (setpriv execs: the PID started is pjprov's own).
as_pjprov() { chroot "$root" setpriv --reuid=pjprov --regid=pjprov --init-groups "$@"; }
# In the background, a function runs in a subshell whose PID $! would be: pjprov would outlive `kill`. The
# command itself, then (chroot and setpriv exec what they run: $! is pjprov).
serve_as_pjprov() {
    chroot "$root" setpriv --reuid=pjprov --regid=pjprov --init-groups pjprov serve "$@" >"$root/tmp/serve.log" 2>&1 &
    server=$!
}
stop_server() {
    kill "$server"
    wait "$server" || true
    server=
    ! pgrep -f "pjprov serve .*--listen 127.0.0.1:$port " >/dev/null || fail "pjprov serve outlived kill"
}
if in_root sh -c 'command -v adduser' >/dev/null || [ -e "$root/usr/share/zoneinfo/Europe/Berlin" ]; then
    fail "the clean root already has adduser or tzdata"
fi

step "dpkg -i: refused without what Depends names, installed with it"
cp "$deb" "$root/tmp/pjprov.deb"
cp "$ddeb" "$root/tmp/pjprov-dbgsym.deb"
if in_root dpkg -i /tmp/pjprov.deb >"$root/tmp/dpkg.log" 2>&1; then
    fail "dpkg installed pjprov without adduser: Depends is incomplete"
fi
for dependency in adduser tzdata; do
    grep -q "depends on $dependency" "$root/tmp/dpkg.log" || fail "dpkg did not ask for $dependency: $(cat "$root/tmp/dpkg.log")"
done
(cd "$root/tmp" && apt-get download -qq adduser tzdata 2>/dev/null) || fail "apt-get download adduser tzdata"
in_root sh -c 'dpkg -i /tmp/adduser_*.deb /tmp/tzdata_*.deb /tmp/pjprov-dbgsym.deb && dpkg --configure -a' >"$root/tmp/dpkg.log" 2>&1 ||
    fail "dpkg: $(cat "$root/tmp/dpkg.log")"
in_root dpkg -s pjprov | grep -qx 'Status: install ok installed' || fail "pjprov is not installed: $(cat "$root/tmp/dpkg.log")"
check_files "$root"
grep -qx /etc/asterisk/pjprov.conf "$root/var/lib/dpkg/info/pjprov.conffiles" || fail "pjprov.conf is no conffile"
grep -qx /etc/default/pjprov "$root/var/lib/dpkg/info/pjprov.conffiles" || fail "/etc/default/pjprov is no conffile"
in_root getent passwd pjprov >/dev/null || fail "no user pjprov"
[ "$(in_root stat -c '%U %G %a' /var/lib/pjprov)" = "pjprov pjprov 700" ] || fail "/var/lib/pjprov: $(in_root stat -c '%U %G %a' /var/lib/pjprov)"
[ "$(in_root stat -c '%U %G %a' /etc/asterisk/pjprov.conf)" = "root pjprov 640" ] || fail "pjprov.conf: $(in_root stat -c '%U %G %a' /etc/asterisk/pjprov.conf)"
in_root pjprov --version
echo "postinst: ok"

step "systemd-analyze verify pjprov.service"
in_root systemd-analyze verify --man=no /usr/lib/systemd/system/pjprov.service || fail "systemd-analyze verify"
echo "unit: ok"

step "pjprov check on the shipped example, as the user pjprov"
out=$(as_pjprov pjprov check --config-dir "$examples/etc" --data-dir "$examples/data") ||
    fail "pjprov check: $out"
echo "$out"
case "$out" in "0 errors, 0 warnings; "*) ;; *) fail "the example does not check clean: $out" ;; esac

step "the example served over HTTP, then a start without /etc/asterisk"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 18088)
admin=$((port + 1))
serve_as_pjprov --config-dir "$examples/etc" --data-dir "$examples/data" \
    --listen "127.0.0.1:$port" --admin-listen "127.0.0.1:$admin" --log-format json
for _ in $(seq 100); do
    curl -fsS "http://127.0.0.1:$admin/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -fsS "http://127.0.0.1:$port/phoneprov/805ec0a10001.cfg" | grep -q 'account.1.auth_name = 201' ||
    fail "the example's Yealink file: $(cat "$root/tmp/serve.log")"
stop_server
[ ! -e "$root/etc/asterisk/pjsip.conf" ] || fail "the root has an Asterisk configuration"
rm -rf "$root/etc/asterisk"
port=$((port + 2)) admin=$((admin + 2))
serve_as_pjprov --config-dir /etc/asterisk --data-dir /var/lib/asterisk \
    --listen "127.0.0.1:$port" --admin-listen "127.0.0.1:$admin"
health=
for _ in $(seq 100); do
    health=$(curl -sS "http://127.0.0.1:$admin/healthz" 2>/dev/null) && break
    sleep 0.1
done
kill -0 "$server" || fail "pjprov serve stopped without /etc/asterisk: $(cat "$root/tmp/serve.log")"
echo "healthz: $health"
case "$health" in *pjsip.conf*) ;; *) fail "/healthz does not say what is missing: $health" ;; esac
stop_server
echo "serve: ok"

step "purge"
in_root dpkg --purge pjprov-dbgsym pjprov >/dev/null
[ ! -e "$root/var/lib/pjprov" ] || fail "purge left /var/lib/pjprov"
if in_root dpkg-statoverride --list /etc/asterisk/pjprov.conf >/dev/null; then fail "purge left the statoverride"; fi
echo "purge: ok"

echo "test-deb.sh: ok in $((SECONDS - started)) s"
