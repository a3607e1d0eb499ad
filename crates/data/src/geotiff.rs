//! Single-band GeoTIFFs through the `tiff` crate: writing with GeoKeys for EPSG:6933 (EASE-Grid 2.0) or
//! EPSG:4326, ModelPixelScale/ModelTiepoint and GDAL_NODATA (data-formats.md §5), and reading them back
//! with a summary (size, CRS, transform, nodata, statistics). Knows no product layouts.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use tiff::decoder::{Decoder, DecodingResult};
use tiff::encoder::colortype::{Gray8, Gray16, Gray32Float};
use tiff::encoder::{Compression, DeflateLevel, TiffEncoder};
use tiff::tags::Tag;

use crate::{Error, Result, write_atomically};

/// Pixel values of one band, row-major.
#[derive(Debug, Clone, PartialEq)]
pub enum Pixels {
    /// Unsigned bytes (class maps).
    U8(Vec<u8>),
    /// Unsigned 16-bit (flags, indices).
    U16(Vec<u16>),
    /// 32-bit floats (physical values).
    F32(Vec<f32>),
}

impl Pixels {
    /// Number of pixels.
    pub fn len(&self) -> usize {
        match self {
            Self::U8(v) => v.len(),
            Self::U16(v) => v.len(),
            Self::F32(v) => v.len(),
        }
    }

    /// Whether there are no pixels.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Pixel `idx` as f64.
    pub fn get(&self, idx: usize) -> Option<f64> {
        match self {
            Self::U8(v) => v.get(idx).map(|&x| f64::from(x)),
            Self::U16(v) => v.get(idx).map(|&x| f64::from(x)),
            Self::F32(v) => v.get(idx).map(|&x| f64::from(x)),
        }
    }
}

/// A georeferenced single-band raster.
#[derive(Debug, Clone, PartialEq)]
pub struct Raster {
    /// Columns.
    pub width: usize,
    /// Rows.
    pub height: usize,
    /// Row-major pixels, `width * height` of them.
    pub pixels: Pixels,
    /// EPSG code of the CRS: 6933 or 4326.
    pub epsg: u16,
    /// GDAL geotransform (x0, dx, 0, y0, 0, -dy) of the upper-left corner.
    pub transform: [f64; 6],
    /// The value marking missing pixels.
    pub nodata: Option<f64>,
}

/// Statistics of the valid (non-nodata, finite) pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Statistics {
    /// Number of valid pixels.
    pub n_valid: usize,
    /// Smallest valid value.
    pub min: f64,
    /// Largest valid value.
    pub max: f64,
    /// Mean of the valid values.
    pub mean: f64,
}

impl Raster {
    /// Statistics of the valid pixels, `None` if there are none.
    pub fn statistics(&self) -> Option<Statistics> {
        let (mut n, mut min, mut max, mut sum) = (0_usize, f64::MAX, f64::MIN, 0.0);
        for idx in 0..self.pixels.len() {
            let Some(value) = self.pixels.get(idx) else {
                continue;
            };
            if !value.is_finite() || self.nodata.is_some_and(|nd| (value - nd).abs() < 1e-9) {
                continue;
            }
            n += 1;
            min = min.min(value);
            max = max.max(value);
            sum += value;
        }
        (n > 0).then(|| Statistics { n_valid: n, min, max, mean: sum / n as f64 })
    }

    /// Value of the pixel holding map point (x, y), if inside.
    pub fn value_at(&self, x: f64, y: f64) -> Option<f64> {
        let col = ((x - self.transform[0]) / self.transform[1]).floor();
        let row = ((y - self.transform[3]) / self.transform[5]).floor();
        if col < 0.0 || row < 0.0 || col >= self.width as f64 || row >= self.height as f64 {
            return None;
        }
        self.pixels.get(row as usize * self.width + col as usize)
    }
}

impl std::fmt::Display for Raster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "GeoTIFF {} x {} EPSG:{}", self.width, self.height, self.epsg)?;
        writeln!(f, "  transform {:?}", self.transform)?;
        writeln!(f, "  nodata {:?}", self.nodata)?;
        match self.statistics() {
            Some(s) => writeln!(f, "  {} valid pixels, min {}, max {}, mean {:.6}", s.n_valid, s.min, s.max, s.mean),
            None => writeln!(f, "  no valid pixels"),
        }
    }
}

fn tiff_error(path: &Path, error: impl std::fmt::Display) -> Error {
    Error::Tiff { path: path.to_path_buf(), message: error.to_string() }
}

/// GeoKeyDirectory for the CRS: model type, PixelIsArea, and the EPSG code.
fn geo_keys(epsg: u16) -> Vec<u16> {
    if epsg == 4326 {
        vec![1, 1, 0, 3, 1024, 0, 1, 2, 1025, 0, 1, 1, 2048, 0, 1, 4326]
    } else {
        vec![1, 1, 0, 3, 1024, 0, 1, 1, 1025, 0, 1, 1, 3072, 0, 1, epsg]
    }
}

/// Writes `raster` to `path` atomically, deflate-compressed, one strip per block of rows.
pub fn write(path: &Path, raster: &Raster) -> Result<()> {
    if raster.pixels.len() != raster.width * raster.height {
        return Err(Error::Invalid(format!(
            "raster has {} pixels, expected {} x {}",
            raster.pixels.len(),
            raster.width,
            raster.height
        )));
    }
    write_atomically(path, |temp| {
        let file = File::create(temp).map_err(|source| Error::Io { path: temp.to_path_buf(), source })?;
        let mut encoder = TiffEncoder::new(BufWriter::new(file))
            .map_err(|e| tiff_error(path, e))?
            .with_compression(Compression::Deflate(DeflateLevel::Fast));
        let (w, h) = (raster.width as u32, raster.height as u32);
        let scale = [raster.transform[1], -raster.transform[5], 0.0];
        let tiepoint = [0.0, 0.0, 0.0, raster.transform[0], raster.transform[3], 0.0];
        let keys = geo_keys(raster.epsg);
        let nodata = raster.nodata.map(|v| if v.fract() == 0.0 { format!("{}", v as i64) } else { format!("{v}") });
        macro_rules! image {
            ($color:ty, $data:expr) => {{
                let mut image = encoder.new_image::<$color>(w, h).map_err(|e| tiff_error(path, e))?;
                let directory = image.encoder();
                directory.write_tag(Tag::ModelPixelScaleTag, &scale[..]).map_err(|e| tiff_error(path, e))?;
                directory.write_tag(Tag::ModelTiepointTag, &tiepoint[..]).map_err(|e| tiff_error(path, e))?;
                directory.write_tag(Tag::GeoKeyDirectoryTag, &keys[..]).map_err(|e| tiff_error(path, e))?;
                if let Some(nodata) = &nodata {
                    directory.write_tag(Tag::GdalNodata, nodata.as_str()).map_err(|e| tiff_error(path, e))?;
                }
                image.write_data($data).map_err(|e| tiff_error(path, e))?;
            }};
        }
        match &raster.pixels {
            Pixels::U8(data) => image!(Gray8, data),
            Pixels::U16(data) => image!(Gray16, data),
            Pixels::F32(data) => image!(Gray32Float, data),
        }
        Ok(())
    })
}

/// Reads a single-band GeoTIFF written by us or by GDAL (strips or tiles; u8, u16 or f32).
pub fn read(path: &Path) -> Result<Raster> {
    let file = File::open(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })?;
    let mut decoder = Decoder::new(std::io::BufReader::new(file)).map_err(|e| tiff_error(path, e))?;
    let (w, h) = decoder.dimensions().map_err(|e| tiff_error(path, e))?;
    let scale = decoder.get_tag_f64_vec(Tag::ModelPixelScaleTag).map_err(|e| tiff_error(path, e))?;
    let tiepoint = decoder.get_tag_f64_vec(Tag::ModelTiepointTag).map_err(|e| tiff_error(path, e))?;
    let keys = decoder.get_tag_u16_vec(Tag::GeoKeyDirectoryTag).map_err(|e| tiff_error(path, e))?;
    let nodata =
        decoder.get_tag_ascii_string(Tag::GdalNodata).ok().and_then(|s| s.trim_end_matches('\0').trim().parse().ok());
    let epsg = keys
        .chunks(4)
        .skip(1)
        .find(|key| key.first() == Some(&3072) || key.first() == Some(&2048))
        .and_then(|key| key.get(3).copied())
        .ok_or_else(|| tiff_error(path, "no EPSG code in the GeoKeyDirectory"))?;
    if scale.len() < 2 || tiepoint.len() < 6 {
        return Err(tiff_error(path, "missing pixel scale or tie point"));
    }
    let pixels = match decoder.read_image().map_err(|e| tiff_error(path, e))? {
        DecodingResult::U8(v) => Pixels::U8(v),
        DecodingResult::U16(v) => Pixels::U16(v),
        DecodingResult::F32(v) => Pixels::F32(v),
        _ => return Err(tiff_error(path, "unsupported sample type")),
    };
    // The decoder returns what the strips or tiles hold, which a damaged or multi-band file makes more or
    // fewer than the header's size; readers index `pixels` by row and column.
    if pixels.len() as u64 != u64::from(w) * u64::from(h) {
        return Err(tiff_error(path, format!("{} pixels for a {w}×{h} image", pixels.len())));
    }
    let transform =
        [tiepoint[3] - tiepoint[0] * scale[0], scale[0], 0.0, tiepoint[4] + tiepoint[1] * scale[1], 0.0, -scale[1]];
    Ok(Raster { width: w as usize, height: h as usize, pixels, epsg, transform, nodata })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_rasters_read_back_identically() {
        let dir = std::env::temp_dir().join(format!("hq-geotiff-test-{}", std::process::id()));
        let cases = [
            Raster {
                width: 3,
                height: 2,
                pixels: Pixels::F32(vec![0.1, -9999.0, 0.3, 0.4, 0.5, 0.6]),
                epsg: 6933,
                transform: [
                    -17_367_530.445_161_5,
                    36_032.220_840_584,
                    0.0,
                    7_314_540.830_638_6,
                    0.0,
                    -36_032.220_840_584,
                ],
                nodata: Some(-9999.0),
            },
            Raster {
                width: 2,
                height: 2,
                pixels: Pixels::U8(vec![1, 254, 12, 10]),
                epsg: 4326,
                transform: [-93.0, 0.5, 0.0, 45.0, 0.0, -0.5],
                nodata: Some(254.0),
            },
        ];
        for (i, raster) in cases.iter().enumerate() {
            let path = dir.join(format!("case{i}.tif"));
            write(&path, raster).expect("write");
            assert_eq!(&read(&path).expect("read"), raster);
        }
        let stats = cases[0].statistics().expect("valid pixels");
        assert_eq!((stats.n_valid, stats.min as f32, stats.max as f32), (5, 0.1, 0.6));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_raster_whose_pixels_do_not_fill_its_size_is_refused() {
        // Found by the `geotiff` fuzz target: a 6×7 image whose strip decodes to 7 values was read as a
        // raster of 42 pixels holding 7, which every reader of `pixels` by row and column takes on trust.
        let path =
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/geotiff/crash-pixel-count.tif");
        let error = read(&path).expect_err("7 pixels for a 6×7 image");
        assert!(error.to_string().contains("7 pixels for a 6×7 image"), "{error}");
    }
}
