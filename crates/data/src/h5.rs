//! Low-level HDF5 helpers shared by the readers, the sample generators and the transformations: datasets
//! with the storage conventions of NSIDC products, fixed-length string attributes, dimension scales, and
//! generic attribute and object copies.
//!
//! Owns every `unsafe` call into the HDF5 C library in the crate; callers only see safe functions. Must not
//! know any product layout (ATL03, SMAP): that belongs to the callers.

use std::ffi::{CString, c_char, c_uint, c_void};

use hdf5::types::{TypeDescriptor, VarLenAscii, VarLenUnicode};
use hdf5::{Dataset, Extent, Group, H5Type, Location, SimpleExtents};
use hdf5_sys::h5::{herr_t, htri_t};
use hdf5_sys::h5i::hid_t;
use ndarray::{ArrayView, Dimension};

use crate::{Error, Result};

// The HDF5 high-level dimension-scale API, linked through hdf5-sys's `hl` feature; hdf5-metno has no
// wrapper for it (../shared/spec/dependencies.md, "HDF5 and dimension scales").
unsafe extern "C" {
    fn H5DSset_scale(dsid: hid_t, dimname: *const c_char) -> herr_t;
    fn H5DSattach_scale(did: hid_t, dsid: hid_t, idx: c_uint) -> herr_t;
    fn H5DSis_attached(did: hid_t, dsid: hid_t, idx: c_uint) -> htri_t;
}

/// How a dataset is stored: NSIDC chunks every science dataset along its first axis, compresses it with
/// gzip and shuffles integers (data-formats.md §1.9).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Storage {
    /// Chunk length along the first axis.
    pub chunk_rows: usize,
    /// gzip level, or `None` for no compression.
    pub deflate: Option<u8>,
    /// Whether the shuffle filter runs before gzip.
    pub shuffle: bool,
    /// Whether every axis (not just the first) is unlimited, as for ATL03 `signal_conf_ph`.
    pub all_unlimited: bool,
}

impl Storage {
    /// The ATL03 convention for a dataset of this element type: chunk 10000, gzip 6, shuffle for integers.
    pub fn atl03<T: H5Type>() -> Self {
        let is_integer = matches!(T::type_descriptor(), TypeDescriptor::Integer(_) | TypeDescriptor::Unsigned(_));
        Self { chunk_rows: 10_000, deflate: Some(6), shuffle: is_integer, all_unlimited: false }
    }

    /// Gridded SMAP arrays: chunked by blocks of rows, light gzip (global grids are large, and the fill
    /// that covers the oceans compresses well at any level).
    pub fn grid<T: H5Type>(rows: usize) -> Self {
        Self { chunk_rows: rows.clamp(1, 64), deflate: Some(1), ..Self::atl03::<T>() }
    }
}

fn h5(error: hdf5::Error, context: impl Into<String>) -> Error {
    Error::Hdf5 { context: context.into(), message: error.to_string() }
}

/// Creates an empty chunked dataset of `shape` stored as `storage` says: chunks of `chunk_rows` rows spanning
/// every other axis, unlimited along the first axis (and every axis when `all_unlimited`).
pub fn create_chunked<T: H5Type>(group: &Group, name: &str, shape: &[usize], storage: Storage) -> Result<Dataset> {
    let extents: Vec<Extent> = shape
        .iter()
        .enumerate()
        .map(|(axis, &len)| if axis == 0 || storage.all_unlimited { Extent::from(len..) } else { Extent::from(len) })
        .collect();
    let mut chunk: Vec<usize> = shape.iter().map(|&len| len.max(1)).collect();
    if let Some(first) = chunk.first_mut() {
        *first = storage.chunk_rows.max(1);
    }
    let mut builder = group.new_dataset::<T>().shape(SimpleExtents::from_vec(extents)).chunk(chunk);
    if storage.shuffle {
        builder = builder.shuffle();
    }
    if let Some(level) = storage.deflate {
        builder = builder.deflate(level);
    }
    builder.create(name).map_err(|e| h5(e, format!("creating {name}")))
}

/// Writes `data` as dataset `name` in `group` with the given storage (resizable along the first axis).
pub fn write_array<T: H5Type + Clone, D: Dimension>(
    group: &Group,
    name: &str,
    data: ArrayView<'_, T, D>,
    storage: Storage,
) -> Result<Dataset> {
    let shape = data.shape().to_vec();
    let dataset = create_chunked::<T>(group, name, &shape, storage)?;
    if !data.is_empty() {
        let data = data.as_standard_layout();
        dataset.write(&data).map_err(|e| h5(e, format!("writing {name}")))?;
    }
    Ok(dataset)
}

/// Writes a 1-D dataset with the ATL03 storage convention.
pub fn write_1d<T: H5Type + Clone>(group: &Group, name: &str, data: &[T]) -> Result<Dataset> {
    write_array(group, name, ArrayView::from(data), Storage::atl03::<T>())
}

/// Writes a scalar dataset (contiguous, as NSIDC writes `ancillary_data` scalars).
pub fn write_scalar<T: H5Type>(group: &Group, name: &str, value: T) -> Result<Dataset> {
    let dataset = group.new_dataset::<T>().shape(()).create(name).map_err(|e| h5(e, format!("creating {name}")))?;
    dataset.write_scalar(&value).map_err(|e| h5(e, format!("writing {name}")))?;
    Ok(dataset)
}

/// Writes a numeric attribute (scalar).
pub fn set_number<T: H5Type>(location: &Location, name: &str, value: T) -> Result<()> {
    if location.attr(name).is_ok() {
        location.delete_attr(name).map_err(|e| h5(e, format!("replacing attribute {name}")))?;
    }
    let attr =
        location.new_attr::<T>().shape(()).create(name).map_err(|e| h5(e, format!("creating attribute {name}")))?;
    attr.write_scalar(&value).map_err(|e| h5(e, format!("writing attribute {name}")))
}

/// Writes a 1-D numeric attribute (such as `flag_values`).
pub fn set_numbers<T: H5Type>(location: &Location, name: &str, values: &[T]) -> Result<()> {
    if location.attr(name).is_ok() {
        location.delete_attr(name).map_err(|e| h5(e, format!("replacing attribute {name}")))?;
    }
    location
        .new_attr_builder()
        .with_data(values)
        .create(name)
        .map(|_| ())
        .map_err(|e| h5(e, format!("writing attribute {name}")))
}

/// Writes a fixed-length, NUL-terminated ASCII string attribute of size `len + 1`, as NSIDC files do
/// (data-formats.md §1.9); replaces an existing attribute of the same name.
pub fn set_text(location: &Location, name: &str, value: &str) -> Result<()> {
    let c_name = CString::new(name).map_err(|_| Error::Invalid(format!("attribute name {name:?}")))?;
    let mut bytes = value.as_bytes().to_vec();
    bytes.retain(|&b| b != 0);
    bytes.push(0);
    // SAFETY: `location` is an open object and `c_name` a NUL-terminated name that outlive the call; the type
    // and space created here are closed before returning; HDF5's global lock is held by `sync`.
    let status = hdf5::sync::sync(|| unsafe {
        use hdf5_sys::{h5a, h5s, h5t};
        let loc = location.id();
        if h5a::H5Aexists(loc, c_name.as_ptr()) > 0 {
            h5a::H5Adelete(loc, c_name.as_ptr());
        }
        let dtype = h5t::H5Tcopy(*h5t::H5T_C_S1);
        h5t::H5Tset_size(dtype, bytes.len());
        h5t::H5Tset_strpad(dtype, h5t::H5T_str_t::H5T_STR_NULLTERM);
        let space = h5s::H5Screate(h5s::H5S_class_t::H5S_SCALAR);
        let attr = h5a::H5Acreate2(loc, c_name.as_ptr(), dtype, space, 0, 0);
        let status = if attr < 0 { -1 } else { h5a::H5Awrite(attr, dtype, bytes.as_ptr().cast()) };
        if attr >= 0 {
            h5a::H5Aclose(attr);
        }
        h5s::H5Sclose(space);
        h5t::H5Tclose(dtype);
        status
    });
    if status < 0 {
        return Err(Error::Hdf5 { context: format!("writing attribute {name}"), message: "H5Awrite failed".into() });
    }
    Ok(())
}

/// An attribute's value, decoded whatever its stored type.
#[derive(Debug, Clone, PartialEq)]
pub enum AttrValue {
    /// One string (fixed or variable length).
    Text(String),
    /// Several strings.
    Texts(Vec<String>),
    /// Numbers, converted to f64 (a scalar is a one-element vector).
    Numbers(Vec<f64>),
    /// Something else (references, compounds), described by its type.
    Other(String),
}

impl std::fmt::Display for AttrValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Text(text) => write!(f, "{text:?}"),
            Self::Texts(texts) => write!(f, "{texts:?}"),
            Self::Numbers(values) if values.len() == 1 => write!(f, "{}", values[0]),
            Self::Numbers(values) => write!(f, "{values:?}"),
            Self::Other(kind) => write!(f, "<{kind}>"),
        }
    }
}

impl AttrValue {
    /// The text, if this is a single string.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::Text(text) => Some(text),
            _ => None,
        }
    }

    /// The first number, if this is numeric.
    pub fn as_number(&self) -> Option<f64> {
        match self {
            Self::Numbers(values) => values.first().copied(),
            _ => None,
        }
    }
}

/// Reads attribute `name` of `location`, decoding fixed and variable-length strings and numbers.
pub fn attr(location: &Location, name: &str) -> Result<AttrValue> {
    let attribute = location.attr(name).map_err(|e| h5(e, format!("opening attribute {name}")))?;
    let descriptor = attribute
        .dtype()
        .and_then(|dtype| dtype.to_descriptor())
        .map_err(|e| h5(e, format!("reading the type of attribute {name}")))?;
    let read_err = |e| h5(e, format!("reading attribute {name}"));
    let texts = match descriptor {
        TypeDescriptor::Integer(_)
        | TypeDescriptor::Unsigned(_)
        | TypeDescriptor::Float(_)
        | TypeDescriptor::Boolean
        | TypeDescriptor::Enum(_) => {
            return Ok(AttrValue::Numbers(attribute.read_raw::<f64>().map_err(read_err)?));
        }
        TypeDescriptor::FixedAscii(size) | TypeDescriptor::FixedUnicode(size) => {
            read_fixed_strings(&attribute, size, attribute.size())?
        }
        TypeDescriptor::VarLenUnicode => {
            attribute.read_raw::<VarLenUnicode>().map_err(read_err)?.iter().map(|s| s.to_string()).collect()
        }
        TypeDescriptor::VarLenAscii => {
            attribute.read_raw::<VarLenAscii>().map_err(read_err)?.iter().map(|s| s.to_string()).collect()
        }
        other => return Ok(AttrValue::Other(other.to_string())),
    };
    Ok(if texts.len() == 1 {
        AttrValue::Text(texts.into_iter().next().unwrap_or_default())
    } else {
        AttrValue::Texts(texts)
    })
}

/// Reads every attribute of `location` (skipping dimension-scale bookkeeping, which holds references).
pub fn attrs(location: &Location) -> Result<Vec<(String, AttrValue)>> {
    let names = location.attr_names().map_err(|e| h5(e, "listing attributes"))?;
    names
        .into_iter()
        .filter(|name| !matches!(name.as_str(), "DIMENSION_LIST" | "REFERENCE_LIST"))
        .map(|name| attr(location, &name).map(|value| (name, value)))
        .collect()
}

/// The text of string attribute `name`, or `None` if absent or not a string.
pub fn text(location: &Location, name: &str) -> Option<String> {
    attr(location, name).ok().and_then(|value| value.as_text().map(str::to_owned))
}

fn read_fixed_strings(attribute: &hdf5::Attribute, size: usize, count: usize) -> Result<Vec<String>> {
    let mut buffer = vec![0_u8; size * count.max(1)];
    // SAFETY: the buffer holds `count` strings of the attribute's fixed `size`, which is what H5Aread writes
    // with the attribute's own type; the type is closed before returning; the lock is held by `sync`.
    let status = hdf5::sync::sync(|| unsafe {
        let dtype = hdf5_sys::h5a::H5Aget_type(attribute.id());
        let status = hdf5_sys::h5a::H5Aread(attribute.id(), dtype, buffer.as_mut_ptr().cast());
        hdf5_sys::h5t::H5Tclose(dtype);
        status
    });
    if status < 0 {
        return Err(Error::Hdf5 { context: "reading a string attribute".into(), message: "H5Aread failed".into() });
    }
    Ok(buffer
        .chunks(size.max(1))
        .map(|chunk| {
            let end = chunk.iter().position(|&b| b == 0).unwrap_or(chunk.len());
            String::from_utf8_lossy(&chunk[..end]).trim_end().to_string()
        })
        .collect())
}

/// Copies every attribute of `from` onto `to`, byte for byte with the stored types (strings keep their
/// fixed lengths), except the dimension-scale bookkeeping, which is re-created by [`set_scale`] and
/// [`attach_scale`] because its object references cannot cross files.
pub fn copy_attrs(from: &Location, to: &Location) -> Result<()> {
    let names = from.attr_names().map_err(|e| h5(e, "listing attributes"))?;
    for name in names {
        if matches!(name.as_str(), "DIMENSION_LIST" | "REFERENCE_LIST" | "CLASS" | "NAME") {
            continue;
        }
        let attribute = from.attr(&name).map_err(|e| h5(e, format!("opening attribute {name}")))?;
        let c_name = CString::new(name.as_str()).map_err(|_| Error::Invalid(format!("attribute {name:?}")))?;
        // SAFETY: `attribute` and `to` are open for the whole call, as `copy_attr_raw` requires; lock held.
        let status = hdf5::sync::sync(|| unsafe { copy_attr_raw(attribute.id(), to.id(), &c_name) });
        if status < 0 {
            return Err(Error::Hdf5 {
                context: format!("copying attribute {name}"),
                message: "H5Awrite failed".into(),
            });
        }
    }
    Ok(())
}

/// # Safety
/// `src` must be an open attribute and `dst` an open object; called under the HDF5 lock.
unsafe fn copy_attr_raw(src: hid_t, dst: hid_t, name: &CString) -> herr_t {
    use hdf5_sys::{h5a, h5d, h5s, h5t};
    // SAFETY: the caller guarantees open handles and the lock; every buffer below is sized from the
    // attribute's own space and type, and every handle opened here is closed before returning.
    unsafe {
        let dtype = h5a::H5Aget_type(src);
        let space = h5a::H5Aget_space(src);
        let n_points = h5s::H5Sget_simple_extent_npoints(space).max(1) as usize;
        let is_vlen = h5t::H5Tis_variable_str(dtype) > 0 || h5t::H5Tget_class(dtype) == h5t::H5T_class_t::H5T_VLEN;
        let element = h5t::H5Tget_size(dtype).max(1);
        let mut buffer = vec![0_u8; element * n_points];
        let mut status = h5a::H5Aread(src, dtype, buffer.as_mut_ptr().cast());
        if status >= 0 {
            if h5a::H5Aexists(dst, name.as_ptr()) > 0 {
                h5a::H5Adelete(dst, name.as_ptr());
            }
            let attr = h5a::H5Acreate2(dst, name.as_ptr(), dtype, space, 0, 0);
            status = if attr < 0 { -1 } else { h5a::H5Awrite(attr, dtype, buffer.as_ptr().cast::<c_void>()) };
            if attr >= 0 {
                h5a::H5Aclose(attr);
            }
            if is_vlen {
                h5d::H5Dvlen_reclaim(dtype, space, 0, buffer.as_mut_ptr().cast());
            }
        }
        h5s::H5Sclose(space);
        h5t::H5Tclose(dtype);
        status
    }
}

/// Copies object `name` (a group with everything under it, or a dataset) from `from` to `to` unchanged.
pub fn copy_object(from: &Group, name: &str, to: &Group) -> Result<()> {
    let c_name = CString::new(name).map_err(|_| Error::Invalid(format!("object name {name:?}")))?;
    // SAFETY: both groups are open and `c_name` is NUL-terminated for the whole call; lock held by `sync`.
    let status = hdf5::sync::sync(|| unsafe {
        hdf5_sys::h5o::H5Ocopy(from.id(), c_name.as_ptr(), to.id(), c_name.as_ptr(), 0, 0)
    });
    if status < 0 {
        return Err(Error::Hdf5 { context: format!("copying {name}"), message: "H5Ocopy failed".into() });
    }
    Ok(())
}

/// Makes `dataset` a dimension scale called `name`, unless it already is one.
pub fn set_scale(dataset: &Dataset, name: &str) -> Result<()> {
    if dataset.attr("CLASS").is_ok() {
        return Ok(());
    }
    let c_name = CString::new(name).map_err(|_| Error::Invalid(format!("scale name {name:?}")))?;
    // SAFETY: `dataset` is open and `c_name` NUL-terminated for the whole call; lock held by `sync`.
    let status = hdf5::sync::sync(|| unsafe { H5DSset_scale(dataset.id(), c_name.as_ptr()) });
    if status < 0 {
        return Err(Error::Hdf5 {
            context: format!("making {name} a dimension scale"),
            message: "H5DSset_scale failed".into(),
        });
    }
    Ok(())
}

/// Attaches `scale` to axis `axis` of `dataset`, unless it already is attached.
pub fn attach_scale(dataset: &Dataset, scale: &Dataset, axis: usize) -> Result<()> {
    let axis = axis as c_uint;
    // SAFETY: both datasets are open for the whole call and HDF5 checks `axis` against the rank; lock held.
    let status = hdf5::sync::sync(|| unsafe {
        if H5DSis_attached(dataset.id(), scale.id(), axis) > 0 {
            return 0;
        }
        H5DSattach_scale(dataset.id(), scale.id(), axis)
    });
    if status < 0 {
        return Err(Error::Hdf5 {
            context: format!("attaching {} to {}", scale.name(), dataset.name()),
            message: "H5DSattach_scale failed".into(),
        });
    }
    Ok(())
}

/// Makes each group's `delta_time` a dimension scale attached to the first axis of its siblings of the
/// same length, and attaches the root scales `/ds_surf_type` (5) and `/ds_xyz` (3) to second axes of those
/// sizes, creating the root scales if missing: what lets netCDF readers such as xarray open a group of an
/// ATL03 file (../shared/fixtures/real/README.md).
pub fn attach_atl03_scales(file: &hdf5::File) -> Result<()> {
    let root: &Group = file;
    let surf_type = root_scale(
        root,
        "ds_surf_type",
        &[0_i32, 1, 2, 3, 4],
        "surface type for signal classification confidence (land, ocean, sea ice, land ice, inland water)",
    )?;
    let xyz = root_scale(root, "ds_xyz", &[0_i32, 1, 2], "dimension scale indicating x, y, z components")?;
    let mut groups = Vec::new();
    collect_groups(root, &mut groups)?;
    for group in groups {
        let Ok(time) = group.dataset("delta_time") else {
            continue;
        };
        let n_time = time.shape().first().copied().unwrap_or(0);
        set_scale(&time, "delta_time")?;
        for dataset in group.datasets().map_err(|e| h5(e, "listing datasets"))? {
            if dataset.name() == time.name() {
                continue;
            }
            let shape = dataset.shape();
            if shape.first() != Some(&n_time) {
                continue;
            }
            attach_scale(&dataset, &time, 0)?;
            match shape.get(1) {
                Some(5) => attach_scale(&dataset, &surf_type, 1)?,
                Some(3) => attach_scale(&dataset, &xyz, 1)?,
                _ => {}
            }
        }
    }
    Ok(())
}

fn root_scale(root: &Group, name: &str, values: &[i32], description: &str) -> Result<Dataset> {
    let dataset = match root.dataset(name) {
        Ok(dataset) => dataset,
        Err(_) => {
            let dataset = root
                .new_dataset_builder()
                .with_data(values)
                .create(name)
                .map_err(|e| h5(e, format!("creating {name}")))?;
            set_text(&dataset, "description", description)?;
            set_text(&dataset, "long_name", description)?;
            set_text(&dataset, "units", "1")?;
            dataset
        }
    };
    set_scale(&dataset, name)?;
    Ok(dataset)
}

/// Every group below `group` (depth first, `group` itself included).
pub fn collect_groups(group: &Group, out: &mut Vec<Group>) -> Result<()> {
    out.push(group.clone());
    for child in group.groups().map_err(|e| h5(e, "listing groups"))? {
        collect_groups(&child, out)?;
    }
    Ok(())
}

/// Reads rows `rows` (half-open ranges along the first axis, in order) of `dataset` and writes them as
/// dataset `name` in `to`, keeping the element type, chunking, filters and attributes.
pub fn copy_rows(dataset: &Dataset, to: &Group, name: &str, rows: &[std::ops::Range<usize>]) -> Result<Dataset> {
    copy_window(dataset, to, name, rows, None)
}

/// Like [`copy_rows`], and when `cols` is given also keeps only those indices along the second axis
/// (a window of a grid).
pub fn copy_window(
    dataset: &Dataset,
    to: &Group,
    name: &str,
    rows: &[std::ops::Range<usize>],
    cols: Option<std::ops::Range<usize>>,
) -> Result<Dataset> {
    let descriptor = dataset
        .dtype()
        .and_then(|dtype| dtype.to_descriptor())
        .map_err(|e| h5(e, format!("reading the type of {name}")))?;
    use hdf5::types::{FloatSize, IntSize};
    let out = match descriptor {
        TypeDescriptor::Integer(IntSize::U1) => copy_rows_as::<i8>(dataset, to, name, rows, cols.clone()),
        TypeDescriptor::Integer(IntSize::U2) => copy_rows_as::<i16>(dataset, to, name, rows, cols.clone()),
        TypeDescriptor::Integer(IntSize::U4) => copy_rows_as::<i32>(dataset, to, name, rows, cols.clone()),
        TypeDescriptor::Integer(IntSize::U8) => copy_rows_as::<i64>(dataset, to, name, rows, cols.clone()),
        TypeDescriptor::Unsigned(IntSize::U1) => copy_rows_as::<u8>(dataset, to, name, rows, cols.clone()),
        TypeDescriptor::Unsigned(IntSize::U2) => copy_rows_as::<u16>(dataset, to, name, rows, cols.clone()),
        TypeDescriptor::Unsigned(IntSize::U4) => copy_rows_as::<u32>(dataset, to, name, rows, cols.clone()),
        TypeDescriptor::Unsigned(IntSize::U8) => copy_rows_as::<u64>(dataset, to, name, rows, cols.clone()),
        TypeDescriptor::Float(FloatSize::U4) => copy_rows_as::<f32>(dataset, to, name, rows, cols.clone()),
        TypeDescriptor::Float(FloatSize::U8) => copy_rows_as::<f64>(dataset, to, name, rows, cols.clone()),
        other => Err(Error::Invalid(format!("cannot subset {name}: element type {other} is not numeric"))),
    }?;
    copy_attrs(dataset, &out)?;
    Ok(out)
}

fn copy_rows_as<T: crate::chunked::Target>(
    dataset: &Dataset,
    to: &Group,
    name: &str,
    rows: &[std::ops::Range<usize>],
    cols: Option<std::ops::Range<usize>>,
) -> Result<Dataset> {
    // Only the rows between the first and the last kept ones are decoded (in parallel, `chunked`).
    let total = dataset.shape().first().copied().unwrap_or(0);
    let first = rows.iter().map(|r| r.start.min(total)).min().unwrap_or(0);
    let last = rows.iter().map(|r| r.end.min(total)).max().unwrap_or(first).max(first);
    let data = crate::chunked::read::<T>(dataset, (dataset.ndim() > 0).then_some(first..last))?;
    let mut array = if rows.len() == 1 || dataset.ndim() == 0 {
        // One run (the usual subset, and every whole copy): the rows read are the rows kept.
        data
    } else {
        let shape = data.shape().to_vec();
        let row_len: usize = shape.iter().skip(1).product();
        let flat = data.as_standard_layout();
        let flat = flat.as_slice().unwrap_or(&[]);
        let mut picked = Vec::new();
        for range in rows {
            let start = (range.start.min(total) - first) * row_len;
            let end = ((range.end.min(total) - first) * row_len).max(start);
            picked.extend_from_slice(&flat[start..end]);
        }
        let mut new_shape = shape.clone();
        new_shape[0] = picked.len() / row_len.max(1);
        ndarray::ArrayD::from_shape_vec(new_shape, picked)
            .map_err(|e| Error::Invalid(format!("reshaping {name}: {e}")))?
    };
    if let Some(cols) = cols.filter(|_| array.ndim() >= 2) {
        let end = cols.end.min(array.shape()[1]);
        let start = cols.start.min(end);
        array = array.slice_axis(ndarray::Axis(1), ndarray::Slice::from(start..end)).to_owned();
    }
    let chunk = dataset.chunk().and_then(|c| c.first().copied()).unwrap_or(10_000);
    let filters = dataset.filters();
    let storage = Storage {
        chunk_rows: chunk,
        deflate: filters.iter().find_map(|f| match f {
            hdf5::filters::Filter::Deflate(level) => Some(*level),
            _ => None,
        }),
        shuffle: filters.iter().any(|f| matches!(f, hdf5::filters::Filter::Shuffle)),
        all_unlimited: dataset.ndim() > 1 && dataset.is_resizable() && is_all_unlimited(dataset),
    };
    // Compressed on every core when the storage deflates (the subsetter's outputs), else HDF5's own write.
    crate::chunk_writer::write(to, name, array.view(), storage)
}

fn is_all_unlimited(dataset: &Dataset) -> bool {
    dataset.space().is_ok_and(|space| space.maxdims().iter().all(Option::is_none))
}
