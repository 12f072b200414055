//! A 4-ary min-heap of (key, item) pairs with lazy deletion: Dijkstra pushes a node again when its
//! distance drops and skips stale entries on pop. Four children per node halve the depth of a
//! binary heap and keep siblings in one cache line, which is what makes it faster here.

#[derive(Clone, Copy)]
struct Entry {
    key: f64,
    item: u32,
}

/// Min-heap keyed by `f64`; keys must not be NaN (the wrapper rejects NaN weights).
pub struct Heap {
    data: Vec<Entry>,
}

impl Heap {
    pub const fn new() -> Heap {
        Heap { data: Vec::new() }
    }

    #[inline]
    pub fn clear(&mut self) {
        self.data.clear();
    }

    #[inline]
    pub fn push(&mut self, key: f64, item: u32) {
        let data = &mut self.data;
        let mut i = data.len();
        data.push(Entry { key, item });
        while i > 0 {
            let parent = (i - 1) >> 2;
            let p = data[parent];
            if p.key <= key {
                break;
            }
            data[i] = p;
            i = parent;
        }
        data[i] = Entry { key, item };
    }

    /// Smallest key, if any.
    #[inline]
    pub fn peek_key(&self) -> Option<f64> {
        self.data.first().map(|e| e.key)
    }

    /// Removes and returns the entry with the smallest key.
    #[inline]
    pub fn pop(&mut self) -> Option<(f64, u32)> {
        let data = &mut self.data;
        let len = data.len();
        if len == 0 {
            return None;
        }
        let top = data[0];
        let last = data[len - 1];
        data.truncate(len - 1);
        let len = len - 1;
        if len > 0 {
            let mut i = 0usize;
            loop {
                let first = (i << 2) + 1;
                if first >= len {
                    break;
                }
                let end = if first + 4 < len { first + 4 } else { len };
                let mut best = first;
                let mut best_key = data[first].key;
                let mut c = first + 1;
                while c < end {
                    let k = data[c].key;
                    if k < best_key {
                        best_key = k;
                        best = c;
                    }
                    c += 1;
                }
                if best_key >= last.key {
                    break;
                }
                data[i] = data[best];
                i = best;
            }
            data[i] = last;
        }
        Some((top.key, top.item))
    }
}
