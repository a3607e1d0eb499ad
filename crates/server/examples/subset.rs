//! The subsetter of `hq serve` on a file, for `benches/compare.py --only subset`: the Trajectory Subsetter's
//! segment rule (`transform::trajectory::subset`) over one ATL03 granule and a bounding box, file to file,
//! timed in-process from opening the input to closing the output; one JSON line out. Builds only the server
//! crate, so CI can run the small size quickly:
//!
//! ```text
//! cargo run --release -p harmonyql-server --example subset -- IN.h5 OUT.h5 WEST,SOUTH,EAST,NORTH
//! ```

use std::path::Path;
use std::time::Instant;

use harmonyql_server::transform::Operation;
use harmonyql_server::transform::trajectory;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, output, bbox] = args.as_slice() else {
        eprintln!("usage: subset IN.h5 OUT.h5 WEST,SOUTH,EAST,NORTH");
        std::process::exit(2);
    };
    let bbox: Vec<f64> = bbox.split(',').filter_map(|v| v.trim().parse().ok()).collect();
    let Ok(bbox) = <[f64; 4]>::try_from(bbox) else {
        eprintln!("the bounding box is four numbers: WEST,SOUTH,EAST,NORTH");
        std::process::exit(2);
    };
    let operation = Operation { bbox: Some(bbox), ..Operation::default() };
    let started = Instant::now();
    match trajectory::subset(Path::new(input), Path::new(output), &operation) {
        Ok(Some(subset)) => {
            let seconds = started.elapsed().as_secs_f64();
            let photons: usize = subset.photons.iter().map(|(_, n)| n).sum();
            println!("{}", serde_json::json!({"bench": "subset", "photons": photons, "seconds": seconds}));
        }
        Ok(None) => {
            eprintln!("{input}: nothing inside the bounding box");
            std::process::exit(1);
        }
        Err(error) => {
            eprintln!("{input}: {error}");
            std::process::exit(1);
        }
    }
}
