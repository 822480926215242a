//! `cargo xtask package`: the deployable artifacts, built without Docker.
//!
//! The functions become Lambda zips (`provided.al2023`, built with cargo-lambda and zig) and the
//! signal job becomes an OCI image (see `image`). Every artifact is named by its content: a zip
//! by its SHA-256, the image by its manifest digest. With `--upload`, each goes to the assets
//! bucket or the registry only when that name is absent there, so an unchanged build uploads
//! nothing. What was built is printed and written to `target/artifacts/<stage>.json` for the deploy.

mod aws;
mod image;
mod registry;
pub(crate) mod zip;

use std::path::PathBuf;

use std::collections::BTreeMap;

use anyhow::{Context, format_err};
use platform::env;
use serde::{Deserialize, Serialize};
use stacks::{ArtifactKind, config::StageConfig, ecs::Architecture};
use xshell::{Shell, cmd};

use crate::{flags, lambda_build, stage, tools};

pub(crate) use crate::lambda_build::{FUNCTION_BINARIES, FUNCTIONS_PACKAGE, JOB_BINARY, JOB_PACKAGE, JOB_TARGET};

impl flags::Package {
    pub(crate) fn run(self, sh: &Shell) -> anyhow::Result<()> {
        let config = stage::load(sh, self.config.as_deref())?;
        let stage = config.stage(&self.stage).with_context(|| format!("reading stage {}", self.stage))?.clone();
        let destinations = if self.upload {
            let assets_bucket = self.assets_bucket.context(
                "--upload needs --assets-bucket NAME (reading it from the bootstrap stack comes with the deploy)",
            )?;
            let registry = self
                .registry
                .context("--upload needs --registry URL (ECR from the bootstrap stack comes with the deploy)")?;
            Some(Destinations {
                assets_bucket,
                registry,
                repository: stacks::parts::job_repository_name(&stage),
                sdk: None,
            })
        } else {
            None
        };
        let architecture = stage.architecture;
        check_target_installed(architecture, &installed_targets(sh)?)?;
        if architecture != Architecture::X86_64 {
            // The target is there, but this machine's libraries are x86_64 ones.
            return Err(format_err!(
                "stage {}: the arm64 job image needs arm64 glibc libraries, which packaging does not fetch yet",
                stage.name
            ));
        }

        let functions: Vec<(&str, &str)> = FUNCTION_BINARIES.iter().map(|name| (FUNCTIONS_PACKAGE, *name)).collect();
        let built = build(sh, architecture, &functions)?;
        let artifacts = package(sh, &stage, &built, destinations.as_ref())?;
        print!("{}", artifacts.summary());
        let path = artifacts.save(sh)?;
        println!("written to {}", path.display());
        Ok(())
    }
}

/// Where `--upload` puts the artifacts.
pub(crate) struct Destinations {
    pub(crate) assets_bucket: String,
    /// `http[s]://host[:port][/repository]`; an ECR host is reached with ECR's authorization token.
    pub(crate) registry: String,
    /// The repository when `registry` names none: the stage's job repository.
    pub(crate) repository: String,
    /// The AWS configuration to upload with (the deploy's `--profile`, `--region`, `--endpoint-url`);
    /// `None`: the standard chain.
    pub(crate) sdk: Option<aws_config::SdkConfig>,
}

/// Binaries built for packaging: each function's `bootstrap`, and the job binary. cargo-lambda moves
/// every binary it builds to `target/lambda/<binary>/bootstrap`, the job's too.
#[derive(Debug, Clone)]
pub(crate) struct Built {
    pub(crate) functions: Vec<(String, PathBuf)>,
    pub(crate) job: PathBuf,
}

/// What `package` made, as printed and as written for the deploy.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Artifacts {
    pub(crate) stage: String,
    pub(crate) architecture: &'static str,
    pub(crate) functions: Vec<FunctionArtifact>,
    pub(crate) job_image: ImageArtifact,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct FunctionArtifact {
    pub(crate) name: String,
    pub(crate) path: PathBuf,
    pub(crate) sha256: String,
    pub(crate) size: u64,
    /// The key in the assets bucket.
    pub(crate) key: String,
    pub(crate) upload: Upload,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct ImageArtifact {
    /// What the task definition's image parameter receives.
    pub(crate) manifest_digest: String,
    /// `host/repository@digest` when uploaded.
    pub(crate) uri: Option<String>,
    /// Layer, config and manifest as stored in a registry.
    pub(crate) compressed_size: u64,
    pub(crate) unpacked_size: u64,
    pub(crate) upload: Upload,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Upload {
    /// Built only: no `--upload`.
    NotRequested,
    Uploaded,
    AlreadyThere,
}

/// The file the artifacts of `stage` are listed in: `target/artifacts/<stage>.json`.
fn artifacts_file(sh: &Shell, stage: &str) -> PathBuf {
    sh.current_dir().join("target/artifacts").join(format!("{stage}.json"))
}

/// The parameter values of the artifacts last packaged for `stage` (by `package` or `deploy`),
/// `None` when nothing was packaged for it yet.
pub(crate) fn packaged_values(sh: &Shell, stage: &str) -> anyhow::Result<Option<BTreeMap<ArtifactKind, String>>> {
    /// What the values are read from, of the file [`Artifacts`] writes.
    #[derive(Deserialize)]
    struct Saved {
        functions: Vec<SavedFunction>,
        job_image: SavedImage,
    }
    #[derive(Deserialize)]
    struct SavedFunction {
        name: String,
        key: String,
    }
    #[derive(Deserialize)]
    struct SavedImage {
        manifest_digest: String,
    }
    let path = artifacts_file(sh, stage);
    let Ok(text) = std::fs::read_to_string(&path) else { return Ok(None) };
    let saved: Saved =
        serde_json::from_str(&text).with_context(|| format!("{} is not a list of artifacts", path.display()))?;
    let mut values = BTreeMap::from([(ArtifactKind::JobImage, saved.job_image.manifest_digest)]);
    for function in saved.functions {
        values.insert(function_kind(&function.name)?, function.key);
    }
    Ok(Some(values))
}

/// The artifact a function's zip is.
fn function_kind(name: &str) -> anyhow::Result<ArtifactKind> {
    match name {
        "subscribe" => Ok(ArtifactKind::SubscribeZip),
        "web" => Ok(ArtifactKind::WebZip),
        _ => Err(format_err!("{name:?} is not one of the functions {FUNCTION_BINARIES:?}")),
    }
}

impl Artifacts {
    /// The app stack's artifact parameters' values.
    pub(crate) fn values(&self) -> anyhow::Result<BTreeMap<ArtifactKind, String>> {
        let mut values = BTreeMap::from([(ArtifactKind::JobImage, self.job_image.manifest_digest.clone())]);
        for function in &self.functions {
            values.insert(function_kind(&function.name)?, function.key.clone());
        }
        Ok(values)
    }

    /// Writes the list to `target/artifacts/<stage>.json`, where `diff` reads it; returns the path.
    pub(crate) fn save(&self, sh: &Shell) -> anyhow::Result<PathBuf> {
        let path = artifacts_file(sh, &self.stage);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let json = serde_json::to_string_pretty(self).expect("artifacts serialize");
        std::fs::write(&path, json + "\n").with_context(|| format!("writing {}", path.display()))?;
        Ok(path)
    }

    pub(crate) fn summary(&self) -> String {
        let mut out = String::new();
        for function in &self.functions {
            out += &format!(
                "function {:<10} {:>9}  sha256:{}  {}  {}\n",
                function.name,
                human_size(function.size),
                function.sha256,
                function.upload.describe(),
                function.key
            );
        }
        let image = &self.job_image;
        out += &format!(
            "image    {:<10} {:>9} ({} unpacked)  {}  {}  {}\n",
            JOB_BINARY,
            human_size(image.compressed_size),
            human_size(image.unpacked_size),
            image.manifest_digest,
            image.upload.describe(),
            image.uri.as_deref().unwrap_or("")
        );
        out
    }
}

impl Upload {
    fn describe(self) -> &'static str {
        match self {
            Upload::NotRequested => "built",
            Upload::Uploaded => "uploaded",
            Upload::AlreadyThere => "already there",
        }
    }
}

/// Builds the function binaries (`(package, binary)` pairs, for `arch`) and the job binary (x86_64)
/// with cargo-lambda in the packaging profile (`release`, unless `ALCHEMY_PACKAGE_PROFILE` names
/// another), in one cargo run where the targets agree, so shared dependencies compile once.
pub(crate) fn build(sh: &Shell, architecture: Architecture, functions: &[(&str, &str)]) -> anyhow::Result<Built> {
    let mut runs: Vec<(&str, Vec<(&str, &str)>)> = vec![(JOB_TARGET, vec![(JOB_PACKAGE, JOB_BINARY)])];
    if rust_target(architecture) == JOB_TARGET {
        runs[0].1.extend_from_slice(functions);
    } else if !functions.is_empty() {
        runs.push((rust_target(architecture), functions.to_vec()));
    }
    let profile = lambda_build::packaging_profile()?;
    if profile != "release" {
        eprintln!("{}={profile}: the binaries are built with that profile, not as released", env::PACKAGE_PROFILE);
    }
    for (target, binaries) in &runs {
        lambda_build::build(sh, target, binaries, &profile, lambda_build::Output::Shown)?;
    }
    let target_dir = tools::cargo_target_dir(sh)?;
    Ok(Built {
        functions: functions
            .iter()
            .map(|(_, binary)| ((*binary).to_owned(), target_dir.join("lambda").join(binary).join("bootstrap")))
            .collect(),
        job: target_dir.join("lambda").join(JOB_BINARY).join("bootstrap"),
    })
}

/// Zips the functions and assembles the image from `built`; uploads what is absent when `destinations`
/// is given. Files go to `target/artifacts/<stage>/`.
pub(crate) fn package(
    sh: &Shell,
    stage: &StageConfig,
    built: &Built,
    destinations: Option<&Destinations>,
) -> anyhow::Result<Artifacts> {
    let out_dir = sh.current_dir().join("target/artifacts").join(&stage.name);
    std::fs::create_dir_all(&out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    let mut functions = Vec::new();
    for (name, bootstrap) in &built.functions {
        let path = out_dir.join(format!("{name}.zip"));
        let zip = zip::write(bootstrap, &path)?;
        let key = aws::zip_key(&zip.sha256);
        functions.push(FunctionArtifact {
            name: name.clone(),
            path,
            sha256: zip.sha256,
            size: zip.size,
            key,
            upload: Upload::NotRequested,
        });
    }
    let image = image::assemble(sh, &built.job, JOB_BINARY)?;
    let mut job_image = ImageArtifact {
        manifest_digest: image.manifest_digest.clone(),
        uri: None,
        compressed_size: image.compressed_size(),
        unpacked_size: image.unpacked_size,
        upload: Upload::NotRequested,
    };
    if let Some(destinations) = destinations {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        runtime.block_on(async {
            let mut registry = registry::Registry::new(&destinations.registry, &destinations.repository)?;
            let ecr = aws::is_ecr(registry.host());
            // Loading the AWS configuration can probe for a region and credentials: only when needed.
            let sdk = match (&destinations.sdk, ecr || !functions.is_empty()) {
                (_, false) => None,
                (Some(sdk), true) => Some(sdk.clone()),
                (None, true) => Some(aws::sdk_config().await),
            };
            if let Some(sdk) = &sdk {
                let s3 = aws::s3_client(sdk);
                for function in &mut functions {
                    let uploaded =
                        aws::upload_if_absent(&s3, &destinations.assets_bucket, &function.key, &function.path).await?;
                    function.upload = if uploaded { Upload::Uploaded } else { Upload::AlreadyThere };
                }
                if ecr {
                    registry = registry.with_auth(aws::ecr_auth(sdk).await?);
                }
            }
            job_image.uri = Some(registry.image_uri(&image.manifest_digest));
            job_image.upload = if registry.has_manifest(&image.manifest_digest).await? {
                Upload::AlreadyThere
            } else {
                registry.push(&image).await?;
                Upload::Uploaded
            };
            anyhow::Ok(())
        })?;
    }
    Ok(Artifacts { stage: stage.name.clone(), architecture: lambda_name(stage.architecture), functions, job_image })
}

/// Fails, naming the `rustup` command, when `arch`'s Rust target is not in `installed` (the output
/// of `rustup target list --installed`).
pub(crate) fn check_target_installed(architecture: Architecture, installed: &str) -> anyhow::Result<()> {
    let target = rust_target(architecture);
    if installed.lines().any(|line| line.trim() == target) {
        return Ok(());
    }
    Err(format_err!(
        "building the functions for {} needs the Rust target {target}, which is not installed: \
         run `rustup target add {target}`",
        lambda_name(architecture)
    ))
}

/// Lambda's name of an architecture.
fn lambda_name(architecture: Architecture) -> &'static str {
    match architecture {
        Architecture::X86_64 => "x86_64",
        Architecture::Arm64 => "arm64",
    }
}

/// The Rust target the functions of an architecture are built for.
fn rust_target(architecture: Architecture) -> &'static str {
    match architecture {
        Architecture::X86_64 => JOB_TARGET,
        Architecture::Arm64 => "aarch64-unknown-linux-gnu",
    }
}

fn installed_targets(sh: &Shell) -> anyhow::Result<String> {
    cmd!(sh, "rustup target list --installed").read().context("listing the installed Rust targets with rustup")
}

fn human_size(bytes: u64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
    } else {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    }
}

#[cfg(test)]
mod tests;
