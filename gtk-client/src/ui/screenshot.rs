//! The `--screenshot` test hook: renders the window into a PNG with GSK, the way it is shown
//! on screen (no X screenshot tool needed).

use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;

use gtk::{gdk, glib, graphene, prelude::*};
use gtk4 as gtk;

/// Saves what `window` shows as a PNG file right after its next frame is painted (only then
/// are all its widgets' render nodes current: a widget that changed since the last frame, like
/// the video, has none), then calls `done` with the result.
pub fn save_after_paint(
    window: &gtk::Window,
    path: &Path,
    done: impl FnOnce(Result<(), String>) + 'static,
) {
    let Some(clock) = window.frame_clock() else {
        done(Err("the window is not shown yet".into()));
        return;
    };
    let handler: Rc<RefCell<Option<glib::SignalHandlerId>>> = Rc::new(RefCell::new(None));
    let done = RefCell::new(Some(done));
    let (w, p, h) = (window.clone(), path.to_owned(), Rc::clone(&handler));
    let id = clock.connect_after_paint(move |clock| {
        if let Some(id) = h.borrow_mut().take() {
            clock.disconnect(id);
        }
        if let Some(done) = done.borrow_mut().take() {
            done(save(&w, &p));
        }
    });
    *handler.borrow_mut() = Some(id);
    window.queue_draw();
}

/// Saves what `window` shows now as a PNG file.
fn save(window: &gtk::Window, path: &Path) -> Result<(), String> {
    let (width, height) = (window.width(), window.height());
    if width <= 0 || height <= 0 {
        return Err("the window is not shown yet".into());
    }
    let snapshot = gtk::Snapshot::new();
    // A widget paintable draws nothing for a toplevel, so the window's background and its two
    // children (header bar and content) are painted one by one at their places.
    #[allow(deprecated)] // GtkStyleContext is how GTK 4.8 tells theme colours.
    let background = window
        .style_context()
        .lookup_color("theme_bg_color")
        .unwrap_or(gdk::RGBA::BLACK);
    snapshot.append_color(
        &background,
        &graphene::Rect::new(0.0, 0.0, width as f32, height as f32),
    );
    for child in [window.titlebar(), window.child()].into_iter().flatten() {
        if !child.is_visible() || child.width() <= 0 || child.height() <= 0 {
            continue;
        }
        #[allow(deprecated)] // compute_point is GTK 4.12.
        let (x, y) = child
            .translate_coordinates(window, 0.0, 0.0)
            .unwrap_or((0.0, 0.0));
        let paintable = gtk::WidgetPaintable::new(Some(&child));
        snapshot.save();
        snapshot.translate(&graphene::Point::new(x as f32, y as f32));
        paintable.snapshot(
            snapshot.upcast_ref::<gdk::Snapshot>(),
            f64::from(child.width()),
            f64::from(child.height()),
        );
        snapshot.restore();
    }
    let node = snapshot
        .to_node()
        .ok_or_else(|| "the window drew nothing".to_owned())?;
    let renderer = window
        .renderer()
        .ok_or_else(|| "the window has no renderer".to_owned())?;
    let viewport = graphene::Rect::new(0.0, 0.0, width as f32, height as f32);
    let texture = renderer.render_texture(&node, Some(&viewport));
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    texture
        .save_to_png(path)
        .map_err(|e| format!("{}: {e}", path.display()))
}
