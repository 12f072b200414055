//! Single-source Dijkstra over the CSR graph: distances, predecessor node and arc of every node
//! (the shortest-path tree), settle order (for next hops) and an optional blocked arc pair or
//! node (used to find fallback paths around a failed first hop).

use crate::graph::{Graph, NONE};
/// The queues Dijkstra runs on (bucket queue when the weights allow, else radix heap).
pub type Heap = crate::bucket_queue::Queues;

/// A monotone priority queue.
trait Queue {
    fn push(&mut self, key: f64, item: u32);
    fn pop(&mut self) -> Option<(f64, u32)>;
}

impl Queue for crate::radix_heap::RadixHeap {
    #[inline]
    fn push(&mut self, key: f64, item: u32) {
        crate::radix_heap::RadixHeap::push(self, key, item)
    }
    #[inline]
    fn pop(&mut self) -> Option<(f64, u32)> {
        crate::radix_heap::RadixHeap::pop(self)
    }
}

impl Queue for crate::bucket_queue::BucketQueue {
    #[inline]
    fn push(&mut self, key: f64, item: u32) {
        crate::bucket_queue::BucketQueue::push(self, key, item)
    }
    #[inline]
    fn pop(&mut self) -> Option<(f64, u32)> {
        crate::bucket_queue::BucketQueue::pop(self)
    }
}

/// Output of one run; buffers are reused across runs so memory stays flat.
pub struct Tree {
    pub dist: Vec<f64>,
    pub pred: Vec<i32>,
    pub parc: Vec<i32>,
    pub order: Vec<u32>,
}

impl Tree {
    pub const fn new() -> Tree {
        Tree {
            dist: Vec::new(),
            pred: Vec::new(),
            parc: Vec::new(),
            order: Vec::new(),
        }
    }

    fn reset(&mut self, n: usize, full: bool) {
        self.dist.clear();
        self.dist.resize(n, f64::INFINITY);
        self.pred.clear();
        self.pred.resize(n, NONE);
        self.parc.clear();
        self.parc.resize(if full { n } else { 0 }, NONE);
        self.order.clear();
    }
}

/// What a run must avoid: up to two arcs (a link and its twin) and one node.
#[derive(Clone, Copy)]
pub struct Avoid {
    pub arc1: i32,
    pub arc2: i32,
    pub node: i32,
}

pub const AVOID_NOTHING: Avoid = Avoid {
    arc1: NONE,
    arc2: NONE,
    node: NONE,
};

/// Full shortest-path tree from `s` with predecessor arcs and settle order (route tables).
pub fn run(g: &Graph, s: usize, tree: &mut Tree, heap: &mut Heap, avoid: Avoid) {
    if g.bucketable() {
        heap.buckets.reset(g.min_w, g.max_w);
        run_impl::<_, true>(g, s, tree, &mut heap.buckets, avoid);
    } else {
        heap.radix.clear();
        run_impl::<_, true>(g, s, tree, &mut heap.radix, avoid);
    }
}

/// Distances and predecessor nodes only (no arcs, no order): the plain single-source query.
pub fn run_light(g: &Graph, s: usize, tree: &mut Tree, heap: &mut Heap) {
    if g.bucketable() {
        heap.buckets.reset(g.min_w, g.max_w);
        run_impl::<_, false>(g, s, tree, &mut heap.buckets, AVOID_NOTHING);
    } else {
        heap.radix.clear();
        run_impl::<_, false>(g, s, tree, &mut heap.radix, AVOID_NOTHING);
    }
}

/// The unrestricted case has its own loop: it is the hot path. FULL records arcs and order.
fn run_impl<Q: Queue, const FULL: bool>(
    g: &Graph,
    s: usize,
    tree: &mut Tree,
    heap: &mut Q,
    avoid: Avoid,
) {
    tree.reset(g.n, FULL);
    let dist = &mut tree.dist[..];
    let pred = &mut tree.pred[..];
    let parc = &mut tree.parc[..];
    let order = &mut tree.order;
    let off = &g.off[..];
    let dst = &g.dst[..];
    let w = &g.w[..];
    dist[s] = 0.0;
    heap.push(0.0, s as u32);
    let plain = avoid.arc1 == NONE && avoid.arc2 == NONE && avoid.node == NONE;
    while let Some((k, u)) = heap.pop() {
        let u = u as usize;
        if k > dist[u] {
            continue;
        }
        if FULL {
            order.push(u as u32);
        }
        let start = off[u] as usize;
        let end = off[u + 1] as usize;
        if plain {
            for a in start..end {
                // Safe: Graph::from_csr checked every target < n and off[n] == m.
                unsafe {
                    let v = *dst.get_unchecked(a) as usize;
                    let nd = k + *w.get_unchecked(a);
                    if nd < *dist.get_unchecked(v) {
                        *dist.get_unchecked_mut(v) = nd;
                        *pred.get_unchecked_mut(v) = u as i32;
                        if FULL {
                            *parc.get_unchecked_mut(v) = a as i32;
                        }
                        heap.push(nd, v as u32);
                    }
                }
            }
        } else {
            for a in start..end {
                let ai = a as i32;
                if ai == avoid.arc1 || ai == avoid.arc2 {
                    continue;
                }
                let v = dst[a] as usize;
                if v as i32 == avoid.node {
                    continue;
                }
                let nd = k + w[a];
                if nd < dist[v] {
                    dist[v] = nd;
                    pred[v] = u as i32;
                    parc[v] = a as i32;
                    heap.push(nd, v as u32);
                }
            }
        }
    }
}

/// First hop from the tree's source to every node (-1 for the source and unreachable nodes).
pub fn next_hops(s: usize, tree: &Tree, out: &mut [i32]) {
    for x in out.iter_mut() {
        *x = NONE;
    }
    // Settle order guarantees a node's predecessor is resolved before the node itself.
    for &v in tree.order.iter() {
        let v = v as usize;
        if v == s {
            continue;
        }
        let p = tree.pred[v] as usize;
        out[v] = if p == s { v as i32 } else { out[p] };
    }
}
