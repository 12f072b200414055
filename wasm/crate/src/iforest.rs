//! Isolation Forest (Liu, Ting, Zhou 2008): each tree isolates a random subsample of psi rows by
//! random axis-aligned splits up to depth ceil(log2 psi); the anomaly score of x is
//! s(x, psi) = 2^(-E(h(x)) / c(psi)), where h is the path length plus c(size) of the leaf
//! reached and c(n) = 2 H(n - 1) - 2 (n - 1) / n is the mean path length of an unsuccessful
//! search in a binary search tree of n keys.

const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

/// c(n) as in the paper (and scikit-learn): 0 for n <= 1, 1 for n = 2.
pub fn average_path_length(n: usize) -> f64 {
    if n <= 1 {
        0.0
    } else if n == 2 {
        1.0
    } else {
        let m = (n - 1) as f64;
        2.0 * (m.ln() + EULER_GAMMA) - 2.0 * m / n as f64
    }
}

/// splitmix64: tiny, seedable, and good enough for sampling and split choice.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }

    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform integer in [0, n).
    #[inline]
    pub fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }

    /// Uniform float in [0, 1).
    #[inline]
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

/// A fitted forest: all trees' nodes in flat arrays. Internal node i splits on feature
/// `feat[i]` at `val[i]` (x < val goes to `left[i]`, else `left[i] + 1`); a leaf has
/// `feat[i] = -1` and `val[i]` = its depth + c(leaf size).
pub struct Forest {
    pub cols: usize,
    pub psi: usize,
    trees: usize,
    c_psi: f64,
    roots: Vec<u32>,
    feat: Vec<i32>,
    left: Vec<u32>,
    val: Vec<f64>,
}

/// Fits a forest on a row-major `rows x cols` matrix; the caller checked rows >= 2, cols >= 1.
pub fn fit(
    data: &[f64],
    rows: usize,
    cols: usize,
    trees: usize,
    sample: usize,
    seed: u64,
) -> Forest {
    let psi = if sample < rows { sample } else { rows };
    let height_limit = (psi as f64).log2().ceil() as usize;
    let mut rng = Rng::new(seed);
    let mut f = Forest {
        cols,
        psi,
        trees,
        c_psi: average_path_length(psi),
        roots: Vec::with_capacity(trees),
        feat: Vec::with_capacity(trees * (2 * psi - 1)),
        left: Vec::with_capacity(trees * (2 * psi - 1)),
        val: Vec::with_capacity(trees * (2 * psi - 1)),
    };
    let mut idx: Vec<u32> = (0..rows as u32).collect();
    let mut local = vec![0.0f64; psi * cols];
    let mut perm: Vec<u32> = Vec::with_capacity(psi);
    let mut feats: Vec<usize> = (0..cols).collect();
    let mut stack: Vec<(u32, usize, usize, usize)> = Vec::new();
    for _ in 0..trees {
        // Subsample without replacement (partial Fisher-Yates), copied column-major.
        for i in 0..psi {
            let j = i + rng.below(rows - i);
            idx.swap(i, j);
            let r = idx[i] as usize;
            for c in 0..cols {
                local[c * psi + i] = data[r * cols + c];
            }
        }
        perm.clear();
        perm.extend(0..psi as u32);
        let root = f.feat.len() as u32;
        f.roots.push(root);
        f.feat.push(-1);
        f.left.push(0);
        f.val.push(0.0);
        stack.clear();
        stack.push((root, 0, psi, 0));
        while let Some((node, lo, hi, depth)) = stack.pop() {
            let size = hi - lo;
            let node = node as usize;
            let split = if depth >= height_limit || size <= 1 {
                None
            } else {
                choose_split(&local, psi, &perm[lo..hi], &mut feats, &mut rng)
            };
            match split {
                None => {
                    f.feat[node] = -1;
                    f.val[node] = depth as f64 + average_path_length(size);
                }
                Some((c, thr)) => {
                    // Partition perm[lo..hi]: rows with x < thr first.
                    let col = &local[c * psi..(c + 1) * psi];
                    let mut i = lo;
                    let mut j = hi;
                    while i < j {
                        if col[perm[i] as usize] < thr {
                            i += 1;
                        } else {
                            j -= 1;
                            perm.swap(i, j);
                        }
                    }
                    let l = f.feat.len() as u32;
                    f.feat[node] = c as i32;
                    f.val[node] = thr;
                    f.left[node] = l;
                    for _ in 0..2 {
                        f.feat.push(-1);
                        f.left.push(0);
                        f.val.push(0.0);
                    }
                    stack.push((l, lo, i, depth + 1));
                    stack.push((l + 1, i, hi, depth + 1));
                }
            }
        }
    }
    f
}

/// A random feature that is not constant on these rows, and a threshold drawn uniformly
/// between its min and max (both children non-empty); None when every feature is constant.
fn choose_split(
    local: &[f64],
    psi: usize,
    rows: &[u32],
    feats: &mut [usize],
    rng: &mut Rng,
) -> Option<(usize, f64)> {
    let cols = feats.len();
    for tried in 0..cols {
        let j = tried + rng.below(cols - tried);
        feats.swap(tried, j);
        let c = feats[tried];
        let col = &local[c * psi..(c + 1) * psi];
        let mut lo = f64::INFINITY;
        let mut hi = f64::NEG_INFINITY;
        for &r in rows {
            let x = col[r as usize];
            if x < lo {
                lo = x;
            }
            if x > hi {
                hi = x;
            }
        }
        if hi > lo {
            let mut thr = lo + rng.unit() * (hi - lo);
            if !(thr > lo) {
                thr = lo + (hi - lo) * 0.5;
            }
            if !(thr > lo) {
                thr = hi;
            }
            return Some((c, thr));
        }
    }
    None
}

impl Forest {
    /// Scores a row-major matrix with `self.cols` columns into `out` (one score per row).
    pub fn score(&self, data: &[f64], rows: usize, out: &mut [f64]) {
        let cols = self.cols;
        let inv = 1.0 / (self.trees as f64 * self.c_psi);
        for r in 0..rows {
            let x = &data[r * cols..(r + 1) * cols];
            let mut sum = 0.0;
            for &root in self.roots.iter() {
                let mut i = root as usize;
                loop {
                    let c = self.feat[i];
                    if c < 0 {
                        break;
                    }
                    let go_right = (x[c as usize] >= self.val[i]) as usize;
                    i = self.left[i] as usize + go_right;
                }
                sum += self.val[i];
            }
            out[r] = (2.0f64).powf(-sum * inv);
        }
    }
}
