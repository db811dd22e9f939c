//! Saved clusters: a TOML file in the user's config dir. A saved cluster never holds a secret; it
//! names where the password comes from (an environment variable, a file, or a prompt).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{ClusterError, ConnectionConfig, is_secret_key};

const FILE_NAME: &str = "clusters.toml";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SecretSource {
    #[default]
    None,
    /// Read from this environment variable at connect time.
    Env(String),
    /// Read from this file at connect time (trailing newline dropped).
    File(PathBuf),
    /// Asked for at connect time.
    Prompt,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedCluster {
    pub name: String,
    pub bootstrap: String,
    #[serde(default)]
    pub properties: BTreeMap<String, String>,
    /// Where the value of `secret_property` comes from.
    #[serde(default)]
    pub secret: SecretSource,
    /// The librdkafka property the secret fills, `sasl.password` unless said otherwise.
    #[serde(default = "default_secret_property")]
    pub secret_property: String,
}

fn default_secret_property() -> String {
    "sasl.password".into()
}

impl SavedCluster {
    /// A saved entry from a live configuration, with every secret property dropped.
    pub fn from_config(name: &str, config: &ConnectionConfig, secret: SecretSource) -> Self {
        Self {
            name: name.to_owned(),
            bootstrap: config.bootstrap.clone(),
            properties: config
                .properties
                .iter()
                .filter(|(k, _)| !is_secret_key(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            secret,
            secret_property: default_secret_property(),
        }
    }

    pub fn needs_prompt(&self) -> bool {
        self.secret == SecretSource::Prompt
    }

    /// The configuration to connect with, the secret resolved. `prompted` answers a `Prompt`.
    pub fn to_config(&self, prompted: Option<&str>) -> Result<ConnectionConfig, ClusterError> {
        let mut config = ConnectionConfig::new(self.bootstrap.clone());
        config.properties = self.properties.clone();
        let secret = match &self.secret {
            SecretSource::None => None,
            SecretSource::Env(var) => {
                Some(std::env::var(var).map_err(|_| ClusterError::Config {
                    reason: format!(
                        "cluster {}: environment variable {var} is not set",
                        self.name
                    ),
                })?)
            }
            SecretSource::File(path) => Some(
                std::fs::read_to_string(path)
                    .map_err(|e| ClusterError::Config {
                        reason: format!(
                            "cluster {}: cannot read secret file {}: {e}",
                            self.name,
                            path.display()
                        ),
                    })?
                    .trim_end_matches(['\r', '\n'])
                    .to_owned(),
            ),
            SecretSource::Prompt => Some(
                prompted
                    .ok_or_else(|| ClusterError::Config {
                        reason: format!("cluster {}: a password is needed", self.name),
                    })?
                    .to_owned(),
            ),
        };
        if let Some(secret) = secret {
            config
                .properties
                .insert(self.secret_property.clone(), secret);
        }
        Ok(config)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedClusters {
    #[serde(default, rename = "cluster")]
    pub clusters: Vec<SavedCluster>,
}

impl SavedClusters {
    /// `$FRESHLENS_CONFIG_DIR`, else the platform's config dir (`~/.config/freshlens`).
    pub fn default_dir() -> Option<PathBuf> {
        if let Some(dir) = std::env::var_os("FRESHLENS_CONFIG_DIR") {
            return Some(PathBuf::from(dir));
        }
        directories::ProjectDirs::from("", "", "freshlens").map(|d| d.config_dir().to_owned())
    }

    pub fn load(dir: &Path) -> Result<Self, ClusterError> {
        let path = dir.join(FILE_NAME);
        match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text).map_err(|e| ClusterError::Config {
                reason: format!("{}: {e}", path.display()),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(ClusterError::Config {
                reason: format!("cannot read {}: {e}", path.display()),
            }),
        }
    }

    pub fn save(&self, dir: &Path) -> Result<(), ClusterError> {
        let io = |e: std::io::Error| ClusterError::Config {
            reason: format!("cannot save clusters in {}: {e}", dir.display()),
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let mut clean = self.clone();
        for cluster in &mut clean.clusters {
            // A property librdkafka refuses may be a mistyped secret (`sasl.passwrd`): never
            // written down either.
            cluster
                .properties
                .retain(|k, v| !is_secret_key(k) && super::config::check_property(k, v).is_ok());
        }
        let text = toml::to_string_pretty(&clean).map_err(|e| ClusterError::Config {
            reason: e.to_string(),
        })?;
        let tmp = dir.join(format!("{FILE_NAME}.tmp"));
        std::fs::write(&tmp, text).map_err(io)?;
        std::fs::rename(&tmp, dir.join(FILE_NAME)).map_err(io)
    }

    pub fn get(&self, name: &str) -> Option<&SavedCluster> {
        self.clusters.iter().find(|c| c.name == name)
    }

    pub fn upsert(&mut self, cluster: SavedCluster) {
        match self.clusters.iter_mut().find(|c| c.name == cluster.name) {
            Some(existing) => *existing = cluster,
            None => self.clusters.push(cluster),
        }
    }

    pub fn remove(&mut self, name: &str) {
        self.clusters.retain(|c| c.name != name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saving_never_writes_a_secret() {
        let dir = tempfile::tempdir().unwrap();
        let config = ConnectionConfig::new("k:9093")
            .with_property_args([
                "security.protocol=SASL_SSL",
                "sasl.mechanism=SCRAM-SHA-512",
                "sasl.username=alice",
                "sasl.password=s3cr3t-pw",
                "ssl.key.password=another-one",
            ])
            .unwrap();
        let mut saved = SavedClusters::default();
        saved.upsert(SavedCluster::from_config(
            "prod",
            &config,
            SecretSource::Env("PROD_KAFKA_PW".into()),
        ));
        // Even a secret slipped into the properties by hand is dropped on save.
        saved.clusters[0]
            .properties
            .insert("sasl.password".into(), "s3cr3t-pw".into());
        saved.clusters[0]
            .properties
            .insert("sasl.passwrd".into(), "another-one".into());
        saved.save(dir.path()).unwrap();
        let text = std::fs::read_to_string(dir.path().join(FILE_NAME)).unwrap();
        assert!(
            !text.contains("s3cr3t-pw") && !text.contains("another-one"),
            "{text}"
        );
        assert!(text.contains("PROD_KAFKA_PW"));

        let loaded = SavedClusters::load(dir.path()).unwrap();
        let prod = loaded.get("prod").unwrap();
        assert_eq!(prod.properties["sasl.username"], "alice");
        assert!(
            prod.to_config(None).is_err(),
            "env var unset must be an error"
        );
    }

    #[test]
    fn secret_from_file_and_prompt() {
        let dir = tempfile::tempdir().unwrap();
        let secret_path = dir.path().join("pw");
        std::fs::write(&secret_path, "from-file\n").unwrap();
        let mut cluster = SavedCluster::from_config(
            "c",
            &ConnectionConfig::new("b:1"),
            SecretSource::File(secret_path),
        );
        let config = cluster.to_config(None).unwrap();
        assert_eq!(config.properties["sasl.password"], "from-file");

        cluster.secret = SecretSource::Prompt;
        assert!(cluster.needs_prompt());
        assert!(cluster.to_config(None).is_err());
        assert_eq!(
            cluster.to_config(Some("typed")).unwrap().properties["sasl.password"],
            "typed"
        );
    }

    #[test]
    fn missing_file_is_empty_and_bad_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            SavedClusters::load(dir.path()).unwrap(),
            SavedClusters::default()
        );
        std::fs::write(dir.path().join(FILE_NAME), "[[cluster]]\nname = 3\n").unwrap();
        let err = SavedClusters::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("clusters.toml"), "{err}");
    }
}
