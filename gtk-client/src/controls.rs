//! Which controls are usable in which session state: the lab's state diagram made into button
//! sensitivity. Widget-free, so the rules are unit-tested; the window only copies the result.

use rtsp_core::client::State;

/// What the sensitivity depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ControlInput {
    /// The RTSP session state as the engine last reported it.
    pub state: State,
    /// Whether a connection to the server exists (false while connecting and after a failure).
    pub connected: bool,
    /// Whether a request is on its way (buttons that send one wait for the answer).
    pub busy: bool,
    /// Whether the stream has a known length (a live source cannot be sought). The lab's
    /// FORWARD/BACKWARD/RESTART work on files only, so it is true for lab targets.
    pub seekable: bool,
}

/// The resulting sensitivity of every control.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sensitivity {
    /// The Play/Pause toggle.
    pub play_pause: bool,
    /// Whether the toggle shows "Pause" (the stream is playing) rather than "Play".
    pub shows_pause: bool,
    /// Stop (TEARDOWN): usable as long as a session exists, even while a request is pending, so
    /// a slow server can always be left.
    pub stop: bool,
    /// The seek slider.
    pub seek: bool,
    /// Back, forward and restart.
    pub skip: bool,
    /// Lab SETUP: only in INIT.
    pub lab_setup: bool,
    /// Lab PLAY: only in READY.
    pub lab_play: bool,
    /// Lab PAUSE: only in PLAYING.
    pub lab_pause: bool,
    /// Lab TEARDOWN: in READY and PLAYING.
    pub lab_teardown: bool,
    /// DESCRIBE (stream information).
    pub describe: bool,
}

/// What the Play/Pause toggle does when pressed now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Toggle {
    /// Start or resume (SETUP first if there is no session).
    Play,
    /// Pause.
    Pause,
}

impl ControlInput {
    /// The sensitivity of every control in this situation.
    pub fn sensitivity(&self) -> Sensitivity {
        let idle = !self.busy;
        let session = self.state != State::Init;
        Sensitivity {
            // Play also reconnects after a failure, so it needs no connection, only calm.
            play_pause: idle,
            shows_pause: self.state == State::Playing,
            stop: session,
            seek: session && self.seekable && idle,
            skip: session && self.seekable && idle,
            lab_setup: self.connected && idle && self.state == State::Init,
            lab_play: self.connected && idle && self.state == State::Ready,
            lab_pause: self.connected && idle && self.state == State::Playing,
            lab_teardown: self.connected && idle && session,
            describe: self.connected && idle,
        }
    }

    /// What the Play/Pause toggle does now.
    pub fn toggle(&self) -> Toggle {
        if self.state == State::Playing {
            Toggle::Pause
        } else {
            Toggle::Play
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(state: State) -> ControlInput {
        ControlInput {
            state,
            connected: true,
            busy: false,
            seekable: true,
        }
    }

    /// The lab's state diagram: each lab button is enabled in exactly the states where the lab
    /// server accepts its request.
    #[test]
    fn lab_buttons_follow_the_state_diagram() {
        let table = [
            // state, setup, play, pause, teardown
            (State::Init, true, false, false, false),
            (State::Ready, false, true, false, true),
            (State::Playing, false, false, true, true),
        ];
        for (state, setup, play, pause, teardown) in table {
            let s = input(state).sensitivity();
            assert_eq!(
                (s.lab_setup, s.lab_play, s.lab_pause, s.lab_teardown),
                (setup, play, pause, teardown),
                "{state}"
            );
        }
    }

    #[test]
    fn a_pending_request_disables_what_would_send_another() {
        for state in [State::Init, State::Ready, State::Playing] {
            let s = ControlInput {
                busy: true,
                ..input(state)
            }
            .sensitivity();
            assert!(!s.play_pause && !s.seek && !s.skip && !s.describe);
            assert!(!s.lab_setup && !s.lab_play && !s.lab_pause && !s.lab_teardown);
            // Stop stays usable whenever there is a session to leave.
            assert_eq!(s.stop, state != State::Init);
        }
    }

    #[test]
    fn without_a_connection_only_play_works() {
        let s = ControlInput {
            connected: false,
            ..input(State::Init)
        }
        .sensitivity();
        assert!(s.play_pause);
        assert!(!s.stop && !s.seek && !s.describe && !s.lab_setup);
    }

    #[test]
    fn seeking_needs_a_session_and_a_length() {
        assert!(!input(State::Init).sensitivity().seek);
        assert!(input(State::Ready).sensitivity().seek);
        assert!(input(State::Playing).sensitivity().skip);
        let live = ControlInput {
            seekable: false,
            ..input(State::Playing)
        };
        assert!(!live.sensitivity().seek && !live.sensitivity().skip);
    }

    #[test]
    fn toggle_pauses_only_while_playing() {
        assert_eq!(input(State::Init).toggle(), Toggle::Play);
        assert_eq!(input(State::Ready).toggle(), Toggle::Play);
        assert_eq!(input(State::Playing).toggle(), Toggle::Pause);
        assert!(input(State::Playing).sensitivity().shows_pause);
        assert!(!input(State::Ready).sensitivity().shows_pause);
    }
}
