//! Lab mode's side panel: every RTSP request and reply, as exchanged, newest at the bottom.

use std::cell::Cell;
use std::rc::Rc;

use gtk::{glib, prelude::*};
use gtk4 as gtk;
use rtsp_core::client::{MessageDirection, ProtocolMessage};

/// Rows kept (a long session must not grow the list forever).
const MAX_ROWS: usize = 300;

/// The panel.
pub struct ProtocolLog {
    root: gtk::Box,
    list: gtk::ListBox,
    scroller: gtk::ScrolledWindow,
    rows: Cell<usize>,
    empty: gtk::Label,
}

impl ProtocolLog {
    /// An empty log.
    pub fn new() -> Rc<Self> {
        let heading = gtk::Label::builder()
            .label("RTSP Messages")
            .xalign(0.0)
            .hexpand(true)
            .css_classes(["panel-heading"])
            .build();
        let clear = gtk::Button::builder()
            .icon_name("edit-clear-all-symbolic")
            .tooltip_text("Clear the log")
            .css_classes(["flat"])
            .build();
        let head = gtk::Box::new(gtk::Orientation::Horizontal, 6);
        head.set_margin_start(12);
        head.set_margin_end(6);
        head.set_margin_top(6);
        head.append(&heading);
        head.append(&clear);
        let list = gtk::ListBox::builder()
            .selection_mode(gtk::SelectionMode::None)
            .css_classes(["wire-list"])
            .build();
        let empty = gtk::Label::builder()
            .label("Requests and replies appear here as they are exchanged.")
            .wrap(true)
            .justify(gtk::Justification::Center)
            .margin_top(24)
            .margin_start(24)
            .margin_end(24)
            .css_classes(["dim-label"])
            .build();
        list.set_placeholder(Some(&empty));
        let scroller = gtk::ScrolledWindow::builder()
            .hscrollbar_policy(gtk::PolicyType::Never)
            .vexpand(true)
            .child(&list)
            .build();
        let root = gtk::Box::new(gtk::Orientation::Vertical, 4);
        root.append(&head);
        root.append(&scroller);
        let log = Rc::new(Self {
            root,
            list,
            scroller,
            rows: Cell::new(0),
            empty,
        });
        let weak = Rc::downgrade(&log);
        clear.connect_clicked(move |_| {
            if let Some(l) = weak.upgrade() {
                l.clear();
            }
        });
        log
    }

    /// The widget.
    pub fn widget(&self) -> &gtk::Box {
        &self.root
    }

    /// Removes every row.
    pub fn clear(&self) {
        while let Some(child) = self.list.first_child() {
            self.list.remove(&child);
        }
        self.rows.set(0);
        self.empty.set_visible(true);
    }

    /// Appends a message and scrolls to it. Returns the row as text (heading, then the
    /// message's lines indented), for the test hooks.
    pub fn add(&self, message: &ProtocolMessage) -> String {
        let row = Row::of(message);
        let head = gtk::Label::builder()
            .label(row.heading)
            .xalign(0.0)
            .hexpand(true)
            .css_classes(["wire-head"])
            .build();
        let time = gtk::Label::builder()
            .label(format!("{:.3} s", message.at.as_secs_f64()))
            .css_classes(["wire-time"])
            .build();
        let top = gtk::Box::new(gtk::Orientation::Horizontal, 6);
        top.append(&head);
        top.append(&time);
        let text = gtk::Label::builder()
            .label(&row.text)
            .xalign(0.0)
            .wrap(true)
            .wrap_mode(gtk::pango::WrapMode::WordChar)
            .selectable(true)
            .css_classes(["wire-text"])
            .build();
        let body = gtk::Box::new(gtk::Orientation::Vertical, 2);
        body.add_css_class("wire-row");
        body.add_css_class(row.class);
        body.append(&top);
        body.append(&text);
        let list_row = gtk::ListBoxRow::builder()
            .child(&body)
            .activatable(false)
            .build();
        self.list.append(&list_row);
        self.rows.set(self.rows.get() + 1);
        while self.rows.get() > MAX_ROWS {
            if let Some(oldest) = self.list.row_at_index(0) {
                self.list.remove(&oldest);
            }
            self.rows.set(self.rows.get() - 1);
        }
        // Scroll once the new row has been measured.
        let adj = self.scroller.vadjustment();
        glib::idle_add_local_once(move || adj.set_value(adj.upper() - adj.page_size()));
        row.transcript()
    }
}

/// What one row shows.
struct Row {
    heading: &'static str,
    class: &'static str,
    text: String,
}

impl Row {
    fn of(message: &ProtocolMessage) -> Self {
        let first = message.first_line();
        let (heading, class) = match message.direction {
            MessageDirection::Sent => ("Client → Server", "wire-request"),
            MessageDirection::Received => {
                // `RTSP/1.0 200 OK`: a non-2xx status is marked as a failure.
                let ok = first
                    .split_whitespace()
                    .nth(1)
                    .is_some_and(|code| code.starts_with('2'));
                let class = if ok || !first.starts_with("RTSP/") {
                    "wire-reply"
                } else {
                    "wire-failure"
                };
                ("Server → Client", class)
            }
        };
        // The standard dialect's CRLF and the blank line after the headers are wire details
        // the panel has no use for.
        let text = message.text.replace("\r\n", "\n");
        Self {
            heading,
            class,
            text: text.trim_end_matches('\n').to_owned(),
        }
    }

    fn transcript(&self) -> String {
        let mut out = self.heading.to_owned();
        for line in self.text.lines() {
            out.push_str("\n    ");
            out.push_str(line);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn message(direction: MessageDirection, text: &str) -> ProtocolMessage {
        ProtocolMessage {
            direction,
            at: Duration::ZERO,
            text: text.to_owned(),
        }
    }

    #[test]
    fn rows_are_marked_by_direction_and_status() {
        let sent = Row::of(&message(
            MessageDirection::Sent,
            "DESCRIBE rtsp://h/x RTSP/1.0\r\nCSeq: 2\r\n\r\n",
        ));
        assert_eq!(
            (sent.heading, sent.class, sent.text.as_str()),
            (
                "Client → Server",
                "wire-request",
                "DESCRIBE rtsp://h/x RTSP/1.0\nCSeq: 2"
            )
        );
        assert_eq!(
            sent.transcript(),
            "Client → Server\n    DESCRIBE rtsp://h/x RTSP/1.0\n    CSeq: 2"
        );
        let refused = Row::of(&message(
            MessageDirection::Received,
            "RTSP/1.0 401 Unauthorized\r\nCSeq: 2\r\n\r\n",
        ));
        assert_eq!(refused.class, "wire-failure");
        let lab = Row::of(&message(
            MessageDirection::Received,
            "RTSP/1.0 200 OK\nCSeq: 1\nSession: 123456",
        ));
        assert_eq!((lab.heading, lab.class), ("Server → Client", "wire-reply"));
        // A request from the server is not a failure.
        let asked = Row::of(&message(
            MessageDirection::Received,
            "GET_PARAMETER * RTSP/1.0",
        ));
        assert_eq!(asked.class, "wire-reply");
    }
}
