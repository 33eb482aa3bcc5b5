//! The per-session RTSP state machine (RFC 2326 Appendix A.2, server side).
//!
//! The machine knows three states and the commands a client can issue against a session. It is
//! deliberately ignorant of time and of where the stream currently is: while a session plays,
//! its position advances in the runtime's connection worker, so the caller passes the current
//! position in a [`Playhead`] and gets back an [`Effect`] saying what the runtime must do (start
//! pacing from frame N, stop, seek...). Every command in every state has exactly one outcome,
//! which is what makes the table exhaustively testable.

use std::fmt;

use super::seek::{self, NptRange};
use super::Refusal;
use crate::rtsp::Dialect;

/// Where a session is in its life cycle (RFC 2326 Appendix A.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionState {
    /// No transport set up yet.
    Init,
    /// Transport set up; not sending.
    Ready,
    /// Sending media.
    Playing,
}

impl SessionState {
    /// The three states, in life-cycle order (handy for exhaustive tests and tables).
    pub const ALL: [SessionState; 3] = [Self::Init, Self::Ready, Self::Playing];

    /// Upper-case name as used in logs and in the lab's state diagram.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Init => "INIT",
            Self::Ready => "READY",
            Self::Playing => "PLAYING",
        }
    }
}

impl fmt::Display for SessionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A request against a session, stripped of its wire form.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Command {
    /// SETUP: create the session's transport, or change it while not playing.
    Setup,
    /// PLAY, optionally with a `Range: npt=` header.
    Play {
        /// `None` (no Range) resumes where the session is, to the end.
        range: Option<NptRange>,
    },
    /// PAUSE.
    Pause,
    /// TEARDOWN.
    Teardown,
    /// Lab extension: skip ahead [`seek::LAB_SKIP_FRAMES`] frames.
    Forward,
    /// Lab extension: go back [`seek::LAB_SKIP_FRAMES`] frames.
    Backward,
    /// Lab extension: go back to the first frame.
    Restart,
    /// GET_PARAMETER / SET_PARAMETER with an empty body, or OPTIONS carrying a Session header:
    /// keeps the session alive and changes nothing else.
    KeepAlive,
}

impl Command {
    /// One representative of every command kind (for exhaustive tests and tables).
    pub const KINDS: [Command; 8] = [
        Self::Setup,
        Self::Play { range: None },
        Self::Pause,
        Self::Teardown,
        Self::Forward,
        Self::Backward,
        Self::Restart,
        Self::KeepAlive,
    ];

    /// The RTSP method name this command comes from (KeepAlive reports GET_PARAMETER).
    pub fn method_name(&self) -> &'static str {
        match self {
            Self::Setup => "SETUP",
            Self::Play { .. } => "PLAY",
            Self::Pause => "PAUSE",
            Self::Teardown => "TEARDOWN",
            Self::Forward => "FORWARD",
            Self::Backward => "BACKWARD",
            Self::Restart => "RESTART",
            Self::KeepAlive => "GET_PARAMETER",
        }
    }
}

/// What the caller knows about the stream position when it hands a command to the machine.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Playhead {
    /// Index (0-based) of the next frame the session would send.
    pub next_frame: u64,
    /// Number of frames in the presentation, `None` for a live source (seeking is ignored).
    pub total_frames: Option<u64>,
    /// Frame rate used to map `npt` seconds to frames.
    pub fps: f64,
}

/// What the runtime must do after an accepted command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Nothing beyond refreshing the session's liveness.
    None,
    /// SETUP from INIT: the session now exists; allocate its transport.
    Establish,
    /// SETUP from READY: replace the session's transport.
    ChangeTransport,
    /// Start (or, while playing, restart) pacing frames, the first one being `from`.
    StartPlaying {
        /// Index of the first frame to send.
        from: u64,
        /// Index of the first frame not to send: the end of the PLAY's range. Reaching it
        /// pauses the session there (RFC 2326 10.5). `None`: to the end of the file.
        until: Option<u64>,
    },
    /// Stop pacing; the next PLAY without a range resumes at the position reached.
    Pause,
    /// Move the position to `to`: restart pacing from there if playing, else just remember it.
    Seek {
        /// Index of the frame to continue from.
        to: u64,
    },
    /// Stop everything and free the session.
    Teardown,
}

/// The outcome of an accepted command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    /// State before the command.
    pub from: SessionState,
    /// State after the command.
    pub to: SessionState,
    /// What the runtime must do.
    pub effect: Effect,
}

/// One RTSP session's state machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionMachine {
    state: SessionState,
    dialect: Dialect,
}

impl Default for SessionMachine {
    fn default() -> Self {
        Self::new()
    }
}

impl SessionMachine {
    /// A machine in [`SessionState::Init`] following the standard table.
    pub fn new() -> Self {
        Self::for_dialect(Dialect::Standard)
    }

    /// A machine in [`SessionState::Init`] following `dialect`'s table (see [`outcome_in`]).
    pub fn for_dialect(dialect: Dialect) -> Self {
        Self {
            state: SessionState::Init,
            dialect,
        }
    }

    /// The current state.
    pub fn state(&self) -> SessionState {
        self.state
    }

    /// Apply `command`; on success the machine moves to `Transition::to`. A refused command leaves
    /// the machine untouched.
    pub fn apply(&mut self, command: Command, playhead: Playhead) -> Result<Transition, Refusal> {
        let t = outcome_in(self.dialect, self.state, command, playhead)?;
        self.state = t.to;
        Ok(t)
    }

    /// Note that the stream ran out (end of the PLAY's range, or of the file without looping):
    /// "After playing the desired range, the presentation is automatically paused, as if a
    /// PAUSE request had been issued" (RFC 2326 10.5), so the session falls back to READY and a
    /// later PLAY starts pacing again.
    pub fn end_of_stream(&mut self) {
        if self.state == SessionState::Playing {
            self.state = SessionState::Ready;
        }
    }
}

/// The table of `dialect`: the standard one, except that a lab SETUP while PLAYING is
/// acknowledged and changes nothing. A lab connection owns one session (the lab server keeps
/// one per connection), and a lab client that sends SETUP again (the report's merged SETUP+PLAY
/// client does) cannot be told about states it does not track; the stream goes on.
pub fn outcome_in(
    dialect: Dialect,
    state: SessionState,
    command: Command,
    playhead: Playhead,
) -> Result<Transition, Refusal> {
    match (dialect, state, command) {
        (Dialect::Lab, SessionState::Playing, Command::Setup) => Ok(Transition {
            from: state,
            to: state,
            effect: Effect::None,
        }),
        _ => outcome(state, command, playhead),
    }
}

/// The full table: the outcome of `command` in `state`, without changing anything.
pub fn outcome(
    state: SessionState,
    command: Command,
    playhead: Playhead,
) -> Result<Transition, Refusal> {
    use SessionState::{Init, Playing, Ready};
    let go = |to, effect| {
        Ok(Transition {
            from: state,
            to,
            effect,
        })
    };
    let not_valid = || {
        Err(Refusal::MethodNotValidInState {
            method: command.method_name(),
            state,
        })
    };
    match (state, command) {
        (Init, Command::Setup) => go(Ready, Effect::Establish),
        (Ready, Command::Setup) => go(Ready, Effect::ChangeTransport),
        // Changing the transport under a running stream would need a second pacing path for no
        // client we know of; RFC 2326 10.4 lets a server refuse it with 455.
        (Playing, Command::Setup) => not_valid(),

        (Init, Command::Play { .. }) => not_valid(),
        // RFC 2326 10.5: "If a stream is playing, such a PLAY request causes no further action
        // and can be used by the client to test server liveness."
        (Playing, Command::Play { range: None }) => go(Playing, Effect::None),
        (Ready | Playing, Command::Play { range }) => {
            let span = seek::play_span(range, playhead)?;
            go(
                Playing,
                Effect::StartPlaying {
                    from: span.from,
                    until: span.until,
                },
            )
        }

        (Init, Command::Pause) => not_valid(),
        // RFC 2326 A.2: PAUSE in READY is accepted and changes nothing.
        (Ready, Command::Pause) => go(Ready, Effect::None),
        (Playing, Command::Pause) => go(Ready, Effect::Pause),

        // RFC 2326 A.2: TEARDOWN is valid in every state.
        (Init, Command::Teardown) => go(Init, Effect::None),
        (Ready | Playing, Command::Teardown) => go(Init, Effect::Teardown),

        (Init, Command::Forward | Command::Backward | Command::Restart) => not_valid(),
        (Ready | Playing, Command::Forward) => go(
            state,
            Effect::Seek {
                to: seek::forward(playhead),
            },
        ),
        (Ready | Playing, Command::Backward) => go(
            state,
            Effect::Seek {
                to: seek::backward(playhead),
            },
        ),
        (Ready | Playing, Command::Restart) => go(
            state,
            Effect::Seek {
                to: seek::restart(playhead),
            },
        ),

        (_, Command::KeepAlive) => go(state, Effect::None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::seek::NptStart;
    use crate::server::RefusalKind;

    fn from(from: u64) -> Effect {
        Effect::StartPlaying { from, until: None }
    }

    const FILE: Playhead = Playhead {
        next_frame: 100,
        total_frames: Some(500),
        fps: 20.0,
    };
    const LIVE: Playhead = Playhead {
        next_frame: 77,
        total_frames: None,
        fps: 20.0,
    };

    #[derive(Debug, PartialEq, Eq)]
    enum Want {
        Ok(SessionState, Effect),
        Err(u16),
    }

    fn run(state: SessionState, command: Command, playhead: Playhead) -> Want {
        match outcome(state, command, playhead) {
            Ok(t) => {
                assert_eq!(t.from, state);
                Want::Ok(t.to, t.effect)
            }
            Err(r) => Want::Err(r.status()),
        }
    }

    /// The whole table for a file source positioned at frame 100 of 500.
    #[test]
    fn full_table_for_a_file() {
        use Effect as E;
        use SessionState::{Init, Playing, Ready};
        let table: [(SessionState, Command, Want); 24] = [
            (Init, Command::Setup, Want::Ok(Ready, E::Establish)),
            (Init, Command::Play { range: None }, Want::Err(455)),
            (Init, Command::Pause, Want::Err(455)),
            (Init, Command::Teardown, Want::Ok(Init, E::None)),
            (Init, Command::Forward, Want::Err(455)),
            (Init, Command::Backward, Want::Err(455)),
            (Init, Command::Restart, Want::Err(455)),
            (Init, Command::KeepAlive, Want::Ok(Init, E::None)),
            (Ready, Command::Setup, Want::Ok(Ready, E::ChangeTransport)),
            (
                Ready,
                Command::Play { range: None },
                Want::Ok(Playing, from(100)),
            ),
            (Ready, Command::Pause, Want::Ok(Ready, E::None)),
            (Ready, Command::Teardown, Want::Ok(Init, E::Teardown)),
            (
                Ready,
                Command::Forward,
                Want::Ok(Ready, E::Seek { to: 120 }),
            ),
            (
                Ready,
                Command::Backward,
                Want::Ok(Ready, E::Seek { to: 80 }),
            ),
            (Ready, Command::Restart, Want::Ok(Ready, E::Seek { to: 0 })),
            (Ready, Command::KeepAlive, Want::Ok(Ready, E::None)),
            (Playing, Command::Setup, Want::Err(455)),
            (
                Playing,
                Command::Play { range: None },
                Want::Ok(Playing, E::None),
            ),
            (Playing, Command::Pause, Want::Ok(Ready, E::Pause)),
            (Playing, Command::Teardown, Want::Ok(Init, E::Teardown)),
            (
                Playing,
                Command::Forward,
                Want::Ok(Playing, E::Seek { to: 120 }),
            ),
            (
                Playing,
                Command::Backward,
                Want::Ok(Playing, E::Seek { to: 80 }),
            ),
            (
                Playing,
                Command::Restart,
                Want::Ok(Playing, E::Seek { to: 0 }),
            ),
            (Playing, Command::KeepAlive, Want::Ok(Playing, E::None)),
        ];
        // The table must cover every (state, command kind) pair exactly once.
        for state in SessionState::ALL {
            for kind in Command::KINDS {
                let n = table
                    .iter()
                    .filter(|(s, c, _)| *s == state && c.method_name() == kind.method_name())
                    .count();
                assert_eq!(n, 1, "{state} x {}", kind.method_name());
            }
        }
        for (state, command, want) in table {
            assert_eq!(run(state, command, FILE), want, "{state} x {command:?}");
        }
    }

    #[test]
    fn play_with_range_seeks_in_ready_and_playing() {
        let at = |s: f64| Command::Play {
            range: Some(NptRange::from(NptStart::Seconds(s))),
        };
        for state in [SessionState::Ready, SessionState::Playing] {
            assert_eq!(
                run(state, at(2.0), FILE),
                Want::Ok(SessionState::Playing, from(40))
            );
        }
        // npt=now- plays from where the session is, to the end.
        let now = Command::Play {
            range: Some(NptRange::from(NptStart::Now)),
        };
        for state in [SessionState::Ready, SessionState::Playing] {
            assert_eq!(
                run(state, now, FILE),
                Want::Ok(SessionState::Playing, from(100))
            );
        }
        // No Range while playing: nothing happens (a liveness test).
        assert_eq!(
            run(SessionState::Playing, Command::Play { range: None }, FILE),
            Want::Ok(SessionState::Playing, Effect::None)
        );
        // An end: the span stops there; npt=-b starts where the session is.
        let until = Command::Play {
            range: Some(NptRange {
                start: NptStart::Now,
                end: Some(6.0),
            }),
        };
        for state in [SessionState::Ready, SessionState::Playing] {
            assert_eq!(
                run(state, until, FILE),
                Want::Ok(
                    SessionState::Playing,
                    Effect::StartPlaying {
                        from: 100,
                        until: Some(120)
                    }
                )
            );
        }
        // Past the end: 457 Invalid Range, state unchanged.
        let mut m = SessionMachine::new();
        m.apply(Command::Setup, FILE).unwrap();
        let err = m.apply(at(25.5), FILE).unwrap_err();
        assert_eq!(err.status(), 457);
        assert_eq!(err.kind(), RefusalKind::InvalidRange);
        assert_eq!(m.state(), SessionState::Ready);
    }

    #[test]
    fn live_sources_ignore_seeks() {
        for state in [SessionState::Ready, SessionState::Playing] {
            for cmd in [Command::Forward, Command::Backward, Command::Restart] {
                assert_eq!(
                    run(state, cmd, LIVE),
                    Want::Ok(state, Effect::Seek { to: 77 }),
                    "{state} {cmd:?}"
                );
            }
        }
        let at = Command::Play {
            range: Some(NptRange {
                start: NptStart::Seconds(1000.0),
                end: Some(1001.0),
            }),
        };
        assert_eq!(
            run(SessionState::Ready, at, LIVE),
            Want::Ok(SessionState::Playing, from(77))
        );
    }

    #[test]
    fn refused_commands_leave_the_machine_untouched() {
        let mut m = SessionMachine::new();
        assert!(m.apply(Command::Pause, FILE).is_err());
        assert_eq!(m.state(), SessionState::Init);
        m.apply(Command::Setup, FILE).unwrap();
        m.apply(Command::Play { range: None }, FILE).unwrap();
        assert_eq!(m.apply(Command::Setup, FILE).unwrap_err().status(), 455);
        assert_eq!(m.state(), SessionState::Playing);
    }

    #[test]
    fn lab_setup_while_playing_changes_nothing() {
        let mut lab = SessionMachine::for_dialect(Dialect::Lab);
        let mut standard = SessionMachine::new();
        for m in [&mut lab, &mut standard] {
            m.apply(Command::Setup, FILE).unwrap();
            assert_eq!(
                m.apply(Command::Setup, FILE).unwrap().effect,
                Effect::ChangeTransport
            );
            m.apply(Command::Play { range: None }, FILE).unwrap();
        }
        let t = lab.apply(Command::Setup, FILE).unwrap();
        assert_eq!(
            (t.from, t.to, t.effect),
            (SessionState::Playing, SessionState::Playing, Effect::None)
        );
        assert_eq!(
            standard.apply(Command::Setup, FILE).unwrap_err().status(),
            455
        );
    }

    #[test]
    fn lab_session_walkthrough() {
        // The lab handout's sample interaction: SETUP, PLAY, PAUSE, PLAY, TEARDOWN.
        let mut m = SessionMachine::new();
        let mut head = Playhead {
            next_frame: 0,
            ..FILE
        };
        let steps = [
            (Command::Setup, SessionState::Ready),
            (Command::Play { range: None }, SessionState::Playing),
            (Command::Pause, SessionState::Ready),
            (Command::Play { range: None }, SessionState::Playing),
            (Command::Teardown, SessionState::Init),
        ];
        for (i, (cmd, want)) in steps.into_iter().enumerate() {
            let t = m.apply(cmd, head).unwrap();
            assert_eq!(t.to, want, "step {i}");
            head.next_frame += 30;
        }
        // After PAUSE at frame 90, the second PLAY resumes there.
        let mut m = SessionMachine::new();
        m.apply(Command::Setup, FILE).unwrap();
        m.apply(Command::Play { range: None }, FILE).unwrap();
        m.apply(Command::Pause, FILE).unwrap();
        let paused_at = Playhead {
            next_frame: 90,
            ..FILE
        };
        assert_eq!(
            m.apply(Command::Play { range: None }, paused_at)
                .unwrap()
                .effect,
            from(90)
        );
    }

    #[test]
    fn end_of_stream_falls_back_to_ready_and_play_restarts() {
        let mut m = SessionMachine::new();
        m.apply(Command::Setup, FILE).unwrap();
        m.apply(Command::Play { range: None }, FILE).unwrap();
        m.end_of_stream();
        assert_eq!(m.state(), SessionState::Ready);
        let at_end = Playhead {
            next_frame: 500,
            ..FILE
        };
        assert_eq!(
            m.apply(Command::Play { range: None }, at_end)
                .unwrap()
                .effect,
            from(0)
        );
    }

    mod prop {
        use super::*;
        use proptest::prelude::*;

        fn command() -> impl Strategy<Value = Command> {
            prop_oneof![
                Just(Command::Setup),
                Just(Command::Play { range: None }),
                (0.0f64..40.0, proptest::option::of(0.0f64..40.0)).prop_map(|(s, end)| {
                    Command::Play {
                        range: Some(NptRange {
                            start: NptStart::Seconds(s),
                            end,
                        }),
                    }
                }),
                proptest::option::of(0.0f64..40.0).prop_map(|end| Command::Play {
                    range: Some(NptRange {
                        start: NptStart::Now,
                        end
                    })
                }),
                Just(Command::Pause),
                Just(Command::Teardown),
                Just(Command::Forward),
                Just(Command::Backward),
                Just(Command::Restart),
                Just(Command::KeepAlive),
            ]
        }

        proptest! {
            /// Any command sequence: the machine ends where the table says, refusals change
            /// nothing, and every position it hands out is inside the file.
            #[test]
            fn sequences_follow_the_table(cmds in proptest::collection::vec(command(), 0..40), next in 0u64..600) {
                let head = Playhead { next_frame: next, total_frames: Some(500), fps: 20.0 };
                let mut m = SessionMachine::new();
                for c in cmds {
                    let before = m.state();
                    match m.apply(c, head) {
                        Ok(t) => {
                            prop_assert_eq!(t.from, before);
                            prop_assert_eq!(m.state(), t.to);
                            if let Effect::StartPlaying { from, .. } | Effect::Seek { to: from } = t.effect {
                                prop_assert!(from < 500, "position {} outside the file", from);
                            }
                            if let Effect::StartPlaying { from, until: Some(until) } = t.effect {
                                prop_assert!(from < until && until <= 500, "span {}..{}", from, until);
                            }
                        }
                        Err(r) => {
                            prop_assert_eq!(m.state(), before);
                            prop_assert!(matches!(r.status(), 455 | 457));
                        }
                    }
                }
            }
        }
    }
}
