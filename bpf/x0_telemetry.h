/* Maps and counting shared by the telemetry programs (XDP: xdp_telemetry.c, TC ingress:
 * tc_telemetry.c). Privacy: see x0_common.h; nothing but counters keyed by interface and
 * source MAC is stored.
 */
#ifndef X0_TELEMETRY_H
#define X0_TELEMETRY_H

#include "x0_common.h"

/* Per-interface counters (one program instance per interface, so key 0 only). */
struct x0_iface_stats {
	__u64 packets;
	__u64 bytes;
	__u64 drops;
	__u64 ipv4;
	__u64 ipv6;
	__u64 arp;
	__u64 other;
	__u64 udp;
	__u64 tcp;
	__u64 icmp;
	/* frame length <= 64, 128, 256, 512, 1024, 1518, 4096, > 4096 */
	__u64 size_hist[X0_HIST_BUCKETS];
};

struct x0_neigh_key {
	__u8 mac[ETH_ALEN];
	__u16 pad;
};

struct x0_neigh_stats {
	__u64 packets;
	__u64 bytes;
	__u64 drops;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct x0_iface_stats);
} iface_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct x0_neigh_key);
	__type(value, struct x0_neigh_stats);
} neigh_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct x0_chaos_cfg);
} chaos_cfg SEC(".maps");

static __always_inline __u32 size_bucket(__u64 len)
{
	if (len <= 64)
		return 0;
	if (len <= 128)
		return 1;
	if (len <= 256)
		return 2;
	if (len <= 512)
		return 3;
	if (len <= 1024)
		return 4;
	if (len <= 1518)
		return 5;
	if (len <= 4096)
		return 6;
	return 7;
}

/* Counts one received frame (or `segs` frames of a GSO packet) and applies the chaos
 * configuration. Returns 1 when the frame must be dropped.
 */
static __always_inline int x0_count(void *data, void *data_end, __u64 len, __u32 segs)
{
	__u32 zero = 0;
	struct ethhdr *eth = data;
	struct x0_iface_stats *st = bpf_map_lookup_elem(&iface_stats, &zero);
	if (!st)
		return 0;
	if (segs == 0)
		segs = 1;

	st->packets += segs;
	st->bytes += len;
	st->size_hist[size_bucket(len / segs) & (X0_HIST_BUCKETS - 1)] += segs;

	if ((void *)(eth + 1) > data_end) {
		st->other += segs;
		return 0;
	}

	__u16 ethertype = bpf_ntohs(eth->h_proto);
	int proto = x0_ip_proto(data, data_end, ethertype);
	if (ethertype == ETH_P_IP)
		st->ipv4 += segs;
	else if (ethertype == ETH_P_IPV6)
		st->ipv6 += segs;
	else if (ethertype == ETH_P_ARP)
		st->arp += segs;
	else
		st->other += segs;
	if (proto == 17)
		st->udp += segs;
	else if (proto == 6)
		st->tcp += segs;
	else if (proto == 1 || proto == 58)
		st->icmp += segs;

	struct x0_neigh_key key = {};
	__builtin_memcpy(key.mac, eth->h_source, ETH_ALEN);
	struct x0_neigh_stats *ns = bpf_map_lookup_elem(&neigh_stats, &key);
	if (!ns) {
		struct x0_neigh_stats init = {};
		bpf_map_update_elem(&neigh_stats, &key, &init, BPF_NOEXIST);
		ns = bpf_map_lookup_elem(&neigh_stats, &key);
	}
	if (ns) {
		ns->packets += segs;
		ns->bytes += len;
	}

	struct x0_chaos_cfg *cfg = bpf_map_lookup_elem(&chaos_cfg, &zero);
	if (x0_chaos_should_drop(cfg, ethertype, proto)) {
		st->drops += segs;
		if (ns)
			ns->drops += segs;
		return 1;
	}
	return 0;
}

#endif
