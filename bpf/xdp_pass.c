// SPDX-License-Identifier: GPL-2.0
/* The empty XDP program: passes every frame, keeps nothing. Benchmarks attach it to measure
 * what attaching any XDP program costs, apart from what x0_telemetry does per packet.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int x0_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
