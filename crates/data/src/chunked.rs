//! Parallel decoding of chunked HDF5 datasets: the fast path behind every whole-dataset and row-range read
//! of the readers (`atl03`, `variable`, the subsetter's row copies).
//!
//! HDF5 (and so h5py and xarray) decodes a chunked dataset one chunk at a time, inflating under the
//! library's global lock. Here each chunk is looked up and its stored bytes are read once with HDF5's
//! direct chunk read (`H5Dget_chunk_storage_size` + `H5Dread_chunk`, both in HDF5 ≥ 1.10.3; this machine
//! has 1.10.8, where `H5Dread_chunk2` does not exist yet), briefly under the lock; inflating
//! (libdeflate, which inflates a whole buffer about twice as fast as a streaming zlib), unshuffling and
//! converting run outside it, on every core, each chunk scattered straight into its own slice of the
//! output array. Memory is the output plus two chunk-sized buffers per thread. A 2-D read may ask for some
//! columns only ([`read_columns`]): the chunks are still inflated whole, but only those columns are
//! converted and kept (ATL03's `signal_conf_ph` has five; a reader wants one).
//!
//! Decoded here: no filter, `shuffle`, `deflate` (gzip), and `shuffle` then `deflate` (the NSIDC
//! convention), including chunks whose filter mask skipped a filter; little-endian integers and floats
//! read as the same type or widened exactly (any number to `f64`; 8- and 16-bit integers and `f32` to
//! `f32`); 1-D datasets and 2-D datasets whose chunks span every column; chunks never written read as the
//! dataset's fill value, as HDF5 does. Everything else goes through HDF5's ordinary read, with identical
//! results: szip, Fletcher-32 checksums, n-bit, scale-offset, LZF, Blosc and any other user filter;
//! big-endian or non-numeric types; narrowing conversions (HDF5 clamps them); contiguous and compact
//! layouts; 3-D and higher arrays; chunks split along the second axis. A chunk that fails to decode also
//! falls back, so corrupt data is reported by HDF5 itself.

use std::ops::Range;
use std::sync::Mutex;

use hdf5::types::{FloatSize, IntSize, TypeDescriptor};
use hdf5::{Dataset, H5Type};
use hdf5_sys::h5::{HADDR_UNDEF, herr_t, hsize_t};
use hdf5_sys::h5i::hid_t;
use ndarray::{ArrayD, Axis, IxDyn, Slice, s};

use crate::{Error, Result};

/// A stored element's numeric type (little-endian).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Kind {
    I8,
    I16,
    I32,
    I64,
    U8,
    U16,
    U32,
    U64,
    F32,
    F64,
}

impl Kind {
    fn of(descriptor: &TypeDescriptor) -> Option<Self> {
        Some(match descriptor {
            TypeDescriptor::Integer(IntSize::U1) => Self::I8,
            TypeDescriptor::Integer(IntSize::U2) => Self::I16,
            TypeDescriptor::Integer(IntSize::U4) => Self::I32,
            TypeDescriptor::Integer(IntSize::U8) => Self::I64,
            TypeDescriptor::Unsigned(IntSize::U1) => Self::U8,
            TypeDescriptor::Unsigned(IntSize::U2) => Self::U16,
            TypeDescriptor::Unsigned(IntSize::U4) => Self::U32,
            TypeDescriptor::Unsigned(IntSize::U8) => Self::U64,
            TypeDescriptor::Float(FloatSize::U4) => Self::F32,
            TypeDescriptor::Float(FloatSize::U8) => Self::F64,
            _ => return None,
        })
    }
}

/// A stored element type of `N` bytes, read from its little-endian bytes.
trait Stored<const N: usize>: Copy {
    fn from_le(bytes: [u8; N]) -> Self;
}

macro_rules! stored {
    ($($t:ty),*) => {$(
        impl Stored<{ std::mem::size_of::<$t>() }> for $t {
            #[inline(always)]
            fn from_le(bytes: [u8; std::mem::size_of::<$t>()]) -> Self {
                <$t>::from_le_bytes(bytes)
            }
        }
    )*};
}
stored!(i8, i16, i32, i64, u8, u16, u32, u64, f32, f64);

/// Where one decoded chunk goes: which of its rows, and how wide its rows and the output's are.
#[derive(Debug)]
pub struct Placement {
    /// Elements in the whole (padded) chunk.
    pub chunk_len: usize,
    /// First row of the chunk to copy.
    pub first_row: usize,
    /// Elements per chunk row (the chunk's width, possibly wider than the dataset).
    pub chunk_width: usize,
    /// Elements per output row.
    pub width: usize,
    /// First column of the chunk to copy (0 unless only some columns are read).
    pub first_column: usize,
}

/// Copies the wanted rows of a decoded chunk (`bytes`, shuffled or not) into `out`, converting.
pub type ScatterFn<T> = fn(&[u8], bool, &Placement, &mut [T]);

fn scatter<S: Stored<N>, T, const N: usize>(
    bytes: &[u8],
    shuffled: bool,
    place: &Placement,
    out: &mut [T],
    cast: impl Fn(S) -> T,
) {
    if place.width == place.chunk_width {
        // The wanted rows are one contiguous run of the chunk.
        run(bytes, shuffled, place.chunk_len, place.first_row * place.width, out, &cast);
    } else if place.width == 1 {
        // One column (ATL03's confidence for one surface type): a single strided pass, not a call per row.
        let start = place.first_row * place.chunk_width + place.first_column;
        column(bytes, shuffled, place.chunk_len, start, place.chunk_width, out, &cast);
    } else {
        for (row, out_row) in out.chunks_mut(place.width.max(1)).enumerate() {
            let start = (place.first_row + row) * place.chunk_width + place.first_column;
            run(bytes, shuffled, place.chunk_len, start, out_row, &cast);
        }
    }
}

/// Converts elements `start..start + out.len()` of a decoded chunk of `chunk_len` elements into `out`.
#[inline(always)]
fn run<S: Stored<N>, T, const N: usize>(
    bytes: &[u8],
    shuffled: bool,
    chunk_len: usize,
    start: usize,
    out: &mut [T],
    cast: &impl Fn(S) -> T,
) {
    let n = out.len();
    if shuffled && N > 1 {
        // Shuffled chunks store byte k of every element together (plane k): element e's byte k is at
        // k * chunk_len + e. Slicing each plane to exactly `n` lets the compiler drop the bounds checks.
        let planes: [&[u8]; N] = std::array::from_fn(|k| &bytes[k * chunk_len + start..][..n]);
        for (index, value) in out.iter_mut().enumerate() {
            *value = cast(S::from_le(std::array::from_fn(|k| planes[k][index])));
        }
    } else {
        let source = &bytes[start * N..(start + n) * N];
        for (value, element) in out.iter_mut().zip(source.chunks_exact(N)) {
            *value = cast(S::from_le(element.try_into().unwrap_or([0; N])));
        }
    }
}

/// Converts elements `start`, `start + stride`, … of a decoded chunk of `chunk_len` elements into `out`.
#[inline(always)]
fn column<S: Stored<N>, T, const N: usize>(
    bytes: &[u8],
    shuffled: bool,
    chunk_len: usize,
    start: usize,
    stride: usize,
    out: &mut [T],
    cast: &impl Fn(S) -> T,
) {
    let Some(last) = out.len().checked_sub(1).map(|n| start + n * stride) else { return };
    if shuffled && N > 1 {
        let planes: [&[u8]; N] = std::array::from_fn(|k| &bytes[k * chunk_len..][..=last]);
        for (index, value) in out.iter_mut().enumerate() {
            let element = start + index * stride;
            *value = cast(S::from_le(std::array::from_fn(|k| planes[k][element])));
        }
    } else {
        let source = &bytes[..(last + 1) * N];
        for (index, value) in out.iter_mut().enumerate() {
            let element = (start + index * stride) * N;
            *value = cast(S::from_le(std::array::from_fn(|k| source[element + k])));
        }
    }
}

/// An element type the fast path can produce, and from which stored kinds (exact conversions only).
pub trait Target: H5Type + Copy + Default + Send + Sync {
    /// The scatter function converting stored `kind` to `Self`, if that conversion is exact.
    #[doc(hidden)]
    fn scatter_fn(kind: Kind) -> Option<ScatterFn<Self>>;
}

macro_rules! target {
    ($t:ty: $($kind:ident => $s:ty),*) => {
        impl Target for $t {
            #[allow(clippy::unnecessary_cast)]
            fn scatter_fn(kind: Kind) -> Option<ScatterFn<Self>> {
                match kind {
                    $(Kind::$kind => Some(|bytes, shuffled, place, out| {
                        scatter::<$s, $t, { std::mem::size_of::<$s>() }>(bytes, shuffled, place, out, |v| v as $t)
                    }),)*
                    #[allow(unreachable_patterns)]
                    _ => None,
                }
            }
        }
    };
}

target!(f64: I8 => i8, I16 => i16, I32 => i32, I64 => i64, U8 => u8, U16 => u16, U32 => u32, U64 => u64,
    F32 => f32, F64 => f64);
target!(f32: I8 => i8, I16 => i16, U8 => u8, U16 => u16, F32 => f32);
target!(i8: I8 => i8);
target!(i16: I8 => i8, I16 => i16, U8 => u8);
target!(i32: I8 => i8, I16 => i16, I32 => i32, U8 => u8, U16 => u16);
target!(i64: I8 => i8, I16 => i16, I32 => i32, I64 => i64, U8 => u8, U16 => u16, U32 => u32);
target!(u8: U8 => u8);
target!(u16: U8 => u8, U16 => u16);
target!(u32: U8 => u8, U16 => u16, U32 => u32);
target!(u64: U8 => u8, U16 => u16, U32 => u32, U64 => u64);

fn h5(error: hdf5::Error, context: impl Into<String>) -> Error {
    Error::Hdf5 { context: context.into(), message: error.to_string() }
}

/// Reads rows `rows` (all of them when `None`) of `dataset` as `T`: decoded in parallel when the layout,
/// filters and types allow (see the module docs), otherwise through HDF5's ordinary read. Same values
/// either way.
pub fn read<T: Target>(dataset: &Dataset, rows: Option<Range<usize>>) -> Result<ArrayD<T>> {
    if let Ok(Some(array)) = read_parallel::<T>(dataset, rows.clone()) {
        return Ok(array);
    }
    read_ordinary(dataset, rows)
}

/// Like [`read`] for a 2-D dataset, keeping only `columns`: rows × `columns.len()` values.
pub fn read_columns<T: Target>(
    dataset: &Dataset,
    rows: Option<Range<usize>>,
    columns: Range<usize>,
) -> Result<ArrayD<T>> {
    if let Ok(Some(array)) = read_selection::<T>(dataset, rows.clone(), Some(columns.clone())) {
        return Ok(array);
    }
    let context = || format!("reading {}", dataset.name());
    if dataset.ndim() != 2 {
        return Err(Error::Invalid(format!("{}: columns of a {}-D dataset", dataset.name(), dataset.ndim())));
    }
    let rows = rows.unwrap_or(0..dataset.shape()[0]);
    dataset.read_slice_2d::<T, _>(s![rows, columns]).map(|a| a.into_dyn()).map_err(|e| h5(e, context()))
}

/// Like [`read`], as a flat row-major vector and the shape, without copying the values again.
pub fn read_vec<T: Target>(dataset: &Dataset, rows: Option<Range<usize>>) -> Result<(Vec<T>, Vec<usize>)> {
    let array = read(dataset, rows)?;
    let shape = array.shape().to_vec();
    let array = if array.is_standard_layout() { array } else { array.as_standard_layout().into_owned() };
    let (values, offset) = array.into_raw_vec_and_offset();
    if offset.is_some_and(|o| o != 0) {
        return Err(Error::Invalid(format!("{}: unexpected array offset", dataset.name())));
    }
    Ok((values, shape))
}

/// HDF5's own read of rows `rows` (all when `None`): the fallback, and the reference the tests compare with.
pub fn read_ordinary<T: Target>(dataset: &Dataset, rows: Option<Range<usize>>) -> Result<ArrayD<T>> {
    let context = || format!("reading {}", dataset.name());
    let Some(rows) = rows else { return dataset.read_dyn::<T>().map_err(|e| h5(e, context())) };
    match dataset.ndim() {
        1 => dataset.read_slice_1d::<T, _>(s![rows]).map(|a| a.into_dyn()),
        2 => dataset.read_slice_2d::<T, _>(s![rows, ..]).map(|a| a.into_dyn()),
        _ => dataset.read_dyn::<T>().map(|a| a.slice_axis(Axis(0), Slice::from(rows)).to_owned()),
    }
    .map_err(|e| h5(e, context()))
}

/// What the fast path needs to know about a dataset, gathered once.
struct Plan<T> {
    shape: Vec<usize>,
    chunk_rows: usize,
    chunk_width: usize,
    element_size: usize,
    /// Pipeline positions of shuffle and deflate, when present.
    shuffle: Option<usize>,
    deflate: Option<usize>,
    scatter: ScatterFn<T>,
    fill: T,
}

fn plan<T: Target>(dataset: &Dataset) -> Option<Plan<T>> {
    if !dataset.is_chunked() {
        return None;
    }
    let shape = dataset.shape();
    let chunk = dataset.chunk()?;
    if !(1..=2).contains(&shape.len()) || chunk.len() != shape.len() || chunk[0] == 0 {
        return None;
    }
    let chunk_width = chunk.get(1).copied().unwrap_or(1);
    if shape.len() == 2 && chunk_width < shape[1] {
        return None;
    }
    let dtype = dataset.dtype().ok()?;
    if !matches!(dtype.byte_order(), hdf5::datatype::ByteOrder::LittleEndian | hdf5::datatype::ByteOrder::None) {
        return None;
    }
    let kind = Kind::of(&dtype.to_descriptor().ok()?)?;
    let scatter = T::scatter_fn(kind)?;
    let (mut shuffle, mut deflate) = (None, None);
    for (position, filter) in dataset.filters().iter().enumerate() {
        match filter {
            // Shuffle must run first when writing (so last when reading), and deflate at most once.
            hdf5::filters::Filter::Shuffle if position == 0 => shuffle = Some(position),
            hdf5::filters::Filter::Deflate(_) if deflate.is_none() => deflate = Some(position),
            _ => return None,
        }
    }
    Some(Plan {
        shape,
        chunk_rows: chunk[0],
        chunk_width,
        element_size: dtype.size(),
        shuffle,
        deflate,
        scatter,
        fill: fill_value::<T>(dataset)?,
    })
}

/// The dataset's fill value (what HDF5 returns for chunks never written) converted to `T` by HDF5.
fn fill_value<T: Target>(dataset: &Dataset) -> Option<T> {
    let dcpl = dataset.dcpl().ok()?;
    let memory = hdf5::Datatype::from_type::<T>().ok()?;
    let mut value = T::default();
    // SAFETY: `dcpl` and `memory` are open identifiers kept alive for the call, and `value` is a valid,
    // writable `T` whose HDF5 type is `memory`, so H5Pget_fill_value writes exactly one `T` into it. The
    // call runs under HDF5's global lock.
    let status = hdf5::sync::sync(|| unsafe {
        hdf5_sys::h5p::H5Pget_fill_value(dcpl.id(), memory.id(), std::ptr::from_mut(&mut value).cast())
    });
    (status >= 0).then_some(value)
}

/// The fast path alone: `Ok(None)` when the dataset is not one it decodes (the caller then uses HDF5's
/// read), `Err` when a chunk could not be read or decoded. Public so tests can check it is taken.
pub fn read_parallel<T: Target>(dataset: &Dataset, rows: Option<Range<usize>>) -> Result<Option<ArrayD<T>>> {
    read_selection(dataset, rows, None)
}

/// The fast path of [`read_columns`] (all columns when `columns` is `None`); `Ok(None)` as for
/// [`read_parallel`], also when `columns` does not fit the dataset.
pub fn read_selection<T: Target>(
    dataset: &Dataset,
    rows: Option<Range<usize>>,
    columns: Option<Range<usize>>,
) -> Result<Option<ArrayD<T>>> {
    let Some(plan) = plan::<T>(dataset) else { return Ok(None) };
    let total_rows = plan.shape[0];
    let rows = rows.unwrap_or(0..total_rows);
    if rows.start > rows.end || rows.end > total_rows {
        return Ok(None);
    }
    let columns = match (columns, plan.shape.get(1)) {
        (None, columns) => 0..columns.copied().unwrap_or(1),
        (Some(wanted), Some(&columns)) if wanted.start <= wanted.end && wanted.end <= columns => wanted,
        (Some(_), _) => return Ok(None),
    };
    let width = columns.len();
    let mut out_shape = plan.shape.clone();
    out_shape[0] = rows.len();
    if let Some(axis) = out_shape.get_mut(1) {
        *axis = width;
    }
    let mut values = vec![T::default(); rows.len() * width];
    if width > 0 && !rows.is_empty() {
        // Each piece is the part of the output one chunk fills: the first and last may be partial.
        let first_chunk = rows.start / plan.chunk_rows;
        let mut pieces = Vec::new();
        let mut rest = values.as_mut_slice();
        let mut row = rows.start;
        let mut chunk = first_chunk;
        while row < rows.end {
            let chunk_end = ((chunk + 1) * plan.chunk_rows).min(rows.end);
            let (piece, tail) = rest.split_at_mut((chunk_end - row) * width);
            pieces.push((chunk, row - chunk * plan.chunk_rows, piece));
            rest = tail;
            row = chunk_end;
            chunk += 1;
        }
        let threads = std::thread::available_parallelism().map_or(1, usize::from).min(pieces.len()).max(1);
        let queue = Mutex::new(pieces.into_iter());
        let work = || -> Result<()> {
            let mut buffers = Buffers::default();
            loop {
                let next = queue.lock().map_err(|_| Error::Invalid("a decoding thread panicked".into()))?.next();
                let Some((chunk, first_row, piece)) = next else { return Ok(()) };
                let place = Placement {
                    chunk_len: plan.chunk_rows * plan.chunk_width,
                    first_row,
                    chunk_width: plan.chunk_width,
                    width,
                    first_column: columns.start,
                };
                decode_chunk(dataset, &plan, chunk, &place, piece, &mut buffers)?;
            }
        };
        let results: Vec<Result<()>> = std::thread::scope(|scope| {
            let helpers: Vec<_> = (1..threads).map(|_| scope.spawn(work)).collect();
            let mut results = vec![work()];
            for helper in helpers {
                results
                    .push(helper.join().unwrap_or_else(|_| Err(Error::Invalid("a decoding thread panicked".into()))));
            }
            results
        });
        results.into_iter().collect::<Result<Vec<()>>>()?;
    }
    ArrayD::from_shape_vec(IxDyn(&out_shape), values)
        .map(Some)
        .map_err(|e| Error::Invalid(format!("shaping {}: {e}", dataset.name())))
}

// Not among hdf5-metno-sys's bindings; in HDF5 since 1.10.2. SAFETY: the signature is H5Dpublic.h's
// `herr_t H5Dget_chunk_storage_size(hid_t dset_id, const hsize_t *offset, hsize_t *chunk_bytes)`.
unsafe extern "C" {
    /// The stored (filtered) size in bytes of the chunk at `offset`. For a chunk never written, HDF5 1.10
    /// fails and later versions report 0.
    fn H5Dget_chunk_storage_size(dset_id: hid_t, offset: *const hsize_t, chunk_bytes: *mut hsize_t) -> herr_t;
}

/// Per-thread scratch space: the stored bytes of a chunk and its inflated bytes.
#[derive(Default)]
struct Buffers {
    stored: Vec<u8>,
    inflated: Vec<u8>,
    inflater: Option<libdeflater::Decompressor>,
}

fn decode_chunk<T: Target>(
    dataset: &Dataset,
    plan: &Plan<T>,
    chunk: usize,
    place: &Placement,
    piece: &mut [T],
    buffers: &mut Buffers,
) -> Result<()> {
    let failed = |message: String| Error::Hdf5 { context: format!("decoding {}", dataset.name()), message };
    let offset: [hsize_t; 2] = [(chunk * plan.chunk_rows) as hsize_t, 0];
    let (mut filter_mask, mut size): (u32, hsize_t) = (0, 0);
    let found = hdf5::sync::sync(|| {
        // Not H5Dget_chunk_info_by_coord: in HDF5 1.10 it walks the chunk index from the start on every call
        // (quadratic over a dataset, 6% of a 10-million-photon read), where this is one B-tree search.
        // SAFETY: `dataset` is an open dataset of rank 1 or 2 (checked by `plan`), so HDF5 reads at most two
        // coordinates from `offset`; `size` is a valid local. Under HDF5's global lock.
        let status = unsafe { H5Dget_chunk_storage_size(dataset.id(), offset.as_ptr(), &mut size) };
        if status < 0 || size == 0 {
            // HDF5 1.10 fails here for a chunk never written (later versions say 0): only then is the index
            // walked, to tell such a chunk, which reads as the fill value, from a real failure.
            let (mut mask, mut address, mut stored) = (0, HADDR_UNDEF, 0);
            // SAFETY: as above; the three out-pointers are valid locals. Same lock.
            let status = unsafe {
                hdf5_sys::h5d::H5Dget_chunk_info_by_coord(
                    dataset.id(),
                    offset.as_ptr(),
                    &mut mask,
                    &mut address,
                    &mut stored,
                )
            };
            if status < 0 || (address != HADDR_UNDEF && stored != 0) {
                return Err(failed(format!("no stored size for the chunk at row {}", offset[0])));
            }
            return Ok(false);
        }
        buffers.stored.resize(size as usize, 0);
        // SAFETY: `stored` holds exactly `size` bytes, the chunk's stored size just reported by HDF5 for
        // this offset, which is what H5Dread_chunk writes; `filter_mask` is a valid local. Same lock.
        let status = unsafe {
            hdf5_sys::h5d::H5Dread_chunk(
                dataset.id(),
                hdf5_sys::h5p::H5P_DEFAULT,
                offset.as_ptr(),
                &mut filter_mask,
                buffers.stored.as_mut_ptr().cast(),
            )
        };
        if status < 0 {
            return Err(failed(format!("H5Dread_chunk failed at row {}", offset[0])));
        }
        Ok(true)
    })?;
    if !found {
        piece.fill(plan.fill);
        return Ok(());
    }
    let applied = |position: Option<usize>| position.is_some_and(|p| filter_mask & (1 << p) == 0);
    let plain_len = place.chunk_len * plan.element_size;
    let bytes: &[u8] = if applied(plan.deflate) {
        buffers.inflated.resize(plain_len, 0);
        let inflater = buffers.inflater.get_or_insert_with(libdeflater::Decompressor::new);
        // HDF5's deflate filter stores zlib streams (header and Adler-32, which libdeflate checks).
        let inflated = inflater
            .zlib_decompress(&buffers.stored, &mut buffers.inflated)
            .map_err(|e| failed(format!("inflating the chunk at row {}: {e}", offset[0])))?;
        if inflated != plain_len {
            return Err(failed(format!("the chunk at row {} does not inflate to {plain_len} bytes", offset[0])));
        }
        &buffers.inflated
    } else {
        &buffers.stored
    };
    if bytes.len() != plain_len {
        return Err(failed(format!("the chunk at row {} holds {} bytes, not {plain_len}", offset[0], bytes.len())));
    }
    (plan.scatter)(bytes, applied(plan.shuffle), place, piece);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hdf5::File;
    use ndarray::{Array1, Array2};

    /// Bit-for-bit equality (NaN equals NaN), so a wrong byte anywhere fails.
    fn same_bits(fast: &ArrayD<f64>, ordinary: &ArrayD<f64>) -> bool {
        fast.shape() == ordinary.shape() && fast.iter().zip(ordinary).all(|(a, b)| a.to_bits() == b.to_bits())
    }

    /// Reads `dataset` both ways, whole and in row ranges that start and end inside chunks, and checks the
    /// fast path was taken and gave the same values as HDF5.
    fn check<T: Target + PartialEq + std::fmt::Debug>(dataset: &Dataset) {
        let rows = dataset.shape()[0];
        let mut ranges = vec![None, Some(0..rows), Some(0..0)];
        for (start, end) in [(1, 2), (3, rows / 2 + 7), (rows / 3, rows), (rows.saturating_sub(1), rows)] {
            if start <= end && end <= rows {
                ranges.push(Some(start..end));
            }
        }
        for range in ranges {
            let fast = read_parallel::<T>(dataset, range.clone()).unwrap();
            let fast = fast.unwrap_or_else(|| panic!("{}: the fast path was not taken", dataset.name()));
            let ordinary = read_ordinary::<T>(dataset, range.clone()).unwrap();
            assert_eq!(fast, ordinary, "{} rows {range:?}", dataset.name());
            // Some columns only: every single column, and the last two, against HDF5's own slice.
            let Some(&columns) = dataset.shape().get(1) else { continue };
            let wanted = (0..columns).map(|c| c..c + 1).chain(std::iter::once(columns.saturating_sub(2)..columns));
            for cols in wanted {
                let fast = read_selection::<T>(dataset, range.clone(), Some(cols.clone())).unwrap();
                let fast = fast.unwrap_or_else(|| panic!("{}: no fast path for columns", dataset.name()));
                let rows = range.clone().unwrap_or(0..dataset.shape()[0]);
                let ordinary = dataset.read_slice_2d::<T, _>(s![rows, cols.clone()]).unwrap().into_dyn();
                assert_eq!(fast, ordinary, "{} rows {range:?} columns {cols:?}", dataset.name());
                assert_eq!(read_columns::<T>(dataset, range.clone(), cols.clone()).unwrap(), ordinary);
            }
        }
    }

    fn real_fixture() -> File {
        let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../assets/real/ATL03_gt1l.h5");
        File::open(path).unwrap()
    }

    #[test]
    fn every_chunked_dataset_of_the_real_fixture_decodes_as_hdf5_does() {
        let file = real_fixture();
        let mut groups = Vec::new();
        crate::h5::collect_groups(&file, &mut groups).unwrap();
        let mut decoded = 0;
        for group in groups {
            for dataset in group.datasets().unwrap() {
                let ordinary = read_ordinary::<f64>(&dataset, None);
                let fast = read_parallel::<f64>(&dataset, None).unwrap();
                match (fast, ordinary) {
                    (Some(fast), Ok(ordinary)) => {
                        assert!(same_bits(&fast, &ordinary), "{}", dataset.name());
                        decoded += 1;
                    }
                    (Some(_), Err(error)) => panic!("{}: only the fast path reads it: {error}", dataset.name()),
                    (None, _) => {}
                }
                assert_eq!(read::<f64>(&dataset, None).ok(), read_ordinary::<f64>(&dataset, None).ok());
            }
        }
        // 80 of the file's 82 datasets: every photon, segment and ancillary array.
        assert!(decoded >= 80, "only {decoded} datasets took the fast path");
        check::<f64>(&file.dataset("gt1l/heights/lat_ph").unwrap());
        check::<f32>(&file.dataset("gt1l/heights/h_ph").unwrap());
        check::<i8>(&file.dataset("gt1l/heights/signal_conf_ph").unwrap());
        check::<f64>(&file.dataset("gt1l/heights/signal_conf_ph").unwrap());
    }

    /// A dataset with the given filters, `rows` long, chunks of `chunk` rows.
    fn write<T: H5Type + Clone>(
        group: &hdf5::Group,
        name: &str,
        data: ndarray::ArrayViewD<'_, T>,
        chunk: usize,
        filters: &str,
    ) -> Dataset {
        let mut chunks = data.shape().to_vec();
        chunks[0] = chunk;
        // Resizable along the rows, as NSIDC writes them, so a chunk may be longer than the data.
        let extents: Vec<hdf5::Extent> = data
            .shape()
            .iter()
            .enumerate()
            .map(|(axis, &len)| if axis == 0 { hdf5::Extent::from(len..) } else { hdf5::Extent::from(len) })
            .collect();
        let mut builder = group.new_dataset::<T>().shape(hdf5::SimpleExtents::from_vec(extents)).chunk(chunks);
        if filters.contains("shuffle") {
            builder = builder.shuffle();
        }
        if filters.contains("gzip") {
            builder = builder.deflate(4);
        }
        if filters.contains("fletcher32") {
            builder = builder.fletcher32();
        }
        if filters.contains("nbit") {
            builder = builder.nbit();
        }
        let dataset = builder.create(name).unwrap();
        dataset.write(&data).unwrap();
        dataset
    }

    #[test]
    fn gzip_with_and_without_shuffle_and_partial_last_chunks_decode_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let file = File::create(dir.path().join("chunks.h5")).unwrap();
        let n = 10_007; // 1,000-row chunks: the last holds 7 rows.
        let doubles = Array1::from_iter((0..n).map(|i| (i as f64 * 0.37).sin() * 1e3 + f64::from(i as u32 % 7)));
        let floats = doubles.mapv(|v| v as f32);
        let ints = Array1::from_iter((0..n).map(|i| (i % 251) as i16 - 125));
        let bytes = Array2::from_shape_fn((n, 5), |(i, j)| ((i * 7 + j) % 7) as i8 - 2);
        for filters in ["gzip shuffle", "gzip", "shuffle", "none"] {
            let group = file.create_group(&filters.replace(' ', "_")).unwrap();
            let d = write(&group, "doubles", doubles.view().into_dyn(), 1000, filters);
            check::<f64>(&d);
            let f = write(&group, "floats", floats.view().into_dyn(), 1000, filters);
            check::<f32>(&f);
            check::<f64>(&f);
            let i = write(&group, "ints", ints.view().into_dyn(), 1000, filters);
            check::<i16>(&i);
            check::<f64>(&i);
            check::<i64>(&i);
            let b = write(&group, "bytes", bytes.view().into_dyn(), 1000, filters);
            check::<i8>(&b);
            check::<f64>(&b);
            // One chunk larger than the whole dataset.
            let small = write(&group, "small", doubles.slice(ndarray::s![..10]).into_dyn(), 64, filters);
            check::<f64>(&small);
            // Chunks wider than the rows (3 columns in chunks of 8, both axes resizable).
            let mut wide = group
                .new_dataset::<f64>()
                .shape(hdf5::SimpleExtents::from_vec(vec![(n..).into(), (3..).into()]))
                .chunk((700, 8));
            if filters.contains("shuffle") {
                wide = wide.shuffle();
            }
            if filters.contains("gzip") {
                wide = wide.deflate(1);
            }
            let wide = wide.create("wide").unwrap();
            wide.write(&Array2::from_shape_fn((n, 3), |(i, j)| i as f64 * 10.0 + j as f64)).unwrap();
            check::<f64>(&wide);
        }
    }

    #[test]
    fn chunks_never_written_read_as_the_fill_value() {
        let dir = tempfile::tempdir().unwrap();
        let file = File::create(dir.path().join("fill.h5")).unwrap();
        let dataset = file
            .new_dataset::<f32>()
            .shape((5_500..,))
            .chunk(1000)
            .shuffle()
            .deflate(6)
            .fill_value(-9999.0_f32)
            .create("sparse")
            .unwrap();
        // Only chunks 0, 2 (partly) and 5 (partial, last) are written; 1, 3 and 4 never exist in the file.
        dataset.write_slice(&Array1::from_elem(1000, 1.5_f32), ndarray::s![0..1000]).unwrap();
        dataset.write_slice(&Array1::from_elem(300, 2.5_f32), ndarray::s![2100..2400]).unwrap();
        dataset.write_slice(&Array1::from_elem(10, 3.5_f32), ndarray::s![5490..5500]).unwrap();
        check::<f32>(&dataset);
        check::<f64>(&dataset);
        let values = read::<f32>(&dataset, None).unwrap();
        assert_eq!(values[1500], -9999.0);
        assert_eq!(values[2099], -9999.0);
        assert_eq!(values[2100], 2.5);
        assert_eq!(values[5499], 3.5);
        // And through the variable reader, where `_FillValue` masks them.
        crate::h5::set_number(&dataset, "_FillValue", -9999.0_f32).unwrap();
        let variable = crate::variable::read(&file, "sparse").unwrap();
        assert!(variable.values[1500].is_nan() && variable.values[2100] == 2.5);
        assert_eq!(variable.values.iter().filter(|v| v.is_nan()).count(), 5500 - 1310);
    }

    #[test]
    fn filters_and_conversions_it_does_not_decode_fall_back_to_hdf5() {
        let dir = tempfile::tempdir().unwrap();
        let file = File::create(dir.path().join("fallback.h5")).unwrap();
        let data = Array1::from_iter((0..2500).map(|i| i as f64 / 3.0));
        let ints = Array1::from_iter((0..2500_i32).map(|i| i % 1000));
        let contiguous = file.new_dataset_builder().with_data(&data).create("contiguous").unwrap();
        let checksummed = write(&file, "fletcher32", data.view().into_dyn(), 1000, "shuffle gzip fletcher32");
        let nbit = write(&file, "nbit", ints.view().into_dyn(), 1000, "nbit");
        let gzip = write(&file, "gzip", data.view().into_dyn(), 1000, "gzip");
        for dataset in [&contiguous, &checksummed, &nbit] {
            assert!(read_parallel::<f64>(dataset, None).unwrap().is_none(), "{}", dataset.name());
            assert_eq!(read::<f64>(dataset, None).unwrap(), read_ordinary::<f64>(dataset, None).unwrap());
        }
        assert_eq!(read::<f64>(&checksummed, None).unwrap(), data.clone().into_dyn());
        // Narrowing f64 → f32 and i32 → i8 are HDF5's (which rounds and clamps), never ours.
        assert!(read_parallel::<f32>(&gzip, None).unwrap().is_none());
        assert_eq!(read::<f32>(&gzip, None).unwrap(), read_ordinary::<f32>(&gzip, None).unwrap());
        let clamped = write(&file, "ints", ints.view().into_dyn(), 1000, "gzip");
        assert!(read_parallel::<i8>(&clamped, None).unwrap().is_none());
        assert_eq!(read::<i8>(&clamped, None).unwrap()[999], 127);
    }
}
