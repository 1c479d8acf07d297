//! Tables of results: cells of mean ± standard deviation over seeds (or fractions of runs),
//! with row and column labels, written as markdown, tidy CSV or LaTeX; and Spearman's rank
//! correlation.

use std::fmt::Write as _;

/// Mean, sample standard deviation and count.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cell {
    /// Mean of the values.
    pub mean: f64,
    /// Sample standard deviation (0 for one value).
    pub std: f64,
    /// How many values.
    pub n: usize,
}

impl Cell {
    /// `mean{pm}std` to 3 decimals (just the mean for a single value), or `none`.
    pub fn show(cell: &Option<Cell>, pm: &str, none: &str) -> String {
        match cell {
            Some(c) if c.n > 1 => format!("{:.3}{pm}{:.3}", c.mean, c.std),
            Some(c) => format!("{:.3}", c.mean),
            None => none.to_string(),
        }
    }

    /// The cell of `values`, none for no values.
    pub fn of(values: &[f64]) -> Option<Cell> {
        if values.is_empty() {
            return None;
        }
        let n = values.len();
        let mean = values.iter().sum::<f64>() / n as f64;
        let var = if n > 1 {
            values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64
        } else {
            0.0
        };
        Some(Cell {
            mean,
            std: var.sqrt(),
            n,
        })
    }
}

/// A table of cells with row and column labels.
#[derive(Debug, Clone)]
pub struct Table {
    /// The heading above the table.
    pub title: String,
    /// The label of the row-label column.
    pub corner: String,
    /// Row labels, in order.
    pub rows: Vec<String>,
    /// Column labels, in order.
    pub columns: Vec<String>,
    /// `cells[row][column]`; none where no run contributes.
    pub cells: Vec<Vec<Option<Cell>>>,
    /// Cells are fractions of runs (means of 0/1 values), shown as `k/n`.
    pub counts: bool,
    /// Cells show `mean ± standard error (n)` instead of `mean ± std` (the CSV keeps the
    /// standard deviation and the count).
    pub standard_error: bool,
}

impl Table {
    /// A table of mean ± std cells.
    pub fn new(
        title: impl Into<String>,
        corner: impl Into<String>,
        rows: Vec<String>,
        columns: Vec<String>,
        cells: Vec<Vec<Option<Cell>>>,
    ) -> Self {
        Table {
            title: title.into(),
            corner: corner.into(),
            rows,
            columns,
            cells,
            counts: false,
            standard_error: false,
        }
    }

    fn show(&self, cell: &Option<Cell>, pm: &str, none: &str) -> String {
        match cell {
            Some(c) if self.counts => {
                format!("{}/{}", (c.mean * c.n as f64).round() as usize, c.n)
            }
            Some(c) if self.standard_error && c.n > 1 => {
                let se = c.std / (c.n as f64).sqrt();
                format!("{:.3}{pm}{se:.3} ({})", c.mean, c.n)
            }
            Some(c) if self.standard_error => format!("{:.3} (1)", c.mean),
            _ => Cell::show(cell, pm, none),
        }
    }

    /// `### title` and a markdown table.
    pub fn markdown(&self) -> String {
        let mut s = format!("### {}\n\n| {} |", self.title, self.corner);
        for c in &self.columns {
            let _ = write!(s, " {c} |");
        }
        s.push_str("\n|---|");
        s.push_str(&"---|".repeat(self.columns.len()));
        s.push('\n');
        for (r, row) in self.rows.iter().zip(&self.cells) {
            let _ = write!(s, "| {r} |");
            for cell in row {
                let _ = write!(s, " {} |", self.show(cell, " ± ", "–"));
            }
            s.push('\n');
        }
        s
    }

    /// Tidy rows `table,row,column,mean,std,n` (with the header line).
    pub fn csv(&self) -> String {
        let mut s = String::from("table,row,column,mean,std,n\n");
        for (r, row) in self.rows.iter().zip(&self.cells) {
            for (c, cell) in self.columns.iter().zip(row) {
                if let Some(x) = cell {
                    let _ = writeln!(
                        s,
                        "\"{}\",\"{r}\",\"{c}\",{},{},{}",
                        self.title, x.mean, x.std, x.n
                    );
                }
            }
        }
        s
    }

    /// A LaTeX `tabular`.
    pub fn latex(&self) -> String {
        let esc = |t: &str| t.replace('_', "\\_").replace('%', "\\%");
        let mut s = format!(
            "% {}\n\\begin{{tabular}}{{l{}}}\n\\hline\n{}",
            esc(&self.title),
            "c".repeat(self.columns.len()),
            esc(&self.corner)
        );
        for c in &self.columns {
            let _ = write!(s, " & {}", esc(c));
        }
        s.push_str(" \\\\\n\\hline\n");
        for (r, row) in self.rows.iter().zip(&self.cells) {
            s.push_str(&esc(r));
            for cell in row {
                match cell {
                    Some(_) => {
                        let _ = write!(s, " & ${}$", self.show(cell, " \\pm ", ""));
                    }
                    None => s.push_str(" & --"),
                }
            }
            s.push_str(" \\\\\n");
        }
        s.push_str("\\hline\n\\end{tabular}\n");
        s
    }
}

/// Spearman's rank correlation (average ranks for ties); `None` for fewer than 3 points or a
/// constant variable.
pub fn spearman(points: &[(f64, f64)]) -> Option<f64> {
    fn ranks(v: &[f64]) -> Vec<f64> {
        let mut idx: Vec<usize> = (0..v.len()).collect();
        idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
        let mut r = vec![0.0; v.len()];
        let mut i = 0;
        while i < idx.len() {
            let mut j = i;
            while j + 1 < idx.len() && v[idx[j + 1]] == v[idx[i]] {
                j += 1;
            }
            let avg = (i + j) as f64 / 2.0 + 1.0;
            for k in i..=j {
                r[idx[k]] = avg;
            }
            i = j + 1;
        }
        r
    }
    let pts: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|(a, b)| a.is_finite() && b.is_finite())
        .collect();
    if pts.len() < 3 {
        return None;
    }
    let a = ranks(&pts.iter().map(|p| p.0).collect::<Vec<_>>());
    let b = ranks(&pts.iter().map(|p| p.1).collect::<Vec<_>>());
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (ma, mb) = (mean(&a), mean(&b));
    let cov: f64 = a.iter().zip(&b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
    (va > 0.0 && vb > 0.0).then(|| cov / (va * vb).sqrt())
}

#[cfg(test)]
mod tests {
    use super::{Cell, Table, spearman};

    #[test]
    fn standard_error_cells_show_the_count() {
        let cells = vec![vec![
            Cell::of(&[1.0, 2.0, 3.0, 4.0]),
            Cell::of(&[0.5]),
            None,
        ]];
        let mut t = Table::new(
            "t",
            "x",
            vec!["r".into()],
            vec!["a".into(), "b".into(), "c".into()],
            cells,
        );
        assert!(
            t.markdown().contains("| r | 2.500 ± 1.291 | 0.500 | – |"),
            "{}",
            t.markdown()
        );
        t.standard_error = true;
        // std 1.291 / sqrt(4) = 0.645
        assert!(
            t.markdown()
                .contains("| r | 2.500 ± 0.645 (4) | 0.500 (1) | – |"),
            "{}",
            t.markdown()
        );
    }

    #[test]
    fn spearman_of_known_cases() {
        assert_eq!(
            spearman(&[(1.0, 10.0), (2.0, 20.0), (3.0, 35.0)]),
            Some(1.0)
        );
        assert_eq!(spearman(&[(1.0, 3.0), (2.0, 2.0), (3.0, 1.0)]), Some(-1.0));
        // Ranks (1, 2, 3, 4) vs (2, 1, 4, 3): 1 - 6 * 4 / (4 * 15) = 0.6
        let r = spearman(&[(1.0, 2.0), (2.0, 1.0), (3.0, 4.0), (4.0, 3.0)]).unwrap();
        assert!((r - 0.6).abs() < 1e-12);
        // Ties get average ranks; a constant variable has no correlation.
        assert_eq!(spearman(&[(1.0, 5.0), (2.0, 5.0), (3.0, 5.0)]), None);
        assert_eq!(spearman(&[(1.0, 1.0), (2.0, 2.0)]), None);
        let t = spearman(&[(1.0, 1.0), (1.0, 2.0), (2.0, 3.0), (3.0, 3.0)]).unwrap();
        assert!(t > 0.8 && t < 1.0, "{t}");
    }
}
