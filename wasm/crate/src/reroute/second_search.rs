//! Suurballe's second search for one destination of the route table, on the implicit residual
//! graph of its primary path, and the split of the resulting flow into two paths.

use super::{Workspace, LANDMARKS};
use crate::disjoint::{simple_path, Path};
use crate::graph::{Graph, NONE};
use crate::heap::Heap;

/// Residual arc reversing a primary-path arc (cancels it in the flow).
const RESID: i32 = -2;
/// Residual arc v_out -> v_in of a split primary-path node.
const SPLIT: i32 = -3;

struct Search<'a> {
    st: u32,
    dist2: &'a mut [f64],
    seen2: &'a mut [u32],
    pred2: &'a mut [i32],
    parc2: &'a mut [i32],
    heap: &'a mut Heap,
}

impl<'a> Search<'a> {
    #[inline]
    fn relax(&mut self, y: usize, nd: f64, h: f64, x: usize, arc: i32) {
        if self.seen2[y] != self.st || nd < self.dist2[y] {
            self.seen2[y] = self.st;
            self.dist2[y] = nd;
            self.pred2[y] = x as i32;
            self.parc2[y] = arc;
            self.heap.push(nd + h, y as u32);
        }
    }
}

/// Seeds of the second search, shared by every destination below the same first hop x1.
///
/// In the residual graph of a primary path s -> x1 -> ... -> t, every node outside x1's subtree
/// of the primary tree keeps its tree path, whose reduced costs are all 0, so its second-search
/// distance is 0. The search therefore only runs inside subtree(x1), seeded with the cheapest
/// reduced-cost arc from outside into each node (the same for every t below x1). That turns
/// one Dijkstra over the whole graph per destination into a search of one subtree.
pub(super) fn entries(g: &Graph, s: usize, ws: &mut Workspace) {
    let n = g.n;
    let d1 = &ws.primary.dist;
    let nh = &ws.nh;
    for u in 0..n {
        if !d1[u].is_finite() {
            continue;
        }
        let hu = nh[u];
        for a in g.off[u] as usize..g.off[u + 1] as usize {
            let v = g.dst[a] as usize;
            let hv = nh[v];
            if hv < 0 || hv == hu || (u == s && ws.primary.parc[hv as usize] == a as i32) {
                continue;
            }
            let mut rc = g.w[a] + d1[u] - d1[v];
            if rc < 0.0 {
                rc = 0.0;
            }
            if rc < ws.entry[v] {
                ws.entry[v] = rc;
                ws.entry_pred[v] = u as i32;
                ws.entry_arc[v] = a as i32;
            }
        }
    }
    for v in 0..n {
        if nh[v] >= 0 && ws.entry[v].is_finite() {
            ws.seeds.push(v as u32);
        }
    }
    let entry = &ws.entry;
    ws.seeds.sort_unstable_by(|&a, &b| {
        nh[a as usize].cmp(&nh[b as usize]).then(
            entry[a as usize]
                .partial_cmp(&entry[b as usize])
                .unwrap_or(core::cmp::Ordering::Equal),
        )
    });
    let mut i = 0;
    while i < ws.seeds.len() {
        let h = nh[ws.seeds[i] as usize] as usize;
        let start = i;
        while i < ws.seeds.len() && nh[ws.seeds[i] as usize] as usize == h {
            i += 1;
        }
        ws.seed_start[h] = start as u32;
        ws.seed_end[h] = i as u32;
    }
}

/// Suurballe's second search on the implicit residual graph, restricted to the subtree of
/// the destination's first hop; true when t is reachable. States: node v (for a node-disjoint
/// search, v_in of a primary-path interior node) and n + v (v_out of such a node).
///
/// The search is goal-directed (A*) with the landmark bound of `landmarks` (s itself is a
/// landmark too; on undirected graphs its term is 2 max(0, d(v) - d(t))).
pub(super) fn second_path(g: &Graph, t: usize, node_mode: bool, ws: &mut Workspace) -> bool {
    let n = g.n;
    let st = ws.stamp;
    let x1 = ws.nh[t];
    let nh = &ws.nh;
    let d1 = &ws.primary.dist;
    let pred1 = &ws.primary.pred;
    let on = &ws.on;
    let blk = &ws.blk;
    let off = &g.off;
    let dst = &g.dst;
    let w = &g.w;
    let seeds = &ws.seeds[ws.seed_start[x1 as usize] as usize..ws.seed_end[x1 as usize] as usize];
    let entry = &ws.entry;
    let entry_pred = &ws.entry_pred;
    let entry_arc = &ws.entry_arc;
    let goal = d1[t];
    let lm = &ws.lm[..];
    let lc = ws.lm_count;
    let directed = g.directed;
    let stride = 2 * LANDMARKS;
    let mut lt = [0.0f64; 2 * LANDMARKS];
    if lc > 0 {
        lt.copy_from_slice(&lm[t * stride..(t + 1) * stride]);
    }
    let hstamp = &mut ws.hstamp;
    let hval = &mut ws.hval;
    // Lower bound on dist(v, t), turned into a bound on the reduced-cost distance. Terms with
    // an infinite distance are either skipped (NaN, -inf) or +inf, which is exact: then v
    // cannot reach t.
    let mut h = |v: usize| -> f64 {
        if lc == 0 {
            return 0.0;
        }
        if hstamp[v] == st {
            return hval[v];
        }
        let row = &lm[v * stride..(v + 1) * stride];
        let mut lb;
        if directed {
            lb = goal - d1[v];
            for l in 0..lc {
                let a = lt[l] - row[l]; // d(L, t) - d(L, v)
                if a > lb {
                    lb = a;
                }
                let b = row[LANDMARKS + l] - lt[LANDMARKS + l]; // d(v, L) - d(t, L)
                if b > lb {
                    lb = b;
                }
            }
        } else {
            lb = (goal - d1[v]).abs();
            for l in 0..lc {
                let x = (lt[l] - row[l]).abs();
                if x > lb {
                    lb = x;
                }
            }
        }
        let r = lb + d1[v] - goal;
        let r = if r > 0.0 { r } else { 0.0 };
        hstamp[v] = st;
        hval[v] = r;
        r
    };
    ws.heap.clear();
    let mut q = Search {
        st,
        dist2: &mut ws.dist2,
        seen2: &mut ws.seen2,
        pred2: &mut ws.pred2,
        parc2: &mut ws.parc2,
        heap: &mut ws.heap,
    };
    let mut next_seed = 0usize;
    loop {
        let have_seed = next_seed < seeds.len();
        let seed_key = if have_seed {
            entry[seeds[next_seed] as usize]
        } else {
            f64::INFINITY
        };
        let top = q.heap.peek_key();
        if !have_seed && top.map_or(true, |k| k == f64::INFINITY) {
            return false; // nothing left, or only nodes the A* bound proved cannot reach t
        }
        if have_seed && top.map_or(true, |k| seed_key <= k) {
            let v = seeds[next_seed] as usize;
            next_seed += 1;
            q.relax(v, seed_key, h(v), entry_pred[v] as usize, entry_arc[v]);
            continue;
        }
        let (key, x) = match q.heap.pop() {
            Some(e) => e,
            None => return false,
        };
        let xi = x as usize;
        let out_state = xi >= n;
        let u = if out_state { xi - n } else { xi };
        let k = q.dist2[xi];
        if key > k + h(u) {
            continue;
        }
        if xi == t {
            return true;
        }
        let on_path = on[u] == st && u != t;
        if node_mode && on_path && !out_state {
            // v_in of a path node: its only exit is the reversed path arc into pred_out.
            let p = pred1[u] as usize;
            if nh[p] == x1 {
                q.relax(n + p, k, 0.0, xi, RESID);
            }
            continue;
        }
        let du = d1[u];
        for a in off[u] as usize..off[u + 1] as usize {
            if blk[a] == st {
                continue;
            }
            let v = dst[a] as usize;
            if nh[v] != x1 {
                continue; // outside the subtree: already at distance 0
            }
            let mut rc = w[a] + du - d1[v];
            if rc < 0.0 {
                rc = 0.0; // rounding only: tree potentials make every reduced cost >= 0
            }
            let nd = k + rc;
            if q.seen2[v] != st || nd < q.dist2[v] {
                q.relax(v, nd, h(v), xi, a as i32);
            }
        }
        if out_state {
            q.relax(u, k, h(u), xi, SPLIT);
        } else if !node_mode && on_path {
            let p = pred1[u] as usize;
            if nh[p] == x1 {
                q.relax(p, k, 0.0, xi, RESID);
            }
        }
    }
}

/// Combines the primary path and the second search into a flow and splits it into two paths.
pub(super) fn pair(
    g: &Graph,
    s: usize,
    t: usize,
    ws: &mut Workspace,
) -> (Option<Path>, Option<Path>) {
    let n = g.n;
    let st = ws.stamp;
    let x1 = ws.nh[t];
    let mut y = t;
    loop {
        let x = ws.pred2[y] as usize;
        let a = ws.parc2[y];
        if a >= 0 {
            add_flow(g, ws, a as usize);
        } else if a == RESID {
            let u = if x >= n { x - n } else { x };
            ws.cancel[ws.primary.parc[u] as usize] = st;
        }
        if x < n && (x == s || ws.nh[x] != x1) {
            // Left the subtree: the rest of the second path is x's primary tree path.
            let mut v = x;
            while v != s {
                add_flow(g, ws, ws.primary.parc[v] as usize);
                v = ws.primary.pred[v] as usize;
            }
            break;
        }
        y = x;
    }
    let mut v = t;
    while v != s {
        let a = ws.primary.parc[v] as usize;
        if ws.cancel[a] != st {
            add_flow(g, ws, a);
        }
        v = ws.primary.pred[v] as usize;
    }
    let a = walk(g, s, t, ws);
    let b = walk(g, s, t, ws);
    (a, b)
}

fn add_flow(g: &Graph, ws: &mut Workspace, a: usize) {
    let u = g.src[a] as usize;
    if ws.fstamp[u] != ws.stamp {
        ws.fstamp[u] = ws.stamp;
        ws.fhead[u] = NONE;
    }
    ws.fnext[a] = ws.fhead[u];
    ws.fhead[u] = a as i32;
}

fn walk(g: &Graph, s: usize, t: usize, ws: &mut Workspace) -> Option<Path> {
    ws.walk.clear();
    ws.wstamp = ws.wstamp.wrapping_add(1);
    if ws.wstamp == 0 {
        for x in ws.visited.iter_mut() {
            *x = 0;
        }
        ws.wstamp = 1;
    }
    let mark = ws.wstamp;
    let mut repeated = false;
    let mut u = s;
    ws.visited[s] = mark;
    let limit = g.dst.len();
    while u != t {
        if ws.fstamp[u] != ws.stamp || ws.fhead[u] == NONE || ws.walk.len() > limit {
            return None;
        }
        let a = ws.fhead[u] as usize;
        ws.fhead[u] = ws.fnext[a];
        ws.walk.push(a as u32);
        u = g.dst[a] as usize;
        repeated |= ws.visited[u] == mark;
        ws.visited[u] = mark;
    }
    if repeated {
        // Only zero-cost cycles can make the walk revisit a node; cut them out.
        return Some(simple_path(g, s, &ws.walk));
    }
    let mut nodes = Vec::with_capacity(ws.walk.len() + 1);
    nodes.push(s as u32);
    let mut cost = 0.0;
    for &a in ws.walk.iter() {
        nodes.push(g.dst[a as usize]);
        cost += g.w[a as usize];
    }
    Some(Path {
        nodes,
        arcs: ws.walk.clone(),
        cost,
    })
}
