/* Shared definitions for the x0tta6bl4 XDP programs.
 *
 * Privacy by design: these programs read only the Ethernet header (source MAC, EtherType)
 * and, for IPv4/IPv6, the protocol / next-header byte. They never store an IP address, a
 * port or any payload byte. Keep every struct here in sync with core/ebpf/layout.ts.
 */
#ifndef X0_COMMON_H
#define X0_COMMON_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define X0_HIST_BUCKETS 8
#define X0_PPM_SCALE 1000000u
#define X0_FILTER_ETHERTYPE 1u
#define X0_FILTER_IPPROTO 2u

/* Chaos configuration, written at run time by the agent / CLI (key 0 of a 1-entry array). */
struct x0_chaos_cfg {
	__u32 drop_ppm;   /* drop probability in parts per million (0 = off) */
	__u32 flags;      /* X0_FILTER_* bits */
	__u16 ethertype;  /* host byte order, used when X0_FILTER_ETHERTYPE is set */
	__u8 ip_proto;    /* IPv4 protocol / IPv6 next header, when X0_FILTER_IPPROTO is set */
	__u8 pad[5];
};

/* Returns the L4 protocol number of an IPv4/IPv6 packet, or -1 (header not readable / other). */
static __always_inline int x0_ip_proto(void *data, void *data_end, __u16 ethertype)
{
	void *l3 = data + sizeof(struct ethhdr);
	if (ethertype == ETH_P_IP) {
		/* protocol is byte 9 of the IPv4 header */
		if (l3 + 10 > data_end)
			return -1;
		return *(__u8 *)(l3 + 9);
	}
	if (ethertype == ETH_P_IPV6) {
		/* next header is byte 6 of the IPv6 header (extension headers are not walked) */
		if (l3 + 7 > data_end)
			return -1;
		return *(__u8 *)(l3 + 6);
	}
	return -1;
}

/* Decides whether the chaos configuration drops this packet (per-CPU PRNG). */
static __always_inline int x0_chaos_should_drop(const struct x0_chaos_cfg *cfg, __u16 ethertype,
						int proto)
{
	if (!cfg || cfg->drop_ppm == 0)
		return 0;
	if ((cfg->flags & X0_FILTER_ETHERTYPE) && cfg->ethertype != ethertype)
		return 0;
	if ((cfg->flags & X0_FILTER_IPPROTO) && (proto < 0 || (__u8)proto != cfg->ip_proto))
		return 0;
	if (cfg->drop_ppm >= X0_PPM_SCALE)
		return 1;
	return (bpf_get_prandom_u32() % X0_PPM_SCALE) < cfg->drop_ppm;
}

#endif
