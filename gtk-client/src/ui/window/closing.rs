//! Closing (TEARDOWN first) and the test hooks (--exit-after, --screenshot, --type-address).

use std::rc::Rc;

use gtk::{glib, prelude::*};
use gtk4 as gtk;
use rtsp_core::client::State;

use super::{Player, QUIT_GRACE};
use crate::engine::Command;
use crate::format;
use crate::target::StreamTarget;
use crate::ui::screenshot;

impl Player {
    pub(super) fn on_close_request(self: &Rc<Self>) -> glib::Propagation {
        let (may_close, quitting, playing) = {
            let m = self.m.borrow();
            (m.may_close, m.quitting, m.state() == State::Playing)
        };
        if may_close {
            return glib::Propagation::Proceed;
        }
        if !quitting {
            if playing {
                self.confirm_close();
            } else {
                self.begin_quit();
            }
        }
        glib::Propagation::Stop
    }

    /// Asks before quitting while playing; the stream pauses meanwhile and resumes on Cancel
    /// (what the lab report's client does).
    #[allow(deprecated)] // GtkMessageDialog is deprecated from GTK 4.10; this is 4.8.
    pub(super) fn confirm_close(self: &Rc<Self>) {
        self.send(Command::Pause);
        let name = self
            .m
            .borrow()
            .target
            .as_ref()
            .map(StreamTarget::name)
            .unwrap_or_default();
        let dialog = gtk::MessageDialog::builder()
            .transient_for(&self.window)
            .modal(true)
            .message_type(gtk::MessageType::Question)
            .text("Stop Playing and Quit?")
            .secondary_text(format!(
                "“{name}” is playing. It is paused now; quitting ends the session with the \
                 server (TEARDOWN)."
            ))
            .build();
        dialog.add_button("Keep Playing", gtk::ResponseType::Cancel);
        if let Some(quit) = dialog
            .add_button("Quit", gtk::ResponseType::Accept)
            .downcast_ref::<gtk::Button>()
        {
            quit.add_css_class("destructive-action");
        }
        dialog.set_default_response(gtk::ResponseType::Cancel);
        dialog.connect_response(glib::clone!(
            #[weak(rename_to = p)]
            self,
            move |d, response| {
                d.destroy();
                if response == gtk::ResponseType::Accept {
                    p.begin_quit();
                } else {
                    p.send(Command::Play);
                }
            }
        ));
        dialog.present();
    }

    /// Tears down cleanly, then closes (or closes anyway after a grace period).
    pub(super) fn begin_quit(self: &Rc<Self>) {
        let engine_running = {
            let mut m = self.m.borrow_mut();
            if m.quitting {
                return;
            }
            m.quitting = true;
            match &m.engine {
                Some(e) => {
                    e.shutdown();
                    true
                }
                None => false,
            }
        };
        if !engine_running {
            self.finish_quit();
            return;
        }
        glib::timeout_add_local_once(
            QUIT_GRACE,
            glib::clone!(
                #[weak(rename_to = p)]
                self,
                move || p.finish_quit()
            ),
        );
    }

    pub(super) fn finish_quit(&self) {
        {
            let mut m = self.m.borrow_mut();
            if m.may_close {
                return;
            }
            m.may_close = true;
            m.engine = None;
        }
        self.window.close();
    }

    pub(super) fn schedule_test_hooks(self: &Rc<Self>) {
        if let Some(text) = self.options.type_address.clone() {
            glib::idle_add_local_once(glib::clone!(
                #[weak(rename_to = p)]
                self,
                move || {
                    p.pages.set_visible_child_name("open");
                    p.open_page.type_and_enter(&text);
                }
            ));
        }
        for spec in &self.options.screenshots {
            let Some(at) = spec.at else { continue };
            let file = spec.file.clone();
            glib::timeout_add_local_once(
                at,
                glib::clone!(
                    #[weak(rename_to = p)]
                    self,
                    move || p.screenshot(file, Box::new(|| {}))
                ),
            );
        }
        if let Some(after) = self.options.exit_after {
            glib::timeout_add_local_once(
                after,
                glib::clone!(
                    #[weak(rename_to = p)]
                    self,
                    move || {
                        let at_exit: Vec<_> = p
                            .options
                            .screenshots
                            .iter()
                            .filter(|s| s.at.is_none())
                            .map(|s| s.file.clone())
                            .collect();
                        p.print_report();
                        p.screenshots_then_quit(at_exit);
                    }
                ),
            );
        }
    }

    /// Takes the screenshots one after the other, then quits.
    pub(super) fn screenshots_then_quit(self: &Rc<Self>, mut files: Vec<std::path::PathBuf>) {
        let Some(file) = files.pop() else {
            self.begin_quit();
            return;
        };
        self.screenshot(
            file,
            Box::new(glib::clone!(
                #[weak(rename_to = p)]
                self,
                move || p.screenshots_then_quit(files)
            )),
        );
    }

    pub(super) fn screenshot(&self, file: std::path::PathBuf, then: Box<dyn FnOnce()>) {
        let window: &gtk::Window = self.window.upcast_ref();
        let code = Rc::clone(&self.exit_code);
        let shown = file.display().to_string();
        screenshot::save_after_paint(window, &file, move |result| {
            match result {
                Ok(()) => println!("screenshot: {shown}"),
                Err(e) => {
                    eprintln!("rtsp-player: screenshot failed: {e}");
                    code.set(1);
                }
            }
            then();
        });
    }

    /// One line for tests and logs: what was shown.
    pub(super) fn print_report(&self) {
        let m = self.m.borrow();
        println!(
            "shown: {} frames, last {}, state {}, lab mode {}",
            m.frames_shown,
            format::frame_counter(m.frame, m.info.total_frames()),
            m.state(),
            if m.lab_mode { "on" } else { "off" },
        );
        if m.info.live {
            println!(
                "live: seek bar {}, latency {} mean over {} frames",
                if m.seekable() { "on" } else { "off" },
                format::latency(m.latency.mean()),
                m.latency.frames
            );
        }
        if let Some(title) = self.banner.shown_title() {
            println!("banner: {title}");
        }
    }
}
