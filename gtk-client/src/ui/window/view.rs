//! Showing the model: position, sensitivity, placeholder; the dialogs.

use std::rc::Rc;
use std::time::Instant;

use gtk::{gio, prelude::*};
use gtk4 as gtk;
use rtsp_core::client::State;

use super::Player;
use crate::engine::Command;
use crate::target::StreamTarget;
use crate::ui::control_bar::PositionView;
use crate::ui::info_dialog::InfoDialog;

impl Player {
    /// Position labels and slider. `force` moves the slider even while the user holds it.
    pub(super) fn update_position(&self, force: bool) {
        let mut m = self.m.borrow_mut();
        let total = m.info.total_frames();
        let frame = m.frame;
        let live = m.info.live;
        let held = m
            .hold_slider_until
            .is_some_and(|until| Instant::now() < until);
        if !held {
            m.hold_slider_until = None;
        }
        let total_changed = m.slider_total != total;
        m.slider_total = total;
        let time = m.info.time_of(frame.max(1));
        let length = m.info.length();
        drop(m);
        if held && !force {
            return;
        }
        self.controls.set_position(&PositionView {
            frame,
            total,
            total_changed,
            time,
            length,
            live,
        });
    }

    /// Control sensitivity, icons, the state pill and the placeholder.
    pub(super) fn refresh(&self) {
        let m = self.m.borrow();
        let input = m.input();
        let s = input.sensitivity();
        let has_target = m.target.is_some();
        self.controls.set_sensitivity(&s, has_target);
        self.lab_bar.set_sensitivity(&s);
        if let Some(a) = self
            .window
            .lookup_action("info")
            .and_then(|a| a.downcast::<gio::SimpleAction>().ok())
        {
            a.set_enabled(has_target);
        }
        let state = m.state();
        self.controls
            .set_session_state(state, m.connected || m.connecting);
        // The placeholder tells what to do next.
        let name = m
            .target
            .as_ref()
            .map(StreamTarget::name)
            .unwrap_or_default();
        let server = m
            .target
            .as_ref()
            .map(StreamTarget::server_label)
            .unwrap_or_default();
        let (icon, hint) = if m.connecting {
            (None, format!("Connecting to {server}…"))
        } else if !m.connected {
            (
                Some("network-offline-symbolic"),
                "Not connected. Press Play to try again.".to_owned(),
            )
        } else if m.lab_mode {
            match state {
                State::Init => (
                    Some("applications-science-symbolic"),
                    "Press SETUP to create a session, then PLAY.".to_owned(),
                ),
                State::Ready => (
                    Some("media-playback-start-symbolic"),
                    "The session is READY: press PLAY.".to_owned(),
                ),
                State::Playing => (
                    Some("media-playback-start-symbolic"),
                    "PLAYING: waiting for frames…".to_owned(),
                ),
            }
        } else {
            (
                Some("media-playback-start-symbolic"),
                "Press Play or Space to start.".to_owned(),
            )
        };
        self.spinner.set_visible(icon.is_none());
        self.spinner.set_spinning(icon.is_none());
        self.placeholder_icon.set_visible(icon.is_some());
        if let Some(icon) = icon {
            self.placeholder_icon.set_icon_name(Some(icon));
        }
        self.placeholder_title.set_label(&name);
        self.placeholder_hint.set_label(&hint);
        let show_video = m.showing_video;
        drop(m);
        if !show_video {
            self.video.set_visible_child_name("placeholder");
        }
    }

    pub(super) fn show_info(self: &Rc<Self>, ask_server: bool) {
        if self.m.borrow().target.is_none() {
            return;
        }
        let open = self
            .info_dialog
            .borrow()
            .as_ref()
            .is_some_and(InfoDialog::is_open);
        if !open {
            let parent: &gtk::Window = self.window.upcast_ref();
            *self.info_dialog.borrow_mut() = Some(InfoDialog::open(parent));
        }
        self.update_info_dialog();
        let can_describe = self.m.borrow().input().sensitivity().describe;
        if ask_server && can_describe {
            self.send(Command::Describe);
        }
    }

    pub(super) fn update_info_dialog(&self) {
        let dialog = self.info_dialog.borrow();
        let Some(d) = dialog.as_ref().filter(|d| d.is_open()) else {
            return;
        };
        let m = self.m.borrow();
        if let Some(target) = &m.target {
            d.update(target, &m.info, m.transport, m.description.as_ref());
        }
    }

    pub(super) fn show_about(&self) {
        let about = gtk::AboutDialog::builder()
            .transient_for(&self.window)
            .modal(true)
            .program_name("RTSP Player")
            .version(env!("CARGO_PKG_VERSION"))
            .comments(
                "Plays RTSP/RTP MJPEG streams, and steps through the networking lab’s \
                 protocol one request at a time.",
            )
            .logo_icon_name("camera-video-symbolic")
            .license_type(gtk::License::MitX11)
            .build();
        about.present();
    }

    pub(super) fn toggle_fullscreen(&self) {
        if self.window.is_fullscreen() {
            self.window.unfullscreen();
        } else {
            self.window.fullscreen();
        }
    }
}
