//! The start page when no address was given: an address entry and the recent addresses.

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;

use gtk::{glib, prelude::*};
use gtk4 as gtk;

use crate::recent::Recent;
use crate::target::StreamTarget;

type OpenHandler = Box<dyn Fn(StreamTarget)>;

/// The page.
pub struct OpenPage {
    root: gtk::Box,
    entry: gtk::Entry,
    error: gtk::Label,
    list: gtk::ListBox,
    recent_box: gtk::Box,
    recent: RefCell<Recent>,
    on_open: RefCell<Option<OpenHandler>>,
}

/// Where the recent addresses are kept.
fn recent_path() -> PathBuf {
    glib::user_config_dir().join("rtsp-player").join("recent")
}

impl OpenPage {
    /// Builds the page with the saved recent addresses.
    pub fn new() -> Rc<Self> {
        let icon = gtk::Image::builder()
            .icon_name("camera-video-symbolic")
            .pixel_size(96)
            .css_classes(["dim-label"])
            .build();
        let title = gtk::Label::builder()
            .label("Play a Stream")
            .css_classes(["open-title"])
            .build();
        let hint = gtk::Label::builder()
            .label(
                "Enter an rtsp:// address, or the lab’s four values:\n\
                 server host, server port, RTP port and video file.",
            )
            .justify(gtk::Justification::Center)
            .css_classes(["open-hint"])
            .build();
        let entry = gtk::Entry::builder()
            .placeholder_text("rtsp://localhost:8554/movie.Mjpeg")
            .hexpand(true)
            .activates_default(false)
            .build();
        let play = gtk::Button::builder()
            .label("Play")
            .css_classes(["suggested-action"])
            .build();
        let row = gtk::Box::new(gtk::Orientation::Horizontal, 0);
        row.add_css_class("linked");
        row.append(&entry);
        row.append(&play);
        let error = gtk::Label::builder()
            .wrap(true)
            .visible(false)
            .css_classes(["open-error"])
            .build();
        let recent_title = gtk::Label::builder()
            .label("Recent")
            .xalign(0.0)
            .css_classes(["panel-heading"])
            .build();
        let list = gtk::ListBox::builder()
            .selection_mode(gtk::SelectionMode::None)
            .css_classes(["recent-list"])
            .build();
        let recent_box = gtk::Box::new(gtk::Orientation::Vertical, 6);
        recent_box.set_margin_top(12);
        recent_box.append(&recent_title);
        recent_box.append(&list);
        let column = gtk::Box::new(gtk::Orientation::Vertical, 12);
        column.set_valign(gtk::Align::Center);
        column.set_halign(gtk::Align::Center);
        column.set_width_request(460);
        for w in [
            icon.upcast_ref::<gtk::Widget>(),
            title.upcast_ref(),
            hint.upcast_ref(),
            row.upcast_ref(),
            error.upcast_ref(),
            recent_box.upcast_ref(),
        ] {
            column.append(w);
        }
        let root = gtk::Box::new(gtk::Orientation::Vertical, 0);
        root.set_vexpand(true);
        root.set_margin_top(24);
        root.set_margin_bottom(24);
        root.append(&column);
        column.set_vexpand(true);
        let page = Rc::new(Self {
            root,
            entry: entry.clone(),
            error,
            list,
            recent_box,
            recent: RefCell::new(Recent::load(&recent_path())),
            on_open: RefCell::new(None),
        });
        page.refresh_recent();
        let weak = Rc::downgrade(&page);
        let submit = move || {
            if let Some(p) = weak.upgrade() {
                p.submit(&p.entry.text());
            }
        };
        let s = submit.clone();
        entry.connect_activate(move |_| s());
        let weak = Rc::downgrade(&page);
        page.list.connect_row_activated(move |_, row| {
            let Some(p) = weak.upgrade() else { return };
            let text = usize::try_from(row.index())
                .ok()
                .and_then(|i| p.recent.borrow().entries().get(i).cloned());
            if let Some(text) = text {
                p.entry.set_text(&text);
                p.submit(&text);
            }
        });
        play.connect_clicked(move |_| submit());
        page
    }

    /// The widget.
    pub fn widget(&self) -> &gtk::Box {
        &self.root
    }

    /// Puts the cursor in the entry.
    pub fn focus(&self) {
        self.entry.grab_focus();
    }

    /// Types `text` into the entry and presses Enter (a test hook: the same path as the user's).
    pub fn type_and_enter(&self, text: &str) {
        self.entry.grab_focus();
        self.entry.set_text(text);
        self.entry.emit_activate();
    }

    /// What to do with a valid address.
    pub fn connect_open(&self, f: impl Fn(StreamTarget) + 'static) {
        *self.on_open.borrow_mut() = Some(Box::new(f));
    }

    /// Remembers `target` as the most recent address.
    pub fn remember(self: &Rc<Self>, target: &StreamTarget) {
        // Passwords are never written to disk: the saved entry keeps only the user name.
        self.recent.borrow_mut().add(&target.to_saved_entry());
        // Not being able to save the list is no reason to bother the user.
        let _ = self.recent.borrow().save(&recent_path());
        self.refresh_recent();
    }

    fn submit(&self, text: &str) {
        match StreamTarget::parse_entry(text) {
            Ok(target) => {
                self.error.set_visible(false);
                if let Some(f) = self.on_open.borrow().as_ref() {
                    f(target);
                }
            }
            Err(e) => {
                self.error.set_label(&capitalize(&e.to_string()));
                self.error.set_visible(true);
            }
        }
    }

    fn refresh_recent(self: &Rc<Self>) {
        while let Some(child) = self.list.first_child() {
            self.list.remove(&child);
        }
        let entries = self.recent.borrow().entries().to_vec();
        self.recent_box.set_visible(!entries.is_empty());
        for text in entries {
            let label = gtk::Label::builder()
                .label(&text)
                .xalign(0.0)
                .hexpand(true)
                .ellipsize(gtk::pango::EllipsizeMode::Middle)
                .build();
            let remove = gtk::Button::builder()
                .icon_name("list-remove-symbolic")
                .tooltip_text("Forget this address")
                .css_classes(["flat", "circular"])
                .valign(gtk::Align::Center)
                .build();
            let b = gtk::Box::new(gtk::Orientation::Horizontal, 6);
            b.append(&label);
            b.append(&remove);
            let row = gtk::ListBoxRow::builder().child(&b).build();
            let weak = Rc::downgrade(self);
            let t = text;
            remove.connect_clicked(move |_| {
                if let Some(p) = weak.upgrade() {
                    p.recent.borrow_mut().remove(&t);
                    let _ = p.recent.borrow().save(&recent_path());
                    p.refresh_recent();
                }
            });
            self.list.append(&row);
        }
    }
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
