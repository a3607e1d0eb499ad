# Shortcuts for the scripts in scripts/ (each installs what it needs and is idempotent).
.PHONY: check tutorial test lab browser-test evcxr-notebook bench

check:           ## quick feedback (under 2 minutes warm): fmt, clippy, the language crate's tests
	cargo fmt --all -- --check
	cargo clippy --locked --workspace --all-targets -- -D warnings
	cargo test --locked -p harmonyql-lang

tutorial:        ## run the tutorial notebooks against a local Harmony; results in out/
	bash scripts/tutorial.sh

test:            ## every test (what CI runs)
	bash scripts/test.sh

lab:             ## JupyterLab with the HarmonyQL kernel and a local Harmony
	bash scripts/lab.sh

browser-test:    ## the ATL03 notebook in JupyterLab in headless Chromium; screenshot in out/
	bash tests/browser/run.sh

evcxr-notebook:  ## opt-in: the Rust library notebook in evcxr_jupyter (compiles Rust; slow the first time)
	bash scripts/evcxr-notebook.sh

bench:           ## HarmonyQL against harmony-py, h5py, xarray and matplotlib, with ratios
	bash benches/compare.sh
