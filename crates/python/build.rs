//! The extension module links Debian's shared HDF5, where everything else in the workspace links its static
//! one (.cargo/hdf5/README.md): Debian's `libhdf5_serial.a` is compiled for executables (position-dependent
//! references to libc's data), which a shared object such as this module cannot contain.
//!
//! hdf5-metno-sys asks for `-lhdf5`, which `.cargo/hdf5/lib` answers with the static archives. The shared
//! libraries named here come before it on the link line (a crate's own libraries precede its dependencies'),
//! so every HDF5 symbol is already defined when the linker reaches the archives and takes nothing from them.
//! With an HDF5_DIR of the user's own (another system), the module links that HDF5 as hdf5-metno-sys says.

fn main() {
    println!("cargo::rerun-if-env-changed=HDF5_DIR");
    let ours = std::env::var_os("HDF5_DIR").is_some_and(|dir| std::path::Path::new(&dir).ends_with(".cargo/hdf5"));
    if ours {
        println!("cargo::rustc-link-search=native=/usr/lib/x86_64-linux-gnu/hdf5/serial");
        println!("cargo::rustc-link-lib=dylib:+verbatim=libhdf5_serial_hl.so");
        println!("cargo::rustc-link-lib=dylib:+verbatim=libhdf5_serial.so");
    }
}
