//! The user's side: signals of the widgets, the window's actions and keys, the panels.

use std::rc::Rc;

use gtk::{gdk, gio, glib, prelude::*};
use gtk4 as gtk;

use super::Player;
use crate::ui::control_bar::{ControlRequest, Skip};
use crate::ui::lab_bar::LabRequest;

impl Player {
    pub(super) fn connect_signals(self: &Rc<Self>, app: &gtk::Application) {
        self.controls.connect_request(glib::clone!(
            #[weak(rename_to = p)]
            self,
            move |request| match request {
                ControlRequest::TogglePlay => p.toggle_play(),
                ControlRequest::Stop => p.stop(),
                ControlRequest::Skip(skip) => p.skip(skip),
                ControlRequest::Slide(value) => p.on_slider(value),
            }
        ));
        self.lab_bar.connect_request(glib::clone!(
            #[weak(rename_to = p)]
            self,
            move |request| match request {
                LabRequest::Send(command) => p.send(command),
                LabRequest::Describe => p.show_info(true),
            }
        ));
        self.banner.connect_action(glib::clone!(
            #[weak(rename_to = p)]
            self,
            move |remedy| p.remedy(remedy)
        ));
        self.open_page.connect_open(glib::clone!(
            #[weak(rename_to = p)]
            self,
            move |target| {
                if target.is_lab() {
                    p.set_lab_mode(true);
                }
                let autoplay = !p.m.borrow().lab_mode;
                p.open(target, autoplay);
            }
        ));

        // Actions and their accelerators.
        let action = |name: &str, f: Box<dyn Fn()>| {
            let a = gio::SimpleAction::new(name, None);
            a.connect_activate(move |_, _| f());
            self.window.add_action(&a);
        };
        action("play-pause", Box::new(self.with(|p| p.toggle_play())));
        action("stop", Box::new(self.with(|p| p.stop())));
        action("back", Box::new(self.with(|p| p.skip(Skip::Back))));
        action("forward", Box::new(self.with(|p| p.skip(Skip::Forward))));
        action("restart", Box::new(self.with(|p| p.skip(Skip::Restart))));
        action("fullscreen", Box::new(self.with(|p| p.toggle_fullscreen())));
        action("info", Box::new(self.with(|p| p.show_info(true))));
        action("about", Box::new(self.with(|p| p.show_about())));
        action(
            "open",
            Box::new(self.with(|p| {
                let on_open = p.pages.visible_child_name().as_deref() == Some("open");
                if on_open && p.m.borrow().target.is_some() {
                    p.pages.set_visible_child_name("player");
                } else {
                    p.pages.set_visible_child_name("open");
                    p.open_page.focus();
                }
            })),
        );
        let toggle_action = |name: &str, f: Box<dyn Fn(bool)>| {
            let a = gio::SimpleAction::new_stateful(name, None, &false.to_variant());
            a.connect_activate(move |a, _| {
                let on = !a.state().and_then(|s| s.get::<bool>()).unwrap_or(false);
                a.set_state(&on.to_variant());
                f(on);
            });
            self.window.add_action(&a);
        };
        toggle_action(
            "lab-mode",
            Box::new(glib::clone!(
                #[weak(rename_to = p)]
                self,
                move |on| {
                    p.m.borrow_mut().lab_mode = on;
                    p.apply_panels();
                    p.refresh();
                }
            )),
        );
        toggle_action(
            "stats",
            Box::new(glib::clone!(
                #[weak(rename_to = p)]
                self,
                move |on| {
                    p.m.borrow_mut().stats_shown = on;
                    p.apply_panels();
                }
            )),
        );
        let quit = gio::SimpleAction::new("quit", None);
        quit.connect_activate(glib::clone!(
            #[weak(rename_to = p)]
            self,
            move |_, _| p.window.close()
        ));
        app.add_action(&quit);
        app.set_accels_for_action("app.quit", &["<Control>q"]);
        app.set_accels_for_action("win.info", &["<Control>i"]);
        app.set_accels_for_action("win.open", &["<Control>o"]);
        app.set_accels_for_action("win.lab-mode", &["<Control>l"]);
        app.set_accels_for_action("win.stats", &["<Control>t"]);
        app.set_accels_for_action("win.fullscreen", &["F11"]);
        app.set_accels_for_action("win.show-help-overlay", &["<Control>question"]);

        // Single keys (Space, arrows, F) must not steal typing from the address entry, so they
        // are handled here rather than as application accelerators.
        let keys = gtk::EventControllerKey::new();
        keys.set_propagation_phase(gtk::PropagationPhase::Capture);
        keys.connect_key_pressed(glib::clone!(
            #[weak(rename_to = p)]
            self,
            #[upgrade_or]
            glib::Propagation::Proceed,
            move |_, key, _, modifiers| {
                if p.on_key(key, modifiers) {
                    glib::Propagation::Stop
                } else {
                    glib::Propagation::Proceed
                }
            }
        ));
        self.window.add_controller(keys);

        self.window.connect_close_request(glib::clone!(
            #[weak(rename_to = p)]
            self,
            #[upgrade_or]
            glib::Propagation::Proceed,
            move |_| p.on_close_request()
        ));

        // Let the graph scroll while paused.
        glib::timeout_add_seconds_local(
            1,
            glib::clone!(
                #[weak(rename_to = p)]
                self,
                #[upgrade_or]
                glib::ControlFlow::Break,
                move || {
                    if p.m.borrow().stats_shown {
                        p.stats.tick();
                    }
                    glib::ControlFlow::Continue
                }
            ),
        );
    }

    pub(super) fn set_action_state(&self, name: &str, on: bool) {
        if let Some(a) = self
            .window
            .lookup_action(name)
            .and_then(|a| a.downcast::<gio::SimpleAction>().ok())
        {
            a.set_state(&on.to_variant());
        }
    }

    pub(super) fn set_lab_mode(self: &Rc<Self>, on: bool) {
        self.m.borrow_mut().lab_mode = on;
        self.set_action_state("lab-mode", on);
        self.apply_panels();
    }

    pub(super) fn apply_panels(&self) {
        let (lab, stats) = {
            let m = self.m.borrow();
            (m.lab_mode, m.stats_shown)
        };
        self.lab_bar.set_reveal(lab);
        WidgetExt::set_visible(&self.log, lab);
        WidgetExt::set_visible(&self.stats, stats);
        self.stats.set_fill(!lab);
        crate::ui::reveal(&self.sidebar, lab || stats);
        self.refresh();
    }

    /// Single-key shortcuts; true if handled.
    pub(super) fn on_key(self: &Rc<Self>, key: gdk::Key, modifiers: gdk::ModifierType) -> bool {
        let blocking = gdk::ModifierType::CONTROL_MASK
            | gdk::ModifierType::ALT_MASK
            | gdk::ModifierType::SUPER_MASK;
        if modifiers.intersects(blocking) {
            return false;
        }
        if self.pages.visible_child_name().as_deref() != Some("player") {
            return false;
        }
        // Typing in a text field (none on the player page today, but be safe).
        let typing = gtk::prelude::GtkWindowExt::focus(&self.window)
            .is_some_and(|w| w.is::<gtk::Text>() || w.is::<gtk::TextView>());
        if typing {
            return false;
        }
        match key {
            gdk::Key::space | gdk::Key::KP_Space => self.toggle_play(),
            gdk::Key::Left | gdk::Key::KP_Left => self.skip(Skip::Back),
            gdk::Key::Right | gdk::Key::KP_Right => self.skip(Skip::Forward),
            gdk::Key::Home | gdk::Key::KP_Home => self.skip(Skip::Restart),
            gdk::Key::f | gdk::Key::F => self.toggle_fullscreen(),
            gdk::Key::s | gdk::Key::S => self.stop(),
            gdk::Key::Escape if self.window.is_fullscreen() => self.window.unfullscreen(),
            _ => return false,
        }
        true
    }
}
