#!/bin/sh
# Run every registered suite as `make check-<suite>`, keep going after a failure, and end with the
# totals of the suites' summary lines (`N passed, N failed`; pytest's and cargo's lines are read
# too). A suite whose make fails without a summary counts as one failure. Tests a suite skipped
# are shown as skipped, with the first reason it gave: pytest's "N skipped" and "SKIPPED [N] ...:
# reason", cargo's "N ignored", "(N ... not run)", and lines starting with "skip:" (one each).
passed=0; failed=0; skipped=0; status=0; summary=""
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
    /[0-9]+ (skipped|ignored)/ {
      for (i = 1; i < NF; i++) {
        w = $(i + 1); gsub(/[,;:.]/, "", w)
        if ($i ~ /^[0-9]+$/ && (w == "skipped" || w == "ignored")) sk += $i
      }
    }
    /\([0-9]+ .* not run\)/ { t = $0; sub(/.*\(/, "", t); sub(/ .*/, "", t); sk += t; why(0) }
    /^skip: / { sk++; why(6) }
    /^SKIPPED \[[0-9]+\] / { why(-1) }
    function why(n,   t) {
      if (reason != "") return
      t = $0
      if (n < 0) { sub(/^SKIPPED \[[0-9]+\] [^ ]*: /, "", t) } else { t = substr(t, n + 1) }
      reason = t
    }
    END { if (seen) print lp, lf, sk + 0, reason; else print "none", sk + 0, reason }' "$log")
  rm -f "$log"
  first=${counts%% *}; rest=${counts#* }
  if [ "$first" = none ]; then p=0; f=1; k=${rest%% *}; echo "suite $s printed no summary line"
  else p=$first; f=${rest%% *}; rest=${rest#* }; k=${rest%% *}; fi
  reason=${rest#* }; [ "$reason" = "$k" ] && reason=""
  if [ "$ok" -eq 0 ] && [ "$f" -eq 0 ]; then f=1; echo "suite $s failed (make exit status)"; fi
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + k))
  line="$s: $p passed, $f failed"
  if [ "$k" -gt 0 ]; then
    if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then line="$s: SKIPPED ($k skipped)"; else line="$line, $k skipped"; fi
    [ -n "$reason" ] && line="$line: $reason"
  fi
  summary="$summary
  $line"
  [ "$f" -ne 0 ] && status=1
done
echo "==== summary$summary"
[ "$skipped" -gt 0 ] && echo "$skipped skipped (see above)"
echo "$passed passed, $failed failed"
exit $status
