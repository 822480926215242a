//! The job's OCI image, assembled from files without a Docker daemon.
//!
//! One layer holds the job binary, exactly the shared libraries it links (found with `ldd`, copied
//! from this machine's Debian packages), the CA bundle (the AWS SDK's rustls reads the system trust
//! store), `/etc/passwd` and `/etc/group` with an unprivileged user, and an empty `/tmp`: no shell,
//! no package manager. The layer tarball, its gzip, the config and the manifest are pure functions
//! of those files (sorted entries, owner root, mtime 0, no gzip timestamp), so an unchanged binary
//! gives the same manifest digest and a second push has nothing to do.

use std::{collections::BTreeMap, io::Write, path::Path, str::FromStr};

use anyhow::{Context, format_err};
use flate2::{Compression, GzBuilder};
use oci_spec::image::{
    Arch, ConfigBuilder, Descriptor, Digest, ImageConfigurationBuilder, ImageManifestBuilder, MediaType, Os,
    RootFsBuilder,
};
use xshell::{Shell, cmd};

use super::zip::sha256_hex;

/// The unprivileged user the job runs as (the number distroless images use for `nonroot`): the
/// one the task definition names too, so ECS never starts the container as root.
pub(crate) const USER: &str = stacks::ecs::CONTAINER_USER;
/// Where the image keeps the CA bundle; `SSL_CERT_FILE` in the image config points at it.
pub(crate) const CA_BUNDLE: &str = "etc/ssl/certs/ca-certificates.crt";
/// The host's CA bundle (Debian package `ca-certificates`) that the image carries.
const HOST_CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// An assembled image: its blobs and their digests (`sha256:<hex>`).
#[derive(Debug, Clone)]
pub(crate) struct Image {
    /// The gzipped layer tarball.
    pub(crate) layer: Vec<u8>,
    pub(crate) layer_digest: String,
    /// The size of the layer tarball before compression, close to the unpacked size.
    pub(crate) unpacked_size: u64,
    pub(crate) config: Vec<u8>,
    pub(crate) config_digest: String,
    pub(crate) manifest: Vec<u8>,
    pub(crate) manifest_digest: String,
}

impl Image {
    /// The bytes a registry stores for this image: layer, config and manifest.
    pub(crate) fn compressed_size(&self) -> u64 {
        (self.layer.len() + self.config.len() + self.manifest.len()) as u64
    }
}

/// What goes into the layer, by path without the leading `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Entry {
    Dir { mode: u32 },
    File { mode: u32, content: Vec<u8> },
}

/// Assembles the image running `binary` (x86_64, dynamically linked against glibc) as its entrypoint `/<name>`.
pub(crate) fn assemble(sh: &Shell, binary: &Path, name: &str) -> anyhow::Result<Image> {
    let mut files = BTreeMap::new();
    let content = std::fs::read(binary).with_context(|| format!("reading {}", binary.display()))?;
    files.insert(name.to_owned(), Entry::File { mode: 0o755, content });
    for library in shared_libraries(sh, binary)? {
        // `std::fs::read` follows symbolic links: the image gets the file under the name the binary asks for.
        let content = std::fs::read(&library).with_context(|| format!("reading {library}"))?;
        files.insert(library.trim_start_matches('/').to_owned(), Entry::File { mode: 0o755, content });
    }
    let ca_bundle = std::fs::read(HOST_CA_BUNDLE).with_context(|| {
        format!("reading {HOST_CA_BUNDLE}, the CA bundle the image carries (Debian package ca-certificates)")
    })?;
    files.insert(CA_BUNDLE.to_owned(), Entry::File { mode: 0o644, content: ca_bundle });
    let passwd = "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/nonexistent:/sbin/nologin\n";
    files.insert("etc/passwd".to_owned(), Entry::File { mode: 0o644, content: passwd.into() });
    files.insert("etc/group".to_owned(), Entry::File { mode: 0o644, content: "root:x:0:\nnonroot:x:65532:\n".into() });
    files.insert("tmp".to_owned(), Entry::Dir { mode: 0o1777 });
    build(&files, &format!("/{name}"))
}

/// The image of exactly `files` (parent folders are added with mode 0755), running `entrypoint`.
pub(crate) fn build(files: &BTreeMap<String, Entry>, entrypoint: &str) -> anyhow::Result<Image> {
    let tar = layer_tar(files)?;
    let diff_id = format!("sha256:{}", sha256_hex(&tar));
    let mut gzip = GzBuilder::new().mtime(0).write(Vec::new(), Compression::best());
    gzip.write_all(&tar).context("compressing the layer")?;
    let layer = gzip.finish().context("compressing the layer")?;
    let layer_digest = format!("sha256:{}", sha256_hex(&layer));

    let run_config = ConfigBuilder::default()
        .user(USER)
        .entrypoint(vec![entrypoint.to_owned()])
        .env(vec![format!("SSL_CERT_FILE=/{CA_BUNDLE}")])
        .working_dir("/")
        .build()?;
    let config = ImageConfigurationBuilder::default()
        .architecture(Arch::Amd64)
        .os(Os::Linux)
        .config(run_config)
        .rootfs(RootFsBuilder::default().typ("layers").diff_ids(vec![diff_id]).build()?)
        .build()?;
    let config = serde_json::to_vec(&config).context("serializing the image config")?;
    let config_digest = format!("sha256:{}", sha256_hex(&config));

    let manifest = ImageManifestBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageManifest)
        .config(Descriptor::new(MediaType::ImageConfig, config.len() as u64, digest(&config_digest)?))
        .layers(vec![Descriptor::new(MediaType::ImageLayerGzip, layer.len() as u64, digest(&layer_digest)?)])
        .build()?;
    let manifest = serde_json::to_vec(&manifest).context("serializing the image manifest")?;
    let manifest_digest = format!("sha256:{}", sha256_hex(&manifest));
    Ok(Image { layer, layer_digest, unpacked_size: tar.len() as u64, config, config_digest, manifest, manifest_digest })
}

/// The shared libraries `binary` loads, the dynamic loader included, as absolute paths on this machine.
/// Empty for a static binary.
pub(crate) fn shared_libraries(sh: &Shell, binary: &Path) -> anyhow::Result<Vec<String>> {
    let output = cmd!(sh, "ldd {binary}").ignore_status().output().context("running ldd")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        if stdout.contains("statically linked") || stderr.contains("not a dynamic executable") {
            return Ok(Vec::new());
        }
        return Err(format_err!("ldd {} failed: {stdout}{stderr}", binary.display()));
    }
    parse_ldd(&stdout)
}

/// The library paths in `ldd` output: `name => /path (0x...)` and `/path (0x...)` (the loader);
/// the kernel's vDSO has no file and is skipped.
pub(crate) fn parse_ldd(output: &str) -> anyhow::Result<Vec<String>> {
    let mut libraries = Vec::new();
    for line in output.lines().map(str::trim).filter(|it| !it.is_empty()) {
        if line.contains("not found") {
            return Err(format_err!("a library the binary needs is missing on this machine: {line}"));
        }
        let path = match line.split_once("=>") {
            Some((_, target)) => target.trim(),
            None => line,
        };
        let path = path.split(" (0x").next().unwrap_or(path).trim();
        if path.starts_with('/') {
            libraries.push(path.to_owned());
        }
    }
    libraries.sort();
    libraries.dedup();
    Ok(libraries)
}

/// The uncompressed layer: every entry and its parent folders, sorted, owned by root, mtime 0.
fn layer_tar(files: &BTreeMap<String, Entry>) -> anyhow::Result<Vec<u8>> {
    let mut entries = files.clone();
    for path in files.keys() {
        let mut parent = Path::new(path).parent();
        while let Some(dir) = parent.filter(|it| !it.as_os_str().is_empty()) {
            let dir_path = dir.to_str().expect("built from a str").to_owned();
            entries.entry(dir_path).or_insert(Entry::Dir { mode: 0o755 });
            parent = dir.parent();
        }
    }
    let mut tar = tar::Builder::new(Vec::new());
    for (path, entry) in &entries {
        let mut header = tar::Header::new_ustar();
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(0);
        match entry {
            Entry::Dir { mode } => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(*mode);
                header.set_size(0);
                tar.append_data(&mut header, format!("{path}/"), std::io::empty())
            }
            Entry::File { mode, content } => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_mode(*mode);
                header.set_size(content.len() as u64);
                tar.append_data(&mut header, path, content.as_slice())
            }
        }
        .with_context(|| format!("adding {path} to the layer"))?;
    }
    tar.into_inner().context("finishing the layer")
}

fn digest(text: &str) -> anyhow::Result<Digest> {
    Digest::from_str(text).with_context(|| format!("{text} is not a digest"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ldd_output_gives_the_libraries_and_the_loader_but_not_the_vdso() {
        let output = "\tlinux-vdso.so.1 (0x00007ffd4b3f2000)
\tlibgcc_s.so.1 => /lib/x86_64-linux-gnu/libgcc_s.so.1 (0x00007f0e1c6a0000)
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f0e1c400000)
\t/lib64/ld-linux-x86-64.so.2 (0x00007f0e1c6e0000)
";
        assert_eq!(
            parse_ldd(output).unwrap(),
            ["/lib/x86_64-linux-gnu/libc.so.6", "/lib/x86_64-linux-gnu/libgcc_s.so.1", "/lib64/ld-linux-x86-64.so.2"]
        );
    }

    #[test]
    fn a_missing_library_is_an_error_that_names_it() {
        let err = parse_ldd("\tlibfoo.so.1 => not found\n").unwrap_err();
        assert!(err.to_string().contains("libfoo.so.1"), "{err}");
    }

    #[test]
    fn the_same_files_give_the_same_manifest_digest() {
        let files = BTreeMap::from([
            ("app".to_owned(), Entry::File { mode: 0o755, content: b"binary".to_vec() }),
            ("etc/passwd".to_owned(), Entry::File { mode: 0o644, content: b"root:x:0:0::/:/x\n".to_vec() }),
        ]);
        let first = build(&files, "/app").unwrap();
        let second = build(&files, "/app").unwrap();
        assert_eq!(first.manifest_digest, second.manifest_digest);
        assert_eq!(first.layer, second.layer);

        let mut changed = files.clone();
        changed.insert("app".to_owned(), Entry::File { mode: 0o755, content: b"binary 2".to_vec() });
        assert_ne!(build(&changed, "/app").unwrap().manifest_digest, first.manifest_digest);
    }

    #[test]
    fn the_layer_has_parent_folders_first_and_no_owner_or_time() {
        let files =
            BTreeMap::from([("etc/ssl/a.crt".to_owned(), Entry::File { mode: 0o644, content: b"pem".to_vec() })]);
        let tar = layer_tar(&files).unwrap();
        let mut archive = tar::Archive::new(tar.as_slice());
        let listing: Vec<String> = archive
            .entries()
            .unwrap()
            .map(|entry| {
                let entry = entry.unwrap();
                let header = entry.header();
                assert_eq!((header.uid().unwrap(), header.gid().unwrap(), header.mtime().unwrap()), (0, 0, 0));
                format!("{} {:o}", entry.path().unwrap().display(), header.mode().unwrap())
            })
            .collect();
        assert_eq!(listing, ["etc/ 755", "etc/ssl/ 755", "etc/ssl/a.crt 644"]);
    }

    #[test]
    fn the_config_runs_the_entrypoint_as_the_unprivileged_user() {
        let files = BTreeMap::from([("app".to_owned(), Entry::File { mode: 0o755, content: b"x".to_vec() })]);
        let image = build(&files, "/app").unwrap();
        let config: serde_json::Value = serde_json::from_slice(&image.config).unwrap();
        assert_eq!(config["config"]["User"], USER);
        assert_eq!(config["config"]["Entrypoint"], serde_json::json!(["/app"]));
        assert_eq!(config["architecture"], "amd64");
        let manifest: serde_json::Value = serde_json::from_slice(&image.manifest).unwrap();
        assert_eq!(manifest["layers"][0]["digest"], image.layer_digest);
        assert_eq!(manifest["config"]["digest"], image.config_digest);
    }
}
