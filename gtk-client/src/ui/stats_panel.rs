//! The statistics panel: the figures, and a live graph of bitrate and loss over the last
//! minute (people would rather look than read).

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use gtk::{cairo, prelude::*};
use gtk4 as gtk;
use rtsp_core::client::Stats;

use crate::format;
use crate::stats_history::{nice_ceiling, StatsHistory};

/// The graph's colours (GNOME palette blue 3 and red 3).
const BITRATE_RGB: (f64, f64, f64) = (0.208, 0.518, 0.894);
const LOSS_RGB: (f64, f64, f64) = (0.878, 0.106, 0.141);
/// Loss axis never shows less than this (so 0.1 % does not look like a catastrophe).
const MIN_LOSS_SCALE: f64 = 0.05;

/// The panel.
pub struct StatsPanel {
    root: gtk::Box,
    values: [gtk::Label; 7],
    graph: gtk::DrawingArea,
    top_left: gtk::Label,
    top_right: gtk::Label,
    history: Rc<RefCell<StatsHistory>>,
    origin: Instant,
}

impl StatsPanel {
    /// An empty panel.
    pub fn new() -> Rc<Self> {
        let heading = gtk::Label::builder()
            .label("Statistics")
            .xalign(0.0)
            .css_classes(["panel-heading"])
            .build();
        let grid = gtk::Grid::builder()
            .row_spacing(6)
            .column_spacing(12)
            .css_classes(["stats-card"])
            .build();
        let names = [
            "Frame rate",
            "Bitrate",
            "Packet loss",
            "Jitter",
            "Broken frames",
            "First frame after",
            "Received",
        ];
        let values: [gtk::Label; 7] = std::array::from_fn(|_| {
            gtk::Label::builder()
                .label("–")
                .xalign(1.0)
                .hexpand(true)
                .css_classes(["stat-value"])
                .build()
        });
        for ((row, name), value) in (0..).zip(names).zip(values.iter()) {
            let label = gtk::Label::builder()
                .label(name)
                .xalign(0.0)
                .css_classes(["stat-name"])
                .build();
            grid.attach(&label, 0, row, 1, 1);
            grid.attach(value, 1, row, 1, 1);
        }
        let history = Rc::new(RefCell::new(StatsHistory::new(Duration::from_secs(60))));
        let graph = gtk::DrawingArea::builder()
            .content_height(150)
            .hexpand(true)
            .build();
        let top_left = axis_label("", "legend-bitrate", gtk::Align::Start);
        let top_right = axis_label("", "legend-loss", gtk::Align::End);
        let bottom_left = axis_label("−60 s", "graph-axis", gtk::Align::Start);
        bottom_left.set_valign(gtk::Align::End);
        let bottom_right = axis_label("now", "graph-axis", gtk::Align::End);
        bottom_right.set_valign(gtk::Align::End);
        let overlay = gtk::Overlay::builder().child(&graph).build();
        for label in [&top_left, &top_right, &bottom_left, &bottom_right] {
            overlay.add_overlay(label);
        }
        let legend = gtk::Box::new(gtk::Orientation::Horizontal, 14);
        legend.set_halign(gtk::Align::Center);
        legend.append(&legend_entry("Bitrate", "legend-bitrate"));
        legend.append(&legend_entry("Packet loss", "legend-loss"));
        let graph_card = gtk::Box::new(gtk::Orientation::Vertical, 6);
        graph_card.add_css_class("stats-card");
        graph_card.append(&overlay);
        graph_card.append(&legend);
        let root = gtk::Box::new(gtk::Orientation::Vertical, 8);
        root.set_margin_start(12);
        root.set_margin_end(12);
        root.set_margin_top(10);
        root.set_margin_bottom(6);
        root.append(&heading);
        root.append(&grid);
        root.append(&graph_card);
        let panel = Rc::new(Self {
            root,
            values,
            graph,
            top_left,
            top_right,
            history,
            origin: Instant::now(),
        });
        let history = Rc::clone(&panel.history);
        let origin = panel.origin;
        panel.graph.set_draw_func(move |area, cr, w, h| {
            let now = origin.elapsed();
            draw_graph(area, cr, f64::from(w), f64::from(h), &history.borrow(), now);
        });
        panel.update_axis_labels();
        panel
    }

    /// The widget.
    pub fn widget(&self) -> &gtk::Box {
        &self.root
    }

    /// Lets the graph take the free height (when the panel is alone in the sidebar).
    pub fn set_fill(&self, fill: bool) {
        self.root.set_vexpand(fill);
        self.graph.set_vexpand(fill);
    }

    /// Records a snapshot and refreshes figures and graph.
    pub fn push(&self, stats: &Stats, frames_shown: u64) {
        self.history.borrow_mut().push(self.origin.elapsed(), stats);
        let texts = [
            format::fps(stats.frame_rate_fps_recent),
            format::bitrate(stats.bitrate_bps_recent),
            format!(
                "{} ({} of {})",
                format::percent(stats.loss_rate),
                stats.packets_lost,
                stats.packets_expected
            ),
            format::millis(stats.jitter_ms),
            stats.frames_broken.to_string(),
            format::latency(stats.first_frame_latency()),
            format!(
                "{} · {frames_shown} frames",
                format::bytes(stats.bytes_received)
            ),
        ];
        for (label, text) in self.values.iter().zip(texts) {
            label.set_label(&text);
        }
        self.update_axis_labels();
        self.graph.queue_draw();
    }

    /// Lets the graph scroll while no statistics arrive (paused).
    pub fn tick(&self) {
        self.history.borrow_mut().trim(self.origin.elapsed());
        self.update_axis_labels();
        self.graph.queue_draw();
    }

    /// Forgets everything (a new stream).
    pub fn clear(&self) {
        self.history.borrow_mut().clear();
        for label in &self.values {
            label.set_label("–");
        }
        self.update_axis_labels();
        self.graph.queue_draw();
    }

    fn update_axis_labels(&self) {
        let h = self.history.borrow();
        let (rate_max, loss_max) = scales(&h);
        self.top_left.set_label(&format::bitrate(rate_max));
        self.top_right
            .set_label(&format!("{:.0} % loss", loss_max * 100.0));
    }
}

fn axis_label(text: &str, class: &str, halign: gtk::Align) -> gtk::Label {
    gtk::Label::builder()
        .label(text)
        .halign(halign)
        .valign(gtk::Align::Start)
        .margin_start(6)
        .margin_end(6)
        .margin_top(2)
        .margin_bottom(2)
        .css_classes(["graph-label", class])
        .can_target(false)
        .build()
}

fn legend_entry(text: &str, class: &str) -> gtk::Box {
    let swatch = gtk::Label::builder()
        .label("●")
        .css_classes([class])
        .build();
    let label = gtk::Label::new(Some(text));
    label.add_css_class("graph-axis");
    let b = gtk::Box::new(gtk::Orientation::Horizontal, 4);
    b.append(&swatch);
    b.append(&label);
    b
}

/// The axis maxima: bitrate in bits per second, loss as a ratio.
fn scales(h: &StatsHistory) -> (f64, f64) {
    let rate_max = nice_ceiling(h.peak_bitrate_bps() * 1.1);
    let loss_max = nice_ceiling(h.peak_loss().max(MIN_LOSS_SCALE) * 100.0) / 100.0;
    (rate_max.max(1_000.0), loss_max)
}

fn draw_graph(
    area: &gtk::DrawingArea,
    cr: &cairo::Context,
    w: f64,
    h: f64,
    history: &StatsHistory,
    now: Duration,
) {
    #[allow(deprecated)] // GtkWidget::get_color is 4.10; the style context is the 4.8 way.
    let fg = area.style_context().color();
    let (fr, fg_, fb) = (
        f64::from(fg.red()),
        f64::from(fg.green()),
        f64::from(fg.blue()),
    );
    let (top, bottom) = (20.0, h - 18.0);
    let plot_h = (bottom - top).max(1.0);
    // Grid: quarter lines.
    cr.set_line_width(1.0);
    cr.set_source_rgba(fr, fg_, fb, 0.10);
    for i in 0..=4 {
        let y = (top + plot_h * f64::from(i) / 4.0).round() + 0.5;
        cr.move_to(0.0, y);
        cr.line_to(w, y);
    }
    let _ = cr.stroke();
    let window = history.window().as_secs_f64();
    let start = now.as_secs_f64() - window;
    let x_of = |at: Duration| ((at.as_secs_f64() - start) / window * w).clamp(0.0, w);
    let (rate_max, loss_max) = scales(history);
    let points: Vec<(f64, f64, f64)> = history
        .samples()
        .map(|s| {
            (
                x_of(s.at),
                bottom - (s.bitrate_bps / rate_max).clamp(0.0, 1.0) * plot_h,
                bottom - (s.loss / loss_max).clamp(0.0, 1.0) * plot_h,
            )
        })
        .collect();
    if points.is_empty() {
        return;
    }
    // Bitrate: a filled area under a line.
    let (r, g, b) = BITRATE_RGB;
    if let Some(&(x0, _, _)) = points.first() {
        cr.move_to(x0, bottom);
        for &(x, y, _) in &points {
            cr.line_to(x, y);
        }
        if let Some(&(xn, _, _)) = points.last() {
            cr.line_to(xn, bottom);
        }
        cr.close_path();
        cr.set_source_rgba(r, g, b, 0.22);
        let _ = cr.fill();
        for (i, &(x, y, _)) in points.iter().enumerate() {
            if i == 0 {
                cr.move_to(x, y);
            } else {
                cr.line_to(x, y);
            }
        }
        cr.set_source_rgb(r, g, b);
        cr.set_line_width(2.0);
        cr.set_line_join(cairo::LineJoin::Round);
        let _ = cr.stroke();
    }
    // Loss: a line on its own scale.
    let (r, g, b) = LOSS_RGB;
    for (i, &(x, _, y)) in points.iter().enumerate() {
        if i == 0 {
            cr.move_to(x, y);
        } else {
            cr.line_to(x, y);
        }
    }
    cr.set_source_rgb(r, g, b);
    cr.set_line_width(2.0);
    let _ = cr.stroke();
}
