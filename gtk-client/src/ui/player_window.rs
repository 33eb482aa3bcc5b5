//! The window's widgets (template `templates/window.ui`): header bar, the address page, and the
//! player page with banner, video, lab bar, control bar and side panels. What they do is the
//! [`Player`](super::window::Player)'s business; this is only their layout.

use gtk::{gio, glib, subclass::prelude::*};
use gtk4 as gtk;

glib::wrapper! {
    /// The application window.
    pub struct PlayerWindow(ObjectSubclass<imp::PlayerWindow>)
        @extends gtk::ApplicationWindow, gtk::Window, gtk::Widget,
        @implements gio::ActionGroup, gio::ActionMap, gtk::Buildable, gtk::ConstraintTarget,
            gtk::Native, gtk::Root, gtk::ShortcutManager;
}

pub mod imp {
    use gtk::{glib, prelude::*, subclass::prelude::*};
    use gtk4 as gtk;

    use crate::ui::control_bar::ControlBar;
    use crate::ui::lab_bar::LabBar;
    use crate::ui::open_page::OpenPage;
    use crate::ui::protocol_log::ProtocolLog;
    use crate::ui::stats_panel::StatsPanel;

    #[derive(Debug, Default, gtk::CompositeTemplate)]
    #[template(resource = "/org/rtsprs/Player/ui/window.ui")]
    pub struct PlayerWindow {
        #[template_child]
        pub title_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub subtitle_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub pages: TemplateChild<gtk::Stack>,
        #[template_child]
        pub open_page: TemplateChild<OpenPage>,
        #[template_child]
        pub banner_slot: TemplateChild<gtk::Box>,
        #[template_child]
        pub video: TemplateChild<gtk::Stack>,
        #[template_child]
        pub picture: TemplateChild<gtk::Picture>,
        #[template_child]
        pub placeholder_icon: TemplateChild<gtk::Image>,
        #[template_child]
        pub placeholder_title: TemplateChild<gtk::Label>,
        #[template_child]
        pub placeholder_hint: TemplateChild<gtk::Label>,
        #[template_child]
        pub spinner: TemplateChild<gtk::Spinner>,
        #[template_child]
        pub lab_bar: TemplateChild<LabBar>,
        #[template_child]
        pub controls: TemplateChild<ControlBar>,
        #[template_child]
        pub sidebar: TemplateChild<gtk::Revealer>,
        #[template_child]
        pub stats: TemplateChild<StatsPanel>,
        #[template_child]
        pub log: TemplateChild<ProtocolLog>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for PlayerWindow {
        const NAME: &'static str = "PlayerWindow";
        type Type = super::PlayerWindow;
        type ParentType = gtk::ApplicationWindow;

        fn class_init(klass: &mut Self::Class) {
            // The template names these types: they must exist before it is parsed.
            OpenPage::ensure_type();
            LabBar::ensure_type();
            ControlBar::ensure_type();
            StatsPanel::ensure_type();
            ProtocolLog::ensure_type();
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for PlayerWindow {
        fn constructed(&self) {
            self.parent_constructed();
            crate::ui::hide_when_concealed(&self.sidebar);
        }
    }

    impl WidgetImpl for PlayerWindow {}
    impl WindowImpl for PlayerWindow {}
    impl ApplicationWindowImpl for PlayerWindow {}
}

impl PlayerWindow {
    /// A window of `app`, not shown yet.
    pub fn new(app: &gtk::Application) -> Self {
        glib::Object::builder().property("application", app).build()
    }

    /// The widgets.
    pub fn parts(&self) -> &imp::PlayerWindow {
        self.imp()
    }
}
