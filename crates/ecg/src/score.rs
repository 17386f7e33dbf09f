//! Beat-by-beat comparison of detected beats against reference annotations, the way the
//! ANSI/AAMI EC57 standard scores QRS detectors: a detection within a window of a reference
//! beat is a true positive, each reference and each detection matched at most once.

/// Result of [`score`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Score {
    pub tp: usize,
    pub fp: usize,
    pub fn_: usize,
    /// TP / (TP + FN); 1.0 when there is no reference beat.
    pub sensitivity: f64,
    /// Positive predictivity, TP / (TP + FP); 1.0 when nothing was detected.
    pub ppv: f64,
}

/// Matches `detected` against `reference` one-to-one within `window_samples` (inclusive),
/// closest pairs first. Inputs need not be sorted.
pub fn score(reference: &[u64], detected: &[u64], window_samples: u64) -> Score {
    let mut r: Vec<u64> = reference.to_vec();
    let mut d: Vec<u64> = detected.to_vec();
    r.sort_unstable();
    d.sort_unstable();
    // Every candidate pair within the window, found with a sliding start over sorted inputs.
    let mut pairs: Vec<(u64, usize, usize)> = Vec::new();
    let mut lo = 0usize;
    for (i, &ri) in r.iter().enumerate() {
        while lo < d.len() && d[lo] + window_samples < ri {
            lo += 1;
        }
        let mut j = lo;
        while j < d.len() && d[j] <= ri.saturating_add(window_samples) {
            pairs.push((d[j].abs_diff(ri), i, j));
            j += 1;
        }
    }
    pairs.sort_unstable();
    let mut r_used = vec![false; r.len()];
    let mut d_used = vec![false; d.len()];
    let mut tp = 0;
    for (_, i, j) in pairs {
        if !r_used[i] && !d_used[j] {
            r_used[i] = true;
            d_used[j] = true;
            tp += 1;
        }
    }
    let fn_ = r.len() - tp;
    let fp = d.len() - tp;
    let ratio = |num: usize, den: usize| {
        if den == 0 {
            1.0
        } else {
            num as f64 / den as f64
        }
    };
    Score {
        tp,
        fp,
        fn_,
        sensitivity: ratio(tp, tp + fn_),
        ppv: ratio(tp, tp + fp),
    }
}
