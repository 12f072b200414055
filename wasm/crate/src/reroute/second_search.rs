//! The backup of one destination of the route table: the shortest path from s to t that shares
//! no intermediate node (node mode) or no link (edge mode) with the primary path, found by a
//! goal-directed search of the graph without the primary path.

use super::{Workspace, LANDMARKS};
use crate::disjoint::Path;
use crate::graph::Graph;

struct Search<'a> {
    st: u32,
    dist2: &'a mut [f64],
    seen2: &'a mut [u32],
    pred2: &'a mut [i32],
    parc2: &'a mut [i32],
    heap: &'a mut crate::heap::Heap,
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

/// Seeds of the backup search, shared by every destination below the same first hop x1.
///
/// With the primary path s -> x1 -> ... -> t removed, every node outside x1's subtree of the
/// primary tree keeps its tree path, so its distance is unchanged (reduced distance 0). The
/// search therefore only runs inside subtree(x1), seeded with the cheapest reduced-cost arc from
/// outside into each node (the same for every t below x1). That turns one Dijkstra over the
/// whole graph per destination into a search of one subtree.
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

/// The shortest path from s to t avoiding the primary path (its interior nodes in node mode,
/// its links in edge mode), or None. Runs inside subtree(x1) from the seeds of `entries`, on
/// reduced costs, goal-directed (A*) with the landmark bound of `landmarks`: h(v) is a lower
/// bound of the reduced distance to t in the full graph, so also without the primary path, and
/// it is consistent.
pub(super) fn disjoint_backup(
    g: &Graph,
    s: usize,
    t: usize,
    node_mode: bool,
    ws: &mut Workspace,
) -> Option<Path> {
    let st = ws.stamp;
    let x1 = ws.nh[t];
    let nh = &ws.nh;
    let d1 = &ws.primary.dist;
    let on = &ws.on;
    let blk = &ws.blk;
    let off = &g.off;
    let dst = &g.dst;
    let w = &g.w;
    let seeds = &ws.seeds[ws.seed_start[x1 as usize] as usize..ws.seed_end[x1 as usize] as usize];
    let entry = &ws.entry;
    let entry_pred = &ws.entry_pred;
    let entry_arc = &ws.entry_arc;
    // Interior nodes of the primary path are off limits in node mode.
    let closed = |v: usize| node_mode && on[v] == st && v != t;
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
    let found = loop {
        let have_seed = next_seed < seeds.len();
        let seed_key = if have_seed {
            entry[seeds[next_seed] as usize]
        } else {
            f64::INFINITY
        };
        let top = q.heap.peek_key();
        if !have_seed && top.map_or(true, |k| k == f64::INFINITY) {
            break false; // nothing left, or only nodes the A* bound proved cannot reach t
        }
        if have_seed && top.map_or(true, |k| seed_key <= k) {
            let v = seeds[next_seed] as usize;
            next_seed += 1;
            if !closed(v) {
                q.relax(v, seed_key, h(v), entry_pred[v] as usize, entry_arc[v]);
            }
            continue;
        }
        let (key, u) = match q.heap.pop() {
            Some(e) => e,
            None => break false,
        };
        let u = u as usize;
        let k = q.dist2[u];
        if key > k + h(u) {
            continue;
        }
        if u == t {
            break true;
        }
        let du = d1[u];
        for a in off[u] as usize..off[u + 1] as usize {
            if blk[a] == st {
                continue;
            }
            let v = dst[a] as usize;
            if nh[v] != x1 || closed(v) {
                continue; // outside the subtree (distance already final) or on the primary
            }
            let mut rc = w[a] + du - d1[v];
            if rc < 0.0 {
                rc = 0.0; // rounding only: tree potentials make every reduced cost >= 0
            }
            let nd = k + rc;
            if q.seen2[v] != st || nd < q.dist2[v] {
                q.relax(v, nd, h(v), u, a as i32);
            }
        }
    };
    if !found {
        return None;
    }
    // Back from t to the node where the path entered the subtree, then that node's tree path.
    let mut arcs: Vec<u32> = Vec::new();
    let mut y = t;
    loop {
        let x = ws.pred2[y] as usize;
        arcs.push(ws.parc2[y] as u32);
        if x == s || ws.nh[x] != x1 {
            let mut v = x;
            while v != s {
                arcs.push(ws.primary.parc[v] as u32);
                v = ws.primary.pred[v] as usize;
            }
            break;
        }
        y = x;
    }
    arcs.reverse();
    let mut nodes = Vec::with_capacity(arcs.len() + 1);
    nodes.push(s as u32);
    let mut cost = 0.0;
    for &a in arcs.iter() {
        nodes.push(g.dst[a as usize]);
        cost += g.w[a as usize];
    }
    Some(Path { nodes, arcs, cost })
}
