//! Plots as SVG and PNG. Text in the PNG is drawn with DejaVu Sans embedded in the binary, so it
//! renders on a machine with no fonts installed.

use std::path::Path;
use std::sync::Once;

use anyhow::anyhow;
use plotters::coord::Shift;
use plotters::prelude::*;
use repalign_alignment::{Grid, Report};

static FONT: Once = Once::new();

fn register_font() {
    FONT.call_once(|| {
        let bytes: &'static [u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
        // The font is a fixed asset: failing to parse it is a build defect, not bad input.
        plotters::style::register_font("sans-serif", FontStyle::Normal, bytes)
            .map_err(|_| "embedded DejaVuSans.ttf")
            .expect("the embedded font parses");
    });
}

fn err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow!("drawing: {e:?}")
}

/// Draws the legend of `chart` at `position` and writes the picture out.
fn finish<'a, DB: DrawingBackend + 'a, CT: plotters::coord::CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    root: &DrawingArea<DB, Shift>,
    position: SeriesLabelPosition,
    font: u32,
) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    chart
        .configure_series_labels()
        .label_font(("sans-serif", font))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(position)
        .draw()
        .map_err(err)?;
    root.present().map_err(err)
}

/// `A(tau) / ||y||^2` from a report's exact breakpoints.
fn fraction_at(r: &Report, tau: f64) -> f64 {
    if tau <= 0.0 {
        return 1.0;
    }
    let s = &r.spectrum;
    s.sigma
        .iter()
        .zip(&s.energy)
        .filter(|(x, _)| **x >= tau)
        .map(|(_, e)| e)
        .sum::<f64>()
        / r.label_energy
}

fn null_at(r: &Report, tau: f64) -> f64 {
    if tau <= 0.0 {
        return 1.0;
    }
    r.spectrum.sigma.iter().filter(|x| **x >= tau).count() as f64 / r.n as f64
}

/// One alignment curve per layer (solid) and its null baseline (dashed, same colour), drawn
/// exactly from the breakpoints on the grid's axis. Writes `<stem>.svg` and `<stem>.png`.
pub fn alignment_curves(
    dir: &Path,
    stem: &str,
    title: &str,
    reports: &[Report],
    grid: &Grid,
) -> anyhow::Result<()> {
    register_font();
    let svg = dir.join(format!("{stem}.svg"));
    let png = dir.join(format!("{stem}.png"));
    draw_curves(
        SVGBackend::new(&svg, (960, 680)).into_drawing_area(),
        title,
        reports,
        grid,
    )?;
    draw_curves(
        BitMapBackend::new(&png, (960, 680)).into_drawing_area(),
        title,
        reports,
        grid,
    )
}

fn draw_curves<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    title: &str,
    reports: &[Report],
    grid: &Grid,
) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(err)?;
    let (_, h) = root.dim_in_pixel();
    let (root, footer) = root.split_vertically(h - 28);
    footer
        .draw(&Text::new(
            "solid: alignment of each layer; dashed, same colour: its null baseline (labels in a random direction)",
            (16, 4),
            ("sans-serif", 14).into_font().color(&BLACK.mix(0.7)),
        ))
        .map_err(err)?;
    let thresholds = grid.thresholds();
    let x_max = thresholds.last().copied().unwrap_or(1.0);
    let x_desc = match grid {
        Grid::Demo => "threshold tau (singular value)",
        Grid::Normalized { .. } => "normalised threshold t = tau / sqrt(n)",
    };
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(64)
        .build_cartesian_2d(0f64..x_max, 0f64..1.02f64)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc("alignment A(tau) / ||y||^2")
        .label_style(("sans-serif", 15))
        .axis_desc_style(("sans-serif", 17))
        .draw()
        .map_err(err)?;
    let samples = 800;
    for (i, r) in reports.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        let n = r.n;
        let tau = |k: usize| grid.to_tau(x_max * k as f64 / samples as f64, n);
        let xs = |k: usize| x_max * k as f64 / samples as f64;
        let curve: Vec<(f64, f64)> = (0..=samples)
            .map(|k| (xs(k), fraction_at(r, tau(k))))
            .collect();
        let null: Vec<(f64, f64)> = (0..=samples).map(|k| (xs(k), null_at(r, tau(k)))).collect();
        let name = r.layer.clone().unwrap_or_else(|| "features".into());
        let label = format!(
            "{name} (auc {:.3}, null {:.3})",
            r.summary.auc, r.summary.auc_null
        );
        chart
            .draw_series(LineSeries::new(curve, color.stroke_width(3)))
            .map_err(err)?
            .label(label)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 24, y)], color.stroke_width(3))
            });
        chart
            .draw_series(DashedLineSeries::new(null, 7, 5, color.stroke_width(1)))
            .map_err(err)?;
    }
    finish(&mut chart, &root, SeriesLabelPosition::UpperRight, 15)
}

/// A loss curve: its name, points `(step + 1, loss ratio)`, and whether to dash it.
type SpeedLine = (String, Vec<(f64, f64)>, bool);

/// One line of a summary plot: points `(x, mean, std)`.
struct Series {
    label: String,
    points: Vec<(f64, f64, f64)>,
}

/// The plots of a results folder:
/// - `auc_vs_depth[_FAMILY].{svg,png}` when the runs span several depths: the last hidden
///   layer's `auc` against depth, one line per optimizer x label mode with error bars over
///   seeds, the inputs' `auc` per label mode (dotted) and the null level (dashed grey);
/// - `auc_vs_layer.{svg,png}` for at most 4 architectures: `auc` against layer index (the
///   network's chain: input, blocks or hidden layers, dense layers; pooled views left out).
pub fn report_plots(dir: &Path, report: &crate::report::Report) -> anyhow::Result<()> {
    use std::collections::BTreeMap;

    use crate::report::{Cell, architectures, columns};
    register_font();
    let done: Vec<_> = report.runs.iter().filter(|r| r.done()).collect();
    if done.is_empty() {
        return Ok(());
    }
    let col = columns(&report.runs);
    let arch = architectures(&report.runs);
    // --- auc against depth, per model family.
    let family = |r: &crate::report::RunEntry| {
        let c = &r.config.model;
        format!(
            "{} {} {}",
            c.kind(),
            c.activation().as_str(),
            c.width_label()
        )
    };
    let mut families: BTreeMap<String, Vec<_>> = BTreeMap::new();
    for r in &done {
        families.entry(family(r)).or_default().push(*r);
    }
    let many = families.len() > 1;
    for (fam, runs) in &families {
        let mut depths: Vec<usize> = runs.iter().map(|r| r.config.model.depth()).collect();
        depths.sort_unstable();
        depths.dedup();
        if depths.len() < 2 {
            continue;
        }
        let mut by_col: BTreeMap<_, (String, BTreeMap<usize, Vec<f64>>)> = BTreeMap::new();
        let mut nulls: BTreeMap<usize, Vec<f64>> = BTreeMap::new();
        let mut inputs: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
        for r in runs {
            let (key, label) = col(&r.config);
            let entry = by_col
                .entry(key)
                .or_insert_with(|| (label, BTreeMap::new()));
            entry
                .1
                .entry(r.config.model.depth())
                .or_default()
                .push(r.last().summary.auc);
            nulls
                .entry(r.config.model.depth())
                .or_default()
                .push(r.last().summary.auc_null);
            inputs
                .entry(r.config.labels.as_str())
                .or_default()
                .push(r.layers[0].summary.auc);
        }
        let series: Vec<Series> = by_col
            .into_values()
            .map(|(label, pts)| Series {
                label,
                points: pts
                    .into_iter()
                    .filter_map(|(d, v)| Cell::of(&v).map(|c| (d as f64, c.mean, c.std)))
                    .collect(),
            })
            .collect();
        let null: Vec<(f64, f64)> = nulls
            .into_iter()
            .filter_map(|(d, v)| Cell::of(&v).map(|c| (d as f64, c.mean)))
            .collect();
        let refs: Vec<(String, f64)> = inputs
            .into_iter()
            .filter_map(|(l, v)| Cell::of(&v).map(|c| (format!("input, {l} labels"), c.mean)))
            .collect();
        let stem = if many {
            format!("auc_vs_depth_{}", fam.replace(' ', "_"))
        } else {
            "auc_vs_depth".to_string()
        };
        let title = format!(
            "{}: last hidden layer auc against depth ({fam})",
            report.experiment
        );
        let x = (
            depths[0] as f64 - 0.3,
            *depths.last().expect("two depths") as f64 + 0.3,
        );
        summary_plot(
            dir,
            &stem,
            &title,
            "depth (hidden layers or conv blocks)",
            x,
            &series,
            &null,
            &refs,
        )?;
    }
    // --- auc against layer index, for a few architectures.
    let mut archs: Vec<String> = done.iter().map(|r| arch(&r.config).1).collect();
    archs.sort();
    archs.dedup();
    if archs.len() <= 4 {
        let mut lines: BTreeMap<(String, String), BTreeMap<usize, Vec<f64>>> = BTreeMap::new();
        let mut max_layers = 0;
        for r in &done {
            let key = (arch(&r.config).1, col(&r.config).1);
            let line = lines.entry(key).or_default();
            // The network's chain: pooled views of conv blocks are in the tables, not here.
            let chain: Vec<_> = r
                .layers
                .iter()
                .filter(|l| !repalign_models::is_pooled_view(l.layer.as_deref().unwrap_or("")))
                .collect();
            for (i, l) in chain.iter().enumerate() {
                line.entry(i).or_default().push(l.summary.auc);
            }
            max_layers = max_layers.max(chain.len());
        }
        let series: Vec<Series> = lines
            .into_iter()
            .map(|((a, c), pts)| Series {
                label: if archs.len() > 1 {
                    format!("{a}, {c}")
                } else {
                    c
                },
                points: pts
                    .into_iter()
                    .filter_map(|(i, v)| Cell::of(&v).map(|c| (i as f64, c.mean, c.std)))
                    .collect(),
            })
            .collect();
        let title = format!("{}: auc of every layer (0 = input)", report.experiment);
        summary_plot(
            dir,
            "auc_vs_layer",
            &title,
            "layer index (0 = input)",
            (-0.3, max_layers as f64 - 0.7),
            &series,
            &[],
            &[],
        )?;
    }
    analysis_plots(dir, report)
}

/// Plots of the analyses present: learning-speed loss curves (seed 0), transfer gain against
/// alignment, and the probes' auc against layer.
fn analysis_plots(dir: &Path, report: &crate::report::Report) -> anyhow::Result<()> {
    use std::collections::BTreeMap;

    use crate::analysis::speed::StepRow;
    use crate::report::{Cell, architectures};
    let done: Vec<_> = report.runs.iter().filter(|r| r.done()).collect();
    // Learning speed: one line per representation of the lowest seed's runs.
    let speed_runs: Vec<_> = done.iter().filter(|r| !r.speed.is_empty()).collect();
    if let Some(seed) = speed_runs.iter().map(|r| r.config.seed).min() {
        let mut lines: Vec<SpeedLine> = Vec::new();
        for r in speed_runs.iter().filter(|r| r.config.seed == seed) {
            let mut rd = csv::Reader::from_path(r.dir.join("learning_speed.csv"))?;
            let rows: Vec<StepRow> = rd.deserialize().collect::<Result<_, _>>()?;
            let mut by_layer: BTreeMap<usize, (String, Vec<(f64, f64)>)> = BTreeMap::new();
            for row in rows {
                let name = if row.layer_index == 0 {
                    "input".to_string()
                } else {
                    format!("{}-label net: {}", r.config.labels.as_str(), row.layer)
                };
                by_layer
                    .entry(row.layer_index)
                    .or_insert_with(|| (name, vec![]))
                    .1
                    .push((row.step as f64 + 1.0, row.squared.max(1e-12)));
            }
            for (i, (name, pts)) in by_layer {
                if i == 0 && lines.iter().any(|l| l.0 == "input") {
                    continue;
                }
                lines.push((name, pts, i > 0 && r.config.labels.as_str() == "random"));
            }
        }
        let svg = dir.join("learning_speed.svg");
        let png = dir.join("learning_speed.png");
        let title = format!(
            "{}: squared loss of gradient descent on fixed representations (seed {seed})",
            report.experiment
        );
        draw_speed(
            SVGBackend::new(&svg, (960, 640)).into_drawing_area(),
            &title,
            &lines,
        )?;
        draw_speed(
            BitMapBackend::new(&png, (960, 640)).into_drawing_area(),
            &title,
            &lines,
        )?;
    }
    // Transfer: gain against alignment, one point per target and seed.
    let points = report.transfer_points();
    if !points.is_empty() {
        let rho = report.transfer_spearman();
        let title = format!(
            "{}: transfer gain against alignment (Spearman rank correlation: {})",
            report.experiment,
            rho.map_or("n/a".into(), |r| format!("{r:.2}"))
        );
        let svg = dir.join("transfer.svg");
        let png = dir.join("transfer.png");
        draw_scatter(
            SVGBackend::new(&svg, (960, 640)).into_drawing_area(),
            &title,
            &points,
        )?;
        draw_scatter(
            BitMapBackend::new(&png, (960, 640)).into_drawing_area(),
            &title,
            &points,
        )?;
    }
    // Probes: auc against layer per architecture, mean over pairs and seeds.
    let arch = architectures(&report.runs);
    let mut lines: BTreeMap<String, BTreeMap<usize, Vec<f64>>> = BTreeMap::new();
    for r in &done {
        for p in &r.probes {
            lines
                .entry(arch(&r.config).1)
                .or_default()
                .entry(p.layer_index)
                .or_default()
                .push(p.auc);
        }
    }
    if !lines.is_empty() {
        let max_layer = lines
            .values()
            .flat_map(|l| l.keys())
            .copied()
            .max()
            .unwrap_or(0);
        let series: Vec<Series> = lines
            .into_iter()
            .map(|(a, pts)| Series {
                label: a,
                points: pts
                    .into_iter()
                    .filter_map(|(i, v)| Cell::of(&v).map(|c| (i as f64, c.mean, c.std)))
                    .collect(),
            })
            .collect();
        let title = format!(
            "{}: auc of every layer on binary tasks of held-out images",
            report.experiment
        );
        summary_plot(
            dir,
            "probes",
            &title,
            "layer index (0 = input)",
            (-0.3, max_layer as f64 + 0.3),
            &series,
            &[],
            &[],
        )?;
    }
    Ok(())
}

fn draw_speed<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    title: &str,
    lines: &[SpeedLine],
) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(err)?;
    let x_max = lines
        .iter()
        .flat_map(|l| l.1.iter().map(|p| p.0))
        .fold(2.0, f64::max);
    let y_min = lines
        .iter()
        .flat_map(|l| l.1.iter().map(|p| p.1))
        .fold(1.0, f64::min)
        .max(1e-12);
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 18))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(72)
        .build_cartesian_2d((1f64..x_max).log_scale(), (y_min * 0.8..1.2f64).log_scale())
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("gradient step + 1 (log scale)")
        .y_desc("squared loss / loss at w = 0 (log scale)")
        .label_style(("sans-serif", 15))
        .axis_desc_style(("sans-serif", 16))
        .draw()
        .map_err(err)?;
    for (i, (name, pts, random)) in lines.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        let style = color.stroke_width(if *random { 2 } else { 3 });
        let series = if *random {
            chart
                .draw_series(DashedLineSeries::new(pts.iter().copied(), 8, 4, style))
                .map_err(err)?
        } else {
            chart
                .draw_series(LineSeries::new(pts.iter().copied(), style))
                .map_err(err)?
        };
        series
            .label(name.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], style));
    }
    finish(&mut chart, &root, SeriesLabelPosition::LowerLeft, 14)
}

fn draw_scatter<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    title: &str,
    points: &[(String, f64, f64)],
) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(err)?;
    let (x0, x1) = points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
            (a.min(p.1), b.max(p.1))
        });
    let (y0, y1) = points
        .iter()
        .filter(|p| p.2.is_finite())
        .fold((0f64, 0f64), |(a, b), p| (a.min(p.2), b.max(p.2)));
    let pad = |a: f64, b: f64| ((b - a) * 0.08).max(1e-3);
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 18))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(72)
        .build_cartesian_2d(
            (x0 - pad(x0, x1))..(x1 + pad(x0, x1)),
            (y0 - pad(y0, y1))..(y1 + pad(y0, y1)),
        )
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("alignment of the frozen last hidden layer with the target labels (auc)")
        .y_desc("transfer gain (transfer - scratch test accuracy)")
        .label_style(("sans-serif", 15))
        .axis_desc_style(("sans-serif", 16))
        .draw()
        .map_err(err)?;
    chart
        .draw_series(LineSeries::new(
            vec![(x0 - pad(x0, x1), 0.0), (x1 + pad(x0, x1), 0.0)],
            BLACK.mix(0.4).stroke_width(1),
        ))
        .map_err(err)?;
    let mut names: Vec<&String> = points.iter().map(|p| &p.0).collect();
    names.dedup();
    let mut seen = std::collections::BTreeSet::new();
    names.retain(|n| seen.insert(n.to_string()));
    for (i, name) in names.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        chart
            .draw_series(
                points
                    .iter()
                    .filter(|p| &&p.0 == name && p.2.is_finite())
                    .map(|p| Circle::new((p.1, p.2), 6, color.filled())),
            )
            .map_err(err)?
            .label(name.to_string())
            .legend(move |(x, y)| Circle::new((x + 10, y), 6, color.filled()));
    }
    finish(&mut chart, &root, SeriesLabelPosition::UpperLeft, 14)
}

#[allow(clippy::too_many_arguments)]
fn summary_plot(
    dir: &Path,
    stem: &str,
    title: &str,
    x_desc: &str,
    x: (f64, f64),
    series: &[Series],
    null: &[(f64, f64)],
    refs: &[(String, f64)],
) -> anyhow::Result<()> {
    let svg = dir.join(format!("{stem}.svg"));
    let png = dir.join(format!("{stem}.png"));
    draw_summary(
        SVGBackend::new(&svg, (960, 640)).into_drawing_area(),
        title,
        x_desc,
        x,
        series,
        null,
        refs,
    )?;
    draw_summary(
        BitMapBackend::new(&png, (960, 640)).into_drawing_area(),
        title,
        x_desc,
        x,
        series,
        null,
        refs,
    )
}

#[allow(clippy::too_many_arguments)]
fn draw_summary<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    title: &str,
    x_desc: &str,
    x: (f64, f64),
    series: &[Series],
    null: &[(f64, f64)],
    refs: &[(String, f64)],
) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(err)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(64)
        .build_cartesian_2d(x.0..x.1, 0f64..1.0f64)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc("auc (area under the normalised alignment curve)")
        .x_label_formatter(&|v| {
            if (v - v.round()).abs() < 1e-9 {
                format!("{v:.0}")
            } else {
                String::new()
            }
        })
        .label_style(("sans-serif", 15))
        .axis_desc_style(("sans-serif", 16))
        .draw()
        .map_err(err)?;
    for (i, s) in series.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        chart
            .draw_series(LineSeries::new(
                s.points.iter().map(|p| (p.0, p.1)),
                color.stroke_width(2),
            ))
            .map_err(err)?
            .label(s.label.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 24, y)], color.stroke_width(2))
            });
        chart
            .draw_series(s.points.iter().map(|&(px, m, sd)| {
                ErrorBar::new_vertical(px, m - sd, m, m + sd, color.stroke_width(2), 8)
            }))
            .map_err(err)?;
    }
    if !null.is_empty() {
        let grey = BLACK.mix(0.5);
        chart
            .draw_series(DashedLineSeries::new(
                null.iter().copied(),
                6,
                4,
                grey.stroke_width(2),
            ))
            .map_err(err)?
            .label("null level (auc_null, last layer)")
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 24, y)], grey.stroke_width(2))
            });
    }
    for (i, (label, v)) in refs.iter().enumerate() {
        let color = if i == 0 {
            BLACK.mix(0.85)
        } else {
            RGBColor(150, 60, 0).mix(0.85)
        };
        chart
            .draw_series(DashedLineSeries::new(
                vec![(x.0, *v), (x.1, *v)],
                2,
                4,
                color.stroke_width(2),
            ))
            .map_err(err)?
            .label(label.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 24, y)], color.stroke_width(2))
            });
    }
    finish(&mut chart, &root, SeriesLabelPosition::LowerRight, 14)
}
