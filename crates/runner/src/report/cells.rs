//! Table cells from the items of many runs.

use repalign_report::Cell;

/// Reads one number (or none) off an item.
pub type Pick<'a, T> = &'a dyn Fn(&T) -> Option<f64>;

/// One row per name, one column per pick: the finite values of the items carrying that name.
pub fn cells_by_row<T>(
    rows: &[String],
    items: &[(String, &T)],
    picks: &[Pick<'_, T>],
) -> Vec<Vec<Option<Cell>>> {
    rows.iter()
        .map(|row| {
            picks
                .iter()
                .map(|pick| {
                    let values: Vec<f64> = items
                        .iter()
                        .filter(|(name, _)| name == row)
                        .filter_map(|(_, item)| pick(item))
                        .filter(|v| v.is_finite())
                        .collect();
                    Cell::of(&values)
                })
                .collect()
        })
        .collect()
}
