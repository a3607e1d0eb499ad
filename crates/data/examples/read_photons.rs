//! The photon read of `benches/compare.py --only photons` on its own: `atl03::read_photons` of one beam
//! (time, lat, lon, height, land confidence), timed in-process after opening the file, one JSON line out,
//! as `benches/hq.rs read` prints. Builds only this crate, so CI can run the small size quickly:
//!
//! ```text
//! cargo run --release -p harmonyql-data --example read_photons -- FILE.h5 gt1l
//! ```

use std::time::Instant;

use harmonyql_data::atl03::{self, SurfaceType};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [path, beam] = args.as_slice() else {
        eprintln!("usage: read_photons FILE.h5 BEAM");
        std::process::exit(2);
    };
    let started = Instant::now();
    let photons = hdf5::File::open(path)
        .map_err(|e| e.to_string())
        .and_then(|file| atl03::read_photons(&file, beam, SurfaceType::Land, None).map_err(|e| e.to_string()));
    match photons {
        Ok(photons) => {
            let seconds = started.elapsed().as_secs_f64();
            println!("{}", serde_json::json!({"bench": "read", "photons": photons.len(), "seconds": seconds}));
        }
        Err(message) => {
            eprintln!("{path}: {message}");
            std::process::exit(1);
        }
    }
}
