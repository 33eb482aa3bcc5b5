//! The Keyboard Shortcuts window (Ctrl+?).

use gtk4 as gtk;

const UI: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<interface>
  <object class="GtkShortcutsWindow" id="shortcuts">
    <property name="modal">1</property>
    <child>
      <object class="GtkShortcutsSection">
        <property name="section-name">player</property>
        <child>
          <object class="GtkShortcutsGroup">
            <property name="title">Playback</property>
            <child><object class="GtkShortcutsShortcut">
              <property name="title">Play / Pause</property>
              <property name="accelerator">space</property></object></child>
            <child><object class="GtkShortcutsShortcut">
              <property name="title">Back 1 second (20 frames)</property>
              <property name="accelerator">Left</property></object></child>
            <child><object class="GtkShortcutsShortcut">
              <property name="title">Forward 1 second (20 frames)</property>
              <property name="accelerator">Right</property></object></child>
            <child><object class="GtkShortcutsShortcut">
              <property name="title">Restart</property>
              <property name="accelerator">Home</property></object></child>
            <child><object class="GtkShortcutsShortcut">
              <property name="title">Stop (TEARDOWN)</property>
              <property name="accelerator">s</property></object></child>
          </object>
        </child>
        <child>
          <object class="GtkShortcutsGroup">
            <property name="title">View</property>
            <child><object class="GtkShortcutsShortcut">
              <property name="title">Fullscreen</property>
              <property name="accelerator">f</property></object></child>
            <child><object class="GtkShortcutsShortcut">
              <property name="title">Stream information</property>
              <property name="accelerator">&lt;Control&gt;i</property></object></child>
            <child><object class="GtkShortcutsShortcut">
              <property name="title">Lab mode</property>
              <property name="accelerator">&lt;Control&gt;l</property></object></child>
            <child><object class="GtkShortcutsShortcut">
              <property name="title">Statistics</property>
              <property name="accelerator">&lt;Control&gt;t</property></object></child>
          </object>
        </child>
        <child>
          <object class="GtkShortcutsGroup">
            <property name="title">General</property>
            <child><object class="GtkShortcutsShortcut">
              <property name="title">Open an address</property>
              <property name="accelerator">&lt;Control&gt;o</property></object></child>
            <child><object class="GtkShortcutsShortcut">
              <property name="title">Keyboard shortcuts</property>
              <property name="accelerator">&lt;Control&gt;question</property></object></child>
            <child><object class="GtkShortcutsShortcut">
              <property name="title">Quit</property>
              <property name="accelerator">&lt;Control&gt;q</property></object></child>
          </object>
        </child>
      </object>
    </child>
  </object>
</interface>
"#;

/// Builds the shortcuts window.
pub fn window() -> Option<gtk::ShortcutsWindow> {
    gtk::Builder::from_string(UI).object("shortcuts")
}
