//! The player window: header bar, video, control bar, lab bar, side panels, banner.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

use gtk::{gdk, gio, glib, prelude::*};
use gtk4 as gtk;
use rtsp_core::client::{
    ActiveTransport, Description, MessageDirection, Position, Seek, State, TransportPreference,
    LAB_SKIP_FRAMES,
};

use super::banner::Banner;
use super::control_bar::{ControlBar, ControlRequest, PositionView, Skip};
use super::info_dialog::InfoDialog;
use super::lab_bar::{LabBar, LabRequest};
use super::open_page::OpenPage;
use super::player_window::PlayerWindow;
use super::protocol_log::ProtocolLog;
use super::screenshot;
use super::shortcuts;
use super::stats_panel::StatsPanel;
use crate::cli::{ScreenshotSpec, WindowSize};
use crate::controls::{ControlInput, Toggle};
use crate::engine::{Command, Engine, ShownFrame, UiEvent};
use crate::explain::{explain, Explanation, Remedy};
use crate::format;
use crate::media_info::{lab_frames, StreamInfo};
use crate::target::StreamTarget;

/// How the window starts.
#[derive(Debug, Clone)]
pub struct Options {
    /// Lower transport for the standard dialect.
    pub transport: TransportPreference,
    /// Start in lab mode.
    pub lab_mode: bool,
    /// Start playing at once.
    pub autoplay: bool,
    /// Show the statistics panel.
    pub stats: bool,
    /// Test hook: quit after this long.
    pub exit_after: Option<Duration>,
    /// Test hook: screenshots to take.
    pub screenshots: Vec<ScreenshotSpec>,
    /// Test hook: an address to type into the address page.
    pub type_address: Option<String>,
    /// Initial size.
    pub window_size: Option<WindowSize>,
}

/// How long a user's slider move keeps incoming frames from moving the slider back.
const SLIDER_HOLD: Duration = Duration::from_millis(1200);
/// Pause between the last slider move and the seek it sends.
const SEEK_DEBOUNCE: Duration = Duration::from_millis(200);
/// How long a clean shutdown (TEARDOWN) may take before the window closes anyway.
const QUIT_GRACE: Duration = Duration::from_secs(3);

/// What the window knows; the widgets only show it.
#[derive(Default)]
struct Model {
    target: Option<StreamTarget>,
    engine: Option<Engine>,
    generation: u64,
    connecting: bool,
    connected: bool,
    state: Option<State>,
    busy: u32,
    info: StreamInfo,
    description: Option<Description>,
    transport: Option<ActiveTransport>,
    frame: u64,
    frames_shown: u64,
    showing_video: bool,
    accept_frames: bool,
    lab_mode: bool,
    stats_shown: bool,
    quitting: bool,
    may_close: bool,
    hold_slider_until: Option<Instant>,
    seek_timer: Option<glib::SourceId>,
    slider_total: Option<u64>,
}

impl Model {
    fn state(&self) -> State {
        self.state.unwrap_or(State::Init)
    }

    fn is_lab_target(&self) -> bool {
        self.target.as_ref().is_some_and(StreamTarget::is_lab)
    }

    fn seekable(&self) -> bool {
        self.is_lab_target() || self.info.seekable()
    }

    fn input(&self) -> ControlInput {
        ControlInput {
            state: self.state(),
            connected: self.connected,
            busy: self.busy > 0,
            seekable: self.seekable(),
        }
    }
}

/// The window and its parts.
pub struct Player {
    window: PlayerWindow,
    options: Options,
    exit_code: Rc<Cell<u8>>,
    title: gtk::Label,
    subtitle: gtk::Label,
    pages: gtk::Stack,
    open_page: OpenPage,
    video: gtk::Stack,
    picture: gtk::Picture,
    placeholder_icon: gtk::Image,
    placeholder_title: gtk::Label,
    placeholder_hint: gtk::Label,
    spinner: gtk::Spinner,
    banner: Rc<Banner>,
    lab_bar: LabBar,
    controls: ControlBar,
    sidebar: gtk::Revealer,
    stats: StatsPanel,
    log: ProtocolLog,
    info_dialog: RefCell<Option<InfoDialog>>,
    m: RefCell<Model>,
}

impl Player {
    /// Builds the window and shows it.
    pub fn new(app: &gtk::Application, options: Options, exit_code: Rc<Cell<u8>>) -> Rc<Self> {
        let window = PlayerWindow::new(app);
        if let Some(size) = options.window_size {
            window.set_default_size(size.width, size.height);
        }
        let banner = Banner::new();
        let w = window.parts();
        w.banner_slot.append(banner.widget());
        if let Some(sw) = shortcuts::window() {
            window.set_help_overlay(Some(&sw));
        }
        let player = Rc::new(Self {
            title: w.title_label.get(),
            subtitle: w.subtitle_label.get(),
            pages: w.pages.get(),
            open_page: w.open_page.get(),
            video: w.video.get(),
            picture: w.picture.get(),
            placeholder_icon: w.placeholder_icon.get(),
            placeholder_title: w.placeholder_title.get(),
            placeholder_hint: w.placeholder_hint.get(),
            spinner: w.spinner.get(),
            lab_bar: w.lab_bar.get(),
            controls: w.controls.get(),
            sidebar: w.sidebar.get(),
            stats: w.stats.get(),
            log: w.log.get(),
            window,
            banner,
            options,
            exit_code,
            info_dialog: RefCell::new(None),
            m: RefCell::new(Model::default()),
        });
        player.connect_signals(app);
        player
    }

    /// Shows the window, on `target` or on the address page.
    pub fn start(self: &Rc<Self>, target: Option<StreamTarget>) {
        {
            let mut m = self.m.borrow_mut();
            m.lab_mode = self.options.lab_mode;
            m.stats_shown = self.options.stats;
        }
        self.set_action_state("lab-mode", self.options.lab_mode);
        self.set_action_state("stats", self.options.stats);
        self.apply_panels();
        match target {
            Some(t) => self.open(t, self.options.autoplay),
            None => {
                self.pages.set_visible_child_name("open");
                self.open_page.focus();
            }
        }
        self.refresh();
        self.window.present();
        self.schedule_test_hooks();
    }

    fn with<F: Fn(&Rc<Self>) + 'static>(self: &Rc<Self>, f: F) -> impl Fn() + 'static {
        glib::clone!(
            #[weak(rename_to = p)]
            self,
            move || f(&p)
        )
    }

    fn connect_signals(self: &Rc<Self>, app: &gtk::Application) {
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

    fn set_action_state(&self, name: &str, on: bool) {
        if let Some(a) = self
            .window
            .lookup_action(name)
            .and_then(|a| a.downcast::<gio::SimpleAction>().ok())
        {
            a.set_state(&on.to_variant());
        }
    }

    fn set_lab_mode(self: &Rc<Self>, on: bool) {
        self.m.borrow_mut().lab_mode = on;
        self.set_action_state("lab-mode", on);
        self.apply_panels();
    }

    fn apply_panels(&self) {
        let (lab, stats) = {
            let m = self.m.borrow();
            (m.lab_mode, m.stats_shown)
        };
        self.lab_bar.set_reveal(lab);
        WidgetExt::set_visible(&self.log, lab);
        WidgetExt::set_visible(&self.stats, stats);
        self.stats.set_fill(!lab);
        super::reveal(&self.sidebar, lab || stats);
        self.refresh();
    }

    /// Single-key shortcuts; true if handled.
    fn on_key(self: &Rc<Self>, key: gdk::Key, modifiers: gdk::ModifierType) -> bool {
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

    // ----------------------------------------------------------------------------------------
    // Opening a stream and talking to the engine
    // ----------------------------------------------------------------------------------------

    /// Plays `target` (replacing the current stream).
    fn open(self: &Rc<Self>, target: StreamTarget, autoplay: bool) {
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
    fn connect(self: &Rc<Self>, target: StreamTarget, autoplay: bool) {
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
    fn send(self: &Rc<Self>, command: Command) {
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

    fn toggle_play(self: &Rc<Self>) {
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

    fn stop(self: &Rc<Self>) {
        if !self.m.borrow().input().sensitivity().stop {
            return;
        }
        self.send(Command::Stop);
    }

    fn skip(self: &Rc<Self>, skip: Skip) {
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

    fn on_slider(self: &Rc<Self>, value: f64) {
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
    fn preview_position(&self, frame: u64) {
        {
            let mut m = self.m.borrow_mut();
            m.frame = frame;
            m.hold_slider_until = Some(Instant::now() + SLIDER_HOLD);
        }
        self.update_position(true);
    }

    fn remedy(self: &Rc<Self>, remedy: Remedy) {
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

    // ----------------------------------------------------------------------------------------
    // Engine events
    // ----------------------------------------------------------------------------------------

    fn handle(self: &Rc<Self>, event: UiEvent) {
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
                let (shown, undecodable) = {
                    let m = self.m.borrow();
                    let undecodable = m.engine.as_ref().map_or(0, Engine::undecodable_frames);
                    (m.frames_shown, undecodable)
                };
                // Frames that arrived whole but would not decode are broken to the viewer too.
                let mut stats = stats;
                stats.frames_broken += undecodable;
                self.stats.push(&stats, shown);
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

    fn explain(&self, e: &rtsp_core::client::ClientError) {
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

    fn show_frame(&self, f: ShownFrame) {
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
            if !m.showing_video {
                m.showing_video = true;
                drop(m);
                self.video.set_visible_child_name("picture");
            }
        }
        self.picture.set_paintable(Some(&f.texture));
        self.update_position(false);
    }

    // ----------------------------------------------------------------------------------------
    // Showing the model
    // ----------------------------------------------------------------------------------------

    /// Position labels and slider. `force` moves the slider even while the user holds it.
    fn update_position(&self, force: bool) {
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
    fn refresh(&self) {
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

    // ----------------------------------------------------------------------------------------
    // Dialogs
    // ----------------------------------------------------------------------------------------

    fn show_info(self: &Rc<Self>, ask_server: bool) {
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

    fn update_info_dialog(&self) {
        let dialog = self.info_dialog.borrow();
        let Some(d) = dialog.as_ref().filter(|d| d.is_open()) else {
            return;
        };
        let m = self.m.borrow();
        if let Some(target) = &m.target {
            d.update(target, &m.info, m.transport, m.description.as_ref());
        }
    }

    fn show_about(&self) {
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

    fn toggle_fullscreen(&self) {
        if self.window.is_fullscreen() {
            self.window.unfullscreen();
        } else {
            self.window.fullscreen();
        }
    }

    // ----------------------------------------------------------------------------------------
    // Closing
    // ----------------------------------------------------------------------------------------

    fn on_close_request(self: &Rc<Self>) -> glib::Propagation {
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
    fn confirm_close(self: &Rc<Self>) {
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
    fn begin_quit(self: &Rc<Self>) {
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

    fn finish_quit(&self) {
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

    // ----------------------------------------------------------------------------------------
    // Test hooks
    // ----------------------------------------------------------------------------------------

    fn schedule_test_hooks(self: &Rc<Self>) {
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
    fn screenshots_then_quit(self: &Rc<Self>, mut files: Vec<std::path::PathBuf>) {
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

    fn screenshot(&self, file: std::path::PathBuf, then: Box<dyn FnOnce()>) {
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
    fn print_report(&self) {
        let m = self.m.borrow();
        println!(
            "shown: {} frames, last {}, state {}, lab mode {}",
            m.frames_shown,
            format::frame_counter(m.frame, m.info.total_frames()),
            m.state(),
            if m.lab_mode { "on" } else { "off" },
        );
        if let Some(title) = self.banner.shown_title() {
            println!("banner: {title}");
        }
    }
}
