//! Alignment curves of layers: `A(tau) / ||y||^2` drawn exactly from each report's breakpoints,
//! with the null baseline of each layer dashed in the same colour.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use repalign_alignment::{Grid, Report};

use super::{Picture, PlotError, err, finish, svg_and_png};

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

struct Curves<'a> {
    title: &'a str,
    reports: &'a [Report],
    grid: &'a Grid,
}

/// One alignment curve per layer (solid) and its null baseline (dashed, same colour), on the
/// grid's axis. Writes `<stem>.svg` and `<stem>.png` in `dir`.
pub fn alignment_curves(
    dir: &Path,
    stem: &str,
    title: &str,
    reports: &[Report],
    grid: &Grid,
) -> Result<(), PlotError> {
    svg_and_png(
        dir,
        stem,
        (960, 680),
        &Curves {
            title,
            reports,
            grid,
        },
    )
}

impl Picture for Curves<'_> {
    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> Result<(), String>
    where
        DB::ErrorType: 'static,
    {
        let grid = self.grid;
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
            .caption(self.title, ("sans-serif", 22))
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
        for (i, r) in self.reports.iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            let n = r.n;
            let tau = |k: usize| grid.to_tau(x_max * k as f64 / samples as f64, n);
            let xs = |k: usize| x_max * k as f64 / samples as f64;
            let curve: Vec<(f64, f64)> = (0..=samples)
                .map(|k| (xs(k), fraction_at(r, tau(k))))
                .collect();
            let null: Vec<(f64, f64)> =
                (0..=samples).map(|k| (xs(k), null_at(r, tau(k)))).collect();
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
}
