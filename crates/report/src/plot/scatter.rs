//! A scatter plot of named points (one colour per name) with the zero line.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{Picture, PlotError, err, finish, svg_and_png};

/// What [`scatter`] draws.
#[derive(Debug, Clone, Copy)]
pub struct ScatterPlot<'a> {
    /// The caption.
    pub title: &'a str,
    /// The x axis' description.
    pub x_desc: &'a str,
    /// The y axis' description.
    pub y_desc: &'a str,
    /// `(name, x, y)`; points of one name share a colour and a legend entry; non-finite `y`
    /// are left out.
    pub points: &'a [(String, f64, f64)],
}

/// Draws `plot` as `<stem>.svg` and `<stem>.png` in `dir`.
pub fn scatter(dir: &Path, stem: &str, plot: &ScatterPlot<'_>) -> Result<(), PlotError> {
    svg_and_png(dir, stem, (960, 640), plot)
}

impl Picture for ScatterPlot<'_> {
    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> Result<(), String>
    where
        DB::ErrorType: 'static,
    {
        let points = self.points;
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
            .caption(self.title, ("sans-serif", 18))
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
            .x_desc(self.x_desc)
            .y_desc(self.y_desc)
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
        let mut names: Vec<&String> = Vec::new();
        for p in points {
            if !names.contains(&&p.0) {
                names.push(&p.0);
            }
        }
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
}
