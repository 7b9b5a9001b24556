#!/usr/bin/env bash
# Every msg("...") has its Chinese (tools/check-msgs.py), and the check is
# not blind: a copy of the tree with one new msg() format, and one with an
# entry no source uses, must each be refused; a MSG_NOOP() table entry is
# checked as a msg() is, and a msg() in a comment is not a use.
set -euo pipefail
SRC=${SHIFAN_SOURCE_DIR:?}
python3 "$SRC/tools/check-msgs.py" --root "$SRC"

work=$(mktemp -d /tmp/shifan-msgs.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/libshifan"
cp -r "$SRC/libshifan/base" "$SRC/libshifan/domain" "$SRC/libshifan/app" "$work/libshifan/"
cp -r "$SRC/county-node" "$SRC/prefecture-hub" "$SRC/province-core" "$work/"
printf 'static const char *planted(void) { return msg("untranslated %%d"); }\n' \
  >>"$work/libshifan/domain/report.c"
if out=$(python3 "$SRC/tools/check-msgs.py" --root "$work" 2>&1); then
  echo "FAIL: an untranslated msg() format was not refused"; exit 1
fi
grep -q "domain/report.c:.*msg('untranslated %d') has no entry" <<<"$out" ||
  { echo "FAIL: unexpected output: $out"; exit 1; }

# A table's MSG_NOOP() literal counts as a use; a msg() in a comment does not.
cp "$SRC/libshifan/domain/report.c" "$work/libshifan/domain/report.c"
printf '/* msg("in a comment %%d") */\nstatic const char *const table[] = {MSG_NOOP("a table entry")};\n' \
  >>"$work/libshifan/domain/report.c"
out=$(python3 "$SRC/tools/check-msgs.py" --root "$work" 2>&1) && { echo "FAIL: MSG_NOOP not seen"; exit 1; }
grep -q "domain/report.c:.*msg('a table entry') has no entry" <<<"$out" ||
  { echo "FAIL: unexpected output: $out"; exit 1; }
! grep -q "in a comment" <<<"$out" || { echo "FAIL: a comment counted: $out"; exit 1; }

cp "$SRC/libshifan/domain/report.c" "$work/libshifan/domain/report.c"
sed -i 's/^static const msg_entry_t catalogue\[\] = {$/&\n    {"orphan", "孤儿"},/' \
  "$work/libshifan/base/msg_zh.c"
if out=$(python3 "$SRC/tools/check-msgs.py" --root "$work" 2>&1); then
  echo "FAIL: an unused catalogue entry was not refused"; exit 1
fi
grep -q "'orphan' is used by no msg() call" <<<"$out" || { echo "FAIL: unexpected output: $out"; exit 1; }
echo "ok"
