//! Lab mode's bar: SETUP, PLAY, PAUSE and TEARDOWN, each usable only where the lab server
//! accepts it, and DESCRIBE.

use gtk::{glib, prelude::*, subclass::prelude::*};
use gtk4 as gtk;

use crate::controls::Sensitivity;
use crate::engine::Command;

/// What the user asked for.
#[derive(Debug, Clone, Copy)]
pub enum LabRequest {
    /// A lab request.
    Send(Command),
    /// DESCRIBE, shown in the stream information.
    Describe,
}

glib::wrapper! {
    /// The bar (template `templates/lab_bar.ui`), revealed while lab mode is on.
    pub struct LabBar(ObjectSubclass<imp::LabBar>)
        @extends gtk::Box, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Orientable;
}

mod imp {
    use gtk::{glib, prelude::*, subclass::prelude::*};
    use gtk4 as gtk;

    use super::LabRequest;
    use crate::engine::Command;
    use crate::ui::handler::Handler;

    #[derive(Debug, Default, gtk::CompositeTemplate)]
    #[template(resource = "/org/rtsprs/Player/ui/lab_bar.ui")]
    pub struct LabBar {
        #[template_child]
        pub revealer: TemplateChild<gtk::Revealer>,
        #[template_child]
        pub setup: TemplateChild<gtk::Button>,
        #[template_child]
        pub play: TemplateChild<gtk::Button>,
        #[template_child]
        pub pause: TemplateChild<gtk::Button>,
        #[template_child]
        pub teardown: TemplateChild<gtk::Button>,
        #[template_child]
        pub describe: TemplateChild<gtk::Button>,
        pub on_request: Handler<LabRequest>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for LabBar {
        const NAME: &'static str = "PlayerLabBar";
        type Type = super::LabBar;
        type ParentType = gtk::Box;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for LabBar {
        fn constructed(&self) {
            self.parent_constructed();
            let obj = self.obj();
            for (button, request) in [
                (&self.setup, LabRequest::Send(Command::Setup)),
                (&self.play, LabRequest::Send(Command::LabPlay)),
                (&self.pause, LabRequest::Send(Command::LabPause)),
                (&self.teardown, LabRequest::Send(Command::Teardown)),
                (&self.describe, LabRequest::Describe),
            ] {
                button.connect_clicked(glib::clone!(
                    #[weak]
                    obj,
                    move |_| obj.imp().on_request.call(request)
                ));
            }
        }
    }

    impl WidgetImpl for LabBar {}
    impl BoxImpl for LabBar {}
}

impl Default for LabBar {
    fn default() -> Self {
        glib::Object::new()
    }
}

impl LabBar {
    /// A concealed bar.
    pub fn new() -> Self {
        Self::default()
    }

    /// What to do when the user presses a button.
    pub fn connect_request(&self, f: impl Fn(LabRequest) + 'static) {
        self.imp().on_request.set(f);
    }

    /// Shows or hides the bar (sliding).
    pub fn set_reveal(&self, on: bool) {
        self.imp().revealer.set_reveal_child(on);
    }

    /// Which requests are usable now.
    pub fn set_sensitivity(&self, s: &Sensitivity) {
        let imp = self.imp();
        imp.setup.set_sensitive(s.lab_setup);
        imp.play.set_sensitive(s.lab_play);
        imp.pause.set_sensitive(s.lab_pause);
        imp.teardown.set_sensitive(s.lab_teardown);
        imp.describe.set_sensitive(s.describe);
    }
}
