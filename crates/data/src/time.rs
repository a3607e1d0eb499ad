//! Time conversions of the products: ATLAS `delta_time` (seconds since the ATLAS SDP epoch 2018-01-01,
//! GPS time) to UTC and back. Pure functions, no I/O.

use chrono::{DateTime, TimeZone, Utc};

/// `ancillary_data/atlas_sdp_gps_epoch`: GPS seconds of the ATLAS SDP epoch, leap seconds included.
pub const ATLAS_SDP_GPS_EPOCH: f64 = 1_198_800_018.0;

/// The ATLAS SDP epoch, 2018-01-01T00:00:00Z.
pub fn atlas_epoch() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2018, 1, 1, 0, 0, 0).single().unwrap_or_default()
}

/// UTC of an ATLAS `delta_time`. No leap second has been added since 2017, so UTC is the epoch plus
/// `delta_time` (data-formats.md §1.10).
pub fn delta_time_to_utc(delta_time: f64) -> DateTime<Utc> {
    let micros = (delta_time * 1e6).round() as i64;
    atlas_epoch() + chrono::Duration::microseconds(micros)
}

/// ATLAS `delta_time` of a UTC instant.
pub fn utc_to_delta_time(time: DateTime<Utc>) -> f64 {
    let since = time - atlas_epoch();
    since.num_microseconds().map_or(since.num_seconds() as f64, |us| us as f64 / 1e6)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(delta_time: f64, expected: &str) {
        assert_eq!(delta_time_to_utc(delta_time).format("%Y-%m-%dT%H:%M:%S%.6f").to_string(), expected);
        assert!((utc_to_delta_time(delta_time_to_utc(delta_time)) - delta_time).abs() < 1e-6);
    }

    #[test]
    fn delta_time_converts_to_utc_like_the_real_granule() {
        // The real fixture's first photon time, as the Trajectory Subsetter wrote it in its provenance.
        check(24_712_010.795463, "2018-10-14T00:26:50.795463");
        check(0.0, "2018-01-01T00:00:00.000000");
        check(73_251_382.0, "2020-04-27T19:36:22.000000");
    }
}
