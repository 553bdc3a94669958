#!/bin/sh
# Run every registered suite as `make check-<suite>`, keep going after a failure, and end with the
# totals of the suites' summary lines (`N passed, N failed`; pytest's and cargo's lines are read
# too). A suite whose make fails without a summary counts as one failure.
passed=0; failed=0; status=0; summary=""
for s in "$@"; do
  echo "==== suite $s"
  log=$(mktemp)
  if ${MAKE:-make} --no-print-directory -s "check-$s" >"$log" 2>&1; then ok=1; else ok=0; fi
  cat "$log"
  counts=$(awk '
    /[0-9]+ passed/ || /[0-9]+ failed/ {
      p = 0; f = 0
      for (i = 1; i <= NF; i++) {
        w = $(i + 1); gsub(/[,;:]/, "", w)
        if ($i ~ /^[0-9]+$/ && w == "passed") p = $i
        if ($i ~ /^[0-9]+$/ && (w == "failed" || w == "error" || w == "errors")) f += $i
      }
      lp = p; lf = f; seen = 1
    }
    END { if (seen) print lp, lf; else print "none" }' "$log")
  rm -f "$log"
  if [ "$counts" = none ]; then p=0; f=1; echo "suite $s printed no summary line"
  else p=${counts% *}; f=${counts#* }; fi
  if [ "$ok" -eq 0 ] && [ "$f" -eq 0 ]; then f=1; echo "suite $s failed (make exit status)"; fi
  passed=$((passed + p)); failed=$((failed + f))
  summary="$summary
  $s: $p passed, $f failed"
  [ "$f" -ne 0 ] && status=1
done
echo "==== summary$summary"
echo "$passed passed, $failed failed"
exit $status
