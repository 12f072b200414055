// SPDX-License-Identifier: GPL-2.0
/* XDP chaos injector: drops a configurable share of received packets, optionally only one
 * EtherType or one IP protocol, configured at run time through chaos_cfg. Counts what it saw
 * and what it dropped; stores nothing else.
 */
#include "x0_common.h"

struct x0_chaos_stats {
	__u64 seen;
	__u64 dropped;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct x0_chaos_cfg);
} chaos_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct x0_chaos_stats);
} chaos_stats SEC(".maps");

SEC("xdp")
int x0_chaos(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 zero = 0;
	struct ethhdr *eth = data;
	struct x0_chaos_stats *st = bpf_map_lookup_elem(&chaos_stats, &zero);
	if (!st)
		return XDP_PASS;
	st->seen++;
	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	__u16 ethertype = bpf_ntohs(eth->h_proto);
	int proto = x0_ip_proto(data, data_end, ethertype);
	struct x0_chaos_cfg *cfg = bpf_map_lookup_elem(&chaos_cfg, &zero);
	if (x0_chaos_should_drop(cfg, ethertype, proto)) {
		st->dropped++;
		return XDP_DROP;
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
