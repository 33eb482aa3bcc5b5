//! Lab mode's side panel: every RTSP request and reply, as exchanged, newest at the bottom.

use gtk::{glib, prelude::*, subclass::prelude::*};
use gtk4 as gtk;
use rtsp_core::client::{MessageDirection, ProtocolMessage};

/// Rows kept (a long session must not grow the list forever).
const MAX_ROWS: usize = 300;

glib::wrapper! {
    /// The panel (template `templates/protocol_log.ui`).
    pub struct ProtocolLog(ObjectSubclass<imp::ProtocolLog>)
        @extends gtk::Box, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Orientable;
}

mod imp {
    use std::cell::Cell;

    use gtk::{glib, prelude::*, subclass::prelude::*};
    use gtk4 as gtk;

    #[derive(Debug, Default, gtk::CompositeTemplate)]
    #[template(resource = "/org/rtsprs/Player/ui/protocol_log.ui")]
    pub struct ProtocolLog {
        #[template_child]
        pub clear_button: TemplateChild<gtk::Button>,
        #[template_child]
        pub scroller: TemplateChild<gtk::ScrolledWindow>,
        #[template_child]
        pub list: TemplateChild<gtk::ListBox>,
        #[template_child]
        pub empty: TemplateChild<gtk::Label>,
        pub rows: Cell<usize>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for ProtocolLog {
        const NAME: &'static str = "PlayerProtocolLog";
        type Type = super::ProtocolLog;
        type ParentType = gtk::Box;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for ProtocolLog {
        fn constructed(&self) {
            self.parent_constructed();
            let obj = self.obj();
            self.clear_button.connect_clicked(glib::clone!(
                #[weak]
                obj,
                move |_| obj.clear()
            ));
        }
    }

    impl WidgetImpl for ProtocolLog {}
    impl BoxImpl for ProtocolLog {}
}

impl Default for ProtocolLog {
    fn default() -> Self {
        glib::Object::new()
    }
}

impl ProtocolLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// Removes every row.
    pub fn clear(&self) {
        let imp = self.imp();
        while let Some(child) = imp.list.first_child() {
            imp.list.remove(&child);
        }
        imp.rows.set(0);
        imp.empty.set_visible(true);
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
        let imp = self.imp();
        imp.list.append(&list_row);
        imp.rows.set(imp.rows.get() + 1);
        while imp.rows.get() > MAX_ROWS {
            if let Some(oldest) = imp.list.row_at_index(0) {
                imp.list.remove(&oldest);
            }
            imp.rows.set(imp.rows.get() - 1);
        }
        // Scroll once the new row has been measured.
        let adj = imp.scroller.vadjustment();
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
