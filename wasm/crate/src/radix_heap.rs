//! Radix heap for Dijkstra's monotone keys. A non-negative f64 orders like its bit pattern read
//! as a u64, so keys go into 65 buckets by the highest bit in which they differ from the last
//! extracted minimum; each entry moves down at most 64 times, and pops scan no comparisons of
//! unrelated keys. A bit mask of non-empty buckets finds the next bucket in one instruction.
//! Requires every pushed key >= the last popped one (true for Dijkstra with non-negative
//! weights).

pub struct RadixHeap {
    last: u64,
    len: usize,
    /// Bit i - 1 set when bucket i (1..=64) is non-empty.
    mask: u64,
    buckets: Vec<Vec<(u64, u32)>>,
}

#[inline]
fn bucket_of(key: u64, last: u64) -> usize {
    (64 - (key ^ last).leading_zeros()) as usize
}

impl RadixHeap {
    pub fn new() -> RadixHeap {
        RadixHeap {
            last: 0,
            len: 0,
            mask: 0,
            buckets: (0..65).map(|_| Vec::new()).collect(),
        }
    }

    pub fn clear(&mut self) {
        self.last = 0;
        self.len = 0;
        self.mask = 0;
        for b in self.buckets.iter_mut() {
            b.clear();
        }
    }

    #[inline]
    pub fn push(&mut self, key: f64, item: u32) {
        let k = key.to_bits();
        let i = bucket_of(k, self.last);
        self.len += 1;
        if i > 0 {
            self.mask |= 1u64 << (i - 1);
        }
        unsafe { self.buckets.get_unchecked_mut(i) }.push((k, item));
    }

    #[inline]
    pub fn pop(&mut self) -> Option<(f64, u32)> {
        if self.len == 0 {
            return None;
        }
        if self.buckets[0].is_empty() {
            // len > 0 and bucket 0 empty: some bucket 1..=64 is non-empty.
            let i = self.mask.trailing_zeros() as usize + 1;
            let mut moved = core::mem::take(&mut self.buckets[i]);
            self.mask &= !(1u64 << (i - 1));
            let mut min = u64::MAX;
            for &(k, _) in moved.iter() {
                if k < min {
                    min = k;
                }
            }
            // New minimum, then every entry of bucket i lands in a lower bucket.
            self.last = min;
            for &(k, v) in moved.iter() {
                let j = bucket_of(k, min);
                if j > 0 {
                    self.mask |= 1u64 << (j - 1);
                }
                unsafe { self.buckets.get_unchecked_mut(j) }.push((k, v));
            }
            // Keep the allocation for reuse.
            moved.clear();
            self.buckets[i] = moved;
        }
        self.len -= 1;
        self.buckets[0].pop().map(|(k, v)| (f64::from_bits(k), v))
    }
}
