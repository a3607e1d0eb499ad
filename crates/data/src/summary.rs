//! `open`: a summary of any HDF5 file (a tree of groups and datasets with shape, dtype, units, long_name
//! and attributes, plus ATL03 beam summaries when there are beams) or GeoTIFF (size, CRS, transform,
//! nodata, statistics). Plain values with a readable `Display`; HTML belongs to `output`.

use std::path::{Path, PathBuf};

use hdf5::Group;

use crate::atl03::{self, BeamSummary};
use crate::geotiff::{self, Raster};
use crate::h5::{self, AttrValue};
use crate::{Error, Result};

/// One dataset in the tree.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetNode {
    /// Name within its group.
    pub name: String,
    /// Shape.
    pub shape: Vec<usize>,
    /// Element type, as HDF5 describes it.
    pub dtype: String,
    /// `units` attribute.
    pub units: Option<String>,
    /// `long_name` attribute.
    pub long_name: Option<String>,
    /// All attributes.
    pub attrs: Vec<(String, AttrValue)>,
}

/// One group in the tree.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupNode {
    /// Name (`/` for the root).
    pub name: String,
    /// Attributes.
    pub attrs: Vec<(String, AttrValue)>,
    /// Sub-groups.
    pub groups: Vec<GroupNode>,
    /// Datasets.
    pub datasets: Vec<DatasetNode>,
}

/// What `open` found in a file.
#[derive(Debug, Clone, PartialEq)]
pub enum Summary {
    /// An HDF5 file.
    Hdf5 {
        /// The file.
        path: PathBuf,
        /// Its tree.
        root: GroupNode,
        /// ATL03 beams (empty for other products).
        beams: Vec<BeamSummary>,
    },
    /// A GeoTIFF.
    GeoTiff {
        /// The file.
        path: PathBuf,
        /// Its raster and georeferencing.
        raster: Box<Raster>,
    },
}

fn hdf(error: hdf5::Error, context: &str) -> Error {
    Error::Hdf5 { context: context.into(), message: error.to_string() }
}

fn group_node(group: &Group, name: String) -> Result<GroupNode> {
    let mut groups = Vec::new();
    for child in group.groups().map_err(|e| hdf(e, "listing groups"))? {
        let child_name = child.name().rsplit('/').next().unwrap_or_default().to_string();
        groups.push(group_node(&child, child_name)?);
    }
    let mut datasets = Vec::new();
    for dataset in group.datasets().map_err(|e| hdf(e, "listing datasets"))? {
        let dtype =
            dataset.dtype().and_then(|d| d.to_descriptor()).map(|d| d.to_string()).unwrap_or_else(|_| "unknown".into());
        datasets.push(DatasetNode {
            name: dataset.name().rsplit('/').next().unwrap_or_default().to_string(),
            shape: dataset.shape(),
            dtype,
            units: h5::text(&dataset, "units"),
            long_name: h5::text(&dataset, "long_name"),
            attrs: h5::attrs(&dataset).unwrap_or_default(),
        });
    }
    Ok(GroupNode { name, attrs: h5::attrs(group)?, groups, datasets })
}

/// Opens `path` and summarises it: HDF5 by its signature, GeoTIFF by its TIFF header.
pub fn open(path: &Path) -> Result<Summary> {
    let mut head = [0_u8; 8];
    {
        use std::io::Read;
        let mut file = std::fs::File::open(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })?;
        let _ = file.read(&mut head).map_err(|source| Error::Io { path: path.to_path_buf(), source })?;
    }
    if head.starts_with(b"II*\0") || head.starts_with(b"MM\0*") || head.starts_with(b"II+\0") {
        return Ok(Summary::GeoTiff { path: path.to_path_buf(), raster: Box::new(geotiff::read(path)?) });
    }
    let file = hdf5::File::open(path).map_err(|e| hdf(e, &format!("opening {}", path.display())))?;
    Ok(Summary::Hdf5 { path: path.to_path_buf(), root: group_node(&file, "/".into())?, beams: atl03::beams(&file)? })
}

fn write_group(f: &mut std::fmt::Formatter<'_>, group: &GroupNode, depth: usize) -> std::fmt::Result {
    let indent = "  ".repeat(depth);
    writeln!(f, "{indent}{}{}", group.name, if group.name == "/" { "" } else { "/" })?;
    for (name, value) in &group.attrs {
        let shown = value.to_string();
        let shown = if shown.len() > 80 {
            format!("{}…", &shown[..shown.char_indices().nth(79).map_or(shown.len(), |(i, _)| i)])
        } else {
            shown
        };
        writeln!(f, "{indent}  @{name} = {shown}")?;
    }
    for dataset in &group.datasets {
        let dims: Vec<String> = dataset.shape.iter().map(ToString::to_string).collect();
        write!(f, "{indent}  {} [{}] {}", dataset.name, dims.join(" × "), dataset.dtype)?;
        if let Some(units) = &dataset.units {
            write!(f, " ({units})")?;
        }
        if let Some(long_name) = &dataset.long_name {
            write!(f, " — {long_name}")?;
        }
        writeln!(f)?;
    }
    for child in &group.groups {
        write_group(f, child, depth + 1)?;
    }
    Ok(())
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Hdf5 { path, root, beams } => {
                writeln!(f, "HDF5 {}", path.display())?;
                if !beams.is_empty() {
                    writeln!(f, "ATL03 beams:")?;
                    for beam in beams {
                        writeln!(f, "  {beam}")?;
                    }
                }
                write_group(f, root, 0)
            }
            Self::GeoTiff { path, raster } => {
                writeln!(f, "{}", path.display())?;
                write!(f, "{raster}")
            }
        }
    }
}
