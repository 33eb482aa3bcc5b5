//! The bridge between the window and the protocol engine.
//!
//! The engine's methods block until the server answers, so they run on a worker thread of
//! their own, in the order the window asked for them. Engine events arrive on the engine's
//! delivery thread; JPEG frames are decoded there (GDK texture loading is thread-safe). Frames and
//! events reach the main loop through a bounded [`mailbox`](crate::mailbox): a window that falls
//! behind sees the newest frame and the latest statistics, not a growing queue. The window never
//! waits for the network.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

use gtk4::{gdk, glib};
use rtsp_core::client::{
    ActiveTransport, Client, ClientError, Description, Event, ProtocolMessage, Seek, State, Stats,
    TransportPreference,
};

use crate::mailbox::{self, Receiver, Sender};
use crate::target::StreamTarget;

/// What the window asks the engine to do.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Command {
    /// The player's Play: SETUP if needed, then PLAY.
    Play,
    /// The player's Pause.
    Pause,
    /// The player's Stop: TEARDOWN.
    Stop,
    /// Move the play position.
    Seek(Seek),
    /// DESCRIBE.
    Describe,
    /// Lab SETUP.
    Setup,
    /// Lab PLAY.
    LabPlay,
    /// Lab PAUSE.
    LabPause,
    /// Lab TEARDOWN.
    Teardown,
    /// A new session from the start (after the end or a timed-out session).
    PlayAgain,
}

/// What the engine tells the window.
#[derive(Debug, Clone)]
pub enum UiEvent {
    /// Connected to the server.
    Connected,
    /// Connecting failed; this engine is finished.
    ConnectFailed(ClientError),
    /// A command succeeded.
    Done(Command),
    /// A command failed.
    Failed(Command, ClientError),
    /// The session state changed.
    State(State),
    /// A new frame waits ([`Engine::take_frame`]).
    FrameReady,
    /// Periodic statistics.
    Stats(Stats),
    /// The DESCRIBE answer.
    Description(Description),
    /// The server ended the stream.
    EndOfStream,
    /// A background failure (keepalive, connection lost).
    Background(ClientError),
    /// An RTSP message crossed the wire (the engine's protocol log).
    Message(ProtocolMessage),
    /// How RTP arrives now (after each command).
    Transport(Option<ActiveTransport>),
    /// The engine shut down (after [`Engine::shutdown`]).
    Finished,
    /// This many protocol log rows and background errors were dropped because the window fell
    /// behind ([`mailbox::DROPPABLE_BOUND`]).
    Dropped(u64),
}

/// A decoded frame, ready to show.
#[derive(Debug, Clone)]
pub struct ShownFrame {
    /// The picture.
    pub texture: gdk::Texture,
    /// The engine's frame number.
    pub number: u64,
    /// Presentation time.
    pub pts: Duration,
    /// Its latency at arrival, if the sender's reports give one (see [`crate::latency`]).
    pub latency: Option<Duration>,
}

/// Messages to the worker thread.
enum Order {
    Run(Command),
    Shutdown,
}

/// A connection to one stream, driven from the window.
pub struct Engine {
    orders: mpsc::Sender<Order>,
    frames: Receiver<ShownFrame>,
    undecodable: Arc<AtomicU64>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").finish_non_exhaustive()
    }
}

impl Engine {
    /// Starts connecting to `target` in the background. Events arrive on the returned receiver,
    /// the RTSP messages among them.
    pub fn start(
        target: StreamTarget,
        transport: TransportPreference,
    ) -> (Self, Receiver<ShownFrame>) {
        let (events_tx, events) = mailbox::mailbox();
        let (orders, orders_rx) = mpsc::channel();
        let undecodable = Arc::new(AtomicU64::new(0));
        let worker = Worker {
            target,
            transport,
            events: events_tx.clone(),
            undecodable: Arc::clone(&undecodable),
        };
        let spawned = thread::Builder::new()
            .name("player-engine".into())
            .spawn(move || worker.run(&orders_rx));
        if let Err(e) = spawned {
            events_tx.send(UiEvent::ConnectFailed(ClientError::Io(format!(
                "cannot start the engine thread: {e}"
            ))));
        }
        (
            Self {
                orders,
                frames: events.clone(),
                undecodable,
            },
            events,
        )
    }

    /// Queues a command.
    pub fn send(&self, command: Command) {
        let _ = self.orders.send(Order::Run(command));
    }

    /// Asks for a clean end: TEARDOWN if a session exists, then disconnect.
    /// [`UiEvent::Finished`] follows.
    pub fn shutdown(&self) {
        let _ = self.orders.send(Order::Shutdown);
    }

    /// The newest decoded frame, if one arrived since the last call.
    pub fn take_frame(&self) -> Option<ShownFrame> {
        self.frames.take_frame()
    }

    /// Frames that arrived complete but could not be decoded as JPEG.
    pub fn undecodable_frames(&self) -> u64 {
        self.undecodable.load(Ordering::Relaxed)
    }
}

struct Worker {
    target: StreamTarget,
    transport: TransportPreference,
    events: Sender<ShownFrame>,
    undecodable: Arc<AtomicU64>,
}

impl Worker {
    fn emit(&self, event: UiEvent) {
        self.events.send(event);
    }

    fn run(self, orders: &mpsc::Receiver<Order>) {
        let handler = self.handler();
        let client = match Client::with_handler(self.target.config(self.transport), handler) {
            Ok(c) => c,
            Err(e) => return self.failed_to_connect(e, orders),
        };
        self.emit(UiEvent::Connected);
        if !self.target.is_lab() {
            // The standard dialect describes before SETUP anyway; doing it now shows the length
            // (and a missing file) before the user presses Play. The lab protocol starts with
            // SETUP, so lab mode leaves DESCRIBE to the user.
            if let Err(e) = client.describe() {
                // Not a command the window counted: report it as a background problem.
                self.emit(UiEvent::Background(e));
            }
        }
        while let Ok(order) = orders.recv() {
            match order {
                Order::Run(command) => {
                    let result = execute(&client, command);
                    self.emit(UiEvent::Transport(client.transport()));
                    match result {
                        Ok(()) => self.emit(UiEvent::Done(command)),
                        Err(e) => self.emit(UiEvent::Failed(command, e)),
                    }
                }
                Order::Shutdown => break,
            }
        }
        let _ = client.player_stop();
        drop(client);
        self.emit(UiEvent::Finished);
    }

    /// Reports the failure, then waits for the window to let this engine go.
    fn failed_to_connect(&self, error: ClientError, orders: &mpsc::Receiver<Order>) {
        self.emit(UiEvent::ConnectFailed(error));
        while let Ok(order) = orders.recv() {
            if matches!(order, Order::Shutdown) {
                break;
            }
        }
        self.emit(UiEvent::Finished);
    }

    /// The engine's event handler (runs on the engine's delivery thread).
    fn handler(&self) -> impl FnMut(Event) + Send + 'static {
        let events = self.events.clone();
        let undecodable = Arc::clone(&self.undecodable);
        move |event| {
            let ui = match event {
                Event::Frame(frame) => {
                    // Taken before decoding: the figure is about the network, not the decoder.
                    let latency =
                        crate::latency::of_frame(frame.sender_time, std::time::SystemTime::now());
                    let bytes = glib::Bytes::from(&frame.jpeg[..]);
                    let Ok(texture) = gdk::Texture::from_bytes(&bytes) else {
                        undecodable.fetch_add(1, Ordering::Relaxed);
                        return;
                    };
                    events.send_frame(ShownFrame {
                        texture,
                        number: frame.number,
                        pts: frame.pts,
                        latency,
                    });
                    return;
                }
                Event::StateChanged(state) => UiEvent::State(state),
                Event::Stats(stats) => UiEvent::Stats(stats),
                Event::Description(d) => UiEvent::Description(d),
                Event::Error(e) => UiEvent::Background(e),
                Event::EndOfStream => UiEvent::EndOfStream,
                Event::Message(m) => UiEvent::Message(m),
            };
            events.send(ui);
        }
    }
}

fn execute(client: &Client, command: Command) -> Result<(), ClientError> {
    match command {
        Command::Play => client.player_play(),
        Command::Pause => client.player_pause(),
        Command::Stop => client.player_stop(),
        Command::Seek(seek) => client.seek(seek),
        Command::Describe => client.describe().map(drop),
        Command::Setup => client.setup(),
        Command::LabPlay => client.play(),
        Command::LabPause => client.pause(),
        Command::Teardown => client.teardown(),
        Command::PlayAgain => {
            client.player_stop()?;
            client.player_play()
        }
    }
}
