//! A non-modal banner under the header bar (GTK 4.8 has no AdwBanner): a plain explanation,
//! a helpful action and a close button. It never blocks the window.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use gtk::{glib, prelude::*};
use gtk4 as gtk;

use crate::explain::{Explanation, Remedy, Severity};

/// What the action button calls.
type ActionHandler = Box<dyn Fn(Remedy)>;

/// The banner widget.
pub struct Banner {
    revealer: gtk::Revealer,
    frame: gtk::Box,
    icon: gtk::Image,
    title: gtk::Label,
    detail: gtk::Label,
    action: gtk::Button,
    remedy: Cell<Remedy>,
    on_action: RefCell<Option<ActionHandler>>,
}

impl Banner {
    /// A hidden banner.
    pub fn new() -> Rc<Self> {
        let icon = gtk::Image::from_icon_name("dialog-error-symbolic");
        let title = gtk::Label::builder()
            .xalign(0.0)
            .wrap(true)
            .css_classes(["banner-title"])
            .build();
        let detail = gtk::Label::builder().xalign(0.0).wrap(true).build();
        let text = gtk::Box::new(gtk::Orientation::Vertical, 2);
        text.set_hexpand(true);
        text.set_valign(gtk::Align::Center);
        text.append(&title);
        text.append(&detail);
        let action = gtk::Button::builder()
            .valign(gtk::Align::Center)
            .css_classes(["suggested-action"])
            .build();
        let close = gtk::Button::builder()
            .icon_name("window-close-symbolic")
            .valign(gtk::Align::Center)
            .tooltip_text("Dismiss")
            .css_classes(["flat", "circular"])
            .build();
        let frame = gtk::Box::new(gtk::Orientation::Horizontal, 12);
        frame.add_css_class("banner");
        // Wrapping labels measure a pixel apart with and without a width in GTK 4.8 (which it
        // reports as a critical warning); a floor above the one-line height hides the rounding.
        frame.set_height_request(56);
        frame.append(&icon);
        frame.append(&text);
        frame.append(&action);
        frame.append(&close);
        let revealer = gtk::Revealer::builder()
            // A slide would re-measure the wrapping labels at every step, which GTK 4.8 reports
            // as inconsistent sizes; a crossfade does not.
            .transition_type(gtk::RevealerTransitionType::Crossfade)
            .child(&frame)
            .visible(false)
            .build();
        super::hide_when_concealed(&revealer);
        let banner = Rc::new(Self {
            revealer,
            frame,
            icon,
            title,
            detail,
            action: action.clone(),
            remedy: Cell::new(Remedy::Dismiss),
            on_action: RefCell::new(None),
        });
        action.connect_clicked(glib::clone!(
            #[weak(rename_to = b)]
            banner,
            move |_| {
                let remedy = b.remedy.get();
                b.hide();
                if let Some(f) = b.on_action.borrow().as_ref() {
                    f(remedy);
                }
            }
        ));
        close.connect_clicked(glib::clone!(
            #[weak(rename_to = b)]
            banner,
            move |_| b.hide()
        ));
        banner
    }

    /// The widget to put in the window.
    pub fn widget(&self) -> &gtk::Revealer {
        &self.revealer
    }

    /// Shows `x`, replacing whatever was shown.
    pub fn show(&self, x: &Explanation) {
        self.title.set_label(&x.title);
        self.detail.set_label(&x.detail);
        let (add, remove, icon) = match x.severity {
            Severity::Error => ("error", "info", "dialog-error-symbolic"),
            Severity::Info => ("info", "error", "dialog-information-symbolic"),
        };
        self.frame.remove_css_class(remove);
        self.frame.add_css_class(add);
        self.icon.set_icon_name(Some(icon));
        self.remedy.set(x.remedy);
        self.action.set_label(x.remedy.label());
        self.action.set_visible(x.remedy != Remedy::Dismiss);
        super::reveal(&self.revealer, true);
    }

    /// Hides the banner.
    pub fn hide(&self) {
        super::reveal(&self.revealer, false);
    }

    /// The title shown, if the banner is up.
    pub fn shown_title(&self) -> Option<String> {
        self.revealer
            .reveals_child()
            .then(|| self.title.label().to_string())
    }

    /// What the action button does.
    pub fn connect_action(&self, f: impl Fn(Remedy) + 'static) {
        *self.on_action.borrow_mut() = Some(Box::new(f));
    }
}
