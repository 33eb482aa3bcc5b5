//! The statistics panel: the figures, and a live graph of bitrate and loss over the last
//! minute (people would rather look than read).

use std::time::Duration;

use gtk::{cairo, glib, prelude::*, subclass::prelude::*};
use gtk4 as gtk;
use rtsp_core::client::Stats;

use crate::format;
use crate::stats_history::{nice_ceiling, StatsHistory};

/// The graph's colours (GNOME palette blue 3 and red 3).
const BITRATE_RGB: (f64, f64, f64) = (0.208, 0.518, 0.894);
const LOSS_RGB: (f64, f64, f64) = (0.878, 0.106, 0.141);
/// Loss axis never shows less than this (so 0.1 % does not look like a catastrophe).
const MIN_LOSS_SCALE: f64 = 0.05;

glib::wrapper! {
    /// The panel (template `templates/stats_panel.ui`).
    pub struct StatsPanel(ObjectSubclass<imp::StatsPanel>)
        @extends gtk::Box, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Orientable;
}

mod imp {
    use std::cell::{OnceCell, RefCell};
    use std::time::{Duration, Instant};

    use gtk::{glib, prelude::*, subclass::prelude::*};
    use gtk4 as gtk;

    use crate::stats_history::StatsHistory;

    #[derive(Debug, Default, gtk::CompositeTemplate)]
    #[template(resource = "/org/rtsprs/Player/ui/stats_panel.ui")]
    pub struct StatsPanel {
        #[template_child]
        pub frame_rate: TemplateChild<gtk::Label>,
        #[template_child]
        pub bitrate: TemplateChild<gtk::Label>,
        #[template_child]
        pub loss: TemplateChild<gtk::Label>,
        #[template_child]
        pub jitter: TemplateChild<gtk::Label>,
        #[template_child]
        pub broken: TemplateChild<gtk::Label>,
        #[template_child]
        pub first_frame: TemplateChild<gtk::Label>,
        #[template_child]
        pub received: TemplateChild<gtk::Label>,
        #[template_child]
        pub latency: TemplateChild<gtk::Label>,
        #[template_child]
        pub graph: TemplateChild<gtk::DrawingArea>,
        #[template_child]
        pub top_left: TemplateChild<gtk::Label>,
        #[template_child]
        pub top_right: TemplateChild<gtk::Label>,
        pub history: RefCell<Option<StatsHistory>>,
        origin: OnceCell<Instant>,
    }

    impl StatsPanel {
        /// Time since the panel was made: the graph's clock.
        pub fn elapsed(&self) -> Duration {
            self.origin.get_or_init(Instant::now).elapsed()
        }

        pub fn with_history<T>(&self, f: impl FnOnce(&mut StatsHistory) -> T) -> T {
            let mut h = self.history.borrow_mut();
            f(h.get_or_insert_with(|| StatsHistory::new(Duration::from_secs(60))))
        }

        pub fn values(&self) -> [&gtk::Label; 8] {
            [
                &self.frame_rate,
                &self.bitrate,
                &self.loss,
                &self.jitter,
                &self.broken,
                &self.first_frame,
                &self.received,
                &self.latency,
            ]
        }
    }

    #[glib::object_subclass]
    impl ObjectSubclass for StatsPanel {
        const NAME: &'static str = "PlayerStatsPanel";
        type Type = super::StatsPanel;
        type ParentType = gtk::Box;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for StatsPanel {
        fn constructed(&self) {
            self.parent_constructed();
            let _ = self.elapsed();
            let obj = self.obj();
            self.graph.set_draw_func(glib::clone!(
                #[weak]
                obj,
                move |area, cr, w, h| {
                    let panel = obj.imp();
                    let now = panel.elapsed();
                    panel.with_history(|history| {
                        super::draw_graph(area, cr, f64::from(w), f64::from(h), history, now);
                    });
                }
            ));
            obj.update_axis_labels();
        }
    }

    impl WidgetImpl for StatsPanel {}
    impl BoxImpl for StatsPanel {}
}

impl Default for StatsPanel {
    fn default() -> Self {
        glib::Object::new()
    }
}

impl StatsPanel {
    /// An empty panel.
    pub fn new() -> Self {
        Self::default()
    }

    /// Lets the graph take the free height (when the panel is alone in the sidebar).
    pub fn set_fill(&self, fill: bool) {
        self.set_vexpand(fill);
        self.imp().graph.set_vexpand(fill);
    }

    /// Records a snapshot and refreshes figures and graph; `latency` is the latest frame's
    /// (see `crate::latency`).
    pub fn push(&self, stats: &Stats, frames_shown: u64, latency: Option<Duration>) {
        let imp = self.imp();
        let now = imp.elapsed();
        imp.with_history(|h| h.push(now, stats));
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
            format::latency(latency),
        ];
        for (label, text) in imp.values().into_iter().zip(texts) {
            label.set_label(&text);
        }
        self.update_axis_labels();
        imp.graph.queue_draw();
    }

    /// Lets the graph scroll while no statistics arrive (paused).
    pub fn tick(&self) {
        let imp = self.imp();
        let now = imp.elapsed();
        imp.with_history(|h| h.trim(now));
        self.update_axis_labels();
        imp.graph.queue_draw();
    }

    /// Forgets everything (a new stream).
    pub fn clear(&self) {
        let imp = self.imp();
        imp.with_history(StatsHistory::clear);
        for label in imp.values() {
            label.set_label("–");
        }
        self.update_axis_labels();
        imp.graph.queue_draw();
    }

    fn update_axis_labels(&self) {
        let imp = self.imp();
        let (rate_max, loss_max) = imp.with_history(|h| scales(h));
        imp.top_left.set_label(&format::bitrate(rate_max));
        imp.top_right
            .set_label(&format!("{:.0} % loss", loss_max * 100.0));
    }
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
