// SPDX-License-Identifier: GPL-2.0
/* XDP telemetry: per-interface and per-neighbour (source MAC) receive counters, drop counters
 * and a packet-size histogram. Optionally injects loss through the same chaos map as
 * xdp_chaos.c, so chaos and telemetry can share one interface. Stores no IP address and no
 * payload: see x0_common.h.
 */
#include "x0_telemetry.h"

SEC("xdp")
int x0_telemetry(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	return x0_count(data, data_end, (__u64)(data_end - data), 1) ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
