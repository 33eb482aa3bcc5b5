//! The GTK 4 window. Everything here runs on the main thread; the protocol runs on the engine's
//! threads and its events arrive through the main context ([`crate::engine`]).

mod banner;
mod control_bar;
mod handler;
mod info_dialog;
mod lab_bar;
mod open_page;
mod player_window;
mod protocol_log;
mod screenshot;
mod shortcuts;
mod stats_panel;
mod window;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use gtk::{gdk, gio, glib, prelude::*};
use gtk4 as gtk;

use crate::cli::{Cli, Launch};

/// The application id (reverse-DNS, as desktop files and D-Bus want it).
pub const APP_ID: &str = "org.rtsprs.Player";

/// Whether a display server is reachable (else the caller falls back to headless mode).
pub fn display_available() -> bool {
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    (set("DISPLAY") || set("WAYLAND_DISPLAY")) && gtk::init().is_ok()
}

/// Runs the window until it is closed; returns the process exit code.
pub fn run(cli: &Cli, launch: Launch) -> u8 {
    // The widgets' templates; they are part of the binary, so this fails only if it is broken.
    if let Err(e) = register_resources() {
        eprintln!("rtsp-player: cannot load the window's templates: {e}");
        return 1;
    }
    let app = gtk::Application::builder()
        .application_id(APP_ID)
        // Every `rtsp-player` is its own window with its own arguments.
        .flags(gio::ApplicationFlags::NON_UNIQUE)
        .build();
    let exit_code = Rc::new(Cell::new(0u8));
    let options = window::Options {
        transport: cli.transport.into(),
        lab_mode: launch.lab_mode,
        autoplay: launch.autoplay,
        stats: cli.stats,
        exit_after: cli.exit_after,
        screenshots: cli.screenshot.clone(),
        type_address: cli.type_address.clone(),
        window_size: cli.window_size,
    };
    let target = launch.target;
    let code = Rc::clone(&exit_code);
    // The window's handlers hold weak references; this keeps the player alive as long as the
    // application runs.
    let holder = RefCell::new(None);
    app.connect_startup(|_| load_css());
    app.connect_activate(move |app| {
        if holder.borrow().is_some() {
            return;
        }
        let player = window::Player::new(app, options.clone(), Rc::clone(&code));
        player.start(target.clone());
        *holder.borrow_mut() = Some(player);
    });
    // GTK must not see our arguments: clap has read them already.
    app.run_with_args::<&str>(&[]);
    exit_code.get()
}

fn register_resources() -> Result<(), glib::Error> {
    gio::resources_register_include!("player.gresource")
}

/// Shows or hides a crossfading revealer. A crossfade keeps the child's size while concealed,
/// so the revealer is also made invisible once the fade-out ends ([`hide_when_concealed`]).
fn reveal(revealer: &gtk::Revealer, on: bool) {
    if on {
        revealer.set_visible(true);
    }
    revealer.set_reveal_child(on);
}

/// Makes `revealer` invisible whenever its child is fully concealed.
fn hide_when_concealed(revealer: &gtk::Revealer) {
    revealer.connect_child_revealed_notify(|r| {
        if !r.reveals_child() && !r.is_child_revealed() {
            r.set_visible(false);
        }
    });
}

fn load_css() {
    let provider = gtk::CssProvider::new();
    provider.load_from_data(include_str!("style.css"));
    if let Some(display) = gdk::Display::default() {
        gtk::style_context_add_provider_for_display(
            &display,
            &provider,
            gtk::STYLE_PROVIDER_PRIORITY_APPLICATION,
        );
    }
    // Media players look best dark (GNOME Videos does the same).
    if let Some(settings) = gtk::Settings::default() {
        settings.set_gtk_application_prefer_dark_theme(true);
    }
    glib::set_application_name("RTSP Player");
}
