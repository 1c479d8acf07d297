//! Loss curves on log-log axes: one line per representation, dashed when asked.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{Picture, PlotError, err, finish, svg_and_png};

/// One loss curve.
#[derive(Debug, Clone, PartialEq)]
pub struct LossLine {
    /// Legend label.
    pub label: String,
    /// `(step + 1, loss / initial loss)`, in step order.
    pub points: Vec<(f64, f64)>,
    /// Drawn dashed (and thinner).
    pub dashed: bool,
}

struct Loss<'a> {
    title: &'a str,
    lines: &'a [LossLine],
}

/// Draws `lines` (gradient step + 1 against squared loss / initial loss, both on log scales) as
/// `<stem>.svg` and `<stem>.png` in `dir`.
pub fn loss_curves(
    dir: &Path,
    stem: &str,
    title: &str,
    lines: &[LossLine],
) -> Result<(), PlotError> {
    svg_and_png(dir, stem, (960, 640), &Loss { title, lines })
}

impl Picture for Loss<'_> {
    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> Result<(), String>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE).map_err(err)?;
        let x_max = self
            .lines
            .iter()
            .flat_map(|l| l.points.iter().map(|p| p.0))
            .fold(2.0, f64::max);
        let y_min = self
            .lines
            .iter()
            .flat_map(|l| l.points.iter().map(|p| p.1))
            .fold(1.0, f64::min)
            .max(1e-12);
        let mut chart = ChartBuilder::on(&root)
            .caption(self.title, ("sans-serif", 18))
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
        for (i, line) in self.lines.iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            let style = color.stroke_width(if line.dashed { 2 } else { 3 });
            let series = if line.dashed {
                chart
                    .draw_series(DashedLineSeries::new(
                        line.points.iter().copied(),
                        8,
                        4,
                        style,
                    ))
                    .map_err(err)?
            } else {
                chart
                    .draw_series(LineSeries::new(line.points.iter().copied(), style))
                    .map_err(err)?
            };
            series
                .label(line.label.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], style));
        }
        finish(&mut chart, &root, SeriesLabelPosition::LowerLeft, 14)
    }
}
