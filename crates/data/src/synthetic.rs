//! A synthetic transfer problem: inputs `x ~ N(0, I_d)` and linear-threshold teachers.
//!
//! The source labels are `1[w_s . x > 0]`. A target with similarity `rho` in [-1, 1] uses the
//! teacher `w_t = rho w_s + sqrt(1 - rho^2) w_o` with `w_o` a unit vector orthogonal to `w_s`
//! (drawn from the target seed), so `cos(w_s, w_t) = rho` and, for Gaussian inputs, source and
//! target labels agree on a fraction `1 - arccos(rho) / pi` of inputs: 1 at `rho = 1`, 1/2 at
//! `rho = 0` (independent tasks), 0 at `rho = -1` (flipped labels: the same task up to sign).

use serde::{Deserialize, Serialize};

use crate::{DataError, LabelMode, Rng, Task, shuffle_labels};

fn default_dim() -> usize {
    20
}
fn default_train() -> usize {
    1000
}
fn default_test() -> usize {
    1000
}

/// Sizes and seed of the synthetic problem.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeacherConfig {
    /// Input dimension d.
    #[serde(default = "default_dim")]
    pub dim: usize,
    /// Source training samples.
    #[serde(default = "default_train")]
    pub train: usize,
    /// Test samples (for every task).
    #[serde(default = "default_test")]
    pub test: usize,
    /// Seed of the source teacher and the inputs.
    #[serde(default)]
    pub seed: u64,
}

impl TeacherConfig {
    /// Checks the sizes: at least one input dimension, two training samples (both labels can
    /// occur) and one test sample.
    pub fn validate(&self) -> Result<(), DataError> {
        let bad = |field: &str, value: usize, min: usize| {
            Err(DataError::Task(format!(
                "data.teacher.{field} = {value}: it must be at least {min}"
            )))
        };
        if self.dim < 1 {
            return bad("dim", self.dim, 1);
        }
        if self.train < 2 {
            return bad("train", self.train, 2);
        }
        if self.test < 1 {
            return bad("test", self.test, 1);
        }
        Ok(())
    }
}

impl Default for TeacherConfig {
    fn default() -> Self {
        TeacherConfig {
            dim: default_dim(),
            train: default_train(),
            test: default_test(),
            seed: 0,
        }
    }
}

/// A toy binary task for tests and examples: `n` samples of 8 features (shaped 2 x 2 x 2),
/// alternating classes, the first two features at `+-1.5` by class plus `N(0, 0.25)` noise, the
/// rest pure noise. Separable by a wide margin; its test set is its training set.
pub fn blobs(n: usize, seed: u64) -> Task {
    let mut rng = Rng::new(seed);
    let mut x = Vec::with_capacity(n * 8);
    let mut y = Vec::with_capacity(n);
    for i in 0..n {
        let label = (i % 2) as u32;
        let centre = if label == 1 { 1.5 } else { -1.5 };
        for j in 0..8 {
            x.push((if j < 2 { centre } else { 0.0 } + 0.5 * rng.normal()) as f32);
        }
        y.push(label);
    }
    Task {
        shape: [2, 2, 2],
        num_classes: 2,
        classes: vec![0, 1],
        train_x: x.clone(),
        train_y: y.clone(),
        train_y_true: y.clone(),
        test_x: x,
        test_y: y,
        label_mode: LabelMode::True,
    }
}

fn unit(mut v: Vec<f64>) -> Vec<f64> {
    let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    v.iter_mut().for_each(|x| *x /= norm);
    v
}

fn gaussian(rng: &mut Rng, len: usize) -> Vec<f64> {
    (0..len).map(|_| rng.normal()).collect()
}

/// The source teacher and a way to make targets of any similarity.
#[derive(Debug, Clone)]
pub struct Teacher {
    /// Input dimension d.
    pub dim: usize,
    /// Unit source direction `w_s`.
    pub source: Vec<f64>,
}

impl Teacher {
    /// Draws the unit source direction `w_s` from `config.seed`.
    pub fn new(config: &TeacherConfig) -> Teacher {
        let mut rng = Rng::derive(config.seed, "teacher");
        Teacher {
            dim: config.dim,
            source: unit(gaussian(&mut rng, config.dim)),
        }
    }

    /// The target teacher of similarity `rho`; `seed` draws its orthogonal part.
    pub fn target(&self, rho: f64, seed: u64) -> Vec<f64> {
        let mut rng = Rng::derive(seed, "target-teacher");
        let mut o = gaussian(&mut rng, self.dim);
        let along: f64 = o.iter().zip(&self.source).map(|(a, b)| a * b).sum();
        o.iter_mut()
            .zip(&self.source)
            .for_each(|(x, s)| *x -= along * s);
        let o = unit(o);
        let rho = rho.clamp(-1.0, 1.0);
        let c = (1.0 - rho * rho).sqrt();
        self.source
            .iter()
            .zip(&o)
            .map(|(s, x)| rho * s + c * x)
            .collect()
    }

    /// `n` inputs drawn with `seed`, row-major `n x dim`.
    pub fn inputs(&self, n: usize, seed: u64, purpose: &str) -> Vec<f32> {
        let mut rng = Rng::derive(seed, purpose);
        (0..n * self.dim).map(|_| rng.normal() as f32).collect()
    }

    /// Labels `1[w . x > 0]` for row-major inputs.
    pub fn labels(&self, w: &[f64], x: &[f32]) -> Vec<u32> {
        x.chunks_exact(self.dim)
            .map(|row| u32::from(row.iter().zip(w).map(|(a, b)| *a as f64 * b).sum::<f64>() > 0.0))
            .collect()
    }

    /// The source task (binary), with random labels when asked.
    pub fn source_task(&self, config: &TeacherConfig, mode: LabelMode, label_seed: u64) -> Task {
        let train_x = self.inputs(config.train, config.seed, "source-train");
        let test_x = self.inputs(config.test, config.seed, "source-test");
        let train_y_true = self.labels(&self.source, &train_x);
        let train_y = match mode {
            LabelMode::True => train_y_true.clone(),
            LabelMode::Random => shuffle_labels(&train_y_true, label_seed),
        };
        Task {
            shape: [1, 1, self.dim],
            num_classes: 2,
            classes: vec![0, 1],
            test_y: self.labels(&self.source, &test_x),
            train_x,
            train_y,
            train_y_true,
            test_x,
            label_mode: mode,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_similarity_dial_sets_the_cosine_and_the_label_agreement() {
        let cfg = TeacherConfig {
            dim: 10,
            train: 20000,
            test: 10,
            seed: 3,
        };
        let t = Teacher::new(&cfg);
        let x = t.inputs(20000, 1, "check");
        let ys = t.labels(&t.source, &x);
        for rho in [-1.0, -0.5, 0.0, 0.3, 0.8, 1.0] {
            let w = t.target(rho, 7);
            let cos: f64 = w.iter().zip(&t.source).map(|(a, b)| a * b).sum();
            assert!((cos - rho).abs() < 1e-12, "cos {cos} for rho {rho}");
            assert!((w.iter().map(|v| v * v).sum::<f64>() - 1.0).abs() < 1e-12);
            let yt = t.labels(&w, &x);
            let agree = ys.iter().zip(&yt).filter(|(a, b)| a == b).count() as f64 / 20000.0;
            let want = 1.0 - f64::acos(rho) / std::f64::consts::PI;
            assert!(
                (agree - want).abs() < 0.015,
                "rho {rho}: agreement {agree}, theory {want}"
            );
        }
    }

    #[test]
    fn tasks_are_reproducible_and_balanced_enough() {
        let cfg = TeacherConfig::default();
        let a = Teacher::new(&cfg).source_task(&cfg, LabelMode::True, 0);
        let b = Teacher::new(&cfg).source_task(&cfg, LabelMode::True, 0);
        assert_eq!(a.train_x, b.train_x);
        assert_eq!(a.train_y, b.train_y);
        let ones = a.train_y.iter().filter(|&&y| y == 1).count();
        assert!((400..600).contains(&ones), "{ones}");
        assert_eq!(a.input_len(), 20);
        let r = Teacher::new(&cfg).source_task(&cfg, LabelMode::Random, 1);
        assert_eq!(r.train_y.iter().filter(|&&y| y == 1).count(), ones);
        assert_ne!(r.train_y, a.train_y);
    }
}
