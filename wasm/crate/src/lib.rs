//! x0tta6bl4 compute core: the ABI is plain exported functions over linear memory. The host
//! allocates input and output buffers with `alloc`, frees them with `dealloc`, and refers to
//! graphs and forests by integer handles that it frees explicitly. Variable-sized results
//! (paths, route tables) land in two result buffers owned here and reused by every call, so
//! memory is bounded by the largest call, not by the number of calls.
//!
//! Return codes: >= 0 success (a handle or a count); < 0 an error (see `ERR_*`).

mod bucket_queue;
mod dijkstra;
mod disjoint;
mod graph;
mod heap;
mod iforest;
mod radix_heap;
mod reroute;

use std::alloc::{alloc as sys_alloc, dealloc as sys_dealloc, Layout};

use graph::Graph;

pub const ERR_HANDLE: i32 = -1;
pub const ERR_NODE: i32 = -2;
pub const ERR_ARGUMENT: i32 = -3;

struct State {
    graphs: Vec<Option<Graph>>,
    forests: Vec<Option<iforest::Forest>>,
    tree: dijkstra::Tree,
    heap: Option<dijkstra::Heap>,
    reroute: reroute::Workspace,
    res_f64: Vec<f64>,
    res_i32: Vec<i32>,
}

static mut STATE: State = State {
    graphs: Vec::new(),
    forests: Vec::new(),
    tree: dijkstra::Tree::new(),
    heap: None,
    reroute: reroute::Workspace::new(),
    res_f64: Vec::new(),
    res_i32: Vec::new(),
};

fn state() -> &'static mut State {
    // Single-threaded wasm instance: the host never calls re-entrantly.
    unsafe { &mut *core::ptr::addr_of_mut!(STATE) }
}

fn slot<T>(v: &mut Vec<Option<T>>, item: T) -> i32 {
    for (i, s) in v.iter_mut().enumerate() {
        if s.is_none() {
            *s = Some(item);
            return i as i32 + 1;
        }
    }
    v.push(Some(item));
    v.len() as i32
}

fn get<T>(v: &[Option<T>], h: i32) -> Option<&T> {
    if h < 1 || h as usize > v.len() {
        return None;
    }
    v[h as usize - 1].as_ref()
}

unsafe fn slice<'a, T>(ptr: usize, len: usize) -> &'a [T] {
    if len == 0 {
        &[]
    } else {
        core::slice::from_raw_parts(ptr as *const T, len)
    }
}

unsafe fn slice_mut<'a, T>(ptr: usize, len: usize) -> &'a mut [T] {
    if len == 0 {
        &mut []
    } else {
        core::slice::from_raw_parts_mut(ptr as *mut T, len)
    }
}

/// Allocates `size` bytes aligned to 8; returns 0 on failure.
#[no_mangle]
pub extern "C" fn alloc(size: usize) -> usize {
    if size == 0 {
        return 8;
    }
    match Layout::from_size_align(size, 8) {
        Ok(layout) => unsafe { sys_alloc(layout) as usize },
        Err(_) => 0,
    }
}

/// Frees a block returned by `alloc` with the same size.
#[no_mangle]
pub extern "C" fn dealloc(ptr: usize, size: usize) {
    if size == 0 || ptr == 0 {
        return;
    }
    if let Ok(layout) = Layout::from_size_align(size, 8) {
        unsafe { sys_dealloc(ptr as *mut u8, layout) }
    }
}

#[no_mangle]
pub extern "C" fn res_f64_ptr() -> usize {
    state().res_f64.as_ptr() as usize
}

#[no_mangle]
pub extern "C" fn res_f64_len() -> usize {
    state().res_f64.len()
}

#[no_mangle]
pub extern "C" fn res_i32_ptr() -> usize {
    state().res_i32.as_ptr() as usize
}

#[no_mangle]
pub extern "C" fn res_i32_len() -> usize {
    state().res_i32.len()
}

/// Copies a CSR graph (offsets n+1, targets m, weights m, link ids m) and returns its handle.
#[no_mangle]
pub extern "C" fn graph_new(
    n: usize,
    m: usize,
    off: usize,
    dst: usize,
    w: usize,
    link: usize,
    directed: i32,
) -> i32 {
    let st = state();
    let g = unsafe {
        Graph::from_csr(
            n,
            slice(off, n + 1),
            slice(dst, m),
            slice(w, m),
            slice(link, m),
            directed != 0,
        )
    };
    match g {
        Ok(g) => slot(&mut st.graphs, g),
        Err(code) => code,
    }
}

#[no_mangle]
pub extern "C" fn graph_free(h: i32) -> i32 {
    let st = state();
    if get(&st.graphs, h).is_none() {
        return ERR_HANDLE;
    }
    st.graphs[h as usize - 1] = None;
    while let Some(None) = st.graphs.last() {
        st.graphs.pop();
    }
    0
}

/// Dijkstra from `s`: writes n distances, n predecessors and, when `nh` is not 0, n next hops.
#[no_mangle]
pub extern "C" fn shortest_tree(h: i32, s: i32, dist: usize, pred: usize, nh: usize) -> i32 {
    let st = state();
    let g = match get(&st.graphs, h) {
        Some(g) => g,
        None => return ERR_HANDLE,
    };
    if s < 0 || s as usize >= g.n {
        return ERR_NODE;
    }
    let n = g.n;
    let heap = st.heap.get_or_insert_with(dijkstra::Heap::new);
    if nh != 0 {
        dijkstra::run(g, s as usize, &mut st.tree, heap, dijkstra::AVOID_NOTHING);
    } else {
        dijkstra::run_light(g, s as usize, &mut st.tree, heap);
    }
    unsafe {
        if dist != 0 {
            slice_mut::<f64>(dist, n).copy_from_slice(&st.tree.dist);
        }
        if pred != 0 {
            slice_mut::<i32>(pred, n).copy_from_slice(&st.tree.pred);
        }
        if nh != 0 {
            dijkstra::next_hops(s as usize, &st.tree, slice_mut::<i32>(nh, n));
        }
    }
    0
}

/// Up to k disjoint s-t paths; result: res_f64 = costs, res_i32 = [len of each path..., nodes...].
#[no_mangle]
pub extern "C" fn disjoint_paths(h: i32, s: i32, t: i32, k: i32, node_disjoint: i32) -> i32 {
    let st = state();
    let g = match get(&st.graphs, h) {
        Some(g) => g,
        None => return ERR_HANDLE,
    };
    if s < 0 || t < 0 || s as usize >= g.n || t as usize >= g.n {
        return ERR_NODE;
    }
    if k < 1 || s == t {
        return ERR_ARGUMENT;
    }
    let paths = disjoint::disjoint_paths(g, s as usize, t as usize, k as usize, node_disjoint != 0);
    st.res_f64.clear();
    st.res_i32.clear();
    for p in paths.iter() {
        st.res_f64.push(p.cost);
        st.res_i32.push(p.nodes.len() as i32);
    }
    for p in paths.iter() {
        st.res_i32.extend(p.nodes.iter().map(|&v| v as i32));
    }
    paths.len() as i32
}

/// Fast-reroute table of `s`; layout documented on `reroute::Workspace`.
#[no_mangle]
pub extern "C" fn route_table(h: i32, s: i32, node_disjoint: i32) -> i32 {
    let st = state();
    let g = match get(&st.graphs, h) {
        Some(g) => g,
        None => return ERR_HANDLE,
    };
    if s < 0 || s as usize >= g.n {
        return ERR_NODE;
    }
    reroute::route_table(g, s as usize, node_disjoint != 0, &mut st.reroute);
    core::mem::swap(&mut st.res_f64, &mut st.reroute.res_f64);
    core::mem::swap(&mut st.res_i32, &mut st.reroute.res_i32);
    0
}

/// Fits an Isolation Forest on a row-major matrix and returns its handle.
#[no_mangle]
pub extern "C" fn forest_fit(
    data: usize,
    rows: usize,
    cols: usize,
    trees: usize,
    sample: usize,
    seed_lo: u32,
    seed_hi: u32,
) -> i32 {
    if rows < 2 || cols < 1 || trees < 1 || sample < 2 {
        return ERR_ARGUMENT;
    }
    let x = unsafe { slice::<f64>(data, rows * cols) };
    if x.iter().any(|v| !v.is_finite()) {
        return ERR_ARGUMENT;
    }
    let seed = ((seed_hi as u64) << 32) | seed_lo as u64;
    let f = iforest::fit(x, rows, cols, trees, sample, seed);
    slot(&mut state().forests, f)
}

/// Scores a row-major matrix into `out` (rows f64).
#[no_mangle]
pub extern "C" fn forest_score(h: i32, data: usize, rows: usize, cols: usize, out: usize) -> i32 {
    let st = state();
    let f = match get(&st.forests, h) {
        Some(f) => f,
        None => return ERR_HANDLE,
    };
    if cols != f.cols {
        return ERR_ARGUMENT;
    }
    unsafe {
        f.score(
            slice::<f64>(data, rows * cols),
            rows,
            slice_mut::<f64>(out, rows),
        )
    };
    0
}

#[no_mangle]
pub extern "C" fn forest_free(h: i32) -> i32 {
    let st = state();
    if get(&st.forests, h).is_none() {
        return ERR_HANDLE;
    }
    st.forests[h as usize - 1] = None;
    while let Some(None) = st.forests.last() {
        st.forests.pop();
    }
    0
}

/// Subsample size actually used by a forest (min(sample, training rows)).
#[no_mangle]
pub extern "C" fn forest_sample_size(h: i32) -> i32 {
    match get(&state().forests, h) {
        Some(f) => f.psi as i32,
        None => ERR_HANDLE,
    }
}
