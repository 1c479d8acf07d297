//! Plots as SVG and PNG, drawn from plain data (these functions read no files). Text in the PNG
//! is drawn with DejaVu Sans embedded in the binary, so it renders on a machine with no fonts
//! installed. Each picture is drawn into a temporary file beside its target and renamed, so a
//! plot is either whole or absent (a full disk leaves no torn picture).

mod curves;
mod lines;
mod loss;
mod scatter;

use std::path::{Path, PathBuf};
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;

pub use curves::alignment_curves;
pub use lines::{LinePlot, Series, line_plot, points};
pub use loss::{LossLine, loss_curves};
pub use scatter::{ScatterPlot, scatter};

/// A plot that could not be drawn or written.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// Drawing or encoding failed.
    #[error("drawing {}: {reason}", path.display())]
    Draw {
        /// The picture being written.
        path: PathBuf,
        /// What the drawing backend said.
        reason: String,
    },
    /// Writing the file failed.
    #[error("writing {}: {source}", path.display())]
    Write {
        /// The picture being written.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

static FONT: Once = Once::new();

fn register_font() {
    FONT.call_once(|| {
        let bytes: &'static [u8] = include_bytes!("../../../../assets/fonts/DejaVuSans.ttf");
        // The font is a fixed asset: failing to parse it is a build defect, not bad input.
        plotters::style::register_font("sans-serif", FontStyle::Normal, bytes)
            .map_err(|_| "embedded DejaVuSans.ttf")
            .expect("the embedded font parses");
    });
}

/// A drawing error, as text (plotters' errors borrow the backend).
pub(crate) fn err<E: std::fmt::Debug>(e: E) -> String {
    format!("{e:?}")
}

/// Draws the legend of `chart` at `position` and writes the picture out.
pub(crate) fn finish<'a, DB: DrawingBackend + 'a, CT: plotters::coord::CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    root: &DrawingArea<DB, Shift>,
    position: SeriesLabelPosition,
    font: u32,
) -> Result<(), String>
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

/// Something that draws itself on any plotters backend.
pub(crate) trait Picture {
    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> Result<(), String>
    where
        DB::ErrorType: 'static;
}

/// Draws `picture` as `<stem>.svg` and `<stem>.png` in `dir` (`size` in pixels), each through a
/// temporary file renamed into place; the temporary files are removed on error.
pub(crate) fn svg_and_png(
    dir: &Path,
    stem: &str,
    size: (u32, u32),
    picture: &impl Picture,
) -> Result<(), PlotError> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    register_font();
    let svg = dir.join(format!("{stem}.svg"));
    let png = dir.join(format!("{stem}.png"));
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let tmp = |ext: &str| dir.join(format!(".{stem}.tmp-{}-{n}.{ext}", std::process::id()));
    let (svg_tmp, png_tmp) = (tmp("svg"), tmp("png"));
    let drawn = picture
        .draw(SVGBackend::new(&svg_tmp, size).into_drawing_area())
        .map_err(|reason| PlotError::Draw {
            path: svg.clone(),
            reason,
        })
        .and_then(|()| {
            picture
                .draw(BitMapBackend::new(&png_tmp, size).into_drawing_area())
                .map_err(|reason| PlotError::Draw {
                    path: png.clone(),
                    reason,
                })
        })
        .and_then(|()| {
            for (from, to) in [(&svg_tmp, &svg), (&png_tmp, &png)] {
                std::fs::rename(from, to).map_err(|source| PlotError::Write {
                    path: to.clone(),
                    source,
                })?;
            }
            Ok(())
        });
    if drawn.is_err() {
        let _ = std::fs::remove_file(&svg_tmp);
        let _ = std::fs::remove_file(&png_tmp);
    }
    drawn
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plot() -> LinePlot<'static> {
        LinePlot {
            title: "t",
            x_desc: "x",
            x_range: (0.0, 2.0),
            series: &[],
            null: &[],
            refs: &[],
        }
    }

    /// Both pictures appear whole, and a failed write leaves neither a torn picture nor a
    /// temporary file (issue 13: a full disk left a torn alignment.png).
    #[test]
    fn plots_are_written_whole_or_not_at_all() {
        let dir = std::env::temp_dir().join(format!("plot-atomic-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        line_plot(&dir, "p", &plot()).unwrap();
        let png = std::fs::read(dir.join("p.png")).unwrap();
        assert_eq!(&png[..4], b"\x89PNG");
        assert!(
            std::fs::read_to_string(dir.join("p.svg"))
                .unwrap()
                .contains("</svg>")
        );
        // The svg target is a folder: the rename fails after drawing.
        std::fs::create_dir_all(dir.join("q.svg/in-the-way")).unwrap();
        assert!(matches!(
            line_plot(&dir, "q", &plot()),
            Err(PlotError::Write { .. })
        ));
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["p.png", "p.svg", "q.svg"]);
        assert!(line_plot(&dir.join("missing"), "r", &plot()).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
