//! R-peak (beat) detection, for the heart rate on the printout and the rhythm a doctor reads
//! at the bedside.
//!
//! The single-lead detector follows Pan & Tompkins (1985) with the refinements of Hamilton &
//! Tompkins (1986): a 5–15 Hz band-pass, a derivative, squaring and a 150 ms moving-window
//! integration; peaks of the integrated signal are classified as QRS or noise against
//! adaptive thresholds, with a 200 ms refractory period, T-wave discrimination by slope
//! within 360 ms of a beat, and a search-back at half threshold when no beat came for 1.66
//! mean RR intervals. A last pass drops small detections that split one normal RR interval
//! in two (artefacts between beats). The beat is then placed on the R peak (largest
//! deflection of the band-passed signal near the integrated peak). Finally, in stretches
//! where the signal between beats is far larger than usual for the recording (motion
//! artefact), a detection must look like a beat: one that matches none of the QRS shapes
//! learnt from the clean stretches (normal, ventricular, ...) is dropped, see `check_shapes`.
//!
//! Filters are designed from the sampling rate (any rate from about 100 Hz up works) and
//! applied forward and backward, so they add no delay. Recordings with several leads are
//! detected lead by lead; the rhythm lead (II, MLII, else the first) is used except over
//! stretches where another lead's beats stand out far more clearly (an electrode off, a
//! lead drowned in artefact), see [`detect_beats`]. On MIT-BIH 100/105/208 switching more
//! eagerly made things worse, hence the high bar. Long pauses left in the fused beats are
//! filled from another lead when its beats there keep the usual rhythm (see `fill_gaps`).

use crate::Ecg;

/// Beats found in a recording.
#[derive(Debug, Clone, PartialEq)]
pub struct Beats {
    /// R-peak sample indices, increasing.
    pub samples: Vec<usize>,
    /// Heart rate from the median RR interval, when there are at least two beats.
    pub heart_rate_bpm: Option<f64>,
    /// Names of the leads whose detections were used.
    pub leads_used: Vec<String>,
}

/// Second-order IIR section (direct form I), coefficients normalised by a0.
#[derive(Clone, Copy)]
struct Biquad {
    b: [f64; 3],
    a: [f64; 2],
}

impl Biquad {
    /// Butterworth low-pass (RBJ cookbook, Q = 1/sqrt 2).
    fn low_pass(fc: f64, fs: f64) -> Biquad {
        let w0 = 2.0 * std::f64::consts::PI * (fc / fs).min(0.49);
        let alpha = w0.sin() / (2.0 * std::f64::consts::FRAC_1_SQRT_2);
        let cos = w0.cos();
        let a0 = 1.0 + alpha;
        let b1 = (1.0 - cos) / a0;
        Biquad {
            b: [b1 / 2.0, b1, b1 / 2.0],
            a: [-2.0 * cos / a0, (1.0 - alpha) / a0],
        }
    }

    /// Butterworth high-pass (RBJ cookbook, Q = 1/sqrt 2).
    fn high_pass(fc: f64, fs: f64) -> Biquad {
        let w0 = 2.0 * std::f64::consts::PI * (fc / fs).min(0.49);
        let alpha = w0.sin() / (2.0 * std::f64::consts::FRAC_1_SQRT_2);
        let cos = w0.cos();
        let a0 = 1.0 + alpha;
        let b0 = (1.0 + cos) / 2.0 / a0;
        Biquad {
            b: [b0, -2.0 * b0, b0],
            a: [-2.0 * cos / a0, (1.0 - alpha) / a0],
        }
    }

    fn run(&self, x: &mut [f64]) {
        let (mut x1, mut x2, mut y1, mut y2) = (0.0, 0.0, 0.0, 0.0);
        for v in x.iter_mut() {
            let x0 = *v;
            let y0 =
                self.b[0] * x0 + self.b[1] * x1 + self.b[2] * x2 - self.a[0] * y1 - self.a[1] * y2;
            x2 = x1;
            x1 = x0;
            y2 = y1;
            y1 = y0;
            *v = y0;
        }
    }
}

/// Applies `sections` forward then backward (zero phase).
fn filtfilt(x: &mut [f64], sections: &[Biquad]) {
    for s in sections {
        s.run(x);
    }
    x.reverse();
    for s in sections {
        s.run(x);
    }
    x.reverse();
}

/// Band-pass (zero phase) of a lead, in mV.
fn band_pass(signal: &[f32], fs: f64, lo: f64, hi: f64) -> Vec<f64> {
    let first = signal.first().copied().unwrap_or(0.0) as f64;
    let mut x: Vec<f64> = signal.iter().map(|&v| v as f64 - first).collect();
    let mut sections = vec![Biquad::high_pass(lo, fs)];
    if hi < fs * 0.45 {
        sections.push(Biquad::low_pass(hi, fs));
    }
    filtfilt(&mut x, &sections);
    x
}

/// Moving average over `w` samples, centred.
fn moving_average(x: &[f64], w: usize) -> Vec<f64> {
    let w = w.max(1);
    let n = x.len();
    let mut prefix = Vec::with_capacity(n + 1);
    prefix.push(0.0);
    let mut acc = 0.0;
    for &v in x {
        acc += v;
        prefix.push(acc);
    }
    let half = w / 2;
    (0..n)
        .map(|i| {
            let lo = i.saturating_sub(half);
            let hi = (i + w - half).min(n);
            (prefix[hi] - prefix[lo]) / (hi - lo).max(1) as f64
        })
        .collect()
}

fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable_by(|a, b| a.total_cmp(b));
    let m = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    })
}

/// Intermediate signals of the single-lead detector.
struct Features {
    /// Band-passed signal (5–15 Hz).
    filtered: Vec<f64>,
    /// Absolute derivative of `filtered`.
    slope: Vec<f64>,
    /// Moving-window integration of the squared derivative.
    mwi: Vec<f64>,
}

fn features(signal: &[f32], fs: f64) -> Features {
    let filtered = band_pass(signal, fs, 5.0, 15.0);
    let n = filtered.len();
    let mut slope = vec![0.0; n];
    for i in 1..n.saturating_sub(1) {
        slope[i] = (filtered[i + 1] - filtered[i - 1]) * fs / 2.0;
    }
    let squared: Vec<f64> = slope.iter().map(|d| d * d).collect();
    for s in slope.iter_mut() {
        *s = s.abs();
    }
    let mwi = moving_average(&squared, (0.15 * fs).round() as usize);
    Features {
        filtered,
        slope,
        mwi,
    }
}

/// A peak of the integrated signal.
#[derive(Clone, Copy, Debug)]
struct Peak {
    at: usize,
    height: f64,
    slope: f64,
}

/// Local maxima of the integrated signal that dominate a neighbourhood of `half` samples.
fn candidate_peaks(f: &Features, half: usize, fs: f64) -> Vec<Peak> {
    let x = &f.mwi;
    let n = x.len();
    let mut out = Vec::new();
    let qrs = (0.1 * fs).round() as usize;
    for i in 1..n.saturating_sub(1) {
        if !(x[i] > x[i - 1] && x[i] >= x[i + 1]) {
            continue;
        }
        let lo = i.saturating_sub(half);
        let hi = (i + half + 1).min(n);
        if x[lo..hi].iter().any(|&v| v > x[i]) {
            continue;
        }
        let slo = i.saturating_sub(qrs);
        let shi = (i + qrs + 1).min(n);
        let slope = f.slope[slo..shi].iter().fold(0.0f64, |a, &b| a.max(b));
        out.push(Peak {
            at: i,
            height: x[i],
            slope,
        });
    }
    out
}

/// Pan–Tompkins decision rules over the candidate peaks; returns accepted peaks (MWI
/// positions).
fn classify(peaks: &[Peak], fs: f64, n: usize) -> Vec<Peak> {
    let refractory = (0.2 * fs) as usize;
    let t_wave_window = (0.36 * fs) as usize;
    // Initial levels from the first 2 s (or the whole signal if shorter).
    let learn = ((2.0 * fs) as usize).min(n);
    let first: Vec<f64> = peaks
        .iter()
        .filter(|p| p.at < learn)
        .map(|p| p.height)
        .collect();
    let max0 = first.iter().fold(0.0f64, |a, &b| a.max(b));
    let mut spk = 0.5 * max0;
    let mut npk = {
        let mut v = first.clone();
        median(&mut v).unwrap_or(0.0) * 0.5
    };
    let mut accepted: Vec<Peak> = Vec::new();
    let mut rr: Vec<f64> = Vec::new();
    let mut last_noise: Vec<Peak> = Vec::new();

    let rr_mean = |rr: &[f64]| -> Option<f64> {
        if rr.len() < 2 {
            return None;
        }
        let k = rr.len().min(8);
        Some(rr[rr.len() - k..].iter().sum::<f64>() / k as f64)
    };

    let accept = |p: Peak, accepted: &mut Vec<Peak>, rr: &mut Vec<f64>| {
        if let Some(last) = accepted.last() {
            rr.push((p.at - last.at) as f64);
        }
        accepted.push(p);
    };

    for &p in peaks {
        let thr1 = npk + 0.25 * (spk - npk);
        // Search-back: a beat is overdue, take the largest noise peak above half threshold.
        if let (Some(last), Some(mean)) = (accepted.last().copied(), rr_mean(&rr)) {
            if (p.at - last.at) as f64 > 1.66 * mean {
                let best = last_noise
                    .iter()
                    .filter(|q| q.at > last.at + refractory && q.at < p.at)
                    .filter(|q| q.height > 0.5 * thr1)
                    .filter(|q| q.at - last.at > t_wave_window || q.slope >= 0.5 * last.slope)
                    .max_by(|a, b| a.height.total_cmp(&b.height))
                    .copied();
                match best {
                    Some(q) => {
                        spk = 0.25 * q.height.min(3.0 * spk) + 0.75 * spk;
                        accept(q, &mut accepted, &mut rr);
                    }
                    // Nothing even at half threshold: the signal level dropped (or an
                    // artefact inflated the levels); let the threshold come down.
                    None => spk = 0.5 * (spk + npk),
                }
                last_noise.clear();
            }
        }
        if p.height > thr1 {
            let last = accepted.last().copied();
            let is_t = match last {
                Some(l) => {
                    p.at - l.at < refractory
                        || (p.at - l.at < t_wave_window && p.slope < 0.5 * l.slope)
                }
                None => false,
            };
            if is_t {
                npk = 0.125 * p.height + 0.875 * npk;
                last_noise.push(p);
            } else {
                // A single huge artefact must not lift the level for many beats.
                spk = 0.125 * p.height.min(3.0 * spk) + 0.875 * spk;
                accept(p, &mut accepted, &mut rr);
                last_noise.clear();
            }
        } else {
            npk = 0.125 * p.height + 0.875 * npk;
            last_noise.push(p);
        }
    }
    accepted
}

/// Removes detections that split one normal RR interval in two while being much smaller than
/// both neighbours: the signature of an artefact between two beats. A real premature beat
/// either comes with a compensatory pause (the two intervals add up to more than the usual
/// RR) or is not small (ventricular beats have large slopes and energy).
fn drop_interpolated_noise(peaks: Vec<Peak>) -> Vec<Peak> {
    if peaks.len() < 5 {
        return peaks;
    }
    let mut keep = vec![true; peaks.len()];
    for i in 1..peaks.len() - 1 {
        let lo = i.saturating_sub(8);
        let hi = (i + 9).min(peaks.len());
        let mut rr: Vec<f64> = peaks[lo..hi]
            .windows(2)
            .map(|w| (w[1].at - w[0].at) as f64)
            .collect();
        let Some(typical) = median(&mut rr) else {
            continue;
        };
        let (prev, cur, next) = (peaks[i - 1], peaks[i], peaks[i + 1]);
        let span = (next.at - prev.at) as f64;
        if span < 1.3 * typical && cur.height < 0.5 * prev.height.min(next.height) {
            keep[i] = false;
        }
    }
    let mut k = keep.iter();
    peaks
        .into_iter()
        .filter(|_| k.next().copied().unwrap_or(true))
        .collect()
}

/// Places each detection on the R peak: the largest deflection of the band-passed signal
/// within 100 ms of the integrated peak.
fn locate_r(at: &[usize], filtered: &[f64], fs: f64) -> Vec<usize> {
    let w = (0.1 * fs).round() as usize;
    let n = filtered.len();
    let mut out: Vec<usize> = at
        .iter()
        .filter_map(|&i| {
            let lo = i.saturating_sub(w);
            let hi = (i + w + 1).min(n);
            (lo..hi).max_by(|&a, &b| filtered[a].abs().total_cmp(&filtered[b].abs()))
        })
        .collect();
    out.dedup();
    out
}

/// One lead's detections with what fusion needs to judge them.
struct LeadResult {
    /// R peaks.
    r: Vec<usize>,
    /// Integrated-signal peaks of the accepted beats (same order as `r`).
    mwi_at: Vec<usize>,
    mwi: Vec<f64>,
}

fn detect_lead_full(signal_mv: &[f32], fs: f64) -> LeadResult {
    if !(fs.is_finite() && fs >= 50.0) || signal_mv.len() < 3 {
        return LeadResult {
            r: Vec::new(),
            mwi_at: Vec::new(),
            mwi: Vec::new(),
        };
    }
    let f = features(signal_mv, fs);
    let peaks = candidate_peaks(&f, (0.1 * fs) as usize, fs);
    let accepted = drop_interpolated_noise(classify(&peaks, fs, f.mwi.len()));
    let mut mwi_at: Vec<usize> = accepted.iter().map(|p| p.at).collect();
    let mut r = locate_r(&mwi_at, &f.filtered, fs);
    // Two integrated peaks may land on one R peak: keep pairs aligned.
    if r.len() != mwi_at.len() {
        r = mwi_at
            .iter()
            .flat_map(|&m| locate_r(&[m], &f.filtered, fs))
            .collect();
        let mut keep = vec![true; r.len()];
        for i in 1..r.len() {
            if r[i] <= r[i - 1] {
                keep[i] = false;
            }
        }
        let mut k = keep.iter();
        r.retain(|_| k.next().copied().unwrap_or(false));
        let mut k = keep.iter();
        mwi_at.retain(|_| k.next().copied().unwrap_or(false));
    }
    let keep = check_shapes(&r, &band_pass(signal_mv, fs, 1.0, 30.0), &f.filtered, fs);
    let mut k = keep.iter();
    r.retain(|_| k.next().copied().unwrap_or(true));
    let mut k = keep.iter();
    mwi_at.retain(|_| k.next().copied().unwrap_or(true));
    LeadResult {
        r,
        mwi_at,
        mwi: f.mwi,
    }
}

/// Unit-norm, zero-mean window of `x` centred on `at` (None near the edges or when flat).
fn snippet(x: &[f64], at: usize, half: usize) -> Option<Vec<f64>> {
    if at < half || at + half >= x.len() {
        return None;
    }
    let w = &x[at - half..=at + half];
    let mean = w.iter().sum::<f64>() / w.len() as f64;
    let mut v: Vec<f64> = w.iter().map(|a| a - mean).collect();
    let norm = v.iter().map(|a| a * a).sum::<f64>().sqrt();
    if norm <= 0.0 {
        return None;
    }
    v.iter_mut().for_each(|a| *a /= norm);
    Some(v)
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Shape check of the detections in noisy stretches.
///
/// A QRS complex keeps its shape from beat to beat; an artefact does not. Each beat is
/// compared (correlation of the 1–30 Hz signal over ±60 ms, best over ±20 ms of shift) with
/// a few running templates, one per morphology seen repeatedly in clean stretches (normal
/// beats, ventricular beats, ...). A detection is dropped only where the signal between the
/// beats around it is much larger than usual for the recording ([`NOISY`]) AND it matches
/// none of the templates. Clean stretches are never judged by shape, so a clean beat of a new
/// form (the first ventricular beat) is kept, and starts a template of its own.
///
/// Returns which detections to keep.
fn check_shapes(r: &[usize], wide: &[f64], filtered: &[f64], fs: f64) -> Vec<bool> {
    let mut keep = vec![true; r.len()];
    if r.len() < 5 {
        return keep;
    }
    let half = (0.06 * fs).round() as usize;
    let shift = (0.02 * fs).round() as usize;
    let guard = (0.1 * fs).round() as usize;
    // Largest band-passed deflection in each gap between consecutive beats.
    let gaps: Vec<f64> = r
        .windows(2)
        .map(|w| {
            let (lo, hi) = (w[0] + guard, w[1].saturating_sub(guard));
            filtered
                .get(lo..hi.max(lo))
                .map_or(0.0, |g| g.iter().fold(0.0f64, |a, &b| a.max(b.abs())))
        })
        .collect();
    let usual = median(&mut gaps.clone()).unwrap_or(0.0);
    let mut templates: Vec<Template> = Vec::new();
    for (j, &at) in r.iter().enumerate() {
        // Local noise: the largest deflection in the two gaps on either side.
        let noise = gaps[j.saturating_sub(2)..(j + 2).min(gaps.len())]
            .iter()
            .fold(0.0f64, |a, &b| a.max(b));
        let (Some(s), Some(lo)) = (snippet(wide, at, half), at.checked_sub(shift)) else {
            continue;
        };
        let shifted: Vec<Vec<f64>> = (lo..=at + shift)
            .filter_map(|p| snippet(wide, p, half))
            .collect();
        let corr: Vec<f64> = templates
            .iter()
            .map(|t| {
                shifted
                    .iter()
                    .map(|x| dot(x, &t.shape))
                    .fold(-1.0f64, f64::max)
            })
            .collect();
        // Only shapes seen at least twice count: one artefact does not make a morphology.
        let confirmed = templates
            .iter()
            .zip(&corr)
            .filter(|(t, _)| t.count >= 2)
            .map(|(_, &c)| c)
            .reduce(f64::max);
        if noise > NOISY * usual && confirmed.is_some_and(|c| c < MIN_CORR) {
            keep[j] = false;
            continue;
        }
        if noise >= LEARN * usual {
            continue;
        }
        let best = corr
            .iter()
            .copied()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(&b.1));
        match best {
            Some((k, c)) if c >= SAME_SHAPE => templates[k].learn(&s, j),
            _ => {
                if templates.len() >= MAX_TEMPLATES {
                    // Forget the shape not seen for longest.
                    if let Some(k) = (0..templates.len()).min_by_key(|&k| templates[k].last) {
                        templates.remove(k);
                    }
                }
                templates.push(Template {
                    shape: s,
                    last: j,
                    count: 1,
                });
            }
        }
    }
    keep
}

/// Local noise above this multiple of the recording's usual makes a stretch noisy: its
/// detections must match a known shape.
const NOISY: f64 = 2.5;
/// Templates learn only from beats whose local noise is below this multiple of the usual
/// (kept apart from [`NOISY`] so that a shape met only in middling stretches is not judged).
const LEARN: f64 = 2.0;
/// Below this correlation with every known shape, a detection in a noisy stretch is dropped.
const MIN_CORR: f64 = 0.3;
/// A correlation this high means the same morphology.
const SAME_SHAPE: f64 = 0.8;
/// Morphologies tracked at once.
const MAX_TEMPLATES: usize = 6;

/// A running average of one beat morphology (unit norm).
struct Template {
    shape: Vec<f64>,
    /// Index of the last beat that matched it.
    last: usize,
    /// Beats that matched it.
    count: usize,
}

impl Template {
    fn learn(&mut self, s: &[f64], j: usize) {
        for (a, b) in self.shape.iter_mut().zip(s) {
            *a = 0.9 * *a + 0.1 * b;
        }
        let norm = dot(&self.shape, &self.shape).sqrt();
        if norm > 0.0 {
            self.shape.iter_mut().for_each(|a| *a /= norm);
        }
        self.last = j;
        self.count += 1;
    }
}

/// Beats in one lead (in millivolts), as R-peak sample indices.
pub fn detect_in_lead(signal_mv: &[f32], sampling_hz: f64) -> Vec<usize> {
    detect_lead_full(signal_mv, sampling_hz).r
}

/// How clearly a lead's detections stand out in `[lo, hi)`: median integrated height at its
/// beats over the largest integrated value away from them (1 means noise as large as beats).
fn quality(res: &LeadResult, lo: usize, hi: usize, fs: f64) -> f64 {
    let hi = hi.min(res.mwi.len());
    if lo >= hi {
        return 0.0;
    }
    let mut heights: Vec<f64> = res
        .mwi_at
        .iter()
        .filter(|&&m| m >= lo && m < hi)
        .map(|&m| res.mwi[m])
        .collect();
    let Some(signal) = median(&mut heights) else {
        return 0.0;
    };
    let guard = (0.15 * fs) as usize;
    let first = res.mwi_at.partition_point(|&m| m + guard < lo);
    let mut near = res.mwi_at[first..].iter().peekable();
    let mut noise = 0.0f64;
    for i in lo..hi {
        while near.peek().is_some_and(|&&m| m + guard < i) {
            near.next();
        }
        if near.peek().is_some_and(|&&m| m <= i + guard) {
            continue;
        }
        noise = noise.max(res.mwi[i]);
    }
    let snr = signal / (noise + signal * 1e-3 + f64::MIN_POSITIVE);
    // Missed beats and extra detections both break the rhythm: weigh by the share of RR
    // intervals close to the previous one.
    let r: Vec<usize> = res
        .r
        .iter()
        .copied()
        .filter(|&x| x >= lo && x < hi)
        .collect();
    let rr: Vec<f64> = r.windows(2).map(|w| (w[1] - w[0]) as f64).collect();
    if rr.len() < 2 {
        return snr * 0.5;
    }
    let steady = rr
        .windows(2)
        .filter(|w| w[1] > 0.7 * w[0] && w[1] < 1.43 * w[0])
        .count();
    snr * (0.5 + steady as f64 / (rr.len() - 1) as f64)
}

/// Fills long pauses (over 1.8 median RR intervals) of the fused beats, such as a lead
/// saturated or flat for a few seconds, with another lead's beats, when these fit the usual rhythm: every interval they make lies
/// within [`FILL_RR`] of the median RR interval. A real pause stays a pause, and a noisy
/// lead's scattered detections do not fit.
fn fill_gaps(beats: Vec<usize>, results: &[LeadResult], used: &mut [bool], fs: f64) -> Vec<usize> {
    let Some(typical) = median(
        &mut beats
            .windows(2)
            .map(|w| (w[1] - w[0]) as f64)
            .collect::<Vec<_>>(),
    ) else {
        return beats;
    };
    let refractory = (0.2 * fs) as usize;
    let fits = |rr: f64| rr >= FILL_RR.0 * typical && rr <= FILL_RR.1 * typical;
    let mut out = Vec::with_capacity(beats.len());
    for (i, &b) in beats.iter().enumerate() {
        out.push(b);
        let Some(&next) = beats.get(i + 1) else {
            break;
        };
        if ((next - b) as f64) < 1.8 * typical {
            continue;
        }
        for (k, res) in results.iter().enumerate() {
            let lo = res.r.partition_point(|&x| x <= b + refractory);
            let hi = res.r.partition_point(|&x| x + refractory < next);
            let inside = &res.r[lo..hi.max(lo)];
            if inside.is_empty() {
                continue;
            }
            let chain: Vec<usize> = std::iter::once(b)
                .chain(inside.iter().copied())
                .chain([next])
                .collect();
            if chain.windows(2).all(|w| fits((w[1] - w[0]) as f64)) {
                out.extend_from_slice(inside);
                used[k] = true;
                break;
            }
        }
    }
    out
}

/// Interval range (times the median RR) that beats filling a pause must keep.
const FILL_RR: (f64, f64) = (0.7, 1.4);

/// Heart rate in beats per minute from the median RR interval.
pub fn heart_rate(samples: &[usize], sampling_hz: f64) -> Option<f64> {
    let mut rr: Vec<f64> = samples.windows(2).map(|w| (w[1] - w[0]) as f64).collect();
    let m = median(&mut rr)?;
    (m > 0.0).then(|| 60.0 * sampling_hz / m)
}

/// Length of the stretches over which fusion picks a lead, in seconds.
const SEGMENT_S: f64 = 5.0;
/// How much clearer another lead must be than the primary one to replace it in a stretch.
const SWITCH_RATIO: f64 = 4.0;

/// Beats of a recording. Every lead is detected on its own; then, stretch by stretch of
/// [`SEGMENT_S`] seconds, the rhythm lead's beats are kept unless another lead's beats stand
/// out [`SWITCH_RATIO`] times more clearly from the rest of its signal (see `quality`), so a
/// lead lost for a while (electrode off, muscle artefact) is replaced by a cleaner one.
pub fn detect_beats(ecg: &Ecg) -> Beats {
    let fs = ecg.sampling_hz;
    let results: Vec<LeadResult> = ecg
        .leads
        .iter()
        .map(|l| detect_lead_full(&l.millivolts(), fs))
        .collect();
    let n = ecg.len();
    let seg = ((SEGMENT_S * fs) as usize).max(1);
    let mut samples: Vec<usize> = Vec::new();
    let mut used = vec![false; results.len()];
    // Lead II (or MLII) is the usual rhythm lead; otherwise the first.
    let primary = ecg
        .leads
        .iter()
        .position(|l| l.name.eq_ignore_ascii_case("II") || l.name.eq_ignore_ascii_case("MLII"))
        .unwrap_or(0);
    let mut lo = 0;
    while lo < n {
        let hi = (lo + seg).min(n);
        let qualities: Vec<f64> = results.iter().map(|r| quality(r, lo, hi, fs)).collect();
        let best = qualities
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(i, &q)| (i, q));
        // The primary lead keeps the stretch unless another is clearly better there.
        let pick = match (best, qualities.get(primary)) {
            (Some((i, q)), Some(&qp)) if q > SWITCH_RATIO * qp => Some(i),
            (_, Some(&qp)) if qp > 0.0 => Some(primary),
            (Some((i, q)), _) if q > 0.0 => Some(i),
            _ => None,
        };
        if let Some(i) = pick {
            used[i] = true;
            samples.extend(results[i].r.iter().copied().filter(|&r| r >= lo && r < hi));
        }
        lo = hi;
    }
    samples.sort_unstable();
    // Where two stretches meet, the two leads may both have the boundary beat.
    let refractory = (0.2 * fs) as usize;
    let mut fused: Vec<usize> = Vec::with_capacity(samples.len());
    for s in samples {
        match fused.last() {
            Some(&last) if s < last + refractory => {}
            _ => fused.push(s),
        }
    }
    let fused = fill_gaps(fused, &results, &mut used, fs);
    let leads_used = ecg
        .leads
        .iter()
        .zip(&used)
        .filter(|(_, &u)| u)
        .map(|(l, _)| l.name.clone())
        .collect();
    Beats {
        heart_rate_bpm: heart_rate(&fused, fs),
        samples: fused,
        leads_used,
    }
}
