#!/usr/bin/env bash
# The .deb (docs/operations.md, "Install"): cpack makes it from the built
# tree, and what it installs works. The package goes into a root of this
# test's own (dpkg-deb -x), not the host's: `dpkg --root` would run the
# postinst, whose adduser and install -o act on the host's users and /var
# whatever the root (a maintainer script is not chrooted without a shell and
# adduser inside the root). So the postinst is checked with `sh -n` and run
# with stub adduser/getent/install/systemctl that record what it asks for.
#
# In the root: the three programs in usr/bin and nothing else, a man page
# per program that `man -l` formats without a warning, the three units,
# which `systemd-analyze verify` passes without a word (ExecStart pointed
# into the root, as the command must exist), the example environment file
# and the docs. Then a province, a hub and a county made and run with the
# installed programs deliver one report on loopback: as user nobody when
# the test runs as root (setpriv; data owned by nobody, as the unit's
# shifan would own /var/lib/shifan), as the current user otherwise, and
# under the socket families of the units' RestrictAddressFamilies=
# (tests/tools/restrict_families: the same seccomp refusal, EAFNOSUPPORT).
source "$(dirname "$0")/lib.sh"

command -v cpack >/dev/null || skip "needs cpack (cmake)"
command -v dpkg-deb >/dev/null || skip "needs dpkg-deb (dpkg)"
command -v dpkg-shlibdeps >/dev/null || skip "needs dpkg-shlibdeps (dpkg-dev) for the Depends line"
# lib.sh wrapped the built programs; the build tree is the one above them.
BUILD=$(sed -n 's/^exec "\(.*\)\/bin\/county-node" .*/\1/p' "$WORK/bin/county-node")
[ -f "$BUILD/CPackConfig.cmake" ] || fail "no CPackConfig.cmake in $BUILD (configure with CMake first)"

# --- the package, made in $WORK (its staging too: -B), not in the build tree.
cpack -G DEB --config "$BUILD/CPackConfig.cmake" -B "$WORK/pkg" >"$WORK/cpack.log" 2>&1 ||
    fail "cpack: $(tail -5 "$WORK/cpack.log")"
version=$(sed -n 's/^project(shifan VERSION \([0-9.]*\).*/\1/p' "$SHIFAN_SOURCE_DIR/CMakeLists.txt")
deb=$WORK/pkg/shifan_${version}_$(dpkg --print-architecture).deb
[ -f "$deb" ] || fail "no $deb: $(ls "$WORK/pkg")"
note "package: ${deb##*/}, $(stat -c %s "$deb") bytes"

depends=$(dpkg-deb -f "$deb" Depends)
for lib in adduser libzmq5 libsodium23 liblmdb0 libprotobuf-c1 libjansson4 libcsv3 \
    libmicrohttpd12 libzip4 libxml2; do
    grep -Eq "(^|, )$lib( |,|$)" <<<"$depends" || fail "Depends lacks $lib: $depends"
done
grep -q 'libxlsxwriter' <<<"$depends" || fail "Depends lacks libxlsxwriter: $depends"

# --- the files, in a root of our own.
ROOT=$WORK/root
dpkg-deb -x "$deb" "$ROOT"
[ "$(cd "$ROOT/usr/bin" && echo *)" = "county-node prefecture-hub province-core" ] ||
    fail "usr/bin holds: $(ls "$ROOT/usr/bin")"
for program in county-node prefecture-hub province-core; do
    [ -x "$ROOT/usr/bin/$program" ] || fail "$program is not executable"
    "$ROOT/usr/bin/$program" --version | grep -qx "$program (Shifan) $version" ||
        fail "$program --version: $("$ROOT/usr/bin/$program" --version)"
    page=$ROOT/usr/share/man/man1/$program.1
    [ -f "$page" ] || fail "no man page for $program"
    grep -q "^\.TH .* \"Shifan $version\"" "$page" || fail "$program.1 is not of version $version: $(grep '^\.TH' "$page")"
    # Every verb of --help has its entry in the page.
    for verb in $(LC_MESSAGES=en_US.UTF-8 "$ROOT/usr/bin/$program" --help |
        sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p'); do
        grep -q "^\\\\fB${verb//-/\\\\-}\\\\fR" "$page" || fail "$program.1 has no entry for the verb $verb"
    done
done
if command -v man >/dev/null; then
    for program in county-node prefecture-hub province-core; do
        warnings=$(MANWIDTH=80 man --warnings -l "$ROOT/usr/share/man/man1/$program.1" 2>&1 >"$WORK/$program.man")
        [ -z "$warnings" ] || fail "man -l $program.1 warns: $warnings"
        grep -q "^NAME" "$WORK/$program.man" && grep -q "^EXIT STATUS" "$WORK/$program.man" ||
            fail "man -l $program.1 lacks NAME or EXIT STATUS: $(head -5 "$WORK/$program.man")"
    done
else
    note "man is not installed: the man pages were only checked as files"
fi
[ -f "$ROOT/usr/share/doc/shifan/examples/shifan.env" ] || fail "no example environment file"
for doc in README.md operations.md county-node.md prefecture-hub.md province-core.md; do
    [ -f "$ROOT/usr/share/doc/shifan/$doc" ] || fail "no doc $doc"
done

declare -A UNIT_PROGRAM=([county]=county-node [hub]=prefecture-hub [province]=province-core)
for unit in county hub province; do
    file=$ROOT/usr/lib/systemd/system/shifan-$unit.service
    [ -f "$file" ] || fail "no unit shifan-$unit.service"
    grep -qx "ExecStart=/usr/bin/${UNIT_PROGRAM[$unit]} --data /var/lib/shifan run" "$file" ||
        fail "shifan-$unit.service: $(grep ExecStart "$file")"
    for line in User=shifan Group=shifan StateDirectory=shifan ProtectSystem=strict ProtectHome=yes \
        PrivateTmp=yes NoNewPrivileges=yes Restart=on-failure RestartSec=5 \
        "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK"; do
        grep -qx "$line" "$file" || fail "shifan-$unit.service lacks $line"
    done
done
if command -v systemd-analyze >/dev/null; then
    # verify wants ExecStart's program to exist: a copy points into the root.
    mkdir "$WORK/units"
    for unit in county hub province; do
        sed "s#^ExecStart=/usr/bin/#ExecStart=$ROOT/usr/bin/#" \
            "$ROOT/usr/lib/systemd/system/shifan-$unit.service" >"$WORK/units/shifan-$unit.service"
    done
    if out=$(systemd-analyze verify --man=no "$WORK"/units/*.service 2>&1); then
        # verify exits 0 on an unknown key or a bad value: any output is a fault.
        [ -z "$out" ] || fail "systemd-analyze verify: $out"
        note "systemd-analyze verify: the three units pass"
    else
        note "systemd-analyze verify cannot run here, units not verified: $out"
    fi
else
    note "no systemd-analyze: units not verified"
fi

# --- the postinst, with stubs for everything that would change the host.
control=$WORK/control
dpkg-deb -e "$deb" "$control"
for script in postinst prerm postrm; do
    [ -x "$control/$script" ] || fail "no executable $script"
    sh -n "$control/$script" || fail "$script: a syntax error"
done
mkdir "$WORK/stubs"
for cmd in adduser install systemctl; do
    printf '#!/bin/sh\necho "%s $*" >>"%s/calls"\n' "$cmd" "$WORK" >"$WORK/stubs/$cmd"
done
printf '#!/bin/sh\n[ -f "%s/user-exists" ]\n' "$WORK" >"$WORK/stubs/getent"
chmod +x "$WORK"/stubs/*
PATH=$WORK/stubs:$PATH sh -e "$control/postinst" configure || fail "postinst configure failed"
grep -qx "adduser --system --group --home /var/lib/shifan --no-create-home --gecos Shifan daemons shifan" \
    "$WORK/calls" || fail "postinst did not make the user shifan: $(cat "$WORK/calls")"
if [ ! -d /var/lib/shifan ]; then
    grep -qx "install -d -o shifan -g shifan -m 0700 /var/lib/shifan" "$WORK/calls" ||
        fail "postinst did not make /var/lib/shifan: $(cat "$WORK/calls")"
fi
: >"$WORK/calls"
touch "$WORK/user-exists"
PATH=$WORK/stubs:$PATH sh -e "$control/postinst" configure || fail "a second postinst configure failed"
! grep -q '^adduser' "$WORK/calls" || fail "postinst made the user twice: $(cat "$WORK/calls")"

# --- init, allow and one delivery with the installed programs.
mkdir "$WORK/installed"
data=$WORK/data
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null && getent passwd nobody >/dev/null; then
    # As the unit's shifan would: an unprivileged user owning the data.
    run_as="setpriv --reuid=nobody --regid=$(id -g nobody) --clear-groups --"
    chmod 0711 "$WORK"
    mkdir -m 0700 "$data"
    chown nobody:"$(id -g nobody)" "$data"
    note "the installed programs run as user nobody"
else
    run_as=""
    mkdir -m 0700 "$data"
    note "the installed programs run as $(id -un) (not root: no other user to switch to)"
fi
restrict=""
if "$BIN/restrict_families" "AF_UNIX" true; then
    restrict="$BIN/restrict_families"
    # The filter bites: ip cannot open its netlink socket under it.
    if command -v ip >/dev/null; then
        ! "$restrict" "AF_UNIX AF_INET AF_INET6" ip -o link >/dev/null 2>&1 ||
            fail "restrict_families let ip open a netlink socket"
    fi
else
    note "restrict_families cannot run here: the daemons run without the units' socket families"
fi
for unit in county hub province; do
    program=${UNIT_PROGRAM[$unit]}
    families=$(sed -n 's/^RestrictAddressFamilies=//p' "$ROOT/usr/lib/systemd/system/shifan-$unit.service")
    [ -n "$families" ] || fail "shifan-$unit.service has no RestrictAddressFamilies="
    under_families=""
    [ -z "$restrict" ] || under_families="$restrict \"$families\""
    cat >"$WORK/installed/$program" <<EOF
#!/bin/sh
[ -z "\$SHIFAN_TEST_MESSAGES" ] || export LC_MESSAGES="\$SHIFAN_TEST_MESSAGES"
exec $run_as $under_families "$ROOT/usr/bin/$program" "\$@"
EOF
    chmod +x "$WORK/installed/$program"
done
BIN=$WORK/installed # county, hub, province and start now run the installed programs

PROVINCE_PORT=$(free_port)
HUB_PORT=$(free_port)
province --data "$data/province" init --listen "tcp://127.0.0.1:$PROVINCE_PORT" >/dev/null
hub --data "$data/530100" init --code 530100 --listen "tcp://127.0.0.1:$HUB_PORT" \
    --upstream "tcp://127.0.0.1:$PROVINCE_PORT" --upstream-key "$(province --data "$data/province" key 2>/dev/null)" >/dev/null
province --data "$data/province" allow --code 530100 --key "$(hub --data "$data/530100" key 2>/dev/null)" >/dev/null
county --data "$data/530102" init --code 530102 --upstream "tcp://127.0.0.1:$HUB_PORT" \
    --upstream-key "$(hub --data "$data/530100" key 2>/dev/null)" >/dev/null
hub --data "$data/530100" allow --code 530102 --key "$(county --data "$data/530102" key 2>/dev/null)" >/dev/null
if [ -n "$run_as" ]; then
    owner=$(stat -c %U "$data/province/keys/node.secret")
    [ "$owner" = nobody ] || fail "the province's secret key belongs to $owner, not nobody"
fi

start province province-core "$data/province"
start hub prefecture-hub "$data/530100"
start county county-node "$data/530102"
report_json 530102 2018 1 | county --data "$data/530102" submit - >/dev/null
wait_until 30 field_is province-core "$data/province" .reports 1 ||
    fail "the province holds $(status_field province-core "$data/province" .reports) reports, expected 1"
note "one report delivered county -> hub -> province by the installed programs"
for name in county hub province; do
    pid=${PIDS[$name]}
    stop "$name"
    ! kill -0 "$pid" 2>/dev/null || fail "$name (pid $pid) did not stop"
done
echo "PASS: test_deb"
