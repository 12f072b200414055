"""UDP sequence stream for the MTTR benchmark (bench/mttr.ts).

send SRC DST PORT RATE SECONDS: sends RATE packets/s carrying a 32-bit sequence number from
SRC to DST:PORT for SECONDS (bounded), printing the wall-clock start time first.
recv ADDR PORT COUNT SECONDS: receives for at most SECONDS (or until stdin closes) and prints
one JSON line: packets received and the gaps in the sequence, each as [first_missing,
last_missing, arrival time of the packet before, arrival time of the packet after].
Only the testbed's own namespace addresses are used as targets.
"""
import array
import json
import select
import signal
import socket
import struct
import sys
import time


def send(src, dst, port, rate, seconds):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    total = int(rate * seconds)
    sent = [0]
    errors = [0]

    def stop(_signum, _frame):
        print(json.dumps({"sent": sent[0], "errors": errors[0], "at": time.time()}), flush=True)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    t0 = time.monotonic()
    print(json.dumps({"start": time.time()}), flush=True)
    for seq in range(total):
        sent[0] = seq + 1
        due = t0 + seq / rate
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        try:
            s.sendto(struct.pack("!I", seq) + b"\0" * 60, (dst, port))
        except OSError:
            errors[0] += 1  # no route for a moment: the gap is what we measure
    print(json.dumps({"sent": total}), flush=True)


def recv(addr, port, count, seconds):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, port))
    try:  # root may exceed net.core.rmem_max: a starved receiver must not drop packets
        s.setsockopt(socket.SOL_SOCKET, 33, 8 * 1024 * 1024)  # SO_RCVBUFFORCE
    except OSError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 * 1024 * 1024)
    seen = bytearray(count)
    arrival = array.array("d", bytes(8 * count))
    received = 0

    def take(data):
        """Records one datagram; 1 if it was a new sequence number, else 0."""
        if len(data) < 4:
            return 0
        seq = struct.unpack("!I", data[:4])[0]
        if seq >= count or seen[seq]:
            return 0
        seen[seq] = 1
        arrival[seq] = time.time()
        return 1

    deadline = time.monotonic() + seconds
    print(json.dumps({"ready": True}), flush=True)
    while time.monotonic() < deadline:
        ready, _, _ = select.select([s, sys.stdin], [], [], 0.2)
        if sys.stdin in ready and not sys.stdin.readline():
            # Drain what is still queued before reporting.
            s.setblocking(False)
            try:
                while True:
                    received += take(s.recv(2048))
            except BlockingIOError:
                pass
            break
        if s in ready:
            received += take(s.recv(2048))
    first = seen.find(1)
    last = seen.rfind(1)
    # Each gap: first and last missing sequence number, and the arrival times (epoch s) of the
    # packets just before and just after it (0 when none).
    gaps = [[0, first - 1, 0, arrival[first]]] if first > 0 else []
    i = first
    while 0 <= i < last:
        j = seen.find(0, i, last)
        if j < 0:
            break
        k = seen.find(1, j, last + 1)
        gaps.append([j, k - 1, arrival[j - 1], arrival[k]])
        i = k
    last_at = arrival[last] if last >= 0 else 0
    print(json.dumps({"received": received, "first": first, "last": last, "last_at": last_at,
                      "gaps": gaps}), flush=True)


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "send":
        send(sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6]))
    elif mode == "recv":
        recv(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]))
    else:
        sys.exit("usage: mttr_stream.py send|recv ...")
