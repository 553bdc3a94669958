#!/bin/sh
# Compare a built libavengers with the committed ABI baseline (docs/ABI.md).
# Usage: abi_check.sh BASELINE.abi CURRENT.abi SUPPRESSIONS
# abidiff's exit status is a bit mask (1 error, 2 usage, 4 ABI change, 8 incompatible change); a
# change that is only additions (new functions, new error codes, members appended at the end of
# options structs: suppressed) also sets 4, so the report's summary lines decide: any removed or
# changed function, variable or symbol fails.
base=$1; cur=$2; supp=$3
out=$(abidiff --suppressions "$supp" "$base" "$cur"); st=$?
printf '%s\n' "$out"
if [ $((st & 3)) -ne 0 ]; then echo "abi-check: abidiff failed (status $st)"; exit 1; fi
bad=$(printf '%s\n' "$out" | grep -E 'changes summary:' |
      grep -E '[1-9][0-9]* Removed|[1-9][0-9]* Changed' || true)
if [ $((st & 8)) -ne 0 ] || [ -n "$bad" ]; then
  echo "abi-check: INCOMPATIBLE change against $base (abidiff status $st)"
  exit 1
fi
if [ $((st & 4)) -ne 0 ]; then echo "abi-check: compatible additions only"
else echo "abi-check: identical to $base"; fi
exit 0
