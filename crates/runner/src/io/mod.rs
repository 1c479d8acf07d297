//! Writing results atomically and printing to stdout.

use std::io::Write;
use std::path::Path;

use anyhow::Context;

/// Writes `contents` to `path` atomically: a temporary file in the same folder, then a rename,
/// so a reader never sees a half-written file.
pub fn write_atomic(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("out");
    // Unique across processes and hosts sharing a folder (shards of a cluster sweep).
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let tmp = dir.join(format!(".{name}.{}.{nanos}.tmp", std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(contents)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    // A full disk leaves neither a torn file nor a stray temporary one.
    write()
        .inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })
        .with_context(|| format!("writing {}", path.display()))
}

/// Prints to stdout. A closed pipe (`runner ... | head`) ends the program quietly, as other
/// command-line tools do; any other write error (a full disk behind `> file`) is an error.
pub fn emit(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => Err(anyhow::Error::new(e).context("writing to standard output")),
        Ok(()) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 13: temporary files leaked when a write failed. Renaming onto a folder fails after
    /// the temporary file is written: the error names the target and nothing is left behind.
    #[test]
    fn a_failed_write_leaves_no_temporary_file() {
        let dir = std::env::temp_dir().join(format!("write-atomic-{}", std::process::id()));
        let target = dir.join("table.md");
        std::fs::create_dir_all(target.join("in-the-way")).unwrap();
        let err = format!("{:#}", write_atomic(&target, b"text").unwrap_err());
        assert!(err.contains("table.md"), "{err}");
        let names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["table.md"], "only the folder in the way remains");
        std::fs::remove_dir_all(&target).unwrap();
        write_atomic(&target, b"text").unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "text");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
