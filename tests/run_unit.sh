#!/bin/sh
# Run each unit test binary; print its output and a combined `N passed, N failed` line.
# AV_TEST_RUNNER, when set, is put before each binary (an emulator: qemu-s390x-static, wine64).
passed=0; failed=0; status=0
for t in "$@"; do
  echo "== $t"
  out=$($AV_TEST_RUNNER "$t" 2>&1); rc=$?
  printf '%s\n' "$out"
  line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n 1)
  if [ -z "$line" ]; then
    echo "$t: no summary line (exit $rc)"; failed=$((failed + 1)); status=1; continue
  fi
  p=${line%% passed*}; f=${line#*passed, }; f=${f%% failed*}
  passed=$((passed + p)); failed=$((failed + f))
  [ "$rc" -ne 0 ] && status=1
done
echo "$passed passed, $failed failed"
exit $status
