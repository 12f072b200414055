#!/bin/bash
# batman_guest.sh - runs inside the qemu guest (tests/guest/batman_guest_test.ts): four network
# namespaces joined by veth, bat0 in each: x0b1 - x0b2, and a triangle x0b2 - x0b3 - x0b4 - x0b2
# (so x0b3 has a best and a backup next hop towards x0b1, with no equal-cost ties). Prints, between
# ==X0 BEGIN/END name== markers, batctl's tables and the adapter's: the real `main.ts fabric show`
# and a full table dump bracketed by batctl reads of the same instant; and what a real agent with
# mesh.backend "batman" serves at /mesh/status, /mesh/peers and /mesh/routes.
set -eu
export DENO_NO_UPDATE_CHECK=1 NO_COLOR=1
DENO=${DENO:-$(command -v deno)}
block() {
  local name=$1; shift
  echo "x0guest: +$(( $(date +%s) - t0 )) s $name"
  echo "==X0 BEGIN $name=="; "$@" 2>&1 || echo "X0-RC=$?"; echo "==X0 END $name=="
}
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
# TQ values, which move with every OGM) is the same in two reads in a row (the comparisons below
# bracket each read with batctl, so this only avoids the first seconds of flapping)
prev=
for t in $(seq 1 40); do
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
block "batctl-o-before-x0b3" ip netns exec x0b3 batctl meshif bat0 originators
block "fabric-show-x0b3" ip netns exec x0b3 "$DENO" run --allow-ffi main.ts fabric show --backend batman --meshif bat0 --json
block "batctl-o-after-x0b3" ip netns exec x0b3 batctl meshif bat0 originators
# one process for several namespaces: Deno starts in ~10 s under TCG
block "dump" "$DENO" run --allow-ffi --allow-read --allow-run=ip tests/guest/batman_dump.ts bat0 x0b1:v12 x0b3:v32 x0b4:v43
# a real agent on the batman backend in x0b2: /mesh/* must reflect x0b2's batman-adv tables
cat > /tmp/x0b2-agent.json <<'JSON'
{"node_id": "x0b2-agent", "mesh": {"backend": "batman", "meshif": "bat0", "fabric_poll_ms": 500}}
JSON
ip netns exec x0b2 "$DENO" run --unstable-kv --allow-net --allow-read --allow-write --allow-env \
  --allow-sys --allow-run --allow-ffi main.ts server --config /tmp/x0b2-agent.json --port 18080 \
  --data-dir /tmp/x0b2-data >/tmp/x0b2-agent.log 2>&1 &
agent=$!
echo "x0guest: +$(( $(date +%s) - t0 )) s agent starting"
for t in $(seq 1 120); do
  ip netns exec x0b2 busybox wget -qO /dev/null http://127.0.0.1:18080/health 2>/dev/null && break
  kill -0 $agent 2>/dev/null || break
  sleep 0.5
done
sleep 1  # one more poll of the fabric after startup
block "batctl-n-before-x0b2" ip netns exec x0b2 batctl meshif bat0 neighbors
block "batctl-o-before-x0b2" ip netns exec x0b2 batctl meshif bat0 originators
for r in status peers routes; do
  block "agent-$r-x0b2" ip netns exec x0b2 busybox wget -qO- http://127.0.0.1:18080/mesh/$r
done
block "batctl-n-after-x0b2" ip netns exec x0b2 batctl meshif bat0 neighbors
block "batctl-o-after-x0b2" ip netns exec x0b2 batctl meshif bat0 originators
kill $agent 2>/dev/null || true
wait $agent || true
block "agent-log-x0b2" tail -n 5 /tmp/x0b2-agent.log
echo "x0guest: done after $(( $(date +%s) - t0 )) s"
