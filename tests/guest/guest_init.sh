#!/bin/busybox sh
# guest_init.sh - PID 1 of the qemu guest booted by tests/guest/guest_vm.ts (static busybox sh).
# Stage 1 (from the initramfs as /init): load the virtio/9p/overlay modules, mount the host's /
# read-only over 9p, RAM overlays on /tmp /var /root, tmpfs /run, then switch_root into the
# host tree and run this same file from there as stage 2.
# Stage 2: run x0guest.cmd=<script> in x0guest.cwd=<dir>, print X0-GUEST-EXIT=<rc>, power off.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8
if [ "$1" != stage2 ]; then
  /bin/busybox --install -s /bin
  mount -t proc proc /proc; read -r cmdline < /proc/cmdline
  mount -t devtmpfs dev /dev; mount -t sysfs sys /sys
  for m in $(cat /mods/order); do insmod /mods/$m || echo "x0guest: insmod $m failed"; done
  R=/newroot
  mount -t 9p -o ro,trans=virtio,version=9p2000.L,cache=loose,msize=262144 hostroot $R ||
    { echo "x0guest: 9p mount failed"; echo "X0-GUEST-EXIT=124"; poweroff -f; }
  mount -t tmpfs -o mode=755 tmpfs $R/run
  for d in tmp var root; do
    mkdir -p $R/run/.ovl/$d/u $R/run/.ovl/$d/w && chmod "$(stat -c %a $R/$d)" $R/run/.ovl/$d/u
    mount -t overlay -o lowerdir=$R/$d,upperdir=$R/run/.ovl/$d/u,workdir=$R/run/.ovl/$d/w overlay $R/$d ||
      mount -t tmpfs tmpfs $R/$d
  done
  for d in dev proc sys; do mount --move /$d $R/$d; done
  mkdir -p $R/dev/pts $R/dev/shm
  mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts $R/dev/pts
  mount -t tmpfs -o mode=1777 tmpfs $R/dev/shm
  init=
  for a in $cmdline; do case $a in x0guest.init=*) init=${a#*=};; esac; done
  exec switch_root $R "$init" stage2
fi
read -r cmdline < /proc/cmdline
busybox hostname x0guest
busybox ip link set lo up
cmd= cwd=/
for a in $cmdline; do case $a in x0guest.cmd=*) cmd=${a#*=};; x0guest.cwd=*) cwd=${a#*=};; esac; done
cd "$cwd" 2>/dev/null || cd /
/bin/bash "$cmd" </dev/null; rc=$?
echo "X0-GUEST-EXIT=$rc"
sync
busybox poweroff -f
echo o > /proc/sysrq-trigger
sleep 10
