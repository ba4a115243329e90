#!/bin/bash
# Checks systemd/wxpay-reconciler.service (SPEC §9) without needing systemd
# as PID 1 (works in containers and CI):
#
#   1. `systemd-analyze verify` on the unit alone, then with each drop-in of
#      systemd/examples/ and with all of them. systemd 252's verify exits 0 on
#      unknown keys and typos (it only warns on stderr), so ANY output fails
#      the check unless it matches EXPECTED_VERIFY_OUTPUT below.
#   2. `systemd-analyze security --offline=true` on the same combinations;
#      fails unless each overall exposure is <= MAX_EXPOSURE (2.0) and the
#      command printed nothing on stderr. Prints the scores.
#
# verify requires ExecStart='s binary to exist, so the unit is checked as a
# copy whose ExecStart= runs a stub; everything else is checked as written
# (ExecReload= needs /bin/kill, from procps).
#
# Usage: scripts/check-unit.sh [UNIT_FILE]
# Exit: 0 all checks passed, 1 a check failed, 2 cannot run (tool missing).
set -euo pipefail

MAX_EXPOSURE=2.0
# Lines `systemd-analyze verify` may print without failing the check
# (extended regular expressions, matched against whole lines). Each entry
# needs a comment saying why it is harmless. None are needed with systemd 252
# on Debian 12, with or without systemd running as PID 1.
EXPECTED_VERIFY_OUTPUT=()

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
unit_src=${1:-$repo_root/systemd/wxpay-reconciler.service}
examples_dir=$(dirname "$unit_src")/examples
unit_name=$(basename "$unit_src")

die() { echo "check-unit: $*" >&2; exit 2; }
fail() { echo "check-unit: FAIL: $*" >&2; failed=1; }

command -v systemd-analyze >/dev/null 2>&1 ||
    die "systemd-analyze not found: install the 'systemd' package (scripts/install-deps.sh)"
[ -f "$unit_src" ] || die "no unit file at $unit_src"
[ -x /bin/kill ] || die "/bin/kill missing (ExecReload= uses it): install 'procps'"

work=$(mktemp -d "${TMPDIR:-/tmp}/check-unit.XXXXXX")
trap 'rm -rf "$work"' EXIT
failed=0

# The unit with ExecStart= pointing at a stub that exists here.
mkdir -p "$work/bin"
printf '#!/bin/sh\nexit 0\n' >"$work/bin/wxpay-reconciler"
chmod 0755 "$work/bin/wxpay-reconciler"
exec_start_count=$(grep -cE '^ExecStart=[^ ]*/wxpay-reconciler( |$)' "$unit_src" || true)
[ "$exec_start_count" = 1 ] ||
    die "expected exactly one 'ExecStart=<path>/wxpay-reconciler ...' line in $unit_src, found $exec_start_count"
stubbed_unit() {
    sed -E "s#^ExecStart=[^ ]*/wxpay-reconciler( |\$)#ExecStart=$work/bin/wxpay-reconciler\\1#" "$unit_src"
}

drop_ins=()
if [ -d "$examples_dir" ]; then
    while IFS= read -r f; do drop_ins+=("$f"); done < <(find "$examples_dir" -maxdepth 1 -name '*.conf' | sort)
fi

# Combinations: the unit alone, with each drop-in, with all drop-ins.
# Each is a newline-separated list of drop-in paths ("" = none).
combos=("")
for f in "${drop_ins[@]+"${drop_ins[@]}"}"; do combos+=("$f"); done
if [ "${#drop_ins[@]}" -gt 1 ]; then combos+=("$(printf '%s\n' "${drop_ins[@]}")"); fi

combo_files() {  # $1: a combination; fills the array `files`
    files=()
    [ -z "$1" ] || mapfile -t files <<<"$1"
}

describe() {
    local out="$unit_name" f
    for f in "${files[@]+"${files[@]}"}"; do out+=" + $(basename "$f")"; done
    echo "$out"
}

unexpected_lines() {  # stdin: tool output; stdout: lines not allowed
    local line pattern ok
    while IFS= read -r line; do
        [ -n "$line" ] || continue
        ok=0
        for pattern in "${EXPECTED_VERIFY_OUTPUT[@]+"${EXPECTED_VERIFY_OUTPUT[@]}"}"; do
            if [[ "$line" =~ ^${pattern}$ ]]; then ok=1; break; fi
        done
        [ "$ok" = 1 ] || printf '%s\n' "$line"
    done
}

n=0
for combo in "${combos[@]}"; do
    n=$((n + 1))
    combo_files "$combo"
    name=$(describe)

    # 1. verify: the unit directory's "<unit>.d/" holds the drop-ins.
    vdir="$work/verify$n"
    mkdir -p "$vdir/$unit_name.d"
    stubbed_unit >"$vdir/$unit_name"
    for f in "${files[@]+"${files[@]}"}"; do cp "$f" "$vdir/$unit_name.d/"; done
    set +e
    verify_out=$(cd "$vdir" && systemd-analyze verify "$vdir/$unit_name" 2>&1)
    verify_rc=$?
    set -e
    unexpected=$(printf '%s\n' "$verify_out" | unexpected_lines)
    if [ "$verify_rc" -ne 0 ] || [ -n "$unexpected" ]; then
        fail "systemd-analyze verify $name (exit $verify_rc):"
        printf '%s\n' "${unexpected:-$verify_out}" | sed 's/^/    /' >&2
    else
        echo "check-unit: verify $name: OK"
    fi

    # 2. security: an alternative root, so drop-ins are read from
    #    /etc/systemd/system/<unit>.d/ as on a real host.
    root="$work/root$n"
    mkdir -p "$root/etc/systemd/system/$unit_name.d"
    cp "$unit_src" "$root/etc/systemd/system/$unit_name"
    for f in "${files[@]+"${files[@]}"}"; do cp "$f" "$root/etc/systemd/system/$unit_name.d/"; done
    set +e
    systemd-analyze security --offline=true --root="$root" --no-pager "$unit_name" \
        >"$work/security$n.out" 2>"$work/security$n.err"
    security_rc=$?
    set -e
    exposure=$(sed -nE 's/.*Overall exposure level for [^:]+: ([0-9]+\.[0-9]+).*/\1/p' "$work/security$n.out")
    if [ -s "$work/security$n.err" ]; then
        fail "systemd-analyze security $name printed warnings:"
        sed 's/^/    /' "$work/security$n.err" >&2
    fi
    if [ -z "$exposure" ]; then
        fail "systemd-analyze security $name (exit $security_rc) printed no overall exposure level:"
        sed 's/^/    /' "$work/security$n.out" "$work/security$n.err" >&2
    elif awk -v e="$exposure" -v max="$MAX_EXPOSURE" 'BEGIN { exit !(e > max) }'; then
        fail "exposure of $name is $exposure, above $MAX_EXPOSURE; the settings that cost most:"
        grep -E '^✗' "$work/security$n.out" | awk '{ print $NF "\t" $0 }' | sort -rn | head -n 12 |
            cut -f2- | sed 's/^/    /' >&2 || true
    else
        echo "check-unit: exposure $name: $exposure (limit $MAX_EXPOSURE): OK"
    fi
done

if [ "$failed" -ne 0 ]; then
    echo "check-unit: FAILED" >&2
    exit 1
fi
echo "check-unit: all checks passed"
