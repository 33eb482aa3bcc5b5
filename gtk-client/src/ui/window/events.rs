//! The engine's events, and what they change in the model and on screen.

use std::rc::Rc;

use rtsp_core::client::{MessageDirection, State};

use super::Player;
use crate::engine::{Command, Engine, ShownFrame, UiEvent};
use crate::explain::{explain, Explanation};
use crate::media_info::{lab_frames, StreamInfo};

impl Player {
    pub(super) fn handle(self: &Rc<Self>, event: UiEvent) {
        match event {
            UiEvent::Connected => {
                let mut m = self.m.borrow_mut();
                m.connecting = false;
                m.connected = true;
                m.state = Some(State::Init);
            }
            UiEvent::ConnectFailed(e) => {
                {
                    let mut m = self.m.borrow_mut();
                    m.connecting = false;
                    m.connected = false;
                    m.busy = 0;
                    m.engine = None;
                }
                self.explain(&e);
            }
            UiEvent::Done(command) => {
                let mut m = self.m.borrow_mut();
                m.busy = m.busy.saturating_sub(1);
                if matches!(command, Command::Stop | Command::Teardown) {
                    m.frame = 0;
                    m.showing_video = false;
                    drop(m);
                    self.update_position(true);
                }
            }
            UiEvent::Failed(command, e) => {
                {
                    let mut m = self.m.borrow_mut();
                    m.busy = m.busy.saturating_sub(1);
                    if matches!(command, Command::Seek(_)) {
                        m.hold_slider_until = None;
                    }
                }
                self.explain(&e);
            }
            UiEvent::State(state) => {
                let mut m = self.m.borrow_mut();
                m.state = Some(state);
                if state == State::Init {
                    m.frame = 0;
                    m.showing_video = false;
                    m.accept_frames = false;
                    drop(m);
                    self.update_position(true);
                }
            }
            UiEvent::FrameReady => {
                let frame = self.m.borrow().engine.as_ref().and_then(Engine::take_frame);
                if let Some(f) = frame {
                    self.show_frame(f);
                }
                return;
            }
            UiEvent::Stats(stats) => {
                let (shown, undecodable, latency) = {
                    let m = self.m.borrow();
                    let undecodable = m.engine.as_ref().map_or(0, Engine::undecodable_frames);
                    (m.frames_shown, undecodable, m.latency.last)
                };
                // Frames that arrived whole but would not decode are broken to the viewer too.
                let mut stats = stats;
                stats.frames_broken += undecodable;
                self.stats.push(&stats, shown, latency);
                return;
            }
            UiEvent::Description(d) => {
                {
                    let mut m = self.m.borrow_mut();
                    m.info.merge(StreamInfo::from_description(&d.text));
                    m.description = Some(d);
                }
                self.update_position(true);
                self.update_info_dialog();
            }
            UiEvent::EndOfStream => {
                // After Stop or TEARDOWN the server says goodbye too (RTCP BYE); only an end
                // the user did not ask for is news.
                if self.m.borrow().accept_frames {
                    self.banner.show(&Explanation::end_of_stream());
                }
            }
            UiEvent::Background(e) => self.explain(&e),
            UiEvent::Message(message) => {
                let row = self.log.add(&message);
                // Test hook: with --exit-after, show what the log shows.
                if self.options.exit_after.is_some() {
                    println!("protocol log: {row}");
                }
                if message.direction == MessageDirection::Received {
                    if let Some(n) = lab_frames(&message.text) {
                        let changed = {
                            let mut m = self.m.borrow_mut();
                            let changed = m.info.frames != Some(n);
                            m.info.frames = Some(n);
                            changed
                        };
                        if changed {
                            self.update_position(true);
                        }
                    }
                }
                return;
            }
            UiEvent::Transport(t) => {
                self.m.borrow_mut().transport = t;
                return;
            }
            UiEvent::Dropped(n) => {
                // Rare (the main loop stalled for a thousand messages): say so where a user
                // or a bug report sees it rather than leave a silent gap in the log.
                eprintln!(
                    "rtsp-player: the window fell behind; {n} RTSP messages or background errors were not shown"
                );
                return;
            }
            UiEvent::Finished => {
                if self.m.borrow().quitting {
                    self.finish_quit();
                }
                return;
            }
        }
        self.refresh();
    }

    pub(super) fn explain(&self, e: &rtsp_core::client::ClientError) {
        let Some(target) = self.m.borrow().target.clone() else {
            return;
        };
        if let Some(x) = explain(e, &target.name(), &target.server_label()) {
            self.banner.show(&x);
            // Test hook: with --exit-after, say when (not only whether) a banner came up.
            if self.options.exit_after.is_some() {
                println!("banner shown: {}", x.title);
            }
        }
    }

    pub(super) fn show_frame(&self, f: ShownFrame) {
        {
            let mut m = self.m.borrow_mut();
            if !m.accept_frames {
                return;
            }
            m.frame = if m.is_lab_target() {
                f.number
            } else {
                m.info.frame_at(f.pts)
            };
            m.frames_shown += 1;
            m.latency.push(f.latency);
            if !m.showing_video {
                m.showing_video = true;
                drop(m);
                self.video.set_visible_child_name("picture");
            }
        }
        self.picture.set_paintable(Some(&f.texture));
        self.update_position(false);
    }
}
