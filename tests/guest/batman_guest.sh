#!/bin/bash
# batman_guest.sh - runs inside the qemu guest (tests/guest/batman_guest_test.ts): four network
# namespaces joined by veth, bat0 in each: x0b1 - x0b2, and a triangle x0b2 - x0b3 - x0b4 - x0b2
# (so x0b3 has a best and a backup next hop towards x0b1, with no equal-cost ties). Prints, between
# ==X0 BEGIN/END name== markers, batctl's tables and the adapter's: the real `main.ts fabric show`
# and a full table dump bracketed by batctl reads of the same instant.
set -eu
export DENO_NO_UPDATE_CHECK=1 NO_COLOR=1
DENO=${DENO:-$(command -v deno)}
block() { local name=$1; shift; echo "==X0 BEGIN $name=="; "$@" 2>&1 || echo "X0-RC=$?"; echo "==X0 END $name=="; }
t0=$(date +%s)
modprobe batman-adv
modprobe veth
NODES="x0b1 x0b2 x0b3 x0b4"
for n in $NODES; do ip netns add $n; ip -n $n link set lo up; done
pair() { ip link add "$1" netns "$2" type veth peer name "$3" netns "$4"; }
pair v12 x0b1 v21 x0b2
pair v23 x0b2 v32 x0b3
pair v34 x0b3 v43 x0b4
pair v42 x0b4 v24 x0b2
declare -A PORTS=([x0b1]="v12" [x0b2]="v21 v23 v24" [x0b3]="v32 v34" [x0b4]="v43 v42")
for n in $NODES; do
  ip -n $n link add bat0 type batadv
  # bridge loop avoidance blocks traffic ~30 s after start; a short OGM interval fills TQ windows fast
  ip netns exec $n batctl meshif bat0 bridge_loop_avoidance 0
  ip netns exec $n batctl meshif bat0 orig_interval 200
  for i in ${PORTS[$n]}; do ip -n $n link set $i master bat0; ip -n $n link set $i up; done
  ip -n $n link set bat0 up
done
# converged: every node has a best next hop to the 3 others, and the choice of next hops (not the
# TQ values, which move with every OGM) is the same in two reads in a row
prev=
for t in $(seq 1 60); do
  ok=1 cur=
  for n in $NODES; do
    o=$(ip netns exec $n batctl meshif bat0 originators)
    c=$(grep -c '^ \* ' <<<"$o" || true)
    [ "$c" -ge 3 ] || ok=0
    cur+=$(grep '^ \* ' <<<"$o" | sed -E 's/^ \* ([0-9a-f:]{17}).*\) ([0-9a-f:]{17}).*/\1 \2/' | sort)
  done
  [ $ok = 1 ] && [ "$cur" = "$prev" ] && break
  prev=$cur
  sleep 0.5
done
# back to the default OGM interval: TQ values then change about once a second, not five times
for n in $NODES; do ip netns exec $n batctl meshif bat0 orig_interval 1000; done
echo "x0guest: converged after $(( $(date +%s) - t0 )) s (ok=$ok)"
[ $ok = 1 ] || { for n in $NODES; do ip netns exec $n batctl meshif bat0 originators; done; exit 3; }
for n in x0b1 x0b3; do
  block "batctl-o-before-$n" ip netns exec $n batctl meshif bat0 originators
  block "fabric-show-$n" ip netns exec $n "$DENO" run --allow-ffi main.ts fabric show --backend batman --meshif bat0 --json
  block "batctl-o-after-$n" ip netns exec $n batctl meshif bat0 originators
  block "dump-$n" ip netns exec $n "$DENO" run --allow-ffi --allow-run=batctl tests/guest/batman_dump.ts bat0 "${PORTS[$n]%% *}"
done
block "batctl-n-before-x0b2" ip netns exec x0b2 batctl meshif bat0 neighbors
block "fabric-neigh-x0b2" ip netns exec x0b2 "$DENO" run --allow-ffi main.ts fabric show --backend batman --meshif bat0 --neighbours --json
block "batctl-n-after-x0b2" ip netns exec x0b2 batctl meshif bat0 neighbors
block "err-nosuch" ip netns exec x0b1 "$DENO" run --allow-ffi main.ts fabric show --backend batman --meshif nosuch0 --json
echo "x0guest: done after $(( $(date +%s) - t0 )) s"
