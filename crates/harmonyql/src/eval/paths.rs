//! File-path completion: the entries of one directory that start with what was typed, for `open`,
//! `plot` and `download … to`. Reads one directory listing; never recurses, never follows more than
//! the typed path. Hidden entries only when the typed name starts with a dot.

use std::path::{Path, PathBuf};

/// At most this many paths are offered, so a huge directory cannot flood the completer.
pub const MAX_PATHS: usize = 200;

/// Paths completing `prefix` (as typed: relative to `cwd`, absolute, or starting with `~/`); directories
/// end with `/` so completion can go on into them. Sorted; an unreadable directory gives none.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// std::fs::create_dir(dir.path().join("out")).unwrap();
/// std::fs::write(dir.path().join("out/ATL03_a.h5"), b"").unwrap();
/// assert_eq!(harmonyql::eval::paths::complete_paths("out/AT", dir.path()), ["out/ATL03_a.h5"]);
/// assert_eq!(harmonyql::eval::paths::complete_paths("o", dir.path()), ["out/"]);
/// ```
pub fn complete_paths(prefix: &str, cwd: &Path) -> Vec<String> {
    let (typed_dir, typed_name) = match prefix.rfind('/') {
        Some(slash) => prefix.split_at(slash + 1),
        None => ("", prefix),
    };
    let directory: PathBuf = if typed_dir.is_empty() {
        cwd.to_path_buf()
    } else if let Some(rest) = typed_dir.strip_prefix("~/") {
        match std::env::var_os("HOME") {
            Some(home) => Path::new(&home).join(rest),
            None => return Vec::new(),
        }
    } else {
        cwd.join(typed_dir)
    };
    let Ok(entries) = std::fs::read_dir(&directory) else { return Vec::new() };
    let mut paths: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            if !name.starts_with(typed_name) || (name.starts_with('.') && !typed_name.starts_with('.')) {
                return None;
            }
            let is_dir = entry.file_type().ok()?.is_dir();
            Some(format!("{typed_dir}{name}{}", if is_dir { "/" } else { "" }))
        })
        .take(MAX_PATHS * 4)
        .collect();
    paths.sort();
    paths.truncate(MAX_PATHS);
    paths
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offers_matching_entries_with_directories_marked_and_hidden_ones_only_when_asked() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("results/sub")).unwrap();
        for name in ["results/a.h5", "results/b.tif", "results/.hidden", "readme.txt"] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        let cases: [(&str, &[&str]); 6] = [
            ("re", &["readme.txt", "results/"]),
            ("results/", &["results/a.h5", "results/b.tif", "results/sub/"]),
            ("results/a", &["results/a.h5"]),
            ("results/.", &["results/.hidden"]),
            ("missing/x", &[]),
            ("zzz", &[]),
        ];
        for (prefix, expected) in cases {
            assert_eq!(complete_paths(prefix, dir.path()), expected, "{prefix}");
        }
    }
}
