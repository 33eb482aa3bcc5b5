//! Opening a stream and the commands sent to the engine.

use std::rc::Rc;
use std::time::Instant;

use gtk::{gdk, glib, prelude::*};
use gtk4 as gtk;
use rtsp_core::client::{Position, Seek, LAB_SKIP_FRAMES};

use super::{Model, Player, SEEK_DEBOUNCE, SLIDER_HOLD};
use crate::controls::Toggle;
use crate::engine::{Command, Engine};
use crate::explain::Remedy;
use crate::target::StreamTarget;
use crate::ui::control_bar::Skip;

impl Player {
    /// Plays `target` (replacing the current stream).
    pub(super) fn open(self: &Rc<Self>, target: StreamTarget, autoplay: bool) {
        self.open_page.remember(&target);
        self.pages.set_visible_child_name("player");
        let name = target.name();
        self.window
            .set_title(Some(&format!("{name} – RTSP Player")));
        self.title.set_label(&name);
        self.subtitle.set_label(&format!(
            "{}{}",
            target.server_label(),
            if target.is_lab() {
                " · lab dialect"
            } else {
                ""
            }
        ));
        self.subtitle.set_visible(true);
        self.log.clear();
        self.stats.clear();
        self.banner.hide();
        self.picture.set_paintable(gdk::Paintable::NONE);
        self.connect(target, autoplay);
    }

    /// Starts a fresh engine on `target`.
    pub(super) fn connect(self: &Rc<Self>, target: StreamTarget, autoplay: bool) {
        let (engine, events) = Engine::start(target.clone(), self.options.transport);
        let generation = {
            let mut m = self.m.borrow_mut();
            if let Some(old) = m.engine.take() {
                old.shutdown();
            }
            let lab_mode = m.lab_mode;
            let stats_shown = m.stats_shown;
            let generation = m.generation + 1;
            *m = Model {
                target: Some(target),
                generation,
                connecting: true,
                lab_mode,
                stats_shown,
                ..Model::default()
            };
            if autoplay {
                let commands: &[Command] = if lab_mode {
                    &[Command::Setup, Command::LabPlay]
                } else {
                    &[Command::Play]
                };
                for c in commands {
                    engine.send(*c);
                    m.busy += 1;
                }
                m.accept_frames = true;
            }
            m.engine = Some(engine);
            generation
        };
        self.video.set_visible_child_name("placeholder");
        // Upgraded per batch, not held across the await (as clone! on an async block would):
        // a pending receive must not keep the window alive.
        let weak = Rc::downgrade(self);
        glib::spawn_future_local(async move {
            while let Some(batch) = events.next().await {
                let Some(p) = weak.upgrade() else { break };
                if p.m.borrow().generation != generation {
                    // An engine that was replaced: let it finish quietly.
                    continue;
                }
                for event in batch {
                    p.handle(event);
                }
            }
        });
        self.refresh();
    }

    /// Queues a command; the controls wait for its answer.
    pub(super) fn send(self: &Rc<Self>, command: Command) {
        {
            let mut m = self.m.borrow_mut();
            let Some(engine) = &m.engine else { return };
            engine.send(command);
            m.busy += 1;
            match command {
                Command::Play | Command::LabPlay | Command::PlayAgain => m.accept_frames = true,
                Command::Stop | Command::Teardown => m.accept_frames = false,
                _ => {}
            }
        }
        if matches!(
            command,
            Command::Play | Command::LabPlay | Command::PlayAgain
        ) {
            self.banner.hide();
        }
        self.refresh();
    }

    pub(super) fn toggle_play(self: &Rc<Self>) {
        let (input, connected, connecting, target) = {
            let m = self.m.borrow();
            (m.input(), m.connected, m.connecting, m.target.clone())
        };
        if !input.sensitivity().play_pause {
            return;
        }
        if !connected && !connecting {
            // After a failure Play means "try again".
            if let Some(t) = target {
                self.banner.hide();
                self.connect(t, true);
            }
            return;
        }
        match input.toggle() {
            Toggle::Play => self.send(Command::Play),
            Toggle::Pause => self.send(Command::Pause),
        }
    }

    pub(super) fn stop(self: &Rc<Self>) {
        if !self.m.borrow().input().sensitivity().stop {
            return;
        }
        self.send(Command::Stop);
    }

    pub(super) fn skip(self: &Rc<Self>, skip: Skip) {
        let (ok, lab, frame, total) = {
            let m = self.m.borrow();
            (
                m.input().sensitivity().skip,
                m.is_lab_target(),
                m.frame.max(1),
                m.info.total_frames(),
            )
        };
        if !ok {
            return;
        }
        let step = LAB_SKIP_FRAMES;
        let (seek, target) = match skip {
            Skip::Restart => (Seek::Restart, 1),
            Skip::Back => (
                if lab {
                    Seek::Backward(Position::Frames(step))
                } else {
                    Seek::Backward(Position::Seconds(1.0))
                },
                frame.saturating_sub(step).max(1),
            ),
            Skip::Forward => (
                if lab {
                    Seek::Forward(Position::Frames(step))
                } else {
                    Seek::Forward(Position::Seconds(1.0))
                },
                total.map_or(frame + step, |t| (frame + step).min(t)),
            ),
        };
        self.preview_position(target);
        self.send(Command::Seek(seek));
    }

    pub(super) fn on_slider(self: &Rc<Self>, value: f64) {
        if !self.m.borrow().input().sensitivity().seek {
            return;
        }
        let frame = value.round().max(1.0) as u64;
        self.preview_position(frame);
        let timer = glib::timeout_add_local_once(
            SEEK_DEBOUNCE,
            glib::clone!(
                #[weak(rename_to = p)]
                self,
                move || {
                    p.m.borrow_mut().seek_timer = None;
                    p.send(Command::Seek(Seek::To(Position::Frames(frame - 1))));
                }
            ),
        );
        if let Some(old) = self.m.borrow_mut().seek_timer.replace(timer) {
            old.remove();
        }
    }

    /// Shows `frame` as the position at once, and keeps incoming frames of the old position
    /// from moving the slider back for a moment.
    pub(super) fn preview_position(&self, frame: u64) {
        {
            let mut m = self.m.borrow_mut();
            m.frame = frame;
            m.hold_slider_until = Some(Instant::now() + SLIDER_HOLD);
        }
        self.update_position(true);
    }

    pub(super) fn remedy(self: &Rc<Self>, remedy: Remedy) {
        let (target, connected, lab_mode) = {
            let m = self.m.borrow();
            (m.target.clone(), m.connected, m.lab_mode)
        };
        match remedy {
            Remedy::Reconnect => {
                if let Some(t) = target {
                    self.connect(t, !lab_mode);
                }
            }
            Remedy::PlayAgain => {
                if connected {
                    self.send(Command::PlayAgain);
                } else if let Some(t) = target {
                    self.connect(t, true);
                }
            }
            Remedy::Dismiss => {}
        }
    }
}
