//! The connection bar: saved clusters, address and librdkafka properties, connect/disconnect and
//! the connection state. Passwords typed here live only in memory.

use serde::{Deserialize, Serialize};

use crate::cluster::ConnectionConfig;
use crate::cluster::saved::{SavedCluster, SavedClusters, SecretSource};

use super::command::Command;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ConnectionState {
    #[default]
    Disconnected,
    Connecting(String),
    Connected(String),
    /// A capture file or the demo data is open (not a live cluster).
    Opened(String),
    Failed(String),
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ConnectSettings {
    pub bootstrap: String,
    /// librdkafka properties, one `key=value` per line; secret lines are never saved.
    pub properties: String,
    pub saved_name: String,
    pub secret_env: String,
}

#[derive(Default)]
pub struct ConnectBar {
    pub state: ConnectionState,
    pub saved: SavedClusters,
    /// Typed at connect time for a cluster saved with `Prompt`; never persisted.
    password: String,
    show_properties: bool,
}

impl ConnectSettings {
    pub fn to_config(&self, password: &str) -> Result<ConnectionConfig, String> {
        let mut config = ConnectionConfig::new(self.bootstrap.trim())
            .with_property_lines(&self.properties, "properties")
            .map_err(|e| e.to_string())?;
        if !self.secret_env.trim().is_empty() {
            let value = std::env::var(self.secret_env.trim()).map_err(|_| {
                format!("environment variable {} is not set", self.secret_env.trim())
            })?;
            config.properties.insert("sasl.password".into(), value);
        } else if !password.is_empty() {
            config
                .properties
                .insert("sasl.password".into(), password.to_owned());
        }
        Ok(config)
    }

    /// The settings as persisted: lines holding secrets are dropped.
    pub fn without_secrets(&self) -> Self {
        let properties = self
            .properties
            .lines()
            .filter(|l| {
                // Secrets, and lines librdkafka refuses (a mistyped `sasl.passwrd=…` may be one).
                l.split_once('=').is_none_or(|(k, v)| {
                    !crate::cluster::is_secret_key(k)
                        && crate::cluster::check_property(k.trim(), v.trim()).is_ok()
                })
            })
            .collect::<Vec<_>>()
            .join("\n");
        Self {
            properties,
            ..self.clone()
        }
    }
}

impl ConnectBar {
    pub fn connecting(&mut self, to: impl Into<String>) {
        self.state = ConnectionState::Connecting(to.into());
    }

    pub fn connected(&mut self, to: String) {
        self.state = ConnectionState::Connected(to);
    }

    pub fn opened(&mut self, what: String) {
        self.state = ConnectionState::Opened(what);
    }

    pub fn failed(&mut self, why: String) {
        self.state = ConnectionState::Failed(why);
    }

    pub fn disconnected(&mut self) {
        self.state = ConnectionState::Disconnected;
    }

    pub fn is_connecting(&self) -> bool {
        matches!(self.state, ConnectionState::Connecting(_))
    }

    pub fn new(saved: SavedClusters) -> Self {
        Self {
            saved,
            ..Self::default()
        }
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, settings: &mut ConnectSettings) -> Option<Command> {
        let mut command = None;
        // Wraps onto a second line in a narrow window instead of losing its right end.
        ui.horizontal_wrapped(|ui| {
            ui.strong("freshlens");
            ui.separator();
            let saved_label = ui.label("Saved");
            egui::ComboBox::from_id_salt("saved_clusters")
                .selected_text(if settings.saved_name.is_empty() {
                    "saved clusters"
                } else {
                    settings.saved_name.as_str()
                })
                .show_ui(ui, |ui| {
                    for cluster in &self.saved.clusters {
                        if ui
                            .selectable_label(settings.saved_name == cluster.name, &cluster.name)
                            .clicked()
                        {
                            apply_saved(settings, cluster);
                        }
                    }
                    if self.saved.clusters.is_empty() {
                        ui.weak("none saved yet");
                    }
                })
                .response
                .labelled_by(saved_label.id);
            let label = ui.label("Bootstrap");
            ui.add(
                egui::TextEdit::singleline(&mut settings.bootstrap)
                    .hint_text("host:9092")
                    .desired_width(220.0),
            )
            .labelled_by(label.id);
            ui.toggle_value(&mut self.show_properties, "Properties…");
            ui.label("Password");
            ui.add(
                egui::TextEdit::singleline(&mut self.password)
                    .password(true)
                    .hint_text("if needed")
                    .desired_width(100.0),
            );
            let busy = matches!(self.state, ConnectionState::Connecting(_));
            match self.state {
                ConnectionState::Connected(_) => {
                    if ui.button("Disconnect").clicked() {
                        command = Some(Command::Disconnect);
                    }
                }
                ConnectionState::Opened(_) => {
                    if ui.button("Connect").clicked() {
                        command = Some(match settings.to_config(&self.password) {
                            Ok(config) => Command::Connect(config),
                            Err(e) => Command::ShowError(e),
                        });
                    }
                    if ui
                        .button("Close")
                        .on_hover_text("Close the capture or demo data")
                        .clicked()
                    {
                        command = Some(Command::Disconnect);
                    }
                }
                ConnectionState::Connecting(_) => {
                    if ui
                        .button("Cancel")
                        .on_hover_text("Stop waiting for this cluster")
                        .clicked()
                    {
                        command = Some(Command::CancelConnect);
                    }
                }
                _ => {
                    if ui.button("Connect").clicked() {
                        command = Some(match settings.to_config(&self.password) {
                            Ok(config) => Command::Connect(config),
                            Err(e) => Command::ShowError(e),
                        });
                    }
                }
            }
            ui.separator();
            if ui
                .add_enabled(!busy, egui::Button::new("Open capture…"))
                .on_hover_text("A capture file: freshlens JSON Lines or kcat -J lines, .zst or not")
                .clicked()
            {
                command = Some(Command::PickCapture);
            }
            if ui
                .add_enabled(!busy, egui::Button::new("Demo data"))
                .on_hover_text("A generated Customer 360 workload, in memory")
                .clicked()
            {
                command = Some(Command::OpenDemo);
            }
            self.state_ui(ui);
        });
        if self.show_properties {
            ui.horizontal(|ui| {
                ui.vertical(|ui| {
                    ui.label("librdkafka properties (key=value per line)");
                    ui.add(
                        egui::TextEdit::multiline(&mut settings.properties)
                            .hint_text("security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\nsasl.username=alice")
                            .desired_rows(4)
                            .desired_width(360.0),
                    );
                });
                ui.vertical(|ui| {
                    ui.horizontal(|ui| {
                        ui.label("Password from env var");
                        ui.add(egui::TextEdit::singleline(&mut settings.secret_env).desired_width(140.0));
                    });
                    ui.horizontal(|ui| {
                        ui.label("Save as");
                        ui.add(egui::TextEdit::singleline(&mut settings.saved_name).desired_width(140.0));
                        if ui.add_enabled(!settings.saved_name.trim().is_empty(), egui::Button::new("Save")).clicked() {
                            command = Some(self.save_command(settings));
                        }
                        if ui.button("Forget").clicked() {
                            command = Some(Command::ForgetCluster(settings.saved_name.clone()));
                        }
                    });
                    ui.weak("Passwords are never saved: a saved cluster reads its password from the env var, or asks.");
                });
            });
        }
        command
    }

    fn save_command(&self, settings: &ConnectSettings) -> Command {
        match settings.without_secrets().to_config("") {
            Ok(config) => {
                let secret = if !settings.secret_env.trim().is_empty() {
                    SecretSource::Env(settings.secret_env.trim().to_owned())
                } else if !self.password.is_empty() {
                    SecretSource::Prompt
                } else {
                    SecretSource::None
                };
                Command::SaveCluster(SavedCluster::from_config(
                    settings.saved_name.trim(),
                    &config,
                    secret,
                ))
            }
            Err(e) => Command::ShowError(e),
        }
    }

    fn state_ui(&self, ui: &mut egui::Ui) {
        match &self.state {
            ConnectionState::Disconnected => {
                ui.weak("not connected");
            }
            ConnectionState::Connecting(to) => {
                super::busy::indicator(ui);
                ui.label(format!("connecting to {to}…"));
            }
            ConnectionState::Connected(to) => {
                state_label(
                    ui,
                    egui::Color32::from_rgb(80, 180, 100),
                    format!("connected to {to}"),
                );
            }
            ConnectionState::Opened(what) => {
                state_label(
                    ui,
                    egui::Color32::from_rgb(120, 160, 240),
                    format!("reading {what}"),
                );
            }
            ConnectionState::Failed(why) => {
                ui.colored_label(ui.visuals().error_fg_color, "connection failed")
                    .on_hover_text(why);
            }
        }
    }
}

/// The connection state in one piece: where the bar wraps, it moves to the next row whole
/// rather than breaking inside the name.
fn state_label(ui: &mut egui::Ui, color: egui::Color32, text: String) {
    ui.add(egui::Label::new(egui::RichText::new(text).color(color)).extend());
}

fn apply_saved(settings: &mut ConnectSettings, cluster: &SavedCluster) {
    settings.saved_name = cluster.name.clone();
    settings.bootstrap = cluster.bootstrap.clone();
    settings.properties = cluster
        .properties
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("\n");
    settings.secret_env = match &cluster.secret {
        SecretSource::Env(var) => var.clone(),
        _ => String::new(),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn persisted_settings_drop_secret_lines() {
        let settings = ConnectSettings {
            bootstrap: "b:1".into(),
            properties:
                "sasl.username=alice\nsasl.password=pw123\nssl.key.password = k\nsasl.passwrd=Hunter2"
                    .into(),
            ..ConnectSettings::default()
        };
        let clean = settings.without_secrets();
        assert_eq!(clean.properties, "sasl.username=alice");
        let config = settings.to_config("").unwrap();
        assert_eq!(config.properties["sasl.password"], "pw123");
    }
}
