//! The player window: the [`PlayerWindow`] widgets driven by the [`Model`] of one stream.
//! The parts of [`Player`] live in the submodules: input, session (commands
//! to the engine), events (from it), view, closing.

mod closing;
mod events;
mod input;
mod session;
mod view;

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

use gtk::{glib, prelude::*};
use gtk4 as gtk;
use rtsp_core::client::{ActiveTransport, Description, State, TransportPreference};

use super::banner::Banner;
use super::control_bar::ControlBar;
use super::info_dialog::InfoDialog;
use super::lab_bar::LabBar;
use super::open_page::OpenPage;
use super::player_window::PlayerWindow;
use super::protocol_log::ProtocolLog;
use super::shortcuts;
use super::stats_panel::StatsPanel;
use crate::cli::{ScreenshotSpec, WindowSize};
use crate::controls::ControlInput;
use crate::engine::Engine;
use crate::latency::LatencySummary;
use crate::media_info::StreamInfo;
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
    /// Latencies of the frames shown (see `crate::latency`).
    latency: LatencySummary,
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
}
