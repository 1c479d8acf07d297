//! Probes: the alignment of the input and every layer of a trained network with binary tasks
//! (class a vs class b), and optionally with the task of every class, on the held-out test
//! images of those classes; beside each alignment, a linear probe's accuracy (ridge regression
//! fitted on half of those images, scored on the other half; see
//! [`repalign_alignment::ridge_probe`]).

use std::path::Path;

use rayon::prelude::*;
use repalign_alignment::{ClassAccumulator, halves, measure, ridge_probe};
use repalign_data::{AllClasses, Classes, LabelMode, Task, TaskConfig};

use super::common::{Trained, layers};
use crate::experiment::ProbesConfig;
use crate::measure::targets;
use crate::run_folder::{ALL_CLASSES, ProbeRow, names, write_rows};

pub fn run(config: &ProbesConfig, t: &Trained<'_>, dir: &Path) -> anyhow::Result<()> {
    let Trained {
        run, model, device, ..
    } = *t;
    let data = t
        .data
        .ok_or_else(|| anyhow::anyhow!("probes need an image dataset"))?;
    let mut rows = Vec::new();
    let tasks = config
        .pairs
        .iter()
        .map(|p| (format!("{}-{}", p[0], p[1]), Classes::List(p.to_vec())))
        .chain(
            config
                .all_classes
                .then(|| (ALL_CLASSES.to_string(), Classes::All(AllClasses::All))),
        );
    for (name, classes) in tasks {
        let config = TaskConfig {
            classes,
            train_per_class: Some(1),
            test_per_class: config.per_class,
            draw_seed: 0,
        };
        let task = Task::draw(data, &config, LabelMode::True, 0)?;
        let y = targets(&task.test_y, task.num_classes)?;
        let labels: Vec<f64> = task.test_y.iter().map(|&l| f64::from(l)).collect();
        let (fit, score) = halves(task.test_y.len());
        let layers = layers(
            model,
            &task.test_x,
            task.input_len(),
            run.measure.batch_size,
            device,
        )?;
        // Each layer's measure and probe are independent: one per core at a time.
        let measured: Vec<_> = layers
            .par_iter()
            .map(|layer| -> anyhow::Result<_> {
                // Three or more classes: the spectrum and every pair's from one accumulator.
                let (s, pairs) = if task.num_classes >= 3 {
                    let mut classes =
                        ClassAccumulator::new(layer.p, y.classes(), run.measure.options())?;
                    classes.push(&layer.values, &labels)?;
                    let (s, pairs) = classes.finish_with_pair_mean(None)?;
                    (s, Some(pairs))
                } else {
                    (
                        measure(&layer.values, layer.p, &y, run.measure.options())?,
                        None,
                    )
                };
                let probe = ridge_probe(
                    &layer.values,
                    layer.p,
                    &task.test_y,
                    task.num_classes,
                    &fit,
                    &score,
                )?;
                Ok((s, pairs, probe))
            })
            .collect();
        for (i, (layer, result)) in layers.into_iter().zip(measured).enumerate() {
            let (s, pairs, probe) = result?;
            let m = s.summary();
            rows.push(ProbeRow {
                pair: name.clone(),
                layer: layer.name,
                layer_index: i,
                n: s.n,
                p: s.p,
                auc: m.auc,
                pair_mean_auc: pairs,
                auc_null: m.auc_null,
                k90: m.k90,
                top1: m.top1,
                probe_acc: Some(probe.accuracy),
            });
        }
    }
    write_rows(&dir.join(names::PROBES), &rows)
}
