//! Stream information (Ctrl+I): what is known about the stream and the DESCRIBE answer as the
//! server sent it.

use gtk::prelude::*;
use gtk4 as gtk;
use rtsp_core::client::{ActiveTransport, Description};

use crate::format;
use crate::media_info::StreamInfo;
use crate::target::StreamTarget;

/// The dialog; kept while open so that a late DESCRIBE answer can fill it.
pub struct InfoDialog {
    window: gtk::Window,
    grid: gtk::Grid,
    text: gtk::TextView,
}

impl InfoDialog {
    /// Opens the dialog over `parent`.
    pub fn open(parent: &gtk::Window) -> Self {
        let grid = gtk::Grid::builder()
            .row_spacing(6)
            .column_spacing(18)
            .build();
        let text = gtk::TextView::builder()
            .editable(false)
            .cursor_visible(false)
            .monospace(true)
            .wrap_mode(gtk::WrapMode::WordChar)
            .top_margin(8)
            .bottom_margin(8)
            .left_margin(10)
            .right_margin(10)
            .css_classes(["info-text"])
            .build();
        let scroller = gtk::ScrolledWindow::builder()
            .child(&text)
            .min_content_height(200)
            .vexpand(true)
            .has_frame(true)
            .build();
        let described = gtk::Label::builder()
            .label("Session description (DESCRIBE)")
            .xalign(0.0)
            .css_classes(["panel-heading"])
            .build();
        let content = gtk::Box::new(gtk::Orientation::Vertical, 12);
        content.set_margin_top(18);
        content.set_margin_bottom(18);
        content.set_margin_start(18);
        content.set_margin_end(18);
        content.append(&grid);
        content.append(&described);
        content.append(&scroller);
        let window = gtk::Window::builder()
            .title("Stream Information")
            .transient_for(parent)
            .modal(false)
            .destroy_with_parent(true)
            .default_width(520)
            .default_height(520)
            .child(&content)
            .build();
        let close = gtk::EventControllerKey::new();
        let w = window.clone();
        close.connect_key_pressed(move |_, key, _, _| {
            if key == gtk::gdk::Key::Escape {
                w.close();
                gtk::glib::Propagation::Stop
            } else {
                gtk::glib::Propagation::Proceed
            }
        });
        window.add_controller(close);
        window.present();
        Self { window, grid, text }
    }

    /// Whether the window is still open.
    pub fn is_open(&self) -> bool {
        self.window.is_visible()
    }

    /// Fills in what is known.
    pub fn update(
        &self,
        target: &StreamTarget,
        info: &StreamInfo,
        transport: Option<ActiveTransport>,
        description: Option<&Description>,
    ) {
        while let Some(child) = self.grid.first_child() {
            self.grid.remove(&child);
        }
        let mut rows: Vec<(&str, String)> = vec![
            ("Stream", target.name()),
            ("Address", target.to_entry()),
            (
                "Dialect",
                if target.is_lab() {
                    "lab (RTSP as the networking lab speaks it)".into()
                } else {
                    "standard (RFC 2326, RTP/JPEG RFC 2435)".into()
                },
            ),
        ];
        if let Some(t) = transport {
            rows.push((
                "Transport",
                match t {
                    ActiveTransport::Udp { rtp_port } => format!("RTP over UDP, port {rtp_port}"),
                    ActiveTransport::Tcp { channel } => {
                        format!("RTP interleaved in RTSP (TCP), channel {channel}")
                    }
                },
            ));
        }
        if let Some(title) = &info.title {
            rows.push(("Title", title.clone()));
        }
        if let Some(e) = &info.encoding {
            rows.push(("Encoding", e.clone()));
        }
        if let Some((w, h)) = info.size {
            rows.push(("Picture", format!("{w} × {h}")));
        }
        rows.push(("Frame rate", format::fps(info.rate())));
        match (info.length(), info.live) {
            (_, true) => rows.push(("Length", "live".into())),
            (Some(len), false) => rows.push(("Length", format::clock(len))),
            (None, false) => {}
        }
        if let Some(n) = info.total_frames() {
            rows.push(("Frames", n.to_string()));
        }
        for (row, (key, value)) in (0..).zip(rows) {
            let k = gtk::Label::builder()
                .label(key)
                .xalign(1.0)
                .css_classes(["info-key"])
                .build();
            let v = gtk::Label::builder()
                .label(value)
                .xalign(0.0)
                .selectable(true)
                .wrap(true)
                .build();
            self.grid.attach(&k, 0, row, 1, 1);
            self.grid.attach(&v, 1, row, 1, 1);
        }
        let body = match description {
            Some(d) if d.content_type.is_empty() => d.text.clone(),
            Some(d) => format!("Content-Type: {}\n\n{}", d.content_type, d.text),
            None => "Asking the server…".to_owned(),
        };
        self.text.buffer().set_text(body.trim_end());
    }
}
