//! Alignment with class labels, streamed: one [`Accumulator`] per class.
//!
//! Class `k` keeps its own rows of `Phi` while they are few (or its Gram
//! `G_k = Phi_k^T Phi_k`) and `s_k = Phi_k^T 1`. Everything follows from those and the class
//! counts `n_k`, so batches of rows with their labels can arrive in any order and no class
//! frequency is needed up front (`pi_k = n_k / n`):
//! - two classes: binary targets (the first class -1, the second +1):
//!   `G = G_0 + G_1`, `B = s_1 - s_0`, `||y||^2 = n`;
//! - three or more: centred one-vs-rest targets `Y[j, m] = 2 (1[label_j = m] - pi_m)`:
//!   `G = sum_k G_k`, `B[:, m] = 2 s_m - 2 pi_m sum_k s_k`, `||Y||_F^2 = 4 n sum_m pi_m (1 - pi_m)`;
//! - a pair of classes `(a, b)`, on its rows alone (a is -1): `G_a + G_b`, `B = s_b - s_a`,
//!   `||y||^2 = n_a + n_b`. [`ClassAccumulator::pair_mean_auc`] is the mean of these aucs over
//!   pairs: the number comparable with binary tasks.
//!
//! While `n <= p` the rows are kept and the kernel path runs on them (for pairs, on the blocks
//! of one kernel `Phi Phi^T`). Memory: the kept rows (at most `n (p + 1)` values), or one Gram
//! per class once a class has more than `p` rows.

use faer::linalg::matmul::triangular::{self, BlockStructure};
use faer::{Accum, Mat, MatRef};

use crate::accumulate::{gram_path, kernel_from_matrix, kernel_path};
use crate::{Accumulator, AlignError, Options, Spectrum, Task};

/// Streams rows of a representation with their class labels; see the module docs.
#[derive(Clone)]
pub struct ClassAccumulator {
    d: usize,
    options: Options,
    /// Distinct class values, ascending.
    classes: Vec<f64>,
    /// One accumulator per class, its one target column all ones (so `B_k = s_k`).
    parts: Vec<Accumulator>,
    n: usize,
}

impl std::fmt::Debug for ClassAccumulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClassAccumulator")
            .field("d", &self.d)
            .field("classes", &self.classes)
            .field("counts", &self.counts())
            .finish()
    }
}

fn list(values: &[f64]) -> String {
    values
        .iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

impl ClassAccumulator {
    /// An empty accumulator for `d` features and these class values (at least two distinct,
    /// finite; any order).
    pub fn new(d: usize, classes: &[f64], options: Options) -> Result<Self, AlignError> {
        if let Some(row) = classes.iter().position(|v| !v.is_finite()) {
            return Err(AlignError::NonFiniteLabel {
                row,
                value: classes[row],
            });
        }
        let mut sorted = classes.to_vec();
        sorted.sort_by(f64::total_cmp);
        sorted.dedup();
        if sorted.len() < 2 {
            return Err(AlignError::TooFewClasses {
                found: sorted.len(),
            });
        }
        let parts = sorted
            .iter()
            .map(|_| Accumulator::new(d, 1, options))
            .collect();
        Ok(ClassAccumulator {
            d,
            options,
            classes: sorted,
            parts,
            n: 0,
        })
    }

    /// The class values, ascending (class `k` of [`ClassAccumulator::pair`] is the k-th).
    pub fn classes(&self) -> &[f64] {
        &self.classes
    }

    /// Rows seen so far.
    pub fn rows(&self) -> usize {
        self.n
    }

    /// Rows seen so far of each class.
    pub fn counts(&self) -> Vec<usize> {
        self.parts.iter().map(Accumulator::rows).collect()
    }

    /// Binary for two classes, multi-class (centred) for more.
    pub fn task(&self) -> Task {
        if self.classes.len() == 2 {
            Task::Binary
        } else {
            Task::Multiclass
        }
    }

    /// An upper bound on the bytes measuring `n` rows of `d` features in `c` classes holds at
    /// once (kept rows or one Gram per class, the decomposition, a spectrum), without overflow.
    pub fn memory_bound(n: usize, d: usize, c: usize, options: Options) -> u128 {
        let (n, p, c) = (n as u128, options.columns(d) as u128, c as u128);
        let m = n.min(p);
        8 * (n.min(c * p) * (p + 1) + p * (c + 1) + n.min(c) * p + 3 * m * m + m * c + 4 * m)
    }

    /// Adds a batch: `features` row-major (rows x d), one label per row. Errors (and leaves the
    /// accumulator unchanged) on a label that is not one of the classes or a value that is not
    /// finite, naming its row (counted over all batches) and column.
    pub fn push<T: Copy + Into<f64> + Sync>(
        &mut self,
        features: &[T],
        labels: &[f64],
    ) -> Result<(), AlignError> {
        let (d, rows) = (self.d, labels.len());
        if features.len() != rows * d {
            if d > 0 && features.len().is_multiple_of(d) {
                return Err(AlignError::LabelCount {
                    labels: rows,
                    rows: features.len() / d,
                });
            }
            return Err(AlignError::RaggedBatch {
                len: features.len(),
                width: d,
            });
        }
        let mut index = Vec::with_capacity(rows);
        for (i, &v) in labels.iter().enumerate() {
            let row = self.n + i;
            if !v.is_finite() {
                return Err(AlignError::NonFiniteLabel { row, value: v });
            }
            let k = self.classes.partition_point(|&c| c < v);
            if self.classes.get(k) != Some(&v) {
                return Err(AlignError::UnknownClass {
                    row,
                    value: v,
                    classes: list(&self.classes),
                });
            }
            index.push(k);
        }
        if let Some(i) = features.iter().position(|v| !(*v).into().is_finite()) {
            return Err(AlignError::NonFiniteFeature {
                row: self.n + i / d.max(1),
                col: i % d.max(1),
                value: features[i].into(),
            });
        }
        for (k, part) in self.parts.iter_mut().enumerate() {
            let mine: Vec<T> = index
                .iter()
                .enumerate()
                .filter(|&(_, &c)| c == k)
                .flat_map(|(row, _)| features[row * d..(row + 1) * d].iter().copied())
                .collect();
            let count = index.iter().filter(|&&c| c == k).count();
            if count > 0 {
                part.push(&mine, &vec![1.0; count])?;
            }
        }
        self.n += rows;
        Ok(())
    }

    /// Adds everything `other` accumulated (its rows with their labels), as if they had been
    /// pushed here. Errors when the two have other features, classes or options.
    pub fn merge(&mut self, other: ClassAccumulator) -> Result<(), AlignError> {
        if (self.d, self.options, &self.classes) != (other.d, other.options, &other.classes) {
            return Err(AlignError::Mismatch(format!(
                "cannot merge an accumulator of {} features and classes [{}] into one of {} and [{}]",
                other.d,
                list(&other.classes),
                self.d,
                list(&self.classes)
            )));
        }
        for (mine, theirs) in self.parts.iter_mut().zip(other.parts) {
            mine.merge(theirs)?;
        }
        self.n += other.n;
        Ok(())
    }

    fn p(&self) -> usize {
        self.options.columns(self.d)
    }

    fn check(&self, n: usize) -> Result<(), AlignError> {
        if n == 0 {
            return Err(AlignError::Empty {
                what: "no rows".into(),
            });
        }
        if self.p() == 0 {
            return Err(AlignError::Empty {
                what: "no feature columns and no bias column".into(),
            });
        }
        Ok(())
    }

    /// The rows of class `k` while they are kept.
    fn rows_of(&self, k: usize) -> Option<&[f64]> {
        self.parts[k].kept_rows()
    }

    /// The spectrum against every class: binary targets for two classes, centred one-vs-rest
    /// targets for more.
    pub fn finish(&self) -> Result<Spectrum, AlignError> {
        self.whole(&mut Shared::default())
    }

    /// Every row kept (`n <= p`): one kernel `K = Phi Phi^T` (lower triangle), rows in class
    /// order; the whole spectrum and every pair's are read from it.
    fn kernel<'a>(&self, shared: &'a mut Shared) -> &'a Mat<f64> {
        let (n, p, c) = (self.n, self.p(), self.classes.len());
        shared.kernel.get_or_insert_with(|| {
            let phi: Vec<f64> = (0..c)
                .flat_map(|k| self.rows_of(k).expect("n <= p keeps every class's rows"))
                .copied()
                .collect();
            let phi = MatRef::from_row_major_slice(&phi, n, p);
            let mut k = Mat::zeros(n, n);
            triangular::matmul(
                k.as_mut(),
                BlockStructure::TriangularLower,
                Accum::Replace,
                phi,
                BlockStructure::Rectangular,
                phi.transpose(),
                BlockStructure::Rectangular,
                1.0,
                faer::get_global_parallelism(),
            );
            k
        })
    }

    /// Class `k`'s `(G_k, s_k)`, computed once.
    fn gram<'a>(&self, k: usize, shared: &'a mut Shared) -> &'a (Mat<f64>, Mat<f64>) {
        if shared.grams.len() < self.classes.len() {
            shared.grams = (0..self.classes.len()).map(|_| None).collect();
        }
        shared.grams[k].get_or_insert_with(|| self.parts[k].gram())
    }

    fn whole(&self, shared: &mut Shared) -> Result<Spectrum, AlignError> {
        let (n, p, c) = (self.n, self.p(), self.classes.len());
        self.check(n)?;
        let counts = self.counts();
        let pi: Vec<f64> = counts.iter().map(|&m| m as f64 / n as f64).collect();
        let columns = if c == 2 { 1 } else { c };
        // Row of targets of a row of class k.
        let target = |k: usize| -> Vec<f64> {
            if c == 2 {
                vec![if k == 0 { -1.0 } else { 1.0 }]
            } else {
                (0..c)
                    .map(|m| 2.0 * (f64::from(u8::from(m == k)) - pi[m]))
                    .collect()
            }
        };
        let label_energy = if c == 2 {
            n as f64
        } else {
            4.0 * n as f64 * pi.iter().map(|q| q * (1.0 - q)).sum::<f64>()
        };
        let paths = if n <= p {
            let mut y = Vec::with_capacity(n * columns);
            for (k, &count) in counts.iter().enumerate() {
                let t = target(k);
                (0..count).for_each(|_| y.extend_from_slice(&t));
            }
            kernel_from_matrix(self.kernel(shared).clone(), &y, n, p, columns)?
        } else {
            let mut g = Mat::<f64>::zeros(p, p);
            let mut s = Vec::with_capacity(c);
            for k in 0..c {
                let (gk, sk) = self.gram(k, shared);
                g += gk;
                s.push(sk.clone());
            }
            let b = if c == 2 {
                &s[1] - &s[0]
            } else {
                let total = s.iter().fold(Mat::<f64>::zeros(p, 1), |acc, sk| acc + sk);
                Mat::from_fn(p, c, |i, m| {
                    2.0 * s[m][(i, 0)] - 2.0 * pi[m] * total[(i, 0)]
                })
            };
            gram_path(g.as_ref(), b.as_ref(), n)?
        };
        Ok(Spectrum {
            n,
            p,
            columns,
            label_energy,
            sigma: paths.0,
            energy: paths.1,
        })
    }

    /// Every pair `(a, b)` with `a < b`, in order.
    pub fn all_pairs(&self) -> Vec<(usize, usize)> {
        let c = self.classes.len();
        (0..c)
            .flat_map(|a| (a + 1..c).map(move |b| (a, b)))
            .collect()
    }

    /// The binary spectrum of classes `a` (-1) and `b` (+1) (indices into
    /// [`ClassAccumulator::classes`]) on their rows alone.
    pub fn pair(&self, a: usize, b: usize) -> Result<Spectrum, AlignError> {
        Ok(self.pairs(&[(a, b)])?.remove(0))
    }

    /// [`ClassAccumulator::pair`] for each of `pairs`, sharing the work between them: one kernel
    /// for all when every row is kept, one Gram per class otherwise.
    pub fn pairs(&self, pairs: &[(usize, usize)]) -> Result<Vec<Spectrum>, AlignError> {
        self.pairs_with(pairs, &mut Shared::default())
    }

    fn pairs_with(
        &self,
        pairs: &[(usize, usize)],
        shared: &mut Shared,
    ) -> Result<Vec<Spectrum>, AlignError> {
        let c = self.classes.len();
        if let Some(&(a, b)) = pairs.iter().find(|&&(a, b)| a >= c || b >= c || a == b) {
            return Err(AlignError::Mismatch(format!(
                "no class pair ({a}, {b}) among {c} classes (indices 0..{c}, two different ones)"
            )));
        }
        let (n, p) = (self.n, self.p());
        let counts = self.counts();
        let offsets: Vec<usize> = counts
            .iter()
            .scan(0, |acc, &m| {
                let start = *acc;
                *acc += m;
                Some(start)
            })
            .collect();
        let mut out = Vec::with_capacity(pairs.len());
        for &(a, b) in pairs {
            let m = counts[a] + counts[b];
            self.check(m)?;
            let mut y = vec![-1.0; counts[a]];
            y.resize(m, 1.0);
            let paths = if n <= p {
                let k = self.kernel(shared);
                let idx: Vec<usize> = (offsets[a]..offsets[a] + counts[a])
                    .chain(offsets[b]..offsets[b] + counts[b])
                    .collect();
                let sub = Mat::from_fn(m, m, |i, j| {
                    let (r, s) = (idx[i].max(idx[j]), idx[i].min(idx[j]));
                    k[(r, s)]
                });
                kernel_from_matrix(sub, &y, m, p, 1)?
            } else if m <= p {
                // Both classes' rows are kept (neither has more than p).
                let mut phi = self.rows_of(a).expect("n_a <= p").to_vec();
                phi.extend_from_slice(self.rows_of(b).expect("n_b <= p"));
                kernel_path(&phi, &y, m, p, 1)?
            } else {
                let (ga, sa) = self.gram(a, shared).clone();
                let (gb, sb) = self.gram(b, shared);
                gram_path((&ga + gb).as_ref(), (sb - &sa).as_ref(), m)?
            };
            out.push(Spectrum {
                n: m,
                p,
                columns: 1,
                label_energy: m as f64,
                sigma: paths.0,
                energy: paths.1,
            });
        }
        Ok(out)
    }

    /// The spectrum against every class ([`ClassAccumulator::finish`]) and the mean pair auc
    /// ([`ClassAccumulator::pair_mean_auc`]), sharing the kernel or the per-class Grams.
    pub fn finish_with_pair_mean(
        &self,
        pairs: Option<&[(usize, usize)]>,
    ) -> Result<(Spectrum, f64), AlignError> {
        let mut shared = Shared::default();
        let whole = self.whole(&mut shared)?;
        let all = self.all_pairs();
        let spectra = self.pairs_with(pairs.unwrap_or(&all), &mut shared)?;
        Ok((whole, mean_auc(&spectra)))
    }

    /// The mean over `pairs` (all pairs when `None`) of the binary auc measured on each pair's
    /// rows alone.
    pub fn pair_mean_auc(&self, pairs: Option<&[(usize, usize)]>) -> Result<f64, AlignError> {
        let all = self.all_pairs();
        let pairs = pairs.unwrap_or(&all);
        Ok(mean_auc(&self.pairs(pairs)?))
    }
}

fn mean_auc(spectra: &[Spectrum]) -> f64 {
    spectra.iter().map(|s| s.summary().auc).sum::<f64>() / spectra.len().max(1) as f64
}

/// What the whole spectrum and the pairs' share: the kernel of every kept row, or each class's
/// Gram.
#[derive(Default)]
struct Shared {
    kernel: Option<Mat<f64>>,
    grams: Vec<Option<(Mat<f64>, Mat<f64>)>>,
}
