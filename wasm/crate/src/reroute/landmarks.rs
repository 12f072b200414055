//! Landmarks for the goal-directed second search of the route table (ALT lower bounds).

use super::{Workspace, LANDMARKS};
use crate::dijkstra::{self, Heap as RadixHeap, AVOID_NOTHING};
use crate::graph::{Graph, NONE};

/// Picks landmarks by farthest-point selection (starting from the node farthest from s) and
/// stores their distance arrays. LB(v, t), a lower bound on the true distance v -> t, is
/// max over landmarks of |d_L(t) - d_L(v)| on undirected graphs, and of d(L, t) - d(L, v) and
/// d(v, L) - d(t, L) on directed ones (ALT). h(v) = max(0, LB(v, t) + d(v) - d(t)) bounds the
/// reduced-cost distance to t and is consistent on every residual arc: on primary-path nodes
/// LB + d(v) - d(t) <= dist(v, t) + d(v) - d(t) = 0, and LB is itself consistent.
pub(super) fn landmarks(g: &Graph, s: usize, ws: &mut Workspace) {
    ws.lm_count = 0;
    super::reset(&mut ws.hstamp, g.n, 0);
    super::reset(&mut ws.hval, g.n, 0.0);
    let n = g.n;
    // Directed graphs also need distances *to* each landmark, from the reversed graph.
    let reversed = if g.directed { Some(reverse(g)) } else { None };
    ws.lm.clear();
    ws.lm.resize(2 * LANDMARKS * n, f64::INFINITY);
    // nearest[v] = distance from the closest landmark so far (s counts as the first).
    let mut nearest: Vec<f64> = ws.primary.dist.clone();
    for l in 0..LANDMARKS {
        let mut far = NONE;
        let mut best = 0.0;
        for v in 0..n {
            let x = nearest[v];
            if x.is_finite() && x > best {
                best = x;
                far = v as i32;
            }
        }
        if far == NONE {
            break;
        }
        let heap = ws.radix.get_or_insert_with(RadixHeap::new);
        dijkstra::run(g, far as usize, &mut ws.lm_tree, heap, AVOID_NOTHING);
        for v in 0..n {
            let x = ws.lm_tree.dist[v];
            // Node-major layout: one node's landmark distances share a cache line.
            ws.lm[v * 2 * LANDMARKS + l] = x;
            if x < nearest[v] {
                nearest[v] = x;
            }
        }
        if let Some(rg) = &reversed {
            dijkstra::run(rg, far as usize, &mut ws.lm_tree, heap, AVOID_NOTHING);
            for v in 0..n {
                ws.lm[v * 2 * LANDMARKS + LANDMARKS + l] = ws.lm_tree.dist[v];
            }
        }
        ws.lm_count = l + 1;
    }
    let _ = s;
}

/// The graph with every arc turned around (for distances to a node).
fn reverse(g: &Graph) -> Graph {
    let n = g.n;
    let m = g.dst.len();
    let mut off = vec![0u32; n + 1];
    for a in 0..m {
        off[g.dst[a] as usize + 1] += 1;
    }
    for v in 0..n {
        off[v + 1] += off[v];
    }
    let mut fill: Vec<u32> = off[..n].to_vec();
    let mut dst = vec![0u32; m];
    let mut w = vec![0.0f64; m];
    let mut src = vec![0u32; m];
    for a in 0..m {
        let v = g.dst[a] as usize;
        let i = fill[v] as usize;
        fill[v] += 1;
        dst[i] = g.src[a];
        w[i] = g.w[a];
        src[i] = v as u32;
    }
    Graph {
        n,
        directed: true,
        off,
        dst,
        w,
        twin: vec![NONE; m],
        src,
        min_w: g.min_w,
        max_w: g.max_w,
    }
}
