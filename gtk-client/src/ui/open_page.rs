//! The start page when no address was given: an address entry and the recent addresses.

use std::path::PathBuf;

use gtk::{glib, prelude::*, subclass::prelude::*};
use gtk4 as gtk;

use crate::target::StreamTarget;

glib::wrapper! {
    /// The page (template `templates/open_page.ui`).
    pub struct OpenPage(ObjectSubclass<imp::OpenPage>)
        @extends gtk::Box, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Orientable;
}

mod imp {
    use std::cell::RefCell;

    use gtk::{glib, prelude::*, subclass::prelude::*};
    use gtk4 as gtk;

    use crate::recent::Recent;
    use crate::target::StreamTarget;
    use crate::ui::handler::Handler;

    #[derive(Debug, Default, gtk::CompositeTemplate)]
    #[template(resource = "/org/rtsprs/Player/ui/open_page.ui")]
    pub struct OpenPage {
        #[template_child]
        pub entry: TemplateChild<gtk::Entry>,
        #[template_child]
        pub play_button: TemplateChild<gtk::Button>,
        #[template_child]
        pub error: TemplateChild<gtk::Label>,
        #[template_child]
        pub list: TemplateChild<gtk::ListBox>,
        #[template_child]
        pub recent_box: TemplateChild<gtk::Box>,
        pub recent: RefCell<Recent>,
        pub on_open: Handler<StreamTarget>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for OpenPage {
        const NAME: &'static str = "PlayerOpenPage";
        type Type = super::OpenPage;
        type ParentType = gtk::Box;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for OpenPage {
        fn constructed(&self) {
            self.parent_constructed();
            let obj = self.obj();
            *self.recent.borrow_mut() = Recent::load(&super::recent_path());
            obj.refresh_recent();
            self.entry.connect_activate(glib::clone!(
                #[weak]
                obj,
                move |entry| obj.submit(&entry.text())
            ));
            self.play_button.connect_clicked(glib::clone!(
                #[weak]
                obj,
                move |_| obj.submit(&obj.imp().entry.text())
            ));
            self.list.connect_row_activated(glib::clone!(
                #[weak]
                obj,
                move |_, row| {
                    let imp = obj.imp();
                    let text = usize::try_from(row.index())
                        .ok()
                        .and_then(|i| imp.recent.borrow().entries().get(i).cloned());
                    if let Some(text) = text {
                        imp.entry.set_text(&text);
                        obj.submit(&text);
                    }
                }
            ));
        }
    }

    impl WidgetImpl for OpenPage {}
    impl BoxImpl for OpenPage {}
}

/// Where the recent addresses are kept.
fn recent_path() -> PathBuf {
    glib::user_config_dir().join("rtsp-player").join("recent")
}

impl Default for OpenPage {
    fn default() -> Self {
        glib::Object::new()
    }
}

impl OpenPage {
    /// Builds the page with the saved recent addresses.
    pub fn new() -> Self {
        Self::default()
    }

    /// Puts the cursor in the entry.
    pub fn focus(&self) {
        self.imp().entry.grab_focus();
    }

    /// Types `text` into the entry and presses Enter (a test hook: the same path as the user's).
    pub fn type_and_enter(&self, text: &str) {
        let entry = &self.imp().entry;
        entry.grab_focus();
        entry.set_text(text);
        entry.emit_activate();
    }

    /// What to do with a valid address.
    pub fn connect_open(&self, f: impl Fn(StreamTarget) + 'static) {
        self.imp().on_open.set(f);
    }

    /// Remembers `target` as the most recent address.
    pub fn remember(&self, target: &StreamTarget) {
        let recent = &self.imp().recent;
        // Passwords are never written to disk: the saved entry keeps only the user name.
        recent.borrow_mut().add(&target.to_saved_entry());
        // Not being able to save the list is no reason to bother the user.
        let _ = recent.borrow().save(&recent_path());
        self.refresh_recent();
    }

    fn submit(&self, text: &str) {
        let imp = self.imp();
        match StreamTarget::parse_entry(text) {
            Ok(target) => {
                imp.error.set_visible(false);
                imp.on_open.call(target);
            }
            Err(e) => {
                imp.error.set_label(&capitalize(&e.to_string()));
                imp.error.set_visible(true);
            }
        }
    }

    fn refresh_recent(&self) {
        let imp = self.imp();
        while let Some(child) = imp.list.first_child() {
            imp.list.remove(&child);
        }
        let entries = imp.recent.borrow().entries().to_vec();
        imp.recent_box.set_visible(!entries.is_empty());
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
            remove.connect_clicked(glib::clone!(
                #[weak(rename_to = page)]
                self,
                move |_| {
                    let recent = &page.imp().recent;
                    recent.borrow_mut().remove(&text);
                    let _ = recent.borrow().save(&recent_path());
                    page.refresh_recent();
                }
            ));
            imp.list.append(&row);
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
