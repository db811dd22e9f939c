//! Connection flags shared by every subcommand, kcat style, and their validation into a
//! [`ConnectionConfig`].

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, bail};

use crate::cluster::saved::SavedClusters;
use crate::cluster::{Cluster, ConnectionConfig};
use crate::source::{Source, load_capture};

#[derive(Debug, Clone, Default, clap::Args)]
pub struct ConnectArgs {
    /// Bootstrap servers, host:port[,host:port...]
    #[arg(
        short = 'b',
        long = "bootstrap",
        global = true,
        env = "FRESHLENS_BOOTSTRAP"
    )]
    pub bootstrap: Option<String>,
    /// librdkafka property key=value (repeatable), e.g. -X security.protocol=SASL_SSL
    #[arg(short = 'X', value_name = "KEY=VALUE", global = true)]
    pub properties: Vec<String>,
    /// Read librdkafka properties from a Java-style properties file
    #[arg(short = 'F', value_name = "FILE", global = true)]
    pub properties_file: Option<PathBuf>,
    /// Use a cluster saved in the GUI (secrets come from its env var or file); not with -b or
    /// FRESHLENS_BOOTSTRAP, which would silently replace its servers
    #[arg(long = "cluster", global = true, conflicts_with = "bootstrap")]
    pub cluster: Option<String>,
    /// Seconds to wait for the cluster before giving up (1 to 300: librdkafka's socket
    /// timeout allows no more)
    #[arg(long = "timeout", global = true, default_value_t = 10,
        value_parser = clap::value_parser!(u64).range(1..=300))]
    pub timeout_secs: u64,
    /// Read a capture file instead of a cluster: freshlens JSON Lines or kcat -J lines,
    /// optionally zstd-compressed
    #[arg(long = "capture", value_name = "FILE", global = true, conflicts_with_all = ["bootstrap", "cluster", "demo"])]
    pub capture: Option<PathBuf>,
    /// Use the built-in demo data (generated in memory) instead of a cluster
    #[arg(long = "demo", global = true, conflicts_with_all = ["bootstrap", "cluster"])]
    pub demo: bool,
}

impl ConnectArgs {
    /// The `--timeout` every wait of a command is bounded by.
    pub fn timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.timeout_secs.max(1))
    }

    /// The cluster, capture or demo data the flags name. Lines of a capture that could not be
    /// read are reported on stderr.
    pub fn open(&self) -> anyhow::Result<Box<dyn Source>> {
        if let Some(path) = &self.capture {
            let (capture, warnings) = load_capture(path)?;
            for warning in warnings {
                eprintln!("warning: {}: {warning}", path.display());
            }
            return Ok(Box::new(capture));
        }
        if self.demo {
            let demo =
                crate::demo::generate(&crate::demo::DemoConfig::new(crate::freshness::now_ms()))
                    .map_err(anyhow::Error::msg)?;
            return Ok(Box::new(demo.capture));
        }
        Ok(Box::new(Cluster::connect(self.to_config()?)?))
    }

    pub fn is_given(&self) -> bool {
        self.bootstrap.is_some() || self.cluster.is_some() || self.properties_file.is_some()
    }

    pub fn to_config(&self) -> anyhow::Result<ConnectionConfig> {
        let mut config = match &self.cluster {
            Some(name) => {
                let dir = SavedClusters::default_dir().context("no config directory")?;
                let saved = SavedClusters::load(&dir)?;
                let cluster = saved
                    .get(name)
                    .with_context(|| format!("no saved cluster named {name:?}"))?;
                let prompted = match cluster.needs_prompt() {
                    true => Some(ask_password(name)?),
                    false => None,
                };
                cluster.to_config(prompted.as_deref())?
            }
            None => ConnectionConfig::new(self.bootstrap.clone().unwrap_or_default()),
        };
        if let Some(bootstrap) = &self.bootstrap {
            config.bootstrap = bootstrap.clone();
        }
        if let Some(file) = &self.properties_file {
            config = config.with_properties_file(file)?;
        }
        config = config.with_property_args(self.properties.iter().map(String::as_str))?;
        if config.bootstrap.trim().is_empty() {
            bail!("no cluster given: pass -b host:port, -F client.properties or --cluster NAME");
        }
        config.timeout = Duration::from_secs(self.timeout_secs.max(1));
        Ok(config)
    }
}

/// The password of a saved cluster that asks for it: `FRESHLENS_PASSWORD` for scripts, else
/// typed at the terminal without echo.
fn ask_password(cluster: &str) -> anyhow::Result<String> {
    use std::io::IsTerminal as _;
    if let Ok(password) = std::env::var("FRESHLENS_PASSWORD") {
        return Ok(password);
    }
    if !std::io::stdin().is_terminal() {
        bail!(
            "cluster {cluster} asks for its password and there is no terminal to ask at: \
             set FRESHLENS_PASSWORD"
        );
    }
    rpassword::prompt_password(format!("password for cluster {cluster}: "))
        .context("reading the password")
}
