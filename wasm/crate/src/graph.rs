//! Compressed sparse row graph: the arcs leaving node `u` are `off[u]..off[u + 1]`. An undirected
//! link is two arcs that share a link id; `twin` pairs them so edge-disjoint search can treat
//! both directions of one link as one resource.

pub const NONE: i32 = -1;

pub struct Graph {
    pub n: usize,
    pub directed: bool,
    pub off: Vec<u32>,
    pub dst: Vec<u32>,
    pub w: Vec<f64>,
    pub twin: Vec<i32>,
    pub src: Vec<u32>,
    /// Smallest and largest arc weight (0 and 0 without arcs).
    pub min_w: f64,
    pub max_w: f64,
}

/// Validation failures, mirrored by the TypeScript wrapper's messages.
pub const ERR_OFFSETS: i32 = -10;
pub const ERR_TARGET: i32 = -11;
pub const ERR_WEIGHT: i32 = -12;
pub const ERR_LINK_ID: i32 = -13;

impl Graph {
    /// True when Dijkstra can use the bucket queue (positive weights in a narrow range).
    pub fn bucketable(&self) -> bool {
        self.min_w > 0.0 && self.max_w / self.min_w < (crate::bucket_queue::MAX_RING - 2) as f64
    }

    /// Builds a graph from CSR arrays, checking every invariant the algorithms rely on.
    pub fn from_csr(
        n: usize,
        off: &[i32],
        dst: &[i32],
        w: &[f64],
        link: &[i32],
        directed: bool,
    ) -> Result<Graph, i32> {
        let m = dst.len();
        if off.len() != n + 1 || off[0] != 0 || off[n] as usize != m {
            return Err(ERR_OFFSETS);
        }
        for u in 0..n {
            if off[u + 1] < off[u] {
                return Err(ERR_OFFSETS);
            }
        }
        for a in 0..m {
            if dst[a] < 0 || dst[a] as usize >= n {
                return Err(ERR_TARGET);
            }
            let x = w[a];
            if !(x >= 0.0) || !x.is_finite() {
                return Err(ERR_WEIGHT);
            }
        }
        let mut src = vec![0u32; m];
        for u in 0..n {
            for a in off[u] as usize..off[u + 1] as usize {
                src[a] = u as u32;
            }
        }
        let mut twin = vec![NONE; m];
        if !directed {
            // Each link id must name exactly two arcs, u->v and v->u.
            let mut first = vec![NONE; m];
            for a in 0..m {
                let id = link[a];
                if id < 0 || id as usize >= m {
                    return Err(ERR_LINK_ID);
                }
                let f = first[id as usize];
                if f == NONE {
                    first[id as usize] = a as i32;
                } else {
                    let f = f as usize;
                    if twin[f] != NONE || src[f] != dst[a] as u32 || dst[f] as u32 != src[a] {
                        return Err(ERR_LINK_ID);
                    }
                    twin[f] = a as i32;
                    twin[a] = f as i32;
                }
            }
            for a in 0..m {
                if twin[a] == NONE {
                    return Err(ERR_LINK_ID);
                }
            }
        }
        let min_w = w.iter().cloned().fold(f64::INFINITY, f64::min);
        let max_w = w.iter().cloned().fold(0.0, f64::max);
        Ok(Graph {
            n,
            min_w: if m == 0 { 0.0 } else { min_w },
            max_w,
            directed,
            off: off.iter().map(|&x| x as u32).collect(),
            dst: dst.iter().map(|&x| x as u32).collect(),
            w: w.to_vec(),
            twin,
            src,
        })
    }
}
