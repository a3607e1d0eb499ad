//! `hq serve --granules DIR`: the user's own ATL03 and SMAP files as granules of the collections the
//! local Harmony serves, each described by its own metadata (`harmonyql_data::granule`), so CMR search,
//! `granules` and `subset` work on real data offline.
//!
//! Read once at start; a file that cannot be read or belongs to no served collection is skipped with the
//! reason, never a failure of the server. Only the directory itself being unreadable stops it.

use std::path::{Path, PathBuf};

use harmonyql_data::granule::read_granule_metadata;

use crate::catalog::Catalog;
use crate::sample::SampleGranule;

/// Extensions of the files looked at; anything else in DIR (notes, images) is not a granule candidate.
const EXTENSIONS: [&str; 6] = ["h5", "he5", "hdf5", "hdf", "nc", "nc4"];

/// How deep below DIR files are looked for; bounds a stray symbolic-link loop.
const MAX_DEPTH: usize = 4;

/// A file left out, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Skipped {
    /// The file.
    pub path: PathBuf,
    /// Why it is not served.
    pub reason: String,
}

impl std::fmt::Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "skipped {}: {}", self.path.display(), self.reason)
    }
}

/// What a scan of DIR found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scan {
    /// The granules, in file-name order, with concept IDs `G9nnnnnnnn-HQ_LOCAL`.
    pub granules: Vec<SampleGranule>,
    /// The files left out.
    pub skipped: Vec<Skipped>,
    /// Files served as their collection's version although they name another (`ATL03 007` served as `006`).
    pub other_versions: Vec<Skipped>,
}

/// Why DIR could not be scanned at all.
#[derive(Debug, thiserror::Error)]
#[error("cannot read the granule directory {path}: {source}")]
pub struct ScanError {
    /// The directory.
    pub path: PathBuf,
    /// Why.
    #[source]
    pub source: std::io::Error,
}

/// Reads every candidate file under `dir` and makes granules of those whose collection `catalog` serves.
pub fn scan(dir: &Path, catalog: &Catalog) -> Result<Scan, ScanError> {
    std::fs::read_dir(dir).map_err(|source| ScanError { path: dir.to_path_buf(), source })?;
    let mut scan = Scan::default();
    let mut files = Vec::new();
    collect_files(dir, 0, &mut files);
    files.sort_by(|a, b| a.file_name().cmp(&b.file_name()).then_with(|| a.cmp(b)));
    let mut names: Vec<(String, PathBuf)> = Vec::new();
    for path in files {
        let skip = |reason: String| Skipped { path: path.clone(), reason };
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if let Some((_, first)) = names.iter().find(|(seen, _)| *seen == name) {
            scan.skipped.push(skip(format!("a granule named {name} is already served from {}", first.display())));
            continue;
        }
        let metadata = match read_granule_metadata(&path) {
            Ok(metadata) => metadata,
            Err(error) => {
                scan.skipped.push(skip(format!("not a readable ATL03 or SMAP granule: {error}")));
                continue;
            }
        };
        let Some(collection) = catalog.collections().iter().find(|c| c.short_name == metadata.short_name) else {
            let served: Vec<&str> = catalog.collections().iter().map(|c| c.short_name).collect();
            scan.skipped.push(skip(format!(
                "its collection {} is not one hq serve can subset ({})",
                metadata.short_name,
                served.join(", ")
            )));
            continue;
        };
        if let Some(version) = metadata.version.as_deref().filter(|v| *v != collection.version) {
            scan.other_versions.push(skip(format!(
                "{} version {version} served as {} {}",
                metadata.short_name, collection.short_name, collection.version
            )));
        }
        let size = std::fs::metadata(&path).ok().map(|m| m.len());
        scan.granules.push(SampleGranule {
            concept_id: format!("G9{:08}-HQ_LOCAL", scan.granules.len() + 1),
            name: name.clone(),
            short_name: metadata.short_name,
            bbox: metadata.bbox,
            start: metadata.start,
            end: metadata.end,
            footprint: metadata.footprint,
            source: Some(path.clone()),
            size,
        });
        names.push((name, path));
    }
    Ok(scan)
}

fn collect_files(dir: &Path, depth: usize, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if hidden {
            continue;
        }
        if path.is_dir() {
            if depth < MAX_DEPTH {
                collect_files(&path, depth + 1, files);
            }
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| EXTENSIONS.iter().any(|x| x.eq_ignore_ascii_case(e)))
        {
            files.push(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../assets/real/ATL03_gt1l.h5");

    #[test]
    fn real_and_generated_files_are_served_and_damaged_ones_skipped_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let real = std::fs::read(FIXTURE).unwrap();
        std::fs::write(dir.path().join("ATL03_gt1l.h5"), &real).unwrap();
        std::fs::write(dir.path().join("cut.h5"), &real[..real.len() / 3]).unwrap();
        std::fs::write(dir.path().join("notes.h5"), "not HDF5").unwrap();
        std::fs::write(dir.path().join("README.txt"), "not a candidate").unwrap();
        let nested = dir.path().join("smap");
        let smap = crate::sample::granules("SPL3SMP").remove(0);
        let generated = crate::sample::ensure(&smap, &nested, 1).unwrap();

        let scan = scan(dir.path(), &Catalog::default()).unwrap();
        let names: Vec<&str> = scan.granules.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, ["ATL03_gt1l.h5", smap.name.as_str()]);
        let atl03 = &scan.granules[0];
        assert_eq!((atl03.short_name.as_str(), atl03.concept_id.as_str()), ("ATL03", "G900000001-HQ_LOCAL"));
        assert_eq!(atl03.size, Some(real.len() as u64));
        assert_eq!(atl03.source.as_deref(), Some(dir.path().join("ATL03_gt1l.h5").as_path()));
        assert_eq!(atl03.start.format("%Y-%m-%dT%H:%M:%S").to_string(), "2018-10-14T00:26:50");
        // The SMAP file is described by its Metadata/Extent, which the generator wrote from the sample's own.
        let served = &scan.granules[1];
        assert_eq!((served.short_name.as_str(), served.source.as_deref()), ("SPL3SMP", Some(generated.as_path())));
        assert_eq!((served.start, served.end), (smap.start, smap.end));
        assert_eq!(served.bbox, smap.bbox);

        let skipped: Vec<String> = scan.skipped.iter().map(ToString::to_string).collect();
        assert_eq!(skipped.len(), 2, "{skipped:?}");
        assert!(skipped.iter().any(|s| s.contains("cut.h5: not a readable ATL03 or SMAP granule")), "{skipped:?}");
        assert!(skipped.iter().any(|s| s.contains("notes.h5: not a readable ATL03 or SMAP granule")), "{skipped:?}");
        assert!(scan.other_versions.is_empty());
    }

    #[test]
    fn a_missing_directory_is_an_error_naming_it() {
        let error = scan(Path::new("/nonexistent/granules"), &Catalog::default()).unwrap_err();
        assert!(error.to_string().starts_with("cannot read the granule directory /nonexistent/granules"));
    }
}
