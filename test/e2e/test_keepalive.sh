#!/usr/bin/env bash
# Requests back to back on one kept-alive connection, as curl and every
# HTTP library send them: 100 POST /builds through one curl (--next), each
# sent the moment the previous answer is read. The coordinator used to end
# a transaction one WRITEABLE callback after its answer; a request read in
# between was taken for more body of the last one (400), and the
# connection then spun the event loop at 100% CPU for good.
. "$(dirname "$0")/lib.sh"

start_coord
N=100
BODY='{"platforms":["linux/amd64"],"command":["true"],"no_cache":true}'
args=()
for i in $(seq 1 $N); do
  args+=(-s -m 10 -o /dev/null -w '%{http_code} %{num_connects}\n'
         -H 'Content-Type: application/json'
         --data-binary "$BODY" "$RFARM_URL/api/v1/builds" --next)
done
args+=(-s -m 10 -o /dev/null -w '%{http_code} %{num_connects}\n'
       "$RFARM_URL/api/v1/builds?limit=1")
codes=$(timeout 60 curl "${args[@]}")
eq "$N POSTs on one connection, then a GET: all answered" "$N 201, 1 200" \
  "$(grep -c '^201 ' <<<"$codes") 201, $(grep -c '^200 ' <<<"$codes") 200"
eq "and one connection it was (one connect in all)" 1 \
  "$(awk '{n += $2} END {print n}' <<<"$codes")"
eq "$N builds stored" "$N" "$(db 'select count(*) from builds')"
eq "the coordinator still answers at once" 200 \
  "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "$RFARM_URL/alive")"
finish
