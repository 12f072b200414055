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

use crate::dijkstra::Heap as RadixHeap;
use crate::dijkstra::{self, Avoid, Tree, AVOID_NOTHING};
use crate::disjoint::Path;
use crate::graph::{Graph, NONE};
use crate::heap::Heap;

/// Backup kinds as written to the result.
pub const KIND_NONE: i32 = 0;
pub const KIND_DISJOINT: i32 = 1;
pub const KIND_NODE: i32 = 2;
pub const KIND_LINK: i32 = 3;

mod landmarks;
mod second_search;

use landmarks::landmarks;
use second_search::{entries, pair, second_path};

/// Landmarks for the A* bound of the second search.
const LANDMARKS: usize = 8;

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
    dijkstra::run(
        g,
        s,
        &mut ws.primary,
        ws.radix.get_or_insert_with(RadixHeap::new),
        AVOID_NOTHING,
    );
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
            ws.res_i32[2 * n + t] = if p.nodes.len() > 1 {
                p.nodes[1] as i32
            } else {
                NONE
            };
            ws.res_i32[3 * n + t] = kind;
            ws.res_i32[4 * n + t] = ws.res_i32.len() as i32;
            ws.res_i32[5 * n + t] = p.nodes.len() as i32;
            for &v in p.nodes.iter() {
                ws.res_i32.push(v as i32);
            }
        }
    }
}

fn backup_for(
    g: &Graph,
    s: usize,
    t: usize,
    node_mode: bool,
    ws: &mut Workspace,
) -> (i32, Option<Path>) {
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
        let avoid = Avoid {
            arc1: NONE,
            arc2: NONE,
            node: nh,
        };
        if let Some(p) = fallback_path(g, s, t, avoid, ws) {
            return (KIND_NODE, Some(p));
        }
    }
    let avoid = Avoid {
        arc1: first_arc,
        arc2: g.twin[first_arc as usize],
        node: NONE,
    };
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

/// How well `p` protects the primary path: disjoint from it, avoiding its next-hop node,
/// avoiding only its first link, or not at all.
#[allow(clippy::too_many_arguments)]
fn classify(
    g: &Graph,
    p: &Path,
    s: usize,
    t: usize,
    nh: i32,
    first_arc: i32,
    node_mode: bool,
    ws: &Workspace,
) -> i32 {
    let _ = s;
    if p.arcs.is_empty() || p.arcs[0] as i32 == first_arc {
        return KIND_NONE;
    }
    let st = ws.stamp;
    let disjoint = if node_mode {
        p.nodes[1..p.nodes.len() - 1]
            .iter()
            .all(|&v| ws.on[v as usize] != st)
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
        dijkstra::run(
            g,
            s,
            &mut ws.fallback[i].2,
            ws.radix.get_or_insert_with(RadixHeap::new),
            avoid,
        );
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
    Some(Path {
        nodes,
        arcs,
        cost: tree.dist[t],
    })
}
