//! One test per fixed bug, named `issue_N_…` after the issue whose work found it.

use harmonyql_server::sample;
use harmonyql_server::transform::{Operation, apply};

/// An ATL03 request with no subset at all used to fail its work item with
/// "H5DSattach_scale failed": whole datasets were copied with their references into the input file.
#[test]
fn issue_3_an_unconstrained_atl03_request_copies_every_group() {
    let dir = std::env::temp_dir().join(format!("hq-regression-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let granule = sample::granules("ATL03_GT1L").into_iter().next().expect("the real fixture is a sample granule");
    let input = sample::ensure(&granule, &dir, 1).unwrap();
    let outputs = apply(&granule, &input, &Operation::default(), &dir.join("out")).unwrap();
    assert_eq!(outputs.len(), 1);
    let file = hdf5::File::open(&outputs[0].path).unwrap();
    let heights = file.dataset("gt1l/heights/h_ph").unwrap();
    assert_eq!(heights.shape(), vec![2909], "every photon of the fixture is kept");
    assert!(file.group("gt1l/bckgrd_atlas").is_ok());
    std::fs::remove_dir_all(&dir).unwrap();
}
