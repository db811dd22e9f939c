//! The message browser: scan controls, a virtualized table that only lays out visible rows, and a
//! detail pane with the decoded payload, headers and copy buttons.

use egui_extras::{Column, TableBuilder};
use regex::bytes::Regex;
use serde::{Deserialize, Serialize};

use crate::cluster::{Record, RecordFilter, ScanProgress, ScanRequest, StartAt};
use crate::codec::{self, Decoded, Expect};

use super::browse_ask::{Ask, ID};
use super::command::Command;

/// The most rows the browser keeps; a scan stops there so memory stays bounded.
pub const MAX_ROWS: usize = 1_000_000;
/// Values larger than this are kept cut, with their full size noted.
pub const MAX_KEPT_VALUE_BYTES: usize = 256 * 1024;
const PREVIEW_CHARS: usize = 160;

/// One record prepared for display off the UI thread.
pub struct Row {
    pub record: Record,
    pub key: String,
    pub preview: String,
    pub format: &'static str,
    pub schema_id: Option<u32>,
    pub value_bytes: usize,
    /// Read through the spec's schema (Avro, Protobuf): the masked value, the message and
    /// indexes, or why it did not decode.
    pub viewed: Option<crate::profile::view::Viewed>,
}

/// The spec (and its decoder) a browser's rows are read with, where one is loaded.
pub type SpecDecoding = Option<(
    std::sync::Arc<crate::profile::Spec>,
    std::sync::Arc<crate::profile::SourceDecoder>,
)>;

impl Row {
    /// A row for the browser; `mask` (the loaded spec's `pii` fields, unless revealed) is
    /// applied to the value before anything is kept, so the browser never holds those values.
    pub fn new(mut record: Record, mask: &crate::profile::PiiMask, spec: &SpecDecoding) -> Self {
        // Read through the schema before the bytes are masked whole (they cannot be masked
        // by path): what is kept of the value is the masked decoding.
        let viewed = spec.as_ref().and_then(|(spec, decoder)| {
            let bytes = record.value.as_deref()?;
            crate::profile::view::view(spec, decoder, mask, &record.topic, bytes)
        });
        if let Some(value) = &record.value
            && let std::borrow::Cow::Owned(masked) = mask.apply_bytes(&record.topic, value)
        {
            record.value = Some(masked);
        }
        let value_bytes = record.value.as_ref().map_or(0, Vec::len);
        if let Some(value) = &mut record.value {
            value.truncate(MAX_KEPT_VALUE_BYTES);
        }
        let decoded = record
            .value
            .as_deref()
            .map(|v| codec::decode(v, Expect::Auto));
        let key = record
            .key
            .as_deref()
            .map_or_else(|| "(null)".to_owned(), |k| codec::key_text(k).0);
        let (preview, format) = match viewed.as_ref().map(|v| &v.value) {
            Some(Ok(value)) => (
                codec::truncate_chars(&value.to_string(), PREVIEW_CHARS),
                if viewed.as_ref().is_some_and(|v| v.message.is_some()) {
                    "protobuf"
                } else {
                    "avro"
                },
            ),
            Some(Err(why)) => (
                codec::truncate_chars(&format!("undecodable: {why}"), PREVIEW_CHARS),
                "undecodable",
            ),
            None => (
                decoded
                    .as_ref()
                    .map_or_else(|| "(null)".to_owned(), |d| d.preview(PREVIEW_CHARS)),
                decoded.as_ref().map_or("null", Decoded::format_name),
            ),
        };
        Self {
            key: codec::truncate_chars(&key, PREVIEW_CHARS),
            preview,
            format,
            schema_id: viewed
                .as_ref()
                .and_then(|v| v.schema_id)
                .or(decoded.and_then(|d| d.schema_id)),
            value_bytes,
            viewed,
            record,
        }
    }

    fn truncated(&self) -> bool {
        self.value_bytes > MAX_KEPT_VALUE_BYTES
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum FilterMode {
    #[default]
    Contains,
    Regex,
    Key,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct MessageSettings {
    pub start: String,
    pub count: String,
    pub partition: String,
    pub filter: String,
    pub filter_mode: FilterMode,
    /// Show the latest records at the top.
    #[serde(default)]
    pub newest_first: bool,
}

impl Default for MessageSettings {
    fn default() -> Self {
        Self {
            start: "-100".into(),
            count: String::new(),
            partition: String::new(),
            filter: String::new(),
            filter_mode: FilterMode::Contains,
            newest_first: false,
        }
    }
}

impl MessageSettings {
    pub fn to_request(&self, topic: &str) -> Result<ScanRequest, String> {
        let start: StartAt = self.start.parse()?;
        let parse_opt = |text: &str, what: &str| -> Result<Option<i64>, String> {
            let text = text.trim();
            if text.is_empty() || text == "all" {
                Ok(None)
            } else {
                text.parse()
                    .map(Some)
                    .map_err(|_| format!("{what} must be a number"))
            }
        };
        let count = parse_opt(&self.count, "count")?.map(|c| c.max(0) as u64);
        let partition = parse_opt(&self.partition, "partition")?;
        let filter = if self.filter.is_empty() {
            RecordFilter::default()
        } else {
            match self.filter_mode {
                FilterMode::Contains => RecordFilter {
                    contains: Some(self.filter.as_bytes().to_vec()),
                    ..RecordFilter::default()
                },
                FilterMode::Key => RecordFilter {
                    keys: [self.filter.as_bytes().to_vec()].into(),
                    ..RecordFilter::default()
                },
                FilterMode::Regex => RecordFilter {
                    regex: Some(Regex::new(&self.filter).map_err(|e| e.to_string())?),
                    ..RecordFilter::default()
                },
            }
        };
        Ok(ScanRequest {
            topic: topic.to_owned(),
            partitions: partition.map(|p| vec![p as i32]),
            start,
            resume: Default::default(),
            max_records: count
                .map(|c| c.min(MAX_ROWS as u64))
                .or(Some(MAX_ROWS as u64)),
            end_timestamp_ms: None,
            filter,
        })
    }
}

/// What a browse scan sends: rows prepared for display off the UI thread, its progress, and
/// how it ended.
pub enum ScanUpdate {
    Rows(Vec<Row>),
    Progress(ScanProgress),
    Done(Result<crate::cluster::ScanSummary, super::failure::Failure>),
}

#[derive(Default)]
pub struct MessagesPanel {
    pub rows: Vec<Row>,
    selected: Option<usize>,
    detail: Option<(usize, String)>,
    pub scanning: bool,
    pub progress: Option<ScanProgress>,
    pub note: Option<String>,
}

impl MessagesPanel {
    pub fn clear(&mut self) {
        *self = Self::default();
    }

    pub fn scan_started(&mut self) {
        self.clear();
        self.scanning = true;
    }

    /// Appends streamed rows; says `false` when the view is full and the scan should stop.
    /// A scan's update; `Err` carries what the status bar should say when the scan ended with
    /// a warning or failed, `Ok(false)` that the browser is full and the scan should stop.
    pub fn scan_update(&mut self, update: ScanUpdate) -> Result<bool, String> {
        match update {
            ScanUpdate::Rows(rows) => Ok(self.append(rows)),
            ScanUpdate::Progress(progress) => {
                self.progress = Some(progress);
                Ok(true)
            }
            ScanUpdate::Done(result) => {
                self.scanning = false;
                let summary = result.map_err(|e| e.to_string())?;
                self.progress = Some(summary.progress);
                match summary.warnings.first() {
                    Some(warning) => Err(warning.clone()),
                    None => Ok(true),
                }
            }
        }
    }

    pub fn append(&mut self, rows: Vec<Row>) -> bool {
        let room = MAX_ROWS.saturating_sub(self.rows.len());
        let full = rows.len() >= room;
        self.rows.extend(rows.into_iter().take(room));
        if full {
            self.note = Some(format!("showing the first {MAX_ROWS} records"));
        }
        !full
    }

    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        settings: &mut MessageSettings,
        topic: Option<&str>,
    ) -> Option<Command> {
        let mut command = None;
        ui.horizontal_wrapped(|ui| {
            let start_label = ui.label("Start");
            ui.add(
                egui::TextEdit::singleline(&mut settings.start)
                    .desired_width(110.0)
                    .hint_text("beginning | end | 42 | -100 | @ms"),
            )
            .labelled_by(start_label.id)
            .on_hover_text("beginning, end, an offset, -N (last N per partition) or @TIMESTAMP_MS");
            let count_label = ui.label("Count");
            ui.add(
                egui::TextEdit::singleline(&mut settings.count)
                    .desired_width(60.0)
                    .hint_text("all"),
            )
            .labelled_by(count_label.id);
            let partition_label = ui.label("Partition");
            ui.add(
                egui::TextEdit::singleline(&mut settings.partition)
                    .desired_width(40.0)
                    .hint_text("all"),
            )
            .labelled_by(partition_label.id);
            let filter_label = ui.label("Filter");
            egui::ComboBox::from_id_salt("filter_mode")
                .selected_text(format!("{:?}", settings.filter_mode))
                .show_ui(ui, |ui| {
                    for mode in [FilterMode::Contains, FilterMode::Regex, FilterMode::Key] {
                        ui.selectable_value(&mut settings.filter_mode, mode, format!("{mode:?}"));
                    }
                })
                .response
                .labelled_by(filter_label.id);
            let filter = ui.add(
                egui::TextEdit::singleline(&mut settings.filter)
                    .desired_width(180.0)
                    .hint_text("filter"),
            );
            // Enter in the filter reads, as it does in every search box.
            let entered = filter.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if self.scanning {
                if ui.button("Stop").clicked() {
                    command = Some(Command::to(ID, Ask::CancelScan));
                }
            } else if (ui
                .add_enabled(topic.is_some(), egui::Button::new("Read messages"))
                .clicked()
                || entered)
                && let Some(topic) = topic
            {
                command = Some(match settings.to_request(topic) {
                    Ok(request) => Command::to(ID, Ask::StartScan(request)),
                    Err(e) => Command::ShowError(e),
                });
            }
            ui.checkbox(&mut settings.newest_first, "Newest first");
            ui.label(format!("{} records", self.rows.len()));
            if let Some(note) = &self.note {
                ui.weak(note);
            }
        });
        ui.separator();

        egui::Panel::bottom("message_detail")
            .resizable(true)
            .default_size(220.0)
            .show(ui, |ui| self.detail_ui(ui));
        let newest_first = settings.newest_first;
        egui::CentralPanel::default().show(ui, |ui| self.table_ui(ui, newest_first));
        command
    }

    /// The rows, oldest or newest first; selection is by the row's place in `rows` either way.
    fn table_ui(&mut self, ui: &mut egui::Ui, newest_first: bool) {
        let row_height = ui.text_style_height(&egui::TextStyle::Body) + 4.0;
        let mut clicked = None;
        // Row clicks select; selectable labels would swallow them. Rows stay one line.
        ui.style_mut().interaction.selectable_labels = false;
        ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Truncate);
        TableBuilder::new(ui)
            .id_salt("messages_table")
            .striped(true)
            .sense(egui::Sense::click())
            .column(Column::auto().at_least(30.0))
            .column(Column::auto().at_least(60.0))
            .column(Column::auto().at_least(175.0))
            .column(Column::initial(140.0).clip(true).resizable(true))
            .column(Column::remainder().clip(true))
            .header(20.0, |mut header| {
                for title in ["P", "Offset", "Timestamp", "Key", "Value"] {
                    header.col(|ui| {
                        ui.strong(title);
                    });
                }
            })
            .body(|body| {
                body.rows(row_height, self.rows.len(), |mut row| {
                    let index = if newest_first {
                        self.rows.len() - 1 - row.index()
                    } else {
                        row.index()
                    };
                    let Some(item) = self.rows.get(index) else {
                        return;
                    };
                    row.set_selected(self.selected == Some(index));
                    row.col(|ui| {
                        ui.label(item.record.partition.to_string());
                    });
                    row.col(|ui| {
                        ui.label(item.record.offset.to_string());
                    });
                    row.col(|ui| {
                        ui.label(format_timestamp(item.record.timestamp_ms));
                    });
                    row.col(|ui| {
                        ui.label(&item.key);
                    });
                    row.col(|ui| {
                        ui.add(egui::Label::new(&item.preview).truncate());
                    });
                    if row.response().clicked() {
                        clicked = Some(index);
                    }
                });
            });
        if let Some(index) = clicked {
            self.selected = Some(index);
        }
    }

    fn detail_ui(&mut self, ui: &mut egui::Ui) {
        let Some(index) = self.selected.filter(|i| *i < self.rows.len()) else {
            ui.weak("Select a record to see its value, headers and metadata.");
            return;
        };
        if self.detail.as_ref().is_none_or(|(i, _)| *i != index) {
            let row = &self.rows[index];
            let pretty = match row.viewed.as_ref().map(|v| &v.value) {
                Some(Ok(value)) => serde_json::to_string_pretty(value).unwrap_or_default(),
                Some(Err(why)) => format!("undecodable: {why}"),
                None => row.record.value.as_deref().map_or_else(
                    || "(null)".to_owned(),
                    |v| codec::decode(v, Expect::Auto).pretty(),
                ),
            };
            self.detail = Some((index, pretty));
        }
        let row = &self.rows[index];
        let pretty = self
            .detail
            .as_ref()
            .map(|(_, p)| p.as_str())
            .unwrap_or_default();
        ui.horizontal_wrapped(|ui| {
            let r = &row.record;
            ui.strong(format!("{}/{}@{}", r.topic, r.partition, r.offset));
            ui.label(format!(
                "{} ({:?})",
                format_timestamp(r.timestamp_ms),
                r.timestamp_kind
            ));
            ui.label(format!("key {}", row.key));
            ui.label(format!("{} bytes, {}", row.value_bytes, row.format));
            if let Some(id) = row.schema_id {
                ui.label(format!("schema id {id}"));
            }
            if let Some(message) = row.viewed.as_ref().and_then(|v| v.message.as_ref()) {
                let indexes = &row
                    .viewed
                    .as_ref()
                    .map(|v| v.indexes.clone())
                    .unwrap_or_default();
                ui.label(if indexes.is_empty() {
                    format!("message {message}")
                } else {
                    format!("message {message} (indexes {indexes:?})")
                });
            }
            if row.truncated() {
                ui.colored_label(
                    ui.visuals().warn_fg_color,
                    format!("showing the first {MAX_KEPT_VALUE_BYTES} bytes"),
                );
            }
            if ui.button("Copy value").clicked() {
                ui.ctx().copy_text(pretty.to_owned());
            }
            if ui.button("Copy key").clicked() {
                ui.ctx().copy_text(row.key.clone());
            }
            if ui.button("Copy as JSON").clicked() {
                ui.ctx()
                    .copy_text(codec::record_json(&row.record, Expect::Auto).to_string());
            }
        });
        if !row.record.headers.is_empty() {
            ui.collapsing(format!("Headers ({})", row.record.headers.len()), |ui| {
                for (name, value) in &row.record.headers {
                    let value = value
                        .as_deref()
                        .map_or_else(|| "(null)".to_owned(), |v| codec::key_text(v).0);
                    ui.label(format!("{name}: {value}"));
                }
            });
        }
        egui::ScrollArea::vertical()
            .id_salt("detail_scroll")
            .show(ui, |ui| {
                ui.add(egui::Label::new(egui::RichText::new(pretty).monospace()).selectable(true));
            });
    }
}

pub use crate::time::format_timestamp;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_timestamps() {
        assert_eq!(format_timestamp(Some(0)), "1970-01-01 00:00:00.000");
        assert_eq!(
            format_timestamp(Some(1_700_000_000_123)),
            "2023-11-14 22:13:20.123"
        );
        assert_eq!(format_timestamp(None), "-");
    }

    #[test]
    fn settings_build_requests_and_reject_bad_input() {
        let mut settings = MessageSettings {
            start: "@1000".into(),
            count: "5".into(),
            partition: "2".into(),
            filter: "c-1".into(),
            filter_mode: FilterMode::Key,
            newest_first: false,
        };
        let request = settings.to_request("t").unwrap();
        assert_eq!(request.start, StartAt::Timestamp(1000));
        assert_eq!(request.max_records, Some(5));
        assert_eq!(request.partitions, Some(vec![2]));
        assert_eq!(request.filter.keys, [b"c-1".to_vec()].into());
        settings.filter_mode = FilterMode::Regex;
        settings.filter = "(".into();
        assert!(settings.to_request("t").is_err());
        settings.filter.clear();
        settings.count = "x".into();
        assert!(settings.to_request("t").is_err());
    }

    fn record_of(value: Vec<u8>) -> Record {
        Record {
            topic: "t".into(),
            partition: 0,
            offset: 1,
            timestamp_ms: None,
            timestamp_kind: crate::cluster::TimestampKind::NotAvailable,
            key: None,
            value: Some(value),
            headers: vec![],
        }
    }

    #[test]
    fn huge_values_are_kept_cut_and_the_view_is_bounded() {
        let record = record_of(vec![b'a'; MAX_KEPT_VALUE_BYTES + 10]);
        let row = Row::new(record, &crate::profile::PiiMask::none(), &None);
        assert!(row.truncated());
        assert_eq!(
            row.record.value.as_ref().unwrap().len(),
            MAX_KEPT_VALUE_BYTES
        );
        assert_eq!(row.value_bytes, MAX_KEPT_VALUE_BYTES + 10);
    }

    /// A `protobuf-file` source's records read through the spec's `.proto` files: the
    /// message named, `pii` masked in the decoded value, the bytes kept masked whole.
    #[test]
    fn protobuf_rows_are_read_through_the_spec_and_masked() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("id.proto"),
            "syntax = \"proto3\";\npackage c360;\nmessage Identity { string email = 1; string country = 2; }\n",
        )
        .unwrap();
        let spec_path = dir.path().join("spec.toml");
        std::fs::write(
            &spec_path,
            "[[source]]\ntopic = \"t\"\nformat = \"protobuf-file\"\nproto = [\"id.proto\"]\nmessage = \"c360.Identity\"\n[[field]]\nname = \"email\"\ntopic = \"t\"\npath = \"/email\"\nrule = \"last\"\npii = true\n",
        )
        .unwrap();
        let spec = std::sync::Arc::new(crate::profile::Spec::load(&spec_path).unwrap());
        let decoder = std::sync::Arc::new(crate::profile::SourceDecoder::new(&spec, None).unwrap());
        // email = "a@example.com" (field 1), country = "FR" (field 2), as protoc writes them.
        let mut bytes = vec![0x0a, 13];
        bytes.extend(b"a@example.com");
        bytes.extend([0x12, 2, b'F', b'R']);
        let mask = crate::profile::PiiMask::new(&spec);
        let row = Row::new(record_of(bytes), &mask, &Some((spec, decoder)));
        let viewed = row.viewed.as_ref().unwrap();
        assert_eq!(viewed.message.as_deref(), Some("c360.Identity"));
        assert_eq!(
            viewed.value,
            Ok(serde_json::json!({"email": "***", "country": "FR"}))
        );
        assert_eq!(row.format, "protobuf");
        assert!(!row.preview.contains("example.com"), "{}", row.preview);
        assert!(
            !String::from_utf8_lossy(row.record.value.as_deref().unwrap()).contains("example"),
            "the kept bytes are masked too"
        );
    }

    /// The browser's rows and detail pane show what [`Row::new`] keeps: a payload of a `pii`
    /// topic that is not strict JSON is kept as `***`, never as it came.
    #[test]
    fn rows_keep_unparseable_pii_payloads_masked_whole() {
        let spec = crate::profile::Spec::parse(
            "[[source]]\ntopic = \"t\"\n[[field]]\nname = \"email\"\ntopic = \"t\"\npath = \"/email\"\nrule = \"last\"\npii = true\n",
            "s",
        )
        .unwrap();
        let mask = crate::profile::PiiMask::new(&spec);
        let object = r#"{"email":"a@x.io"}"#;
        let mut framed = vec![0, 0, 0, 0, 7];
        framed.extend(object.as_bytes());
        for value in [
            format!("\u{feff}{object}").into_bytes(),
            format!("{object}{object}").into_bytes(),
            framed,
            object.as_bytes().to_vec(),
        ] {
            let row = Row::new(record_of(value), &mask, &None);
            let kept = String::from_utf8_lossy(row.record.value.as_deref().unwrap()).into_owned();
            assert!(!kept.contains("a@x.io") && kept.contains("***"), "{kept}");
            assert!(!row.preview.contains("a@x.io"), "{}", row.preview);
        }
    }
}
