//! Kernelspec installation: writes `kernel.json` and the logos from `kernel/` into a Jupyter data
//! directory so `jupyter kernelspec list` and every front end find the kernel. No Python needed.
//!
//! Owns: where kernelspecs go (`--user`, `--sys-prefix`, `--prefix P`), writing one atomically
//! (a temp directory renamed into place), removing one, and reporting where it is installed.
//! Must not start or talk to a kernel.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// The kernelspec name used unless `--name` says otherwise.
pub const DEFAULT_NAME: &str = "harmonyql";

const KERNEL_JSON_TEMPLATE: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../kernel/kernel.json"));
const LOGO_32: &[u8] = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../kernel/logo-32x32.png"));
const LOGO_64: &[u8] = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../kernel/logo-64x64.png"));
const LOGO_SVG: &[u8] = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../kernel/logo-svg.svg"));

/// Why installing, removing or listing a kernelspec failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The name has characters Jupyter does not allow.
    #[error("invalid kernel name {0:?}: use ASCII letters, digits, '-', '.' and '_'")]
    InvalidName(String),
    /// `--sys-prefix` with no Python environment to be found.
    #[error(
        "--sys-prefix found no Python environment: no VIRTUAL_ENV or CONDA_PREFIX, hq was not installed by pip, \
         and there is no python3 on PATH; use --prefix PATH instead"
    )]
    NoSysPrefix,
    /// No home directory to find the user's Jupyter data directory in.
    #[error("cannot find the Jupyter user data directory: HOME is not set; use --prefix PATH")]
    NoHome,
    /// A kernelspec with this name already exists there.
    #[error("a kernelspec is already installed at {0}; pass --force to replace it")]
    AlreadyInstalled(PathBuf),
    /// Nothing to uninstall.
    #[error("no kernelspec at {0}")]
    NotInstalled(PathBuf),
    /// A file operation failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What we were doing.
        action: &'static str,
        /// On what.
        path: PathBuf,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
}

/// `Result` with the install [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Which Jupyter data directory to use.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Location {
    /// The user's (`$JUPYTER_DATA_DIR`, else `~/.local/share/jupyter` on Linux,
    /// `~/Library/Jupyter` on macOS).
    #[default]
    User,
    /// The Python environment's `share/jupyter`: the active one (`$VIRTUAL_ENV`, `$CONDA_PREFIX`), else the one pip
    /// installed this `hq` into (the `harmonyql` wheel), else `sys.prefix` of the `python3` on PATH.
    SysPrefix,
    /// `PREFIX/share/jupyter`.
    Prefix(PathBuf),
}

/// What to install.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallOptions {
    /// Where.
    pub location: Location,
    /// The kernelspec name (directory name).
    pub name: String,
    /// Replace an existing kernelspec of that name.
    pub force: bool,
    /// The Harmony the kernel starts on, written as `HARMONY_ROOT_URL` into kernel.json's `env` (`prod`, `uat`,
    /// `local:PORT`, a URL); `None` leaves the kernel's default.
    pub env: Option<String>,
}

impl Default for InstallOptions {
    fn default() -> Self {
        Self { location: Location::User, name: DEFAULT_NAME.to_owned(), force: false, env: None }
    }
}

/// One installed kernelspec found by [`status`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installed {
    /// The kernelspec directory.
    pub dir: PathBuf,
    /// The program its `argv` starts.
    pub program: Option<PathBuf>,
    /// Whether that program exists (a moved or deleted `hq` leaves a dead kernelspec).
    pub program_exists: bool,
}

/// The `kernels` directory of a location.
pub fn kernels_dir(location: &Location) -> Result<PathBuf> {
    Ok(data_dir(location)?.join("kernels"))
}

/// Installs the kernelspec running `executable` (normally `std::env::current_exe()`); returns its
/// directory.
pub fn install(options: &InstallOptions, executable: &Path) -> Result<PathBuf> {
    let name = checked_name(&options.name)?;
    let kernels = kernels_dir(&options.location)?;
    let target = kernels.join(&name);
    if target.exists() && !options.force {
        return Err(Error::AlreadyInstalled(target));
    }
    std::fs::create_dir_all(&kernels).map_err(io("creating", &kernels))?;

    // Build the whole spec beside the target, then rename it into place: a crash never leaves a
    // half-written kernelspec that Jupyter would offer.
    let staging = kernels.join(format!(".{name}.{}.tmp", uuid::Uuid::new_v4()));
    std::fs::create_dir(&staging).map_err(io("creating", &staging))?;
    let written = write_spec(&staging, executable, options.env.as_deref());
    let moved = written.and_then(|()| {
        if target.exists() {
            std::fs::remove_dir_all(&target).map_err(io("removing", &target))?;
        }
        std::fs::rename(&staging, &target).map_err(io("moving into place", &target))
    });
    if moved.is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    moved.map(|()| target)
}

/// Removes the kernelspec `name` from `location`; returns the removed directory.
pub fn uninstall(location: &Location, name: &str) -> Result<PathBuf> {
    let target = kernels_dir(location)?.join(checked_name(name)?);
    if !target.join("kernel.json").exists() {
        return Err(Error::NotInstalled(target));
    }
    std::fs::remove_dir_all(&target).map_err(io("removing", &target))?;
    Ok(target)
}

/// Removes the kernelspec `name` from every one of `locations` that has it (`hq kernel uninstall` without a location:
/// wherever `install` can put it); returns the removed directories, or `NotInstalled` naming the first place looked.
pub fn uninstall_everywhere(locations: &[Location], name: &str) -> Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    let mut first_looked = None;
    for location in locations {
        let Ok(dir) = kernels_dir(location) else { continue };
        let target = dir.join(checked_name(name)?);
        first_looked.get_or_insert_with(|| target.clone());
        if target.join("kernel.json").exists() && !removed.contains(&target) {
            removed.push(uninstall(location, name)?);
        }
    }
    if removed.is_empty() {
        return Err(Error::NotInstalled(first_looked.unwrap_or_default()));
    }
    Ok(removed)
}

/// Every installed kernelspec called `name` that Jupyter would look at, in Jupyter's search order
/// (`$JUPYTER_PATH`, user, active environment, system).
pub fn status(name: &str) -> Result<Vec<Installed>> {
    let name = checked_name(name)?;
    let mut data_dirs: Vec<PathBuf> =
        std::env::var_os("JUPYTER_PATH").map(|paths| std::env::split_paths(&paths).collect()).unwrap_or_default();
    data_dirs.extend(data_dir(&Location::User).ok());
    data_dirs.extend(data_dir(&Location::SysPrefix).ok());
    data_dirs.push(PathBuf::from("/usr/local/share/jupyter"));
    data_dirs.push(PathBuf::from("/usr/share/jupyter"));
    data_dirs.dedup();

    Ok(data_dirs
        .into_iter()
        .map(|data| data.join("kernels").join(&name))
        .filter(|dir| dir.join("kernel.json").is_file())
        .map(|dir| {
            let program = std::fs::read_to_string(dir.join("kernel.json"))
                .ok()
                .and_then(|text| serde_json::from_str::<Value>(&text).ok())
                .and_then(|spec| spec["argv"][0].as_str().map(PathBuf::from));
            let program_exists = program.as_ref().is_some_and(|program| program.exists());
            Installed { dir, program, program_exists }
        })
        .collect())
}

/// The `kernel.json` text for `executable`: the template from `kernel/` with `argv[0]` replaced, and `env` (the
/// Harmony to start on) as `HARMONY_ROOT_URL` in its `env`.
pub fn kernel_json(executable: &Path, env: Option<&str>) -> String {
    let mut spec: Value = serde_json::from_str(KERNEL_JSON_TEMPLATE).unwrap_or_else(|_| {
        // The template is ours and checked by a test; this branch only guards against an edit
        // that broke it, by falling back to the same content.
        serde_json::json!({
            "argv": ["hq", "kernel", "--connection-file", "{connection_file}"],
            "display_name": "HarmonyQL",
            "language": "harmonyql",
            "interrupt_mode": "message",
        })
    });
    if let Some(program) = spec.get_mut("argv").and_then(|argv| argv.get_mut(0)) {
        *program = Value::String(executable.to_string_lossy().into_owned());
    }
    if let (Some(env), Some(spec)) = (env, spec.as_object_mut()) {
        spec.insert("env".to_owned(), serde_json::json!({ "HARMONY_ROOT_URL": env }));
    }
    let mut text = serde_json::to_string_pretty(&spec).unwrap_or_default();
    text.push('\n');
    text
}

fn write_spec(dir: &Path, executable: &Path, env: Option<&str>) -> Result<()> {
    let spec = kernel_json(executable, env);
    let files: [(&str, &[u8]); 4] = [
        ("kernel.json", spec.as_bytes()),
        ("logo-32x32.png", LOGO_32),
        ("logo-64x64.png", LOGO_64),
        ("logo-svg.svg", LOGO_SVG),
    ];
    for (file, bytes) in files {
        let path = dir.join(file);
        std::fs::write(&path, bytes).map_err(io("writing", &path))?;
    }
    Ok(())
}

fn data_dir(location: &Location) -> Result<PathBuf> {
    match location {
        Location::Prefix(prefix) => Ok(prefix.join("share").join("jupyter")),
        Location::SysPrefix => {
            sys_prefix().map(|prefix| prefix.join("share").join("jupyter")).ok_or(Error::NoSysPrefix)
        }
        Location::User => {
            if let Some(dir) = std::env::var_os("JUPYTER_DATA_DIR").filter(|dir| !dir.is_empty()) {
                return Ok(PathBuf::from(dir));
            }
            if cfg!(windows) {
                return std::env::var_os("APPDATA")
                    .map(|appdata| PathBuf::from(appdata).join("jupyter"))
                    .ok_or(Error::NoHome);
            }
            let home = std::env::var_os("HOME").filter(|home| !home.is_empty()).map(PathBuf::from);
            if cfg!(target_os = "macos") {
                return home.map(|home| home.join("Library").join("Jupyter")).ok_or(Error::NoHome);
            }
            match std::env::var_os("XDG_DATA_HOME").filter(|dir| !dir.is_empty()) {
                Some(data) => Ok(PathBuf::from(data).join("jupyter")),
                None => home.map(|home| home.join(".local").join("share").join("jupyter")).ok_or(Error::NoHome),
            }
        }
    }
}

/// The Python environment `--sys-prefix` means. The active one first; then the one pip installed this `hq` into (a
/// hub's `/opt/conda/bin/hq` run without activating anything), recognised by the libraries the `harmonyql` wheel puts
/// beside `bin/` in `lib/harmonyql`; then `sys.prefix` of the `python3` on PATH, as `jupyter` would use.
fn sys_prefix() -> Option<PathBuf> {
    let active = std::env::var_os("VIRTUAL_ENV").or_else(|| std::env::var_os("CONDA_PREFIX"));
    if let Some(prefix) = active.filter(|prefix| !prefix.is_empty()) {
        return Some(PathBuf::from(prefix));
    }
    let executable = std::env::current_exe().ok()?;
    let installed_by_pip = executable.parent()?.parent().filter(|prefix| prefix.join("lib/harmonyql").is_dir());
    installed_by_pip.map(Path::to_path_buf).or_else(python_prefix)
}

/// How long `python3 -c 'print(sys.prefix)'` may take: far more than an interpreter's start.
const PYTHON_PREFIX_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// `sys.prefix` of the `python3` on PATH, if there is one that answers in time.
fn python_prefix() -> Option<PathBuf> {
    let mut child = std::process::Command::new("python3")
        .args(["-c", "import sys; print(sys.prefix)"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    let started = std::time::Instant::now();
    while child.try_wait().ok()?.is_none() {
        if started.elapsed() > PYTHON_PREFIX_TIMEOUT {
            // A hung interpreter is not an environment; it is killed and reaped, and nothing is installed there.
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let mut text = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take()?, &mut text).ok()?;
    let prefix = PathBuf::from(text.trim());
    (prefix.is_absolute() && prefix.is_dir()).then_some(prefix)
}

/// Jupyter matches kernel names case-insensitively and stores them lower-case.
fn checked_name(name: &str) -> Result<String> {
    let valid = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
        && name != "."
        && name != "..";
    if valid { Ok(name.to_ascii_lowercase()) } else { Err(Error::InvalidName(name.to_owned())) }
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.to_owned();
    move |source| Error::Io { action, path, source }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_jupyters_rules() {
        let check = |name: &str, expected: Option<&str>| {
            assert_eq!(checked_name(name).ok().as_deref(), expected, "{name:?}");
        };
        check("harmonyql", Some("harmonyql"));
        check("HQ-dev_2.1", Some("hq-dev_2.1"));
        check("", None);
        check("..", None);
        check("a/b", None);
        check("dé", None);
    }

    #[test]
    fn kernel_json_runs_this_executable_with_message_interrupts() {
        let spec: Value = serde_json::from_str(&kernel_json(Path::new("/opt/hq bin/hq"), None)).expect("json");
        assert_eq!(
            spec["argv"],
            serde_json::json!(["/opt/hq bin/hq", "kernel", "--connection-file", "{connection_file}"])
        );
        assert_eq!(spec["interrupt_mode"], "message");
        assert_eq!(spec["language"], "harmonyql");
        assert_eq!(spec["display_name"], "HarmonyQL");
        assert!(spec.get("env").is_none(), "no environment unless asked: the kernel's default applies");
    }

    #[test]
    fn install_env_sets_harmony_root_url_for_the_kernel() {
        let spec: Value = serde_json::from_str(&kernel_json(Path::new("hq"), Some("local:3001"))).expect("json");
        assert_eq!(spec["env"], serde_json::json!({"HARMONY_ROOT_URL": "local:3001"}));
        assert_eq!(spec["argv"][0], "hq");
    }

    #[test]
    fn uninstall_everywhere_removes_each_copy_and_says_when_there_is_none() {
        let (first, second) = (tempfile::tempdir().expect("temp dir"), tempfile::tempdir().expect("temp dir"));
        let locations = [Location::Prefix(first.path().to_owned()), Location::Prefix(second.path().to_owned())];
        for location in &locations {
            let options = InstallOptions { location: location.clone(), name: "hq-test".into(), ..Default::default() };
            install(&options, Path::new("/usr/bin/hq")).expect("install");
        }
        let removed = uninstall_everywhere(&locations, "hq-test").expect("uninstall");
        assert_eq!(removed.len(), 2);
        assert!(removed.iter().all(|dir| !dir.exists()));
        assert!(matches!(uninstall_everywhere(&locations, "hq-test"), Err(Error::NotInstalled(_))));
    }

    #[test]
    fn the_template_and_logos_are_valid() {
        assert!(serde_json::from_str::<Value>(KERNEL_JSON_TEMPLATE).is_ok());
        assert_eq!(crate::output::png_size(LOGO_32), Some((32, 32)));
        assert_eq!(crate::output::png_size(LOGO_64), Some((64, 64)));
        assert!(std::str::from_utf8(LOGO_SVG).is_ok_and(|svg| svg.contains("<svg")));
    }

    #[test]
    fn install_writes_the_spec_refuses_to_overwrite_and_uninstall_removes_it() {
        let prefix = tempfile::tempdir().expect("temp dir");
        let location = Location::Prefix(prefix.path().to_owned());
        let options = InstallOptions { location: location.clone(), name: "hq-test".into(), ..Default::default() };
        let dir = install(&options, Path::new("/usr/bin/hq")).expect("install");
        assert_eq!(dir, prefix.path().join("share/jupyter/kernels/hq-test"));
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .expect("list")
            .map(|entry| entry.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        assert_eq!(files, ["kernel.json", "logo-32x32.png", "logo-64x64.png", "logo-svg.svg"]);

        let again = install(&options, Path::new("/usr/bin/hq"));
        assert!(matches!(again, Err(Error::AlreadyInstalled(_))), "{again:?}");
        let forced = InstallOptions { force: true, ..options.clone() };
        install(&forced, Path::new("/elsewhere/hq")).expect("forced install");
        let text = std::fs::read_to_string(dir.join("kernel.json")).expect("read");
        assert!(text.contains("/elsewhere/hq"), "{text}");
        let leftovers = std::fs::read_dir(dir.parent().expect("kernels dir")).expect("list").count();
        assert_eq!(leftovers, 1, "no staging directories left behind");

        assert_eq!(uninstall(&location, "hq-test").expect("uninstall"), dir);
        assert!(!dir.exists());
        assert!(matches!(uninstall(&location, "hq-test"), Err(Error::NotInstalled(_))));
    }
}
