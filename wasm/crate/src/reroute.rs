//! The fast-reroute table of one source: for every reachable destination the shortest path
//! (primary) and a backup whose first hop differs from the primary's.
//!
//! The backup is the shortest path that shares no intermediate node (node mode) or no link
//! (edge mode) with the primary ("disjoint"); when none exists, the shortest path avoiding the
//! primary's next-hop router ("node", node mode), else its first link ("link"). Primary +
//! disjoint backup is a disjoint pair of minimum cost among the pairs that contain the
//! primary; Suurballe's optimum (`disjoint.rs`) is lower only when the shortest path itself is
//! in no optimal pair.
//!
//! Cost: one Dijkstra for the primary tree and potentials; one per first hop for the trees
//! avoiding that hop (their path is the answer whenever it is disjoint from the primary); and,
//! for the other destinations, a goal-directed search restricted to the first hop's subtree
//! (`second_search.rs`), with landmark bounds (`landmarks.rs`).

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
use second_search::{disjoint_backup, entries};

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
    dist2: Vec<f64>,
    seen2: Vec<u32>,
    pred2: Vec<i32>,
    parc2: Vec<i32>,
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
            dist2: Vec::new(),
            seen2: Vec::new(),
            pred2: Vec::new(),
            parc2: Vec::new(),
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
            reset(&mut self.seen2, 2 * n, 0);
        }
        reset(&mut self.dist2, 2 * n, f64::INFINITY);
        reset(&mut self.pred2, 2 * n, NONE);
        reset(&mut self.parc2, 2 * n, NONE);
        reset(&mut self.nh, n, NONE);
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
    let link = Avoid {
        arc1: first_arc,
        arc2: g.twin[first_arc as usize],
        node: NONE,
    };
    // The shortest path avoiding the next-hop router (node mode) or the first link: one tree per
    // first hop. When it happens to be disjoint from the primary it is also the shortest
    // disjoint path (the graph without the primary is a subgraph of the one it was found in).
    let (avoid, kind) = if node_mode && nh as usize != t {
        (
            Avoid {
                arc1: NONE,
                arc2: NONE,
                node: nh,
            },
            KIND_NODE,
        )
    } else {
        (link, KIND_LINK)
    };
    match fallback_path(g, s, t, avoid, ws) {
        Some(p) => {
            if is_disjoint(&p, node_mode, ws) {
                return (KIND_DISJOINT, Some(p));
            }
            if let Some(q) = disjoint_backup(g, s, t, node_mode, ws) {
                return (KIND_DISJOINT, Some(q));
            }
            (kind, Some(p))
        }
        // Every path crosses the next-hop router: no disjoint one; at least avoid the link.
        None if kind == KIND_NODE => match fallback_path(g, s, t, link, ws) {
            Some(p) => (KIND_LINK, Some(p)),
            None => (KIND_NONE, None),
        },
        None => (KIND_NONE, None),
    }
}

/// True when `p` shares no intermediate node (node mode) or no link (edge mode) with the
/// primary path marked in the workspace.
fn is_disjoint(p: &Path, node_mode: bool, ws: &Workspace) -> bool {
    let st = ws.stamp;
    if node_mode {
        p.nodes[1..p.nodes.len() - 1]
            .iter()
            .all(|&v| ws.on[v as usize] != st)
    } else {
        p.arcs.iter().all(|&a| ws.blk[a as usize] != st)
    }
}

fn first_arc_of(ws: &Workspace, s: usize, t: usize) -> i32 {
    let mut v = t;
    while ws.primary.pred[v] as usize != s {
        v = ws.primary.pred[v] as usize;
    }
    ws.primary.parc[v]
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
