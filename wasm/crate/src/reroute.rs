//! The fast-reroute table of one source: for every reachable destination the shortest path
//! (primary) and a backup whose first hop differs from the primary's.
//!
//! One Dijkstra gives the primary tree and the potentials. For each destination t, Suurballe's
//! second search runs on the residual graph of the primary path, built implicitly (blocked arcs,
//! reversed path arcs, node splitting only for nodes on the path) and stopped as soon as t is
//! settled. The resulting optimal disjoint pair gives the backup: the member disjoint from the
//! primary (both are when the primary is in the pair). When no disjoint pair exists, the backup
//! is the shortest path avoiding the primary next-hop node, else the primary first link
//! (one cached Dijkstra per first hop, so at most 2 x degree(source) extra runs).

use crate::dijkstra::{self, Avoid, Tree, AVOID_NOTHING};
use crate::disjoint::{simple_path, Path};
use crate::graph::{Graph, NONE};
use crate::heap::Heap;
use crate::dijkstra::Heap as RadixHeap;

/// Backup kinds as written to the result.
pub const KIND_NONE: i32 = 0;
pub const KIND_DISJOINT: i32 = 1;
pub const KIND_NODE: i32 = 2;
pub const KIND_LINK: i32 = 3;

const RESID: i32 = -2;
/// Landmarks for the A* bound of the second search.
const LANDMARKS: usize = 8;
const SPLIT: i32 = -3;

/// Buffers reused across calls so that repeated calls keep memory flat.
pub struct Workspace {
    primary: Tree,
    heap: Heap,
    radix: Option<RadixHeap>,
    nh: Vec<i32>,
    stamp: u32,
    on: Vec<u32>,
    blk: Vec<u32>,
    cancel: Vec<u32>,
    dist2: Vec<f64>,
    seen2: Vec<u32>,
    pred2: Vec<i32>,
    parc2: Vec<i32>,
    fstamp: Vec<u32>,
    fhead: Vec<i32>,
    fnext: Vec<i32>,
    walk: Vec<u32>,
    visited: Vec<u32>,
    wstamp: u32,
    entry: Vec<f64>,
    entry_pred: Vec<i32>,
    entry_arc: Vec<i32>,
    seeds: Vec<u32>,
    seed_start: Vec<u32>,
    seed_end: Vec<u32>,
    fallback: Vec<(i32, i32, Tree)>,
    fallback_used: usize,
    /// Distances from each landmark (LANDMARKS x n), for the A* lower bound.
    lm: Vec<f64>,
    lm_count: usize,
    /// Per-destination cache of the A* bound (valid where hstamp == stamp).
    hstamp: Vec<u32>,
    hval: Vec<f64>,
    lm_tree: Tree,
    /// cost[n], backup_cost[n]
    pub res_f64: Vec<f64>,
    /// next_hop[n], pred[n], backup_next_hop[n], backup_kind[n], backup_start[n],
    /// backup_len[n], then the backup paths' nodes
    pub res_i32: Vec<i32>,
}

impl Workspace {
    pub const fn new() -> Workspace {
        Workspace {
            primary: Tree::new(),
            heap: Heap::new(),
            radix: None,
            nh: Vec::new(),
            stamp: 0,
            on: Vec::new(),
            blk: Vec::new(),
            cancel: Vec::new(),
            dist2: Vec::new(),
            seen2: Vec::new(),
            pred2: Vec::new(),
            parc2: Vec::new(),
            fstamp: Vec::new(),
            fhead: Vec::new(),
            fnext: Vec::new(),
            walk: Vec::new(),
            visited: Vec::new(),
            wstamp: 0,
            entry: Vec::new(),
            entry_pred: Vec::new(),
            entry_arc: Vec::new(),
            seeds: Vec::new(),
            seed_start: Vec::new(),
            seed_end: Vec::new(),
            fallback: Vec::new(),
            fallback_used: 0,
            lm: Vec::new(),
            lm_count: 0,
            hstamp: Vec::new(),
            hval: Vec::new(),
            lm_tree: Tree::new(),
            res_f64: Vec::new(),
            res_i32: Vec::new(),
        }
    }

    fn prepare(&mut self, n: usize, m: usize) {
        // Fresh stamp arrays whenever the size changes or the stamp would wrap.
        if self.on.len() != n || self.blk.len() != m || self.stamp > u32::MAX - 4 * (n as u32 + 1) {
            self.stamp = 0;
            reset(&mut self.on, n, 0);
            reset(&mut self.blk, m, 0);
            reset(&mut self.cancel, m, 0);
            reset(&mut self.seen2, 2 * n, 0);
            reset(&mut self.fstamp, n, 0);
        }
        reset(&mut self.dist2, 2 * n, f64::INFINITY);
        reset(&mut self.pred2, 2 * n, NONE);
        reset(&mut self.parc2, 2 * n, NONE);
        reset(&mut self.fhead, n, NONE);
        reset(&mut self.fnext, m, NONE);
        reset(&mut self.nh, n, NONE);
        if self.visited.len() != n {
            reset(&mut self.visited, n, 0);
            self.wstamp = 0;
        }
        reset(&mut self.entry, n, f64::INFINITY);
        reset(&mut self.entry_pred, n, NONE);
        reset(&mut self.entry_arc, n, NONE);
        reset(&mut self.seed_start, n, 0);
        reset(&mut self.seed_end, n, 0);
        self.seeds.clear();
        self.fallback_used = 0;
    }
}

fn reset<T: Copy>(v: &mut Vec<T>, len: usize, value: T) {
    v.clear();
    v.resize(len, value);
}

/// Fills `ws.res_f64` / `ws.res_i32` with the route table of `s`.
pub fn route_table(g: &Graph, s: usize, node_mode: bool, ws: &mut Workspace) {
    let n = g.n;
    ws.prepare(n, g.dst.len());
    dijkstra::run(g, s, &mut ws.primary, ws.radix.get_or_insert_with(RadixHeap::new), AVOID_NOTHING);
    dijkstra::next_hops(s, &ws.primary, &mut ws.nh);
    entries(g, s, ws);
    landmarks(g, s, ws);
    reset(&mut ws.res_f64, 2 * n, f64::INFINITY);
    ws.res_i32.clear();
    ws.res_i32.resize(6 * n, NONE);
    for i in 0..n {
        ws.res_f64[i] = ws.primary.dist[i];
        ws.res_i32[i] = ws.nh[i];
        ws.res_i32[n + i] = ws.primary.pred[i];
        ws.res_i32[3 * n + i] = KIND_NONE;
        ws.res_i32[5 * n + i] = 0;
    }
    for oi in 0..ws.primary.order.len() {
        let t = ws.primary.order[oi] as usize;
        if t == s {
            continue;
        }
        let (kind, path) = backup_for(g, s, t, node_mode, ws);
        if let Some(p) = path {
            ws.res_f64[n + t] = p.cost;
            ws.res_i32[2 * n + t] = if p.nodes.len() > 1 { p.nodes[1] as i32 } else { NONE };
            ws.res_i32[3 * n + t] = kind;
            ws.res_i32[4 * n + t] = ws.res_i32.len() as i32;
            ws.res_i32[5 * n + t] = p.nodes.len() as i32;
            for &v in p.nodes.iter() {
                ws.res_i32.push(v as i32);
            }
        }
    }
}

fn backup_for(g: &Graph, s: usize, t: usize, node_mode: bool, ws: &mut Workspace) -> (i32, Option<Path>) {
    ws.stamp += 1;
    let st = ws.stamp;
    let mut v = t;
    while v != s {
        ws.on[v] = st;
        let a = ws.primary.parc[v] as usize;
        ws.blk[a] = st;
        if !node_mode && g.twin[a] != NONE {
            ws.blk[g.twin[a] as usize] = st;
        }
        v = ws.primary.pred[v] as usize;
    }
    let first_arc = first_arc_of(ws, s, t);
    let nh = ws.nh[t];
    let mut best: Option<(i32, Path)> = None;
    if second_path(g, t, node_mode, ws) {
        let (a, b) = pair(g, s, t, ws);
        for p in [a, b].into_iter().flatten() {
            let kind = classify(g, &p, s, t, nh, first_arc, node_mode, ws);
            if kind == KIND_NONE {
                continue;
            }
            let better = match &best {
                None => true,
                Some((k, q)) => kind < *k || (kind == *k && p.cost < q.cost),
            };
            if better {
                best = Some((kind, p));
            }
        }
    }
    if let Some((k, p)) = best {
        return (k, Some(p));
    }
    if node_mode && nh as usize != t {
        let avoid = Avoid { arc1: NONE, arc2: NONE, node: nh };
        if let Some(p) = fallback_path(g, s, t, avoid, ws) {
            return (KIND_NODE, Some(p));
        }
    }
    let avoid = Avoid { arc1: first_arc, arc2: g.twin[first_arc as usize], node: NONE };
    match fallback_path(g, s, t, avoid, ws) {
        Some(p) => (KIND_LINK, Some(p)),
        None => (KIND_NONE, None),
    }
}

fn first_arc_of(ws: &Workspace, s: usize, t: usize) -> i32 {
    let mut v = t;
    while ws.primary.pred[v] as usize != s {
        v = ws.primary.pred[v] as usize;
    }
    ws.primary.parc[v]
}

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
fn entries(g: &Graph, s: usize, ws: &mut Workspace) {
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
        nh[a as usize]
            .cmp(&nh[b as usize])
            .then(entry[a as usize].partial_cmp(&entry[b as usize]).unwrap_or(core::cmp::Ordering::Equal))
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

/// Picks landmarks by farthest-point selection (starting from the node farthest from s) and
/// stores their distance arrays. LB(v, t), a lower bound on the true distance v -> t, is
/// max over landmarks of |d_L(t) - d_L(v)| on undirected graphs, and of d(L, t) - d(L, v) and
/// d(v, L) - d(t, L) on directed ones (ALT). h(v) = max(0, LB(v, t) + d(v) - d(t)) bounds the
/// reduced-cost distance to t and is consistent on every residual arc: on primary-path nodes
/// LB + d(v) - d(t) <= dist(v, t) + d(v) - d(t) = 0, and LB is itself consistent.
fn landmarks(g: &Graph, s: usize, ws: &mut Workspace) {
    ws.lm_count = 0;
    reset(&mut ws.hstamp, g.n, 0);
    reset(&mut ws.hval, g.n, 0.0);
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
    Graph { n, directed: true, off, dst, w, twin: vec![NONE; m], src }
}

/// Suurballe's second search on the implicit residual graph, restricted to the subtree of
/// the destination's first hop; true when t is reachable. States: node v (for a node-disjoint
/// search, v_in of a primary-path interior node) and n + v (v_out of such a node).
///
/// The search is goal-directed (A*) with the landmark bound of `landmarks` (s itself is a
/// landmark too; on undirected graphs its term is 2 max(0, d(v) - d(t))).
fn second_path(g: &Graph, t: usize, node_mode: bool, ws: &mut Workspace) -> bool {
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
        let seed_key = if have_seed { entry[seeds[next_seed] as usize] } else { f64::INFINITY };
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
fn pair(g: &Graph, s: usize, t: usize, ws: &mut Workspace) -> (Option<Path>, Option<Path>) {
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
    Some(Path { nodes, arcs: ws.walk.clone(), cost })
}

/// How well `p` protects the primary path: disjoint from it, avoiding its next-hop node,
/// avoiding only its first link, or not at all.
#[allow(clippy::too_many_arguments)]
fn classify(g: &Graph, p: &Path, s: usize, t: usize, nh: i32, first_arc: i32, node_mode: bool, ws: &Workspace) -> i32 {
    let _ = s;
    if p.arcs.is_empty() || p.arcs[0] as i32 == first_arc {
        return KIND_NONE;
    }
    let st = ws.stamp;
    let disjoint = if node_mode {
        p.nodes[1..p.nodes.len() - 1].iter().all(|&v| ws.on[v as usize] != st)
    } else {
        p.arcs.iter().all(|&a| ws.blk[a as usize] != st)
    };
    if disjoint {
        return KIND_DISJOINT;
    }
    let _ = g;
    if nh as usize != t && p.nodes.iter().all(|&v| v as i32 != nh) {
        return KIND_NODE;
    }
    KIND_LINK
}

/// Shortest path from s to t avoiding `avoid`, from a tree cached per avoided element.
fn fallback_path(g: &Graph, s: usize, t: usize, avoid: Avoid, ws: &mut Workspace) -> Option<Path> {
    let key = (avoid.node, avoid.arc1);
    let mut idx = NONE;
    for i in 0..ws.fallback_used {
        if ws.fallback[i].0 == key.0 && ws.fallback[i].1 == key.1 {
            idx = i as i32;
            break;
        }
    }
    if idx == NONE {
        if ws.fallback_used == ws.fallback.len() {
            ws.fallback.push((NONE, NONE, Tree::new()));
        }
        let i = ws.fallback_used;
        ws.fallback_used += 1;
        ws.fallback[i].0 = key.0;
        ws.fallback[i].1 = key.1;
        dijkstra::run(g, s, &mut ws.fallback[i].2, ws.radix.get_or_insert_with(RadixHeap::new), avoid);
        idx = i as i32;
    }
    let tree = &ws.fallback[idx as usize].2;
    if !tree.dist[t].is_finite() {
        return None;
    }
    let mut nodes = Vec::new();
    let mut arcs = Vec::new();
    let mut v = t;
    while v != s {
        nodes.push(v as u32);
        arcs.push(tree.parc[v] as u32);
        v = tree.pred[v] as usize;
    }
    nodes.push(s as u32);
    nodes.reverse();
    arcs.reverse();
    Some(Path { nodes, arcs, cost: tree.dist[t] })
}
