//! k shortest disjoint paths between two nodes: Suurballe's method generalised to k paths, i.e.
//! successive shortest augmenting paths of unit capacity with Johnson potentials, so every
//! Dijkstra runs on non-negative reduced costs. Node-disjoint paths split each node v into
//! v_in -> v_out with capacity 1. The result is a min-cost flow of value min(k, max flow),
//! decomposed into paths and sorted by cost.

use crate::graph::{Graph, NONE};
use crate::heap::Heap;

struct Residual {
    head: Vec<i32>,
    next: Vec<i32>,
    to: Vec<u32>,
    cap: Vec<i32>,
    cost: Vec<f64>,
    orig: Vec<i32>,
}

impl Residual {
    fn add(&mut self, u: usize, v: usize, cap: i32, cost: f64, orig: i32) {
        for &(a, b, c, k) in [(u, v, cap, cost), (v, u, 0, -cost)].iter() {
            let id = self.to.len() as i32;
            self.to.push(b as u32);
            self.cap.push(c);
            self.cost.push(k);
            self.orig.push(if c > 0 { orig } else { NONE });
            self.next.push(self.head[a]);
            self.head[a] = id;
        }
    }
}

/// One path of the result: node indices and the sum of its arc weights.
pub struct Path {
    pub nodes: Vec<u32>,
    pub arcs: Vec<u32>,
    pub cost: f64,
}

/// Up to `k` pairwise disjoint s-t paths of minimum total cost, sorted by cost.
pub fn disjoint_paths(g: &Graph, s: usize, t: usize, k: usize, node_disjoint: bool) -> Vec<Path> {
    let n = g.n;
    let states = if node_disjoint { 2 * n } else { n };
    let m = g.dst.len();
    let mut r = Residual {
        head: vec![NONE; states],
        next: Vec::with_capacity(2 * (m + n)),
        to: Vec::with_capacity(2 * (m + n)),
        cap: Vec::with_capacity(2 * (m + n)),
        cost: Vec::with_capacity(2 * (m + n)),
        orig: Vec::with_capacity(2 * (m + n)),
    };
    for u in 0..n {
        if node_disjoint {
            let c = if u == s || u == t { k as i32 } else { 1 };
            r.add(u, n + u, c, 0.0, NONE);
        }
        let tail = if node_disjoint { n + u } else { u };
        for a in g.off[u] as usize..g.off[u + 1] as usize {
            r.add(tail, g.dst[a] as usize, 1, g.w[a], a as i32);
        }
    }
    let mut pot = vec![0.0f64; states];
    let mut dist = vec![f64::INFINITY; states];
    let mut via = vec![NONE; states];
    let mut heap = Heap::new();
    let mut found = 0usize;
    while found < k {
        for x in dist.iter_mut() {
            *x = f64::INFINITY;
        }
        heap.clear();
        dist[s] = 0.0;
        heap.push(0.0, s as u32);
        while let Some((d, u)) = heap.pop() {
            let u = u as usize;
            if d > dist[u] {
                continue;
            }
            let mut e = r.head[u];
            while e != NONE {
                let ei = e as usize;
                if r.cap[ei] > 0 {
                    let v = r.to[ei] as usize;
                    let mut rc = r.cost[ei] + pot[u] - pot[v];
                    if rc < 0.0 {
                        rc = 0.0; // rounding only: potentials keep reduced costs >= 0
                    }
                    let nd = d + rc;
                    if nd < dist[v] {
                        dist[v] = nd;
                        via[v] = e;
                        heap.push(nd, v as u32);
                    }
                }
                e = r.next[ei];
            }
        }
        if !dist[t].is_finite() {
            break;
        }
        for v in 0..states {
            if dist[v].is_finite() {
                pot[v] += dist[v];
            }
        }
        let mut v = t;
        while v != s {
            let e = via[v] as usize;
            r.cap[e] -= 1;
            r.cap[e ^ 1] += 1;
            v = r.to[e ^ 1] as usize;
        }
        found += 1;
    }
    decompose(g, &r, s, t, found)
}

fn decompose(g: &Graph, r: &Residual, s: usize, t: usize, count: usize) -> Vec<Path> {
    let m = g.dst.len();
    let mut flow = vec![false; m];
    for e in 0..r.to.len() {
        let o = r.orig[e];
        if o != NONE && r.cap[e] == 0 {
            flow[o as usize] = true;
        }
    }
    // Both directions of one undirected link carrying flow cancel out (a zero-gain 2-cycle).
    for a in 0..m {
        let tw = g.twin[a];
        if flow[a] && tw != NONE && flow[tw as usize] {
            flow[a] = false;
            flow[tw as usize] = false;
        }
    }
    let n = g.n;
    let src = &g.src;
    let mut head = vec![NONE; n];
    let mut next = vec![NONE; m];
    for a in 0..m {
        if flow[a] {
            let u = src[a] as usize;
            next[a] = head[u];
            head[u] = a as i32;
        }
    }
    let mut paths = Vec::with_capacity(count);
    for _ in 0..count {
        let mut arcs: Vec<u32> = Vec::new();
        let mut u = s;
        let mut guard = 0usize;
        while u != t && guard <= m {
            let a = head[u];
            if a == NONE {
                break;
            }
            head[u] = next[a as usize];
            arcs.push(a as u32);
            u = g.dst[a as usize] as usize;
            guard += 1;
        }
        if u != t {
            break;
        }
        paths.push(simple_path(g, s, &arcs));
    }
    paths.sort_by(|a, b| {
        a.cost
            .partial_cmp(&b.cost)
            .unwrap_or(core::cmp::Ordering::Equal)
            .then(a.nodes.len().cmp(&b.nodes.len()))
            .then(a.nodes.cmp(&b.nodes))
    });
    paths
}

/// Turns a walk into a simple path by cutting out any (zero-cost) cycle it contains.
pub fn simple_path(g: &Graph, s: usize, arcs: &[u32]) -> Path {
    let mut kept: Vec<u32> = Vec::with_capacity(arcs.len());
    let mut nodes: Vec<u32> = vec![s as u32];
    for &a in arcs {
        let v = g.dst[a as usize];
        if let Some(pos) = nodes.iter().position(|&x| x == v) {
            nodes.truncate(pos + 1);
            kept.truncate(pos);
        } else {
            nodes.push(v);
            kept.push(a);
        }
    }
    let cost = kept.iter().map(|&a| g.w[a as usize]).sum();
    Path {
        nodes,
        arcs: kept,
        cost,
    }
}
