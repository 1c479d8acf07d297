//! auc against an integer axis (depth, layer index): one line per series with error bars of one
//! standard deviation, an optional null level (dashed grey) and horizontal reference lines.

use std::collections::BTreeMap;
use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{Picture, PlotError, err, finish, svg_and_png};

/// One line: its legend label and points `(x, mean, std)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend label.
    pub label: String,
    /// `(x, mean, std)`, in x order.
    pub points: Vec<(f64, f64, f64)>,
}

/// `(x, mean, std)` of each group of values, in x order (groups without values left out).
pub fn points(groups: BTreeMap<usize, Vec<f64>>) -> Vec<(f64, f64, f64)> {
    groups
        .into_iter()
        .filter_map(|(x, v)| crate::Cell::of(&v).map(|c| (x as f64, c.mean, c.std)))
        .collect()
}

/// What [`line_plot`] draws.
#[derive(Debug, Clone, Copy)]
pub struct LinePlot<'a> {
    /// The caption.
    pub title: &'a str,
    /// The x axis' description.
    pub x_desc: &'a str,
    /// The x axis' range.
    pub x_range: (f64, f64),
    /// The lines, each with error bars.
    pub series: &'a [Series],
    /// The null level `(x, auc_null)`, dashed grey (empty: none).
    pub null: &'a [(f64, f64)],
    /// Horizontal reference lines: label and level.
    pub refs: &'a [(String, f64)],
}

/// Draws `plot` as `<stem>.svg` and `<stem>.png` in `dir`, auc on the y axis from 0 to 1.
pub fn line_plot(dir: &Path, stem: &str, plot: &LinePlot<'_>) -> Result<(), PlotError> {
    svg_and_png(dir, stem, (960, 640), plot)
}

impl Picture for LinePlot<'_> {
    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> Result<(), String>
    where
        DB::ErrorType: 'static,
    {
        let x = self.x_range;
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(self.title, ("sans-serif", 20))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(64)
            .build_cartesian_2d(x.0..x.1, 0f64..1.0f64)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc(self.x_desc)
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
        for (i, s) in self.series.iter().enumerate() {
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
        if !self.null.is_empty() {
            let grey = BLACK.mix(0.5);
            chart
                .draw_series(DashedLineSeries::new(
                    self.null.iter().copied(),
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
        for (i, (label, v)) in self.refs.iter().enumerate() {
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
}
