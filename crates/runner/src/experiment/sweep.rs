//! Reading a file into its runs: one run, or with `[sweep]` every combination of the listed
//! alternatives.

use std::path::Path;

use anyhow::{Context, anyhow, bail};

use super::run::RunConfig;
use super::suggest::with_suggestion;

/// The most runs a `[sweep]` may expand to.
pub const MAX_RUNS: usize = 1_000_000;

/// Reads an experiment file into its runs.
pub fn load(path: &Path) -> anyhow::Result<Vec<RunConfig>> {
    repalign_data::check_regular(path, 16 << 20)?;
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    parse(&text).with_context(|| format!("{}", path.display()))
}

/// Parses the text of an experiment file into its runs, in grid order.
///
/// Without a `[sweep]` table the file is one run. With one, every entry of `[sweep]` is a list
/// of alternatives for the field at its path (`model.depth = [1, 2]`, `labels = ["true",
/// "random"]`, `optimizer = [{ name = "sgd", lr = 0.01 }, ...]`); the runs are every
/// combination, the first entry varying slowest. Shallower paths apply first, so a sweep over
/// `model` and one over `model.depth` combine.
pub fn parse(text: &str) -> anyhow::Result<Vec<RunConfig>> {
    let mut table: toml::Table =
        toml::from_str(text).map_err(|e| anyhow!("{}", e.to_string().trim_end()))?;
    let Some(sweep) = table.remove("sweep") else {
        let run: RunConfig = toml::from_str(text)
            .map_err(|e| anyhow!("{}", with_suggestion(e.to_string().trim_end())))?;
        run.validate()?;
        return Ok(vec![run]);
    };
    let toml::Value::Table(sweep) = sweep else {
        bail!("`sweep` must be a table of lists, e.g. [sweep] model.depth = [1, 2]");
    };
    let mut axes = Vec::new();
    collect_axes(&sweep, String::new(), &mut axes)?;
    let mut runs = Vec::new();
    let total = axes
        .iter()
        .try_fold(1usize, |acc, (_, v)| acc.checked_mul(v.len()))
        .filter(|&t| t <= MAX_RUNS)
        .ok_or_else(|| {
            anyhow!(
                "the [sweep] table has {} axes whose combinations exceed {MAX_RUNS} runs: split the experiment",
                axes.len()
            )
        })?;
    for i in 0..total {
        // Mixed radix, first axis slowest.
        let mut rest = i;
        let mut choice = vec![0; axes.len()];
        for (k, (_, values)) in axes.iter().enumerate().rev() {
            choice[k] = rest % values.len();
            rest /= values.len();
        }
        let mut order: Vec<usize> = (0..axes.len()).collect();
        order.sort_by_key(|&k| axes[k].0.split('.').count());
        let mut t = table.clone();
        for &k in &order {
            set_path(&mut t, &axes[k].0, axes[k].1[choice[k]].clone());
        }
        let described = || {
            axes.iter()
                .zip(&choice)
                .map(|((path, values), &c)| format!("{path} = {}", values[c]))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let run: RunConfig = toml::Value::Table(t)
            .try_into()
            .map_err(|e: toml::de::Error| {
                anyhow!(
                    "{} (in the run with {})",
                    with_suggestion(e.to_string().trim_end()),
                    described()
                )
            })?;
        run.validate()
            .with_context(|| format!("in the run with {}", described()))?;
        runs.push(run);
    }
    Ok(runs)
}

fn collect_axes(
    table: &toml::Table,
    prefix: String,
    axes: &mut Vec<(String, Vec<toml::Value>)>,
) -> anyhow::Result<()> {
    for (key, value) in table {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            toml::Value::Array(values) if values.is_empty() => {
                bail!("sweep.{path} is an empty list")
            }
            toml::Value::Array(values) => axes.push((path, values.clone())),
            toml::Value::Table(inner) => collect_axes(inner, path, axes)?,
            other => bail!("sweep.{path} = {other} must be a list of alternatives, e.g. [{other}]"),
        }
    }
    Ok(())
}

fn set_path(table: &mut toml::Table, path: &str, value: toml::Value) {
    let mut parts: Vec<&str> = path.split('.').collect();
    let last = parts.pop().expect("paths are not empty");
    let mut t = table;
    for p in parts {
        let entry = t
            .entry(p.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if !entry.is_table() {
            *entry = toml::Value::Table(toml::Table::new());
        }
        t = entry.as_table_mut().expect("made a table above");
    }
    t.insert(last.to_string(), value);
}
