//! The control bar under the video: the seek row, the session state and frame counter, the
//! transport buttons and fullscreen. It shows what the window tells it and reports what the
//! user asked for; the rules for what is usable live in [`crate::controls`].

use std::time::Duration;

use gtk::{glib, prelude::*, subclass::prelude::*};
use gtk4 as gtk;
use rtsp_core::client::State;

use crate::controls::Sensitivity;
use crate::format;

/// The skip buttons (and their keys).
#[derive(Debug, Clone, Copy)]
pub enum Skip {
    Back,
    Forward,
    Restart,
}

/// What the user asked for.
#[derive(Debug, Clone, Copy)]
pub enum ControlRequest {
    /// Play or pause.
    TogglePlay,
    /// Stop (TEARDOWN).
    Stop,
    /// Back, forward or restart.
    Skip(Skip),
    /// The slider was moved to this frame (1-based, not yet rounded).
    Slide(f64),
}

/// Where playback is, as the bar shows it.
#[derive(Debug, Clone, Copy)]
pub struct PositionView {
    /// The frame shown (0 before the first).
    pub frame: u64,
    /// Frames in the stream, when known.
    pub total: Option<u64>,
    /// Whether `total` differs from what the slider was set up for.
    pub total_changed: bool,
    /// The time of `frame`.
    pub time: Duration,
    /// The stream's length, when known.
    pub length: Option<Duration>,
    /// A live source (no length).
    pub live: bool,
}

glib::wrapper! {
    /// The bar (template `templates/control_bar.ui`).
    pub struct ControlBar(ObjectSubclass<imp::ControlBar>)
        @extends gtk::Box, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Orientable;
}

mod imp {
    use gtk::{glib, prelude::*, subclass::prelude::*};
    use gtk4 as gtk;

    use super::{ControlRequest, Skip};
    use crate::ui::handler::Handler;

    #[derive(Debug, Default, gtk::CompositeTemplate)]
    #[template(resource = "/org/rtsprs/Player/ui/control_bar.ui")]
    pub struct ControlBar {
        #[template_child]
        pub elapsed: TemplateChild<gtk::Label>,
        #[template_child]
        pub scale: TemplateChild<gtk::Scale>,
        #[template_child]
        pub total: TemplateChild<gtk::Label>,
        #[template_child]
        pub state_pill: TemplateChild<gtk::Label>,
        #[template_child]
        pub frame_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub restart: TemplateChild<gtk::Button>,
        #[template_child]
        pub back: TemplateChild<gtk::Button>,
        #[template_child]
        pub play: TemplateChild<gtk::Button>,
        #[template_child]
        pub forward: TemplateChild<gtk::Button>,
        #[template_child]
        pub stop: TemplateChild<gtk::Button>,
        pub on_request: Handler<ControlRequest>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for ControlBar {
        const NAME: &'static str = "PlayerControlBar";
        type Type = super::ControlBar;
        type ParentType = gtk::Box;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for ControlBar {
        fn constructed(&self) {
            self.parent_constructed();
            let obj = self.obj();
            for (button, request) in [
                (&self.play, ControlRequest::TogglePlay),
                (&self.stop, ControlRequest::Stop),
                (&self.back, ControlRequest::Skip(Skip::Back)),
                (&self.forward, ControlRequest::Skip(Skip::Forward)),
                (&self.restart, ControlRequest::Skip(Skip::Restart)),
            ] {
                button.connect_clicked(glib::clone!(
                    #[weak]
                    obj,
                    move |_| obj.imp().on_request.call(request)
                ));
            }
            self.scale.connect_change_value(glib::clone!(
                #[weak]
                obj,
                #[upgrade_or]
                glib::Propagation::Proceed,
                move |_, _, value| {
                    obj.imp().on_request.call(ControlRequest::Slide(value));
                    glib::Propagation::Proceed
                }
            ));
        }
    }

    impl WidgetImpl for ControlBar {}
    impl BoxImpl for ControlBar {}
}

impl Default for ControlBar {
    fn default() -> Self {
        glib::Object::new()
    }
}

impl ControlBar {
    /// A bar in the INIT state at frame 0.
    pub fn new() -> Self {
        Self::default()
    }

    /// What to do when the user asks for something.
    pub fn connect_request(&self, f: impl Fn(ControlRequest) + 'static) {
        self.imp().on_request.set(f);
    }

    /// Which controls are usable, and whether the toggle shows Play or Pause.
    pub fn set_sensitivity(&self, s: &Sensitivity, has_target: bool) {
        let imp = self.imp();
        imp.play.set_sensitive(s.play_pause && has_target);
        let (icon, tip) = if s.shows_pause {
            ("media-playback-pause-symbolic", "Pause (Space)")
        } else {
            ("media-playback-start-symbolic", "Play (Space)")
        };
        imp.play.set_icon_name(icon);
        imp.play.set_tooltip_text(Some(tip));
        imp.stop.set_sensitive(s.stop);
        imp.scale.set_sensitive(s.seek);
        for b in [&imp.back, &imp.forward, &imp.restart] {
            b.set_sensitive(s.skip);
        }
    }

    /// The session state pill; OFFLINE without a connection.
    pub fn set_session_state(&self, state: State, online: bool) {
        let pill = &self.imp().state_pill;
        for class in ["state-init", "state-ready", "state-playing"] {
            pill.remove_css_class(class);
        }
        pill.add_css_class(match state {
            State::Init => "state-init",
            State::Ready => "state-ready",
            State::Playing => "state-playing",
        });
        pill.set_label(if online { state.as_str() } else { "OFFLINE" });
    }

    /// Slider, times and frame counter.
    pub fn set_position(&self, p: &PositionView) {
        let imp = self.imp();
        if p.total_changed {
            let upper = p.total.unwrap_or(1).max(2) as f64;
            imp.scale.set_range(1.0, upper);
        }
        imp.scale.set_value(p.frame.max(1) as f64);
        imp.elapsed.set_label(&format::clock(if p.frame == 0 {
            Duration::ZERO
        } else {
            p.time
        }));
        imp.total.set_label(&match (p.length, p.live) {
            (_, true) => "LIVE".to_owned(),
            (Some(len), false) => format::clock(len),
            (None, false) => "–:––".to_owned(),
        });
        imp.frame_label
            .set_label(&format::frame_counter(p.frame, p.total));
    }
}
