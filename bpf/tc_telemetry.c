// SPDX-License-Identifier: GPL-2.0
/* TC-ingress telemetry: the same counters as xdp_telemetry.c, attached as a clsact ingress
 * filter instead of XDP. On veth and other virtual links generic XDP copies every GSO packet
 * and native XDP turns GSO off; a TC program sees the skb in place. GSO packets count as
 * their gso_segs wire packets (bytes: skb->len, headers counted once).
 */
#include <linux/pkt_cls.h>
#include "x0_telemetry.h"

SEC("tc")
int x0_telemetry_tc(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	__u32 segs = skb->gso_segs;
	return x0_count(data, data_end, skb->len, segs) ? TC_ACT_SHOT : TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
