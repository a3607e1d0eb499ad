//! Writing chunked, gzip-compressed datasets with their chunks compressed on every core: the write side of
//! [`crate::chunked`], used by the subsetter of `hq serve` (`h5::copy_rows`).
//!
//! HDF5 compresses a dataset's chunks one at a time under its global lock, so writing a subsetted granule
//! costs as much CPU as reading it did before `chunked`. Here each chunk is laid out in full (the last one
//! padded with zeros, which no reader sees), shuffled when the storage asks for it, deflated by libdeflate
//! into a zlib stream (what HDF5's deflate filter stores) on every core, and handed to HDF5 already filtered
//! with its direct chunk write (`H5Dwrite_chunk`, HDF5 ≥ 1.10.3), briefly under the lock. The file is an
//! ordinary shuffle + gzip HDF5 file: h5py, xarray and HDF5 itself read it with their own filters.
//!
//! Only numeric elements on little-endian machines take this path, and only when the storage compresses;
//! everything else goes through [`crate::h5::write_array`], with the same values either way.

use std::sync::Mutex;

use hdf5::types::TypeDescriptor;
use hdf5::{Dataset, Group, H5Type};
use hdf5_sys::h5::hsize_t;
use ndarray::ArrayViewD;

use crate::h5::{Storage, create_chunked, write_array};
use crate::{Error, Result};

/// Writes `data` as `name` in `group` like [`write_array`], compressing the chunks in parallel when the
/// storage deflates (with or without shuffle) and the elements are plain numbers.
pub fn write<T: H5Type + Copy + Send + Sync>(
    group: &Group,
    name: &str,
    data: ArrayViewD<'_, T>,
    storage: Storage,
) -> Result<Dataset> {
    let plain_numbers = matches!(
        T::type_descriptor(),
        TypeDescriptor::Integer(_) | TypeDescriptor::Unsigned(_) | TypeDescriptor::Float(_)
    );
    let Some(level) = storage.deflate.filter(|_| plain_numbers && cfg!(target_endian = "little")) else {
        return write_array(group, name, data, storage);
    };
    if data.is_empty() || data.ndim() == 0 {
        return write_array(group, name, data, storage);
    }
    let dataset = create_chunked::<T>(group, name, data.shape(), storage)?;
    let data = data.as_standard_layout();
    let values = data.as_slice().ok_or_else(|| Error::Invalid(format!("{name}: not a contiguous array")))?;
    let row_len: usize = data.shape()[1..].iter().product();
    let chunk_rows = storage.chunk_rows.max(1);
    let chunks = data.shape()[0].div_ceil(chunk_rows);
    let layout = Layout {
        chunk_len: chunk_rows * row_len,
        chunk_rows,
        rank: data.ndim(),
        level: i32::from(level),
        shuffle: storage.shuffle,
    };
    let threads = std::thread::available_parallelism().map_or(1, usize::from).min(chunks).max(1);
    let queue = Mutex::new(0..chunks);
    let work = || -> Result<()> {
        let mut buffers = Buffers::new(layout.level)?;
        loop {
            let next = queue.lock().map_err(|_| Error::Invalid("a compressing thread panicked".into()))?.next();
            let Some(chunk) = next else { return Ok(()) };
            let start = chunk * layout.chunk_len;
            let piece = &values[start..(start + layout.chunk_len).min(values.len())];
            let compressed = buffers.compress(piece, &layout)?;
            write_chunk(&dataset, name, chunk, compressed, &layout)?;
        }
    };
    let results: Vec<Result<()>> = std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..threads).map(|_| scope.spawn(work)).collect();
        let mut results = vec![work()];
        for helper in helpers {
            results.push(helper.join().unwrap_or_else(|_| Err(Error::Invalid("a compressing thread panicked".into()))));
        }
        results
    });
    results.into_iter().collect::<Result<Vec<()>>>()?;
    Ok(dataset)
}

/// The shape of every chunk of one dataset and how it is filtered.
#[derive(Debug, Clone, Copy)]
struct Layout {
    /// Elements in a whole chunk.
    chunk_len: usize,
    chunk_rows: usize,
    rank: usize,
    level: i32,
    shuffle: bool,
}

/// Per-thread scratch space: a chunk's plain bytes, shuffled bytes and compressed stream.
struct Buffers {
    plain: Vec<u8>,
    shuffled: Vec<u8>,
    compressed: Vec<u8>,
    compressor: libdeflater::Compressor,
}

impl Buffers {
    fn new(level: i32) -> Result<Self> {
        let level = libdeflater::CompressionLvl::new(level)
            .map_err(|e| Error::Invalid(format!("gzip level {level}: {e:?}")))?;
        Ok(Self {
            plain: Vec::new(),
            shuffled: Vec::new(),
            compressed: Vec::new(),
            compressor: libdeflater::Compressor::new(level),
        })
    }

    /// The zlib stream of one whole chunk holding `piece` (the last chunk's missing rows are zeros).
    fn compress<T: Copy>(&mut self, piece: &[T], layout: &Layout) -> Result<&[u8]> {
        let size = std::mem::size_of::<T>();
        // SAFETY: `write` lets only plain integers and floats in (checked against T's HDF5 type), whose
        // every byte is initialised and which have no padding, so viewing `piece` as its bytes is sound; the
        // view borrows `piece` and lives only for this call.
        let bytes = unsafe { std::slice::from_raw_parts(piece.as_ptr().cast::<u8>(), std::mem::size_of_val(piece)) };
        self.plain.clear();
        self.plain.extend_from_slice(bytes);
        self.plain.resize(layout.chunk_len * size, 0);
        let source = if layout.shuffle && size > 1 {
            // HDF5's shuffle: byte k of every element together (plane k), element e's byte k at k * len + e.
            self.shuffled.resize(self.plain.len(), 0);
            for (k, plane) in self.shuffled.chunks_exact_mut(layout.chunk_len).enumerate() {
                for (out, element) in plane.iter_mut().zip(self.plain.chunks_exact(size)) {
                    *out = element[k];
                }
            }
            &self.shuffled
        } else {
            &self.plain
        };
        self.compressed.resize(self.compressor.zlib_compress_bound(source.len()), 0);
        let written = self
            .compressor
            .zlib_compress(source, &mut self.compressed)
            .map_err(|e| Error::Invalid(format!("deflating a chunk: {e}")))?;
        Ok(&self.compressed[..written])
    }
}

fn write_chunk(dataset: &Dataset, name: &str, chunk: usize, stored: &[u8], layout: &Layout) -> Result<()> {
    let mut offset: Vec<hsize_t> = vec![0; layout.rank];
    offset[0] = (chunk * layout.chunk_rows) as hsize_t;
    // SAFETY: `dataset` is an open chunked dataset of rank `layout.rank`, whose chunks span every axis but
    // the first, so `offset` (one coordinate per axis) names the start of chunk `chunk`; `stored` is valid for
    // `stored.len()` bytes during the call. Filter mask 0: every filter of the pipeline (shuffle when set,
    // then deflate) was applied, as they are here. Under HDF5's global lock.
    let status = hdf5::sync::sync(|| unsafe {
        hdf5_sys::h5d::H5Dwrite_chunk(
            dataset.id(),
            hdf5_sys::h5p::H5P_DEFAULT,
            0,
            offset.as_ptr(),
            stored.len(),
            stored.as_ptr().cast(),
        )
    });
    if status < 0 {
        return Err(Error::Hdf5 {
            context: format!("writing {name}"),
            message: format!("H5Dwrite_chunk failed at row {}", offset[0]),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunked;
    use ndarray::{Array1, Array2};

    fn storage(chunk_rows: usize, shuffle: bool, all_unlimited: bool) -> Storage {
        Storage { chunk_rows, deflate: Some(6), shuffle, all_unlimited }
    }

    /// Written in parallel, read back by HDF5 through its own filters: the same values, the same filters.
    #[test]
    fn chunks_compressed_in_parallel_read_back_through_hdf5_filters() {
        let dir = tempfile::tempdir().unwrap();
        let file = hdf5::File::create(dir.path().join("written.h5")).unwrap();
        let n = 25_003; // chunks of 1,000 rows: the last holds 3.
        let doubles = Array1::from_iter((0..n).map(|i| (i as f64 * 0.37).sin() * 1e3));
        let floats = doubles.mapv(|v| v as f32);
        let ints = Array1::from_iter((0..n).map(|i| (i % 251) as i16 - 125));
        let bytes = Array2::from_shape_fn((n, 5), |(i, j)| ((i * 7 + j) % 7) as i8 - 2);
        let triples = Array2::from_shape_fn((n, 3), |(i, j)| i as f64 * 10.0 + j as f64);
        for shuffle in [true, false] {
            let group = file.create_group(if shuffle { "shuffled" } else { "plain" }).unwrap();
            let written = [
                write(&group, "doubles", doubles.view().into_dyn(), storage(1000, shuffle, false)).unwrap(),
                write(&group, "floats", floats.view().into_dyn(), storage(1000, shuffle, false)).unwrap(),
                write(&group, "ints", ints.view().into_dyn(), storage(1000, shuffle, false)).unwrap(),
                write(&group, "bytes", bytes.view().into_dyn(), storage(1000, shuffle, true)).unwrap(),
                write(&group, "triples", triples.view().into_dyn(), storage(700, shuffle, false)).unwrap(),
                // One chunk longer than the data.
                write(&group, "short", doubles.slice(ndarray::s![..10]).into_dyn(), storage(64, shuffle, false))
                    .unwrap(),
            ];
            for dataset in &written {
                let filters = dataset.filters();
                assert_eq!(filters.contains(&hdf5::filters::Filter::Shuffle), shuffle, "{}", dataset.name());
                assert!(filters.contains(&hdf5::filters::Filter::Deflate(6)), "{}", dataset.name());
            }
            let ordinary = |d: &Dataset| chunked::read_ordinary::<f64>(d, None).unwrap();
            assert_eq!(ordinary(&written[0]), doubles.clone().into_dyn());
            assert_eq!(ordinary(&written[1]), floats.mapv(f64::from).into_dyn());
            assert_eq!(ordinary(&written[2]), ints.mapv(f64::from).into_dyn());
            assert_eq!(ordinary(&written[3]), bytes.mapv(f64::from).into_dyn());
            assert_eq!(ordinary(&written[4]), triples.clone().into_dyn());
            assert_eq!(ordinary(&written[5]), doubles.slice(ndarray::s![..10]).to_owned().into_dyn());
            assert_eq!(written[3].shape(), [n, 5]);
            // Compressed for real: the plain doubles would be 200 kB.
            assert!(written[2].storage_size() < (n * 2) as u64 / 2, "{}", written[2].storage_size());
        }
    }

    #[test]
    fn uncompressed_storage_and_empty_arrays_take_hdf5_s_own_write() {
        let dir = tempfile::tempdir().unwrap();
        let file = hdf5::File::create(dir.path().join("plain.h5")).unwrap();
        let values = Array1::from_iter((0..5000).map(f64::from));
        let plain = Storage { deflate: None, ..storage(1000, false, false) };
        let dataset = write(&file, "plain", values.view().into_dyn(), plain).unwrap();
        assert!(dataset.filters().is_empty());
        assert_eq!(chunked::read_ordinary::<f64>(&dataset, None).unwrap(), values.into_dyn());
        let empty = Array1::<f64>::zeros(0);
        let dataset = write(&file, "empty", empty.view().into_dyn(), storage(1000, true, false)).unwrap();
        assert_eq!(dataset.shape(), [0]);
    }
}
