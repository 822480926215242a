//! Pushing the job image to an OCI registry (ECR or any other), only when its digest is absent.
//!
//! The image is tagged with the hex of its manifest digest, so a tag names one content forever;
//! the stack's task definition receives the digest itself.

use anyhow::{Context, format_err};
use oci_client::{
    Client, Reference,
    client::{ClientConfig, ClientProtocol},
    errors::{OciDistributionError, OciErrorCode},
    manifest::OCI_IMAGE_MEDIA_TYPE,
    secrets::RegistryAuth,
};

use super::image::Image;

/// A repository in a registry, and how to reach it.
pub(crate) struct Registry {
    client: Client,
    auth: RegistryAuth,
    /// `host[:port]`.
    host: String,
    repository: String,
}

impl Registry {
    /// Parses `http[s]://host[:port][/repository]` (`default_repository` when it names none);
    /// anonymous access until `with_auth`.
    pub(crate) fn new(url: &str, default_repository: &str) -> anyhow::Result<Registry> {
        let (protocol, rest) = if let Some(rest) = url.strip_prefix("http://") {
            (ClientProtocol::Http, rest)
        } else if let Some(rest) = url.strip_prefix("https://") {
            (ClientProtocol::Https, rest)
        } else {
            return Err(format_err!("registry URL {url:?} must start with http:// or https://"));
        };
        let rest = rest.trim_end_matches('/');
        let (host, repository) = match rest.split_once('/') {
            Some((host, repository)) => (host, repository),
            None => (rest, default_repository),
        };
        if host.is_empty() || repository.is_empty() {
            return Err(format_err!("registry URL {url:?} has no host or no repository"));
        }
        let client = Client::new(ClientConfig { protocol, ..ClientConfig::default() });
        Ok(Registry { client, auth: RegistryAuth::Anonymous, host: host.to_owned(), repository: repository.to_owned() })
    }

    /// The same registry, reached with these credentials (ECR's token).
    pub(crate) fn with_auth(self, auth: RegistryAuth) -> Registry {
        Registry { auth, ..self }
    }

    /// `host[:port]`.
    pub(crate) fn host(&self) -> &str {
        &self.host
    }

    /// `host/repository@sha256:...`: how the image is pulled by digest.
    pub(crate) fn image_uri(&self, manifest_digest: &str) -> String {
        format!("{}/{}@{manifest_digest}", self.host, self.repository)
    }

    /// Whether the registry already holds the manifest with this digest.
    pub(crate) async fn has_manifest(&self, manifest_digest: &str) -> anyhow::Result<bool> {
        let reference = self.by_digest(manifest_digest);
        match self.client.fetch_manifest_digest(&reference, &self.auth).await {
            Ok(_) => Ok(true),
            Err(err) if is_not_found(&err) => Ok(false),
            Err(err) => Err(err).with_context(|| format!("asking {} for {manifest_digest}", self.host)),
        }
    }

    /// Pushes the layer, the config and the manifest, tagged with the manifest digest's hex.
    pub(crate) async fn push(&self, image: &Image) -> anyhow::Result<()> {
        let hex = image.manifest_digest.trim_start_matches("sha256:");
        let reference = Reference::with_tag(self.host.clone(), self.repository.clone(), hex.to_owned());
        self.client
            .push_blob(&reference, &image.layer, &image.layer_digest)
            .await
            .with_context(|| format!("pushing the layer {} to {}", image.layer_digest, self.host))?;
        self.client
            .push_blob(&reference, &image.config, &image.config_digest)
            .await
            .with_context(|| format!("pushing the config {} to {}", image.config_digest, self.host))?;
        let content_type = OCI_IMAGE_MEDIA_TYPE.parse().expect("a valid header value");
        self.client
            .push_manifest_raw(&reference, image.manifest.clone(), content_type)
            .await
            .with_context(|| format!("pushing the manifest {} to {}", image.manifest_digest, self.host))?;
        Ok(())
    }

    /// The layers (gzipped tarballs) of the image with this manifest digest, checked against their digests.
    #[cfg(test)]
    pub(crate) async fn pull_layers(&self, manifest_digest: &str) -> anyhow::Result<Vec<Vec<u8>>> {
        let image = self
            .client
            .pull(&self.by_digest(manifest_digest), &self.auth, vec![oci_client::manifest::IMAGE_LAYER_GZIP_MEDIA_TYPE])
            .await
            .with_context(|| format!("pulling {manifest_digest} from {}", self.host))?;
        Ok(image.layers.into_iter().map(|layer| layer.data.to_vec()).collect())
    }

    fn by_digest(&self, manifest_digest: &str) -> Reference {
        Reference::with_digest(self.host.clone(), self.repository.clone(), manifest_digest.to_owned())
    }
}

fn is_not_found(err: &OciDistributionError) -> bool {
    match err {
        OciDistributionError::ImageManifestNotFoundError(_) => true,
        OciDistributionError::ServerError { code: 404, .. } => true,
        OciDistributionError::RegistryError { envelope, .. } => envelope
            .errors
            .iter()
            .any(|it| matches!(it.code, OciErrorCode::ManifestUnknown | OciErrorCode::NameUnknown)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_registry_url_gives_host_and_repository() {
        let registry = Registry::new("http://127.0.0.1:5000/team/job", "default").unwrap();
        assert_eq!(registry.image_uri("sha256:ab"), "127.0.0.1:5000/team/job@sha256:ab");
        let registry = Registry::new("https://example.test", "invest-alchemy-dev-job").unwrap();
        assert_eq!(registry.image_uri("sha256:ab"), "example.test/invest-alchemy-dev-job@sha256:ab");
        assert!(Registry::new("127.0.0.1:5000", "default").is_err());
    }
}
